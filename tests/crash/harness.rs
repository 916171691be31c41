//! The crash harness: the parent loop that re-runs this test binary as a child, kills it at a
//! random moment and checks the store, and the child's side (its context and `say`).
//!
//! The child is the same `#[test]` run again (`--exact --nocapture`) with `CREDSTORE_CRASH_CHILD`
//! naming the scenario; the parent gives it the data directory, the round and the seed in the
//! environment. The child prints a line for each unit of work only after the API call that makes
//! the unit durable has returned; its stdout goes to a file, so a line written is a line the
//! parent reads, whenever the kill lands. Every round runs on the same directories: round `n`
//! starts from whatever the kill of round `n - 1` left.

use credstore::generate::rng::Rng;
use credstore::Store;
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What scenario functions return.
pub type Outcome<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// One crash scenario: a function pair and how long to let the child run.
pub struct Scenario {
    /// The scenario's name, which is also the name of the `#[test]` that runs it.
    pub name: &'static str,
    /// The child's work: runs until killed (or until [`Child::go_on`] says stop), printing
    /// acknowledged units with [`say`].
    pub child: fn(&Child) -> Outcome,
    /// The parent's check, on the reopened store, given everything the children said so far.
    pub check: fn(&Store, &History) -> Outcome,
    /// The kill comes at a uniformly random moment in `0..max_delay_ms` after the spawn (the
    /// child's own start-up and store opening included, so some kills land in recovery).
    pub max_delay_ms: u64,
}

/// The child's side of a round.
pub struct Child {
    /// The store's directory.
    pub store: PathBuf,
    /// A scratch directory that survives between rounds (spools, markers).
    pub work: PathBuf,
    /// The round, from 1.
    pub round: u64,
    /// The run's seed.
    pub seed: u64,
    deadline: Instant,
}

impl Child {
    /// Whether to keep working: a child the parent forgot to kill stops by itself.
    pub fn go_on(&self) -> bool {
        Instant::now() < self.deadline
    }

    /// A random generator for this round (and `stream`, for a child's threads).
    pub fn rng(&self, stream: u64) -> Rng {
        Rng::new(mix(self.seed, self.round, stream))
    }
}

/// What the children said, round by round.
pub struct History {
    /// The run's seed.
    pub seed: u64,
    /// Each round's lines (without the marker), in the order the child printed them.
    pub rounds: Vec<Vec<String>>,
}

impl History {
    /// Every line of every round, in order.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.rounds.iter().flatten().map(String::as_str)
    }

    /// Every line of every round split into words, in order.
    pub fn words(&self) -> impl Iterator<Item = Vec<&str>> {
        self.lines().map(|l| l.split(' ').collect())
    }
}

/// The marker in front of every line the child means for the parent: libtest writes its own
/// lines to the same stdout (`test ingest ... ` even without a line break before ours).
const MARK: &str = "@crash@ ";
const CHILD_ENV: &str = "CREDSTORE_CRASH_CHILD";
const DIR_ENV: &str = "CREDSTORE_CRASH_DIR";
const ROUND_ENV: &str = "CREDSTORE_CRASH_ROUND";
const SEED_ENV: &str = "CREDSTORE_CRASH_SEED";
const KILLS_ENV: &str = "CREDSTORE_CRASH_KILLS";
const TRACE_ENV: &str = "CREDSTORE_CRASH_TRACE";
/// Kills per scenario when `CREDSTORE_CRASH_KILLS` is not set (CI).
const DEFAULT_KILLS: u64 = 50;
/// A child stops by itself after this long (it is normally killed well before).
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

/// Prints one acknowledged unit for the parent and flushes it. Call only after the API call that
/// makes the unit durable has returned.
pub fn say(line: impl Display) {
    let mut out = std::io::stdout().lock();
    // One write per line: the kernel has it as soon as `write` returns.
    let text = format!("\n{MARK}{line}\n");
    // NOTE: a failed write means the parent is gone; nothing useful is left to do with it.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Runs `scenario`: as the child when this process is one, otherwise as the parent loop.
pub fn run(scenario: &Scenario) {
    match std::env::var(CHILD_ENV) {
        Ok(name) if name == scenario.name => run_child(scenario),
        // Another scenario's child running this test by mistake: nothing to do.
        Ok(_) => {}
        Err(_) => run_parent(scenario),
    }
}

fn run_child(scenario: &Scenario) {
    let env = |key| std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set"));
    let dir = PathBuf::from(env(DIR_ENV));
    let child = Child {
        store: dir.join("store"),
        work: dir.join("work"),
        round: env(ROUND_ENV).parse().expect("round"),
        seed: env(SEED_ENV).parse().expect("seed"),
        deadline: Instant::now() + CHILD_LIFETIME,
    };
    if let Err(e) = (scenario.child)(&child) {
        panic!(
            "child of {} failed in round {}: {e}",
            scenario.name, child.round
        );
    }
}

fn env_u64(key: &str) -> Option<u64> {
    let text = std::env::var(key).ok()?;
    Some(
        text.parse()
            .unwrap_or_else(|_| panic!("{key}={text:?} is not a number")),
    )
}

/// A seed from the clock, when none is given.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Rng::new(nanos ^ u64::from(std::process::id())).next_u64() >> 16
}

/// Mixes a seed with a round and a stream into a new seed.
pub fn mix(seed: u64, round: u64, stream: u64) -> u64 {
    let mut r = Rng::new(seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    r.next_u64() ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// What one round of the parent saw.
struct RoundResult {
    killed: bool,
    lines: Vec<String>,
}

fn run_parent(scenario: &Scenario) {
    let kills = env_u64(KILLS_ENV).unwrap_or(DEFAULT_KILLS);
    let seed = env_u64(SEED_ENV).unwrap_or_else(fresh_seed);
    let tmp = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    eprintln!("crash {}: seed {seed}, {kills} kills", scenario.name);
    let mut rng = Rng::new(seed);
    let mut history = History {
        seed,
        rounds: Vec::new(),
    };
    let (mut killed, mut round) = (0u64, 0u64);
    // A child that finishes before its kill is a round without a kill; the bound keeps a
    // scenario whose children always finish from looping forever.
    while killed < kills && round < kills * 3 {
        round += 1;
        let delay = Duration::from_millis(rng.below(scenario.max_delay_ms.max(1)));
        let result = one_round(scenario, tmp.path(), round, seed, delay).and_then(|r| {
            if std::env::var_os(TRACE_ENV).is_some() {
                let last = r.lines.last().map_or("-", String::as_str);
                eprintln!(
                    "round {round}: {} after {delay:?}, {} lines, the last {last:?}",
                    if r.killed { "killed" } else { "ended" },
                    r.lines.len()
                );
            }
            history.rounds.push(r.lines);
            killed += u64::from(r.killed);
            let store = Store::open(tmp.path().join("store"))?;
            (scenario.check)(&store, &history)?;
            store.flush()?;
            Ok(())
        });
        if let Err(e) = result {
            let kept = tmp.keep();
            panic!(
                "crash {name}: round {round} (kill after {delay:?}): {e}\n\
                 seed {seed}; data kept in {dir}\n\
                 replay: CREDSTORE_CRASH_SEED={seed} CREDSTORE_CRASH_KILLS={kills} \
                 cargo test --release --test crash -- {name} --exact",
                name = scenario.name,
                dir = kept.display(),
            );
        }
    }
    let acked: usize = history.rounds.iter().map(Vec::len).sum();
    eprintln!(
        "crash {}: seed {seed}: {killed} kills in {round} rounds, {acked} lines from the children, {:.1} s",
        scenario.name,
        started.elapsed().as_secs_f64()
    );
    assert!(
        killed >= kills,
        "only {killed} of {kills} rounds ended in a kill"
    );
}

/// Spawns the child, kills it after `delay` (unless it already ended), and reads what it said.
fn one_round(
    scenario: &Scenario,
    dir: &Path,
    round: u64,
    seed: u64,
    delay: Duration,
) -> Outcome<RoundResult> {
    let out_path = dir.join("child.stdout");
    let err_path = dir.join("child.stderr");
    let mut child = Command::new(std::env::current_exe()?)
        .args([scenario.name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, scenario.name)
        .env(DIR_ENV, dir)
        .env(ROUND_ENV, round.to_string())
        .env(SEED_ENV, seed.to_string())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .spawn()?;
    std::thread::sleep(delay);
    let killed = match child.try_wait()? {
        Some(_) => false,
        None => {
            // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no atexit.
            child.kill()?;
            true
        }
    };
    let status = child.wait()?;
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path)?).into_owned();
    if stderr.contains("panicked") || (!killed && !status.success()) {
        return Err(format!("the child failed ({status}):\n{stderr}").into());
    }
    let stdout = String::from_utf8_lossy(&std::fs::read(&out_path)?).into_owned();
    // Only whole lines count: a line cut by the kill was never fully said.
    let complete = match stdout.rfind('\n') {
        Some(end) => &stdout[..end],
        None => "",
    };
    let lines = complete
        .lines()
        .filter_map(|l| l.find(MARK).map(|at| l[at + MARK.len()..].to_string()))
        .collect();
    Ok(RoundResult { killed, lines })
}

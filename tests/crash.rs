//! Crash tests in the style of sled's: each test re-runs its own binary as a child that works on
//! a store and prints every unit of work the API acknowledged (only after the call that makes it
//! durable returned); the parent SIGKILLs the child at a random moment, reopens the store, and
//! checks that nothing acknowledged is lost and nothing is half-applied. Every round continues
//! on the same data directory, so later rounds start from crashed states, and the checks run
//! after every kill.
//!
//! `CREDSTORE_CRASH_KILLS=N` sets the kills per scenario (50 by default, for CI; raise it for a
//! soak). `CREDSTORE_CRASH_SEED=S` replays a run's random choices (workloads and kill delays);
//! a failure prints its seed and keeps its data directory. The kill still lands wherever the
//! child is at that moment, so a replay repeats the workload, not the exact instant.
//! `CREDSTORE_CRASH_TRACE=1` prints each round (with `--nocapture`): the kill's delay and the
//! last line the child printed.
//!
//! A scenario is a function pair — the child's work, the parent's check — registered in
//! [`SCENARIOS`], and a `#[test]` of the same name that runs it (the child is that test, run
//! again with `--exact`). The checks every scenario shares are in `crash/checks.rs`.

mod common;

#[path = "crash/checks.rs"]
mod checks;
#[path = "crash/harness.rs"]
mod harness;
#[path = "crash/ingest.rs"]
mod ingest;
#[path = "crash/objections.rs"]
mod objections;
#[path = "crash/query_log.rs"]
mod query_log;

use harness::Scenario;

/// Every scenario. The kill delays cover the child's start (store opening and recovery) and a
/// few hundred milliseconds of its work.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "crash_ingest",
        child: ingest::child,
        check: ingest::check,
        max_delay_ms: 700,
    },
    Scenario {
        name: "crash_objections",
        child: objections::child,
        check: objections::check,
        max_delay_ms: 700,
    },
    Scenario {
        name: "crash_query_log",
        child: query_log::child,
        check: query_log::check,
        max_delay_ms: 500,
    },
];

fn scenario(name: &str) -> &'static Scenario {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

#[test]
fn crash_ingest() {
    harness::run(scenario("crash_ingest"));
}

#[test]
fn crash_objections() {
    harness::run(scenario("crash_objections"));
}

#[test]
fn crash_query_log() {
    harness::run(scenario("crash_query_log"));
}

/// Regression, found by `crash_query_log` on a loaded machine (and again with its kill delays
/// cut to 15 ms: "round 1 (kill after 12ms): who-queried refused: the requester is not
/// registered"): a kill in the first round before the child's setup registered anyone made the
/// check ask a who-queried listing as a staff member who did not exist. The store was right; the
/// check now expects nothing to list there.
#[test]
fn regression_a_kill_before_the_first_setup_leaves_nothing_to_list() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = credstore::Store::open(tmp.path().join("store")).expect("open");
    let history = harness::History {
        seed: 0,
        rounds: vec![Vec::new()],
    };
    if let Err(e) = query_log::check(&store, &history) {
        panic!("an empty store after a first-round kill: {e}");
    }
}

/// Regression, found by `crash_ingest` (seed 184983974248418, round 30): a kill inside the search
/// index's commit — after tantivy wrote a segment's delete file, before it replaced `meta.json` —
/// left a store that could never be opened again. The catch-up on open replayed the same
/// operations from the change log, reached the same opstamp, and tantivy refused to create the
/// delete file the dead commit had left: `FileAlreadyExists("<segment>.<opstamp>.del")`, on
/// every open.
///
/// The crash state is made by hand from two ingests: the files of the first commit, the files
/// the second wrote (its delete files among them), the list of managed files naming both, and
/// the first commit's `meta.json` — what the index directory holds when the second commit dies
/// just before replacing `meta.json`.
#[test]
fn regression_reopen_after_a_kill_inside_an_index_commit() -> common::TestResult {
    use common::*;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let search = dir.join("search");
    let orgs = usccs(8_801, 4);
    let lines = |suffix: &str, n: usize| -> Vec<serde_json::Value> {
        orgs.iter()
            .take(n)
            .enumerate()
            .map(|(i, code)| {
                let name = format!("上海索引提交{i}{suffix}有限公司");
                line(&format!("IX-{i}"), code, &name, "B-ORG-REG", "2012-01-01")
            })
            .collect()
    };
    {
        let store = credstore::Store::open(&dir)?;
        ingest_jsonl(&store, "SAMR-SH", "first.jsonl", &jsonl(&lines("", 4)))?;
    }
    let first: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(&search)?
        .map(|e| {
            let e = e?;
            Ok((e.file_name(), std::fs::read(e.path())?))
        })
        .collect::<std::io::Result<_>>()?;
    {
        // Two of the subjects under new names: the index deletes them from the first segment
        // (a delete file) and adds them again.
        let store = credstore::Store::open(&dir)?;
        let report = ingest_jsonl(&store, "SAMR-SH", "renamed.jsonl", &jsonl(&lines("新", 2)))?;
        assert_eq!(report.new_versions, 2);
    }
    let managed = |bytes: &[u8]| serde_json::from_slice::<Vec<String>>(bytes);
    let mut listed = managed(&std::fs::read(search.join(".managed.json"))?)?;
    for (name, bytes) in &first {
        match name.to_str() {
            Some(".managed.json") => listed.extend(managed(bytes)?),
            Some("meta.json") => std::fs::write(search.join(name), bytes)?,
            _ if !search.join(name).exists() => std::fs::write(search.join(name), bytes)?,
            _ => {}
        }
    }
    listed.sort();
    listed.dedup();
    std::fs::write(search.join(".managed.json"), serde_json::to_vec(&listed)?)?;

    let store = credstore::Store::open(&dir)?;
    for (i, code) in orgs.iter().enumerate() {
        let name = format!("上海索引提交{i}{}有限公司", if i < 2 { "新" } else { "" });
        let hits = store.search(credstore::search::Requester::Entitled, &name, 1)?;
        assert_eq!(hits.first().map(|h| h.code.as_str()), Some(code.as_str()));
    }
    Ok(())
}

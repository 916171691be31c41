//! A bulk load killed at any moment (SIGKILL: no destructor runs, no flush, no index commit)
//! leaves a store that opens, whose search index agrees with what was stored, and that the same
//! load, run again, completes into the store a load without a kill gives.
//!
//! The kill lands anywhere in the load: staging, the provider-index pass, the subject pass while
//! a first load's index is built beside it (`SearchIndex::load_indexer`), the flush, the index's
//! commit. `CREDSTORE_BULK_CRASH_KILLS=N` sets the kills (8 by default, for CI; raise it for a
//! soak); `CREDSTORE_BULK_CRASH_SEED=S` replays a run's kill delays.

mod common;

use common::*;
use credstore::generate::rng::Rng;
use credstore::search::Requester;
use credstore::Store;
use std::path::Path;
use std::time::{Duration, Instant};

/// Child side: loads the data named by the variable into the store it names, says so, then
/// waits to be killed. Runs only when the parent test sets the variable.
#[test]
fn bulk_crash_child_loads_then_waits() -> TestResult {
    let Ok(spec) = std::env::var("CREDSTORE_BULK_CRASH_CHILD") else {
        return Ok(());
    };
    let (data, dir) = spec.split_once('|').ok_or("DATA|STORE")?;
    let store = Store::open(dir)?;
    let sources = credstore::ingest::bulk::provider_tree(Path::new(data))?;
    store.ingest_bulk(&sources, &options())?;
    println!("LOADED");
    std::thread::sleep(Duration::from_secs(60));
    Ok(())
}

/// Starts the child on `data` and `dir`; kills it after `delay` (or once it has loaded, if
/// sooner). Returns how long it ran and whether it had finished the load.
fn run_child(
    data: &Path,
    dir: &Path,
    delay: Duration,
) -> Result<(Duration, bool), Box<dyn std::error::Error>> {
    use std::io::BufRead;
    let started = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "bulk_crash_child_loads_then_waits",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "CREDSTORE_BULK_CRASH_CHILD",
            format!("{}|{}", data.display(), dir.display()),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("LOADED") {
                let _ = tx.send(());
                return;
            }
        }
    });
    let loaded = rx.recv_timeout(delay).is_ok();
    child.kill()?;
    child.wait()?;
    Ok((started.elapsed(), loaded))
}

/// What a store answers: its statistics, and per query the codes found (in order).
fn answers(
    store: &Store,
    queries: &[String],
) -> Result<(String, Vec<Vec<String>>), credstore::Error> {
    let stats = format!("{:?}", store.stats()?);
    let hits = queries
        .iter()
        .map(|q| {
            Ok(store
                .search(Requester::Entitled, q, 20)?
                .into_iter()
                .map(|h| h.code)
                .collect())
        })
        .collect::<Result<_, credstore::Error>>()?;
    Ok((stats, hits))
}

#[test]
fn a_bulk_load_killed_anywhere_opens_consistent_and_completes_when_run_again() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let sources = generated(&data, 4_000, 17, 0.01)?;

    // The reference: the same load, never killed; and how long a child takes to do it.
    let reference = Store::open(tmp.path().join("reference"))?;
    reference.ingest_bulk(&sources, &options())?;
    let codes: Vec<String> = reference
        .subject_codes()
        .map(|c| c.map(|c| c.as_str().to_string()))
        .collect::<Result<_, _>>()?;
    let mut queries: Vec<String> = vec!["科技".into(), "上海".into(), "310115".into()];
    for code in codes.iter().step_by(211) {
        let header = reference
            .subject_header(
                &credstore::domain::code::SubjectCode::from_stored(code.as_bytes())
                    .ok_or("code")?,
            )?
            .ok_or("header")?;
        queries.push(header.name.clone());
        queries.push(code.clone());
    }
    let expected = answers(&reference, &queries)?;
    drop(reference);
    let (clean, loaded) = run_child(&data, &tmp.path().join("timing"), Duration::from_secs(120))?;
    assert!(loaded, "a child that is not killed loads everything");

    let kills: u64 = std::env::var("CREDSTORE_BULK_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("CREDSTORE_BULK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let mut rng = Rng::new(seed);
    let window = clean.as_millis() as u64 + 1;
    let mut interrupted = 0;
    for round in 0..kills {
        let dir = tmp.path().join(format!("round-{round}"));
        let delay = Duration::from_millis(rng.below(window));
        let (_, loaded) = run_child(&data, &dir, delay)?;
        interrupted += u64::from(!loaded);
        let context =
            format!("seed {seed}, round {round}, killed after {delay:?} (loaded: {loaded})");
        // Opens (catching its index up), and every stored subject is found by its code; every
        // code of the data not stored is found nowhere.
        let store = Store::open(&dir).map_err(|e| format!("{context}: open: {e}"))?;
        for code in codes.iter().step_by(7) {
            let parsed =
                credstore::domain::code::SubjectCode::from_stored(code.as_bytes()).ok_or("code")?;
            let stored = store.subject_header(&parsed)?.is_some();
            let found = store
                .search(Requester::Entitled, code, 1)?
                .first()
                .is_some_and(|h| &h.code == code);
            assert_eq!(
                found, stored,
                "{context}: {code} stored {stored}, found {found}"
            );
        }
        // The same load again completes it: the same store and answers as the reference.
        store.ingest_bulk(&sources, &options())?;
        assert_eq!(
            answers(&store, &queries)?,
            expected,
            "{context}: after the load again"
        );
        drop(store);
        std::fs::remove_dir_all(&dir)?;
    }
    // Most kills land inside the load (the window is one clean load long).
    assert!(
        kills < 4 || interrupted > 0,
        "seed {seed}: no kill landed inside a load ({kills} kills)"
    );
    Ok(())
}

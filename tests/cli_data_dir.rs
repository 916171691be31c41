//! Commands that only read refuse a data directory without a store (a mistyped `--data-dir`
//! must not answer "no such subject" from a fresh empty store), and an ingest checks every file
//! before storing any.

mod common;

use common::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn reading_commands_refuse_a_missing_store() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let missing = tmp.path().join("no-store-here");
    for args in [&["get", "91310115MA1K3BTP2B"][..], &["stats"][..]] {
        let run = credstore_in(&missing, args)?;
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("no store in"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!missing.exists(), "{args:?} created the directory");
    }
    Ok(())
}

#[test]
fn an_unreadable_file_stops_the_ingest_before_anything_is_stored() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let code = usccs(5, 1)[0];
    let good = write_file(
        tmp.path(),
        "good.jsonl",
        jsonl(&[line("G-1", &code, "上海甲公司", "B-ORG-REG", "2024-01-02")]),
    )?;
    let missing = tmp.path().join("missing.jsonl");
    let store_dir = tmp.path().join("store");
    let run = credstore_in(
        &store_dir,
        &[
            "ingest",
            "--provider",
            "SAMR-SH",
            good.to_str().ok_or("path")?,
            missing.to_str().ok_or("path")?,
        ],
    )?;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("missing.jsonl"), "{}", run.stderr);
    let store = credstore::Store::open(&store_dir)?;
    assert!(store.subject(&code)?.is_none(), "the good file was stored");
    Ok(())
}

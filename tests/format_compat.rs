//! Stores written by earlier formats still open and read the same (STYLE habit 4): the
//! committed format-1 fixture, its dictionary-compressed subject values included.

mod common;

use common::{copy_dir, TestResult};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-v1")
}

#[test]
fn format_1_store_opens_and_reads_the_same() -> TestResult {
    // sled writes on open: work on a copy, never on the committed files.
    let tmp = tempfile::tempdir()?;
    copy_dir(&fixture().join("sled"), &tmp.path().join("sled"))?;
    let store = credstore::Store::open(tmp.path())?;

    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        fixture().join("expected-stats.json"),
    )?)?;
    assert_eq!(serde_json::to_value(store.stats()?)?, expected);

    let today = credstore::domain::date::Date::parse("2026-11-01")?;
    let lines = std::fs::read_to_string(fixture().join("expected-subjects.jsonl"))?;
    assert_eq!(lines.lines().count(), 4);
    for line in lines.lines() {
        let expected: serde_json::Value = serde_json::from_str(line)?;
        let code = expected["subject"]["code"].as_str().ok_or("code")?;
        let parsed = credstore::domain::code::SubjectCode::parse(code, today)?;
        let found = store.subject(&parsed.code)?.ok_or("subject missing")?;
        let got = serde_json::to_value(credstore::view::SubjectView::new(&found))?;
        assert_eq!(got, expected, "{}", parsed.code.masked());
    }

    // The fixture predates the due-date index: it was indexed on open, and the index agrees
    // with the rule checked record by record.
    let far = credstore::domain::date::Date::parse("2045-01-01")?;
    let dry = store.sweep(&credstore::store::retention::SweepOptions {
        as_of: far,
        dry_run: true,
    })?;
    let check = store.verify_retention(Some(far))?;
    assert_eq!(dry.archived, check.due_on_given_day);
    assert_eq!(check.due_on_given_day, check.with_period);
    assert!(
        check.with_period > 0,
        "the fixture holds dishonesty records"
    );
    Ok(())
}

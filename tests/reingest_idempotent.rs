//! Ingesting the same provider file again changes nothing: every line is a duplicate, and the
//! subjects, records (with their ids), statistics and change log read back exactly as before.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::record::SubjectRecords;
use credstore::ingest::FileFormat;
use credstore::Store;
use serde_json::json;

/// 30 good lines about 10 organisations (three records each) and one bad line (line 31).
fn provider_file(orgs: &[SubjectCode]) -> String {
    let mut lines = Vec::new();
    for (i, code) in orgs.iter().enumerate() {
        let name = format!("上海测试{i}有限公司");
        lines.push(line(
            &format!("R-{i}-REG"),
            code,
            &name,
            "B-ORG-REG",
            "2016-03-01",
        ));
        let mut penalty = line(
            &format!("R-{i}-PEN"),
            code,
            &name,
            "D-PENALTY",
            "2025-10-01",
        );
        penalty["amount_fen"] = json!(10_000 * (i + 1));
        penalty["attributes"] = json!({"case_ref": format!("CASE-{i}")});
        lines.push(penalty);
        lines.push(line(
            &format!("R-{i}-COM"),
            code,
            &name,
            "O-COMMENDATION",
            "2024-05-04",
        ));
    }
    lines.push(line(
        "R-BAD",
        &orgs[0],
        "上海测试0有限公司",
        "X-NOPE",
        "2024-05-04",
    ));
    jsonl(&lines)
}

fn snapshot(
    store: &Store,
    codes: &[SubjectCode],
) -> Result<Vec<SubjectRecords>, Box<dyn std::error::Error>> {
    codes.iter().map(|c| must_get(store, c)).collect()
}

fn change_count(store: &Store) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(store.changes_since(0).collect::<Result<Vec<_>, _>>()?.len())
}

#[test]
fn the_same_file_twice_stores_nothing_new() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(21, 10);
    let path = write_file(tmp.path(), "samr.jsonl", provider_file(&orgs))?;

    let first = store.ingest_files("SAMR-SH", &[&path], &options())?;
    assert_eq!(
        (first.accepted, first.duplicates, first.rejected),
        (30, 0, 1)
    );
    let before = snapshot(&store, &orgs)?;
    let stats_before = store.stats()?;
    let changes_before = change_count(&store)?;
    let ids_before: Vec<u64> = before
        .iter()
        .flat_map(|s| s.records.iter().map(|r| r.record_id.0))
        .collect();
    assert_eq!(ids_before.len(), 30);

    let second = store.ingest_files("SAMR-SH", &[&path], &options())?;
    assert_eq!(second.accepted, 0);
    assert_eq!(second.duplicates, 30);
    assert_eq!(second.new_versions, 0);
    assert_eq!(second.rejected, 1, "the bad line is reported again");
    assert_eq!(second.rejects, first.rejects);

    let after = snapshot(&store, &orgs)?;
    assert_eq!(after, before);
    let ids_after: Vec<u64> = after
        .iter()
        .flat_map(|s| s.records.iter().map(|r| r.record_id.0))
        .collect();
    assert_eq!(ids_after, ids_before);
    assert!(after
        .iter()
        .all(|s| s.records.iter().all(|r| r.versions.len() == 1)));
    assert_eq!(store.stats()?, stats_before);
    assert_eq!(change_count(&store)?, changes_before, "no subject changed");
    Ok(())
}

#[test]
fn duplicates_are_found_by_provider_record_id_not_by_file_name() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(22, 10);
    let text = provider_file(&orgs);
    let first = ingest_jsonl(&store, "SAMR-SH", "monday.jsonl", &text)?;
    assert_eq!(first.accepted, 30);
    let before = snapshot(&store, &orgs)?;

    // Same content under another name, in small chunks: still all duplicates.
    let mut opts = options();
    opts.chunk_lines = 4;
    let again = store.ingest_reader(
        "SAMR-SH",
        "tuesday.jsonl",
        FileFormat::JsonLines,
        text.as_bytes(),
        &opts,
    )?;
    assert_eq!(
        (again.accepted, again.duplicates, again.new_versions),
        (0, 30, 0)
    );
    assert_eq!(snapshot(&store, &orgs)?, before);

    // The same ids from another provider are other records.
    let other = ingest_jsonl(&store, "CIVIL-SH", "monday.jsonl", &text)?;
    assert_eq!((other.accepted, other.duplicates), (30, 0));
    assert_eq!(store.stats()?.records, 60);
    Ok(())
}

#[test]
fn a_csv_file_twice_stores_nothing_new() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(23, 4);
    let mut text =
        String::from("provider_record_id,subject_code,subject_name,item,occurred_on,case_no\n");
    for (i, code) in orgs.iter().enumerate() {
        text.push_str(&format!(
            "K-{i},{},上海某{i}公司,O-PROPERTY-JUDGMENT,2024-0{}-15,（2024）沪01民初{i}号\n",
            code.as_str(),
            i + 1
        ));
    }
    let path = write_file(tmp.path(), "court.csv", text)?;
    let first = store.ingest_files("COURT-SH", &[&path], &options())?;
    assert_eq!(
        (first.accepted, first.rejected),
        (4, 0),
        "{:?}",
        first.rejects
    );
    let before = snapshot(&store, &orgs)?;
    let stats = store.stats()?;
    let second = store.ingest_files("COURT-SH", &[&path], &options())?;
    assert_eq!(
        (second.accepted, second.duplicates, second.new_versions),
        (0, 4, 0)
    );
    assert_eq!(snapshot(&store, &orgs)?, before);
    assert_eq!(store.stats()?, stats);
    Ok(())
}

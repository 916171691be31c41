//! Recovery by reopening: everything an ingest reported is there after the store is dropped and
//! opened again in a new scope, and the counters carry on (no record id, subject id or log
//! sequence number is ever reused).

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::record::SubjectRecords;
use credstore::store::changelog::ChangeEntry;
use credstore::store::collection_log::CollectionEntry;
use credstore::store::Stats;
use credstore::Store;
use serde_json::json;
use std::path::Path;

/// Everything readable through the API, for comparison across a reopen.
#[derive(Debug, PartialEq)]
struct Snapshot {
    subjects: Vec<SubjectRecords>,
    stats: Stats,
    log: Vec<CollectionEntry>,
    changes: Vec<ChangeEntry>,
}

fn snapshot(store: &Store, codes: &[SubjectCode]) -> Result<Snapshot, Box<dyn std::error::Error>> {
    Ok(Snapshot {
        subjects: codes
            .iter()
            .map(|c| must_get(store, c))
            .collect::<Result<_, _>>()?,
        stats: store.stats()?,
        log: store.collection_log().collect::<Result<_, _>>()?,
        changes: store.changes_since(0).collect::<Result<_, _>>()?,
    })
}

/// Ingests a first file in chunks of 4 lines, then a new version of one record.
fn first_session(dir: &Path, orgs: &[SubjectCode]) -> Result<Snapshot, Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let mut lines = Vec::new();
    for (i, code) in orgs.iter().enumerate() {
        let name = format!("上海重开{i}有限公司");
        lines.push(line(
            &format!("A-{i}"),
            code,
            &name,
            "B-ORG-REG",
            "2012-01-01",
        ));
        let mut p = line(&format!("B-{i}"), code, &name, "D-PENALTY", "2026-06-01");
        p["amount_fen"] = json!(5_000);
        lines.push(p);
    }
    let mut opts = options();
    opts.chunk_lines = 4;
    let report = store.ingest_reader(
        "SAMR-SH",
        "first.jsonl",
        credstore::ingest::FileFormat::JsonLines,
        jsonl(&lines).as_bytes(),
        &opts,
    )?;
    assert_eq!(report.accepted, 2 * orgs.len() as u64);
    let mut changed = line(
        "B-0",
        &orgs[0],
        "上海重开0有限公司",
        "D-PENALTY",
        "2026-06-01",
    );
    changed["amount_fen"] = json!(6_000);
    let report = ingest_jsonl(&store, "SAMR-SH", "fix.jsonl", &jsonl(&[changed]))?;
    assert_eq!(report.new_versions, 1);
    snapshot(&store, orgs)
    // The store is dropped here.
}

#[test]
fn everything_is_there_after_reopening() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let orgs = usccs(41, 6);
    let before = first_session(&dir, &orgs)?;
    assert_eq!(before.stats.versions, 13);
    assert!(
        before.log.len() >= 4,
        "several chunks: {}",
        before.log.len()
    );

    {
        let store = Store::open(&dir)?;
        let after = snapshot(&store, &orgs)?;
        assert_eq!(after, before);
        assert_eq!(
            after.subjects[0].records[1].versions.len(),
            2,
            "the new version survived"
        );
    }
    // And once more, after a reopen that wrote nothing.
    let store = Store::open(&dir)?;
    assert_eq!(snapshot(&store, &orgs)?, before);
    Ok(())
}

#[test]
fn ids_and_sequences_continue_after_reopening() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let orgs = usccs(42, 6);
    let before = first_session(&dir, &orgs)?;
    let max_record_id = before
        .subjects
        .iter()
        .flat_map(|s| s.records.iter().map(|r| r.record_id.0))
        .max()
        .ok_or("no records")?;
    let max_subject_id = before
        .subjects
        .iter()
        .map(|s| s.subject.subject_id)
        .max()
        .ok_or("no subjects")?;
    let last_log = before.log.last().ok_or("no log")?.clone();
    let last_change = before.changes.last().ok_or("no changes")?.seq;

    let store = Store::open(&dir)?;
    let newcomers = usccs(43, 3);
    let lines: Vec<_> = newcomers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            line(
                &format!("C-{i}"),
                c,
                "上海新来有限公司",
                "B-ORG-REG",
                "2020-01-01",
            )
        })
        .collect();
    // One more record for an existing subject too.
    let mut all = lines;
    all.push(line(
        "C-old",
        &orgs[1],
        "上海重开1有限公司",
        "O-COMMENDATION",
        "2025-01-01",
    ));
    let report = ingest_jsonl(&store, "SAMR-SH", "second.jsonl", &jsonl(&all))?;
    assert_eq!(report.accepted, 4);

    let mut new_ids = Vec::new();
    for code in &newcomers {
        let found = must_get(&store, code)?;
        assert!(
            found.subject.subject_id > max_subject_id,
            "subject id reused: {}",
            found.subject.subject_id
        );
        new_ids.push(found.records[0].record_id.0);
    }
    let old = must_get(&store, &orgs[1])?;
    new_ids.extend(
        old.records
            .iter()
            .filter(|r| r.provider_record_id == "C-old")
            .map(|r| r.record_id.0),
    );
    assert_eq!(new_ids.len(), 4);
    for id in &new_ids {
        assert!(
            *id > max_record_id,
            "record id {id} reused (max before reopen {max_record_id})"
        );
    }
    let mut distinct = new_ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4);

    let log: Vec<CollectionEntry> = store.collection_log().collect::<Result<_, _>>()?;
    let next = &log[before.log.len()];
    assert_eq!(
        next.seq,
        last_log.seq + 1,
        "collection log sequence continues"
    );
    assert_ne!(
        next.prev_hash, [0; 32],
        "the hash chain continues across the reopen"
    );
    assert_eq!(next.file, "second.jsonl");
    let changes: Vec<ChangeEntry> = store
        .changes_since(last_change + 1)
        .collect::<Result<_, _>>()?;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].seq, last_change + 1);
    let mut expected: Vec<SubjectCode> = newcomers.clone();
    expected.push(orgs[1]);
    expected.sort();
    assert_eq!(changes[0].subjects, expected);
    Ok(())
}

/// A store large enough for its values to be compressed with a trained dictionary reads back
/// the same after a reopen (the dictionary is loaded from the store), and keeps taking writes.
#[test]
fn a_compressed_store_reads_back_after_reopen() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let sources = generated(&data, 3_000, 5, 0.0)?;
    let store_dir = tmp.path().join("store");
    let (stats, codes, before) = {
        let store = credstore::Store::open(&store_dir)?;
        let report = store.ingest_bulk(&sources, &options())?;
        assert!(report.accepted > 10_000, "{report:?}");
        let codes: Vec<_> = store
            .changes_since(0)
            .map(|c| c.map(|c| c.subjects))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .step_by(7)
            .collect();
        let before: Vec<_> = codes
            .iter()
            .map(|c| store.subject(c))
            .collect::<Result<_, _>>()?;
        (store.stats()?, codes, before)
    };
    let store = credstore::Store::open(&store_dir)?;
    assert_eq!(store.stats()?, stats);
    let after: Vec<_> = codes
        .iter()
        .map(|c| store.subject(c))
        .collect::<Result<_, _>>()?;
    assert_eq!(after, before);
    assert!(after.iter().all(Option::is_some));
    // Writes after the reopen use the stored dictionary and read back too.
    let again = store.ingest_bulk(&sources, &options())?;
    assert_eq!((again.accepted, again.new_versions), (0, 0), "{again:?}");
    assert_eq!(store.stats()?, stats);
    Ok(())
}

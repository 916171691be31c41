//! A resubmitted record with changed content becomes a new version; every version stays
//! readable, oldest first. A record never moves to another subject or category, and a changed
//! subject name updates the subject while the former name is kept.

mod common;

use common::*;
use credstore::domain::Category;
use credstore::ingest::FileFormat;
use credstore::Store;
use serde_json::json;

fn penalty(
    id: &str,
    code: &credstore::domain::code::SubjectCode,
    name: &str,
    amount: i64,
) -> serde_json::Value {
    let mut l = line(id, code, name, "D-PENALTY", "2026-02-01");
    l["amount_fen"] = json!(amount);
    l
}

#[test]
fn changed_content_appends_a_version() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let org = usccs(31, 1)[0];
    let name = "上海版本测试有限公司";

    let first = ingest_jsonl(
        &store,
        "SAMR-SH",
        "v1.jsonl",
        &jsonl(&[penalty("P-1", &org, name, 100)]),
    )?;
    assert_eq!(first.accepted, 1);
    let id_before = must_get(&store, &org)?.records[0].record_id;

    let second = ingest_jsonl(
        &store,
        "SAMR-SH",
        "v2.jsonl",
        &jsonl(&[penalty("P-1", &org, name, 200)]),
    )?;
    assert_eq!(
        (second.accepted, second.new_versions, second.duplicates),
        (0, 1, 0)
    );

    let found = must_get(&store, &org)?;
    assert_eq!(found.records.len(), 1, "still one record");
    let record = &found.records[0];
    assert_eq!(record.record_id, id_before, "the record keeps its id");
    assert_eq!(record.versions.len(), 2);
    let (v1, v2) = (&record.versions[0], &record.versions[1]);
    assert_eq!((v1.version, v2.version), (1, 2), "oldest first");
    assert_eq!(v1.content.amount_fen, Some(100));
    assert_eq!(v2.content.amount_fen, Some(200));
    assert!(v2.collection_seq > v1.collection_seq);
    assert_eq!(record.current(), v2);

    // The same content again is a duplicate of the current version...
    let third = ingest_jsonl(
        &store,
        "SAMR-SH",
        "v2.jsonl",
        &jsonl(&[penalty("P-1", &org, name, 200)]),
    )?;
    assert_eq!((third.duplicates, third.new_versions), (1, 0));
    // ...and so is replaying version 1's content (an old file ingested again, or a sequence of
    // files re-run after a crash): superseded content is never re-added as a new version.
    let back = ingest_jsonl(
        &store,
        "SAMR-SH",
        "v1.jsonl",
        &jsonl(&[penalty("P-1", &org, name, 100)]),
    )?;
    assert_eq!((back.duplicates, back.new_versions), (1, 0));
    // A third content is a new version again.
    let third_content = ingest_jsonl(
        &store,
        "SAMR-SH",
        "v3.jsonl",
        &jsonl(&[penalty("P-1", &org, name, 300)]),
    )?;
    assert_eq!(third_content.new_versions, 1);
    let record = &must_get(&store, &org)?.records[0];
    let amounts: Vec<_> = record
        .versions
        .iter()
        .map(|v| (v.version, v.content.amount_fen))
        .collect();
    assert_eq!(amounts, [(1, Some(100)), (2, Some(200)), (3, Some(300))]);

    let stats = store.stats()?;
    assert_eq!((stats.records, stats.versions), (1, 3));
    Ok(())
}

#[test]
fn two_versions_in_one_file_are_applied_in_order() -> TestResult {
    let org = usccs(32, 1)[0];
    let name = "上海同批有限公司";
    let text = jsonl(&[
        penalty("P-1", &org, name, 100),
        penalty("P-1", &org, name, 100),
        penalty("P-1", &org, name, 300),
    ]);
    for chunk_lines in [10_000, 1] {
        let tmp = tempfile::tempdir()?;
        let store = Store::open(tmp.path().join("store"))?;
        let mut opts = options();
        opts.chunk_lines = chunk_lines;
        let report = store.ingest_reader(
            "SAMR-SH",
            "batch.jsonl",
            FileFormat::JsonLines,
            text.as_bytes(),
            &opts,
        )?;
        assert_eq!(
            (report.accepted, report.duplicates, report.new_versions),
            (1, 1, 1),
            "chunks of {chunk_lines}"
        );
        let record = &must_get(&store, &org)?.records[0];
        let amounts: Vec<_> = record
            .versions
            .iter()
            .map(|v| v.content.amount_fen)
            .collect();
        assert_eq!(amounts, [Some(100), Some(300)], "chunks of {chunk_lines}");
    }
    Ok(())
}

#[test]
fn a_record_cannot_move_to_another_subject_or_category() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(33, 2);
    let (owner, intruder) = (orgs[0], orgs[1]);
    ingest_jsonl(
        &store,
        "SAMR-SH",
        "a.jsonl",
        &jsonl(&[penalty("P-1", &owner, "上海甲公司", 100)]),
    )?;
    let before = must_get(&store, &owner)?;
    let stats = store.stats()?;

    let moved = ingest_jsonl(
        &store,
        "SAMR-SH",
        "b.jsonl",
        &jsonl(&[penalty("P-1", &intruder, "上海乙公司", 100)]),
    )?;
    assert_eq!(
        (moved.accepted, moved.new_versions, moved.rejected),
        (0, 0, 1)
    );
    assert_eq!(reject_lines(&moved), [1]);
    let reason = reason_for(&moved, 1);
    assert!(
        reason.contains("P-1") && reason.contains("another subject"),
        "{reason}"
    );
    assert!(
        store.subject(&intruder)?.is_none(),
        "nothing stored for the other subject"
    );

    let mut commendation = line("P-1", &owner, "上海甲公司", "O-COMMENDATION", "2026-02-01");
    commendation["amount_fen"] = json!(100);
    let recategorised = ingest_jsonl(&store, "SAMR-SH", "c.jsonl", &jsonl(&[commendation]))?;
    assert_eq!((recategorised.new_versions, recategorised.rejected), (0, 1));
    assert!(
        reason_for(&recategorised, 1).contains("category"),
        "{:?}",
        recategorised.rejects
    );

    assert_eq!(must_get(&store, &owner)?, before);
    assert_eq!(store.stats()?, stats);
    let record = &before.records[0];
    assert_eq!(
        (record.category, record.versions.len()),
        (Category::Dishonesty, 1)
    );
    Ok(())
}

#[test]
fn a_changed_name_is_the_subject_name_and_the_old_one_a_former_name() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let org = usccs(34, 1)[0];
    let (old, new) = ("上海旧名称有限公司", "上海新名称有限公司");
    ingest_jsonl(
        &store,
        "SAMR-SH",
        "a.jsonl",
        &jsonl(&[line("N-1", &org, old, "B-ORG-REG", "2010-01-01")]),
    )?;
    let s = must_get(&store, &org)?.subject;
    assert_eq!((s.name.as_str(), s.former_names.len()), (old, 0));

    // A new record under the new name.
    let report = ingest_jsonl(
        &store,
        "SAMR-SH",
        "b.jsonl",
        &jsonl(&[line("N-2", &org, new, "B-ORG-CERT", "2026-01-01")]),
    )?;
    assert_eq!(report.accepted, 1);
    let found = must_get(&store, &org)?;
    assert_eq!(found.subject.name, new);
    assert_eq!(found.subject.former_names, [old]);
    assert_eq!(found.records.len(), 2);
    assert_eq!(
        found.records[0].current().content.subject_name,
        old,
        "records keep what was sent"
    );

    // A new version of the first record renaming it back: no repeats in former names.
    let report = ingest_jsonl(
        &store,
        "SAMR-SH",
        "c.jsonl",
        &jsonl(&[line(
            "N-1",
            &org,
            "上海旧名称有限公司",
            "B-ORG-REG",
            "2010-01-02",
        )]),
    )?;
    assert_eq!(report.new_versions, 1);
    let s = must_get(&store, &org)?.subject;
    assert_eq!(s.name, old);
    assert_eq!(s.former_names, [new]);
    Ok(())
}

//! The collection log (Art. 26) and the change log: one collection entry per ingest chunk, in
//! sequence, with counts matching the reports, each file's hash on its last chunk and a hash
//! chain from entry to entry; the change log names every subject written.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::store::changelog::ChangeEntry;
use credstore::store::collection_log::CollectionEntry;
use credstore::Store;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

#[test]
fn entries_follow_the_ingests_and_chain() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(111, 5);
    let adult = person(112, "1972-12-12");

    // File 1: 5 lines (one bad) in chunks of 2.
    let mut lines: Vec<_> = orgs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            line(
                &format!("L-{i}"),
                c,
                "上海日志有限公司",
                "B-ORG-REG",
                "2010-10-10",
            )
        })
        .collect();
    lines[3]["item"] = "X-NOPE".into();
    let first_bytes = jsonl(&lines);
    let first_path = write_file(tmp.path(), "first.jsonl", &first_bytes)?;
    let mut opts = options();
    opts.chunk_lines = 2;
    let first = store.ingest_files("SAMR-SH", &[&first_path], &opts)?;
    assert_eq!((first.accepted, first.rejected), (4, 1));

    // File 2: a CSV from another provider, one chunk.
    let csv = format!(
        "provider_record_id,subject_code,subject_name,item,occurred_on\nM-1,{},蒋某,O-VOLUNTEER,2025-03-03\nM-2,{},上海日志有限公司,O-COMMENDATION,2025-03-03\n",
        adult.as_str(),
        orgs[0].as_str()
    );
    let second_path = write_file(tmp.path(), "second.csv", &csv)?;
    let second = store.ingest_files("CIVIL-SH", &[&second_path], &options())?;
    assert_eq!(second.accepted, 2);

    let log: Vec<CollectionEntry> = store.collection_log().collect::<Result<_, _>>()?;
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    let first_seq = seqs[0];
    assert_eq!(
        seqs,
        (first_seq..first_seq + log.len() as u64).collect::<Vec<_>>(),
        "consecutive"
    );
    assert!(log.iter().all(|e| e.collected_on == today()));

    for (path, provider, report, bytes) in [
        (&first_path, "SAMR-SH", &first, first_bytes.as_bytes()),
        (&second_path, "CIVIL-SH", &second, csv.as_bytes()),
    ] {
        let name = path.display().to_string();
        let entries: Vec<&CollectionEntry> = log.iter().filter(|e| e.file == name).collect();
        assert!(!entries.is_empty(), "{name}");
        assert!(entries.iter().all(|e| e.provider == provider));
        let sum = |f: fn(&CollectionEntry) -> u64| entries.iter().map(|e| f(e)).sum::<u64>();
        assert_eq!(sum(|e| e.accepted), report.accepted, "{name}");
        assert_eq!(sum(|e| e.duplicates), report.duplicates, "{name}");
        assert_eq!(sum(|e| e.new_versions), report.new_versions, "{name}");
        assert_eq!(sum(|e| e.rejected), report.rejected, "{name}");
        let (last, earlier) = entries.split_last().ok_or("entries")?;
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        assert_eq!(
            last.file_sha256,
            Some(digest),
            "{name}: the whole file's hash on its last entry"
        );
        assert!(earlier.iter().all(|e| e.file_sha256.is_none()), "{name}");
    }
    let first_entries: Vec<&CollectionEntry> = log
        .iter()
        .filter(|e| e.file == first_path.display().to_string())
        .collect();
    assert!(
        first_entries.len() >= 3,
        "5 lines in chunks of 2: {}",
        first_entries.len()
    );
    assert_eq!(first_entries[0].lines, (1, 2));
    assert_eq!(first_entries[1].lines, (3, 4));
    // Each stored version names the entry of the chunk that carried its line.
    for (i, code) in orgs.iter().enumerate().filter(|(i, _)| *i != 3) {
        let found = must_get(&store, code)?;
        let version = found
            .records
            .iter()
            .find(|r| r.provider_record_id == format!("L-{i}"))
            .ok_or("record")?
            .current();
        let entry = log
            .iter()
            .find(|e| e.seq == version.collection_seq)
            .ok_or("no entry")?;
        let line_no = i as u64 + 1;
        assert!(
            entry.file == first_path.display().to_string()
                && entry.lines.0 <= line_no
                && line_no <= entry.lines.1,
            "line {line_no} attributed to {entry:?}"
        );
    }

    assert_eq!(
        log[0].prev_hash, [0; 32],
        "the first entry has no predecessor"
    );
    let hashes: BTreeSet<[u8; 32]> = log[1..].iter().map(|e| e.prev_hash).collect();
    assert_eq!(
        hashes.len(),
        log.len() - 1,
        "each entry chains to a different predecessor"
    );
    assert!(!hashes.contains(&[0; 32]));
    Ok(())
}

#[test]
fn the_change_log_names_every_subject_written() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(113, 4);
    let people = [person(114, "1980-01-01"), person(115, "1981-02-02")];
    let mut opts = options();
    opts.chunk_lines = 3;
    let mut written: BTreeSet<SubjectCode> = BTreeSet::new();
    let mut lines = Vec::new();
    for (i, c) in orgs.iter().enumerate() {
        lines.push(line(
            &format!("O-{i}"),
            c,
            "上海变更有限公司",
            "B-ORG-REG",
            "2015-01-01",
        ));
        written.insert(*c);
    }
    for (i, c) in people.iter().enumerate() {
        lines.push(line(
            &format!("P-{i}"),
            c,
            "沈某",
            "B-NP-EDUCATION",
            "2003-07-01",
        ));
        written.insert(*c);
    }
    let text = jsonl(&lines);
    store.ingest_reader(
        "SAMR-SH",
        "a.jsonl",
        credstore::ingest::FileFormat::JsonLines,
        text.as_bytes(),
        &opts,
    )?;

    let changes: Vec<ChangeEntry> = store.changes_since(0).collect::<Result<_, _>>()?;
    let named: BTreeSet<SubjectCode> = changes
        .iter()
        .flat_map(|c| c.subjects.iter().copied())
        .collect();
    assert_eq!(named, written);
    for c in &changes {
        let mut sorted = c.subjects.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, c.subjects, "in code order, without repeats");
    }
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let log_seqs: BTreeSet<u64> = store
        .collection_log()
        .map(|e| e.map(|e| e.seq))
        .collect::<Result<_, _>>()?;
    for c in &changes {
        let seq = c
            .collection_seq
            .ok_or("an ingest change names its collection entry")?;
        assert!(log_seqs.contains(&seq), "{seq}");
    }

    // Following from the last seen sequence gives only what is new.
    let next = seqs[seqs.len() - 1] + 1;
    assert_eq!(store.changes_since(next).count(), 0);
    let newcomer = usccs(116, 1)[0];
    ingest_jsonl(
        &store,
        "SAMR-SH",
        "b.jsonl",
        &jsonl(&[line(
            "O-new",
            &newcomer,
            "上海新有限公司",
            "B-ORG-REG",
            "2016-01-01",
        )]),
    )?;
    let fresh: Vec<ChangeEntry> = store.changes_since(next).collect::<Result<_, _>>()?;
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].subjects, [newcomer]);
    Ok(())
}

//! A file-by-file chunk is cut short when its lines' provider-index buckets would hold more
//! than `IngestOptions::max_index_entries` entries: buckets grow with their provider (16,384 of
//! them, whatever its size), and every new line reads and rewrites its bucket, so without the cut
//! a chunk's memory grew with the provider (BENCHMARKS.md, "Resource limits"). The cut changes
//! where chunks end, never what is stored.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::ingest::IngestOptions;
use credstore::store::collection_log::CollectionEntry;
use credstore::Store;
use std::collections::BTreeMap;
use std::path::Path;

/// `n` lines of provider ids `{prefix}-0 ..`, spread over `subjects`.
fn lines(prefix: &str, n: usize, subjects: &[SubjectCode]) -> String {
    let lines: Vec<_> = (0..n)
        .map(|i| {
            let code = &subjects[i % subjects.len()];
            line(
                &format!("{prefix}-{i}"),
                code,
                "上海桶测有限公司",
                "O-COMMENDATION",
                "2025-03-03",
            )
        })
        .collect();
    jsonl(&lines)
}

/// The line ranges of the collection-log entries of `file`, in order.
fn chunks(store: &Store, file: &Path) -> Result<Vec<(u64, u64)>, credstore::Error> {
    let name = file.display().to_string();
    let log: Vec<CollectionEntry> = store.collection_log().collect::<Result<_, _>>()?;
    Ok(log
        .into_iter()
        .filter(|e| e.file == name)
        .map(|e| e.lines)
        .collect())
}

/// Every subject's provider record ids, by code.
fn contents(
    store: &Store,
    subjects: &[SubjectCode],
) -> Result<BTreeMap<String, Vec<String>>, credstore::Error> {
    let mut out = BTreeMap::new();
    for code in subjects {
        let mut ids: Vec<String> = store
            .records(code)?
            .into_iter()
            .map(|r| r.provider_record_id)
            .collect();
        ids.sort();
        out.insert(code.as_str().to_string(), ids);
    }
    Ok(out)
}

#[test]
fn regression_ingest_memory_grew_with_the_provider_index() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let subjects = usccs(7101, 500);
    // 32,768 records: two entries a bucket on average once stored.
    let first = write_file(tmp.path(), "first.jsonl", lines("A", 32_768, &subjects))?;
    let second = write_file(tmp.path(), "second.jsonl", lines("B", 4_000, &subjects))?;

    let plain = Store::open(tmp.path().join("plain"))?;
    let budgeted = Store::open(tmp.path().join("budgeted"))?;
    let mut budget = options();
    budget.max_index_entries = 5_000;
    let ingest = |store: &Store, file: &Path, opts: &IngestOptions| {
        store.ingest_files("BUCKET-SH", &[file], opts)
    };

    let (a, b) = (
        ingest(&plain, &first, &options())?,
        ingest(&budgeted, &first, &budget)?,
    );
    assert_eq!((a.accepted, b.accepted), (32_768, 32_768));
    // A new provider: at least one entry a line is assumed, so the budget bounds the first
    // chunks too.
    let plain_chunks = chunks(&plain, &first)?;
    let budget_chunks = chunks(&budgeted, &first)?;
    assert_eq!(plain_chunks.len(), 4, "{plain_chunks:?}");
    assert!(
        budget_chunks.iter().all(|(lo, hi)| hi - lo < 5_000),
        "{budget_chunks:?}"
    );

    // Two entries a bucket now: about 1,000 / 2 lines a chunk under a budget of 1,000.
    budget.max_index_entries = 1_000;
    let (a, b) = (
        ingest(&plain, &second, &options())?,
        ingest(&budgeted, &second, &budget)?,
    );
    assert_eq!((a.accepted, b.accepted), (4_000, 4_000));
    assert_eq!(chunks(&plain, &second)?, [(1, 4_000)]);
    let cut = chunks(&budgeted, &second)?;
    assert!(cut.len() >= 6, "{cut:?}");
    assert!(cut.iter().all(|(lo, hi)| hi - lo < 700), "{cut:?}");
    let covered: u64 = cut.iter().map(|(lo, hi)| hi - lo + 1).sum();
    assert_eq!(covered, 4_000);

    // The same records either way, and both stores see every line as a duplicate now.
    assert_eq!(
        contents(&plain, &subjects)?,
        contents(&budgeted, &subjects)?
    );
    let again = ingest(&budgeted, &second, &budget)?;
    assert_eq!((again.accepted, again.duplicates), (0, 4_000));
    Ok(())
}

//! `audit verify` detects tampering with the stored logs (Art. 26, 31): for the collection log
//! and for the query log alike, an entry edited, deleted or inserted directly in the underlying
//! sled tree — in the middle or at the end — and an undecodable value are each reported as a
//! broken chain at the exact sequence number, by the library and by `credstore audit verify`
//! (exit 1, naming the log and the entry); an untouched store verifies (exit 0).

mod common;

use common::*;
use credstore::codec;
use credstore::query::{Asker, QueryOptions};
use credstore::store::audit::{AuditReport, ChainReport};
use credstore::store::collection_log::CollectionEntry;
use credstore::store::query_log::QueryLogEntry;
use credstore::Store;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Subjects each fixture ingests (and, for the query log, queries).
const SUBJECTS: u64 = 6;

/// The log a test tampers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Log {
    Collection,
    Query,
}

const BOTH: [Log; 2] = [Log::Collection, Log::Query];

impl Log {
    /// The keyspace tag of the log's entries.
    fn tag(self) -> u8 {
        match self {
            Log::Collection => b'l',
            Log::Query => b'q',
        }
    }

    /// The log's name in reports.
    fn name(self) -> &'static str {
        match self {
            Log::Collection => "collection",
            Log::Query => "query",
        }
    }

    /// This log's chain in a report.
    fn chain(self, report: &AuditReport) -> &ChainReport {
        match self {
            Log::Collection => &report.collection,
            Log::Query => &report.query,
        }
    }

    /// The other log's chain in a report.
    fn other(self, report: &AuditReport) -> &ChainReport {
        match self {
            Log::Collection => &report.query,
            Log::Query => &report.collection,
        }
    }

    /// The key of entry `seq`.
    fn key(self, seq: u64) -> Vec<u8> {
        let mut k = vec![self.tag()];
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// The stored bytes of entry `seq` re-encoded with one field changed, keeping its seq and
    /// prev-hash: a well-formed entry that says something else.
    fn edited(self, bytes: &[u8], key: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        Ok(match self {
            Log::Collection => {
                let mut e: CollectionEntry = codec::decode(bytes, "collection_log", key)?;
                e.accepted += 1;
                e.provider = "FORGED-SH".to_string();
                codec::encode(&e)
            }
            Log::Query => {
                let mut e: QueryLogEntry = codec::decode(bytes, "query_log", key)?;
                e.operator = Some("张三".to_string());
                e.purpose = Some("篡改".to_string());
                codec::encode(&e)
            }
        })
    }

    /// A copy of the entry in `bytes` renumbered `seq` and chained to `prev` (the SHA-256 of the
    /// bytes stored before it).
    fn renumbered(
        self,
        bytes: &[u8],
        key: &[u8],
        seq: u64,
        prev: [u8; 32],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        Ok(match self {
            Log::Collection => {
                let mut e: CollectionEntry = codec::decode(bytes, "collection_log", key)?;
                e.seq = seq;
                e.prev_hash = prev;
                codec::encode(&e)
            }
            Log::Query => {
                let mut e: QueryLogEntry = codec::decode(bytes, "query_log", key)?;
                e.seq = seq;
                e.prev_hash = prev;
                codec::encode(&e)
            }
        })
    }
}

/// A fresh store in a temporary directory.
struct Fixture {
    _tmp: tempfile::TempDir,
    /// The store's directory.
    dir: PathBuf,
    /// Entries in the log under test (seqs `0..n`).
    n: u64,
    /// Entries in the other log.
    other_n: u64,
}

/// A fresh store whose log `log` holds at least 5 entries. Collection fixture: one file of
/// [`SUBJECTS`] lines ingested one line per chunk, which makes one entry per line plus the
/// file's final (empty) chunk carrying the whole file's hash; the query log stays empty. Query
/// fixture: one ingest (one collection entry), then one public query per subject.
fn fixture(log: Log) -> Result<Fixture, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let store = Store::open(&dir)?;
    let orgs = usccs(0xA0D17 + log.tag() as u64, SUBJECTS as usize);
    let lines: Vec<Value> = orgs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            line(
                &format!("AUD-{i}"),
                c,
                "上海审计测试有限公司",
                "B-ORG-REG",
                "2015-05-05",
            )
        })
        .collect();
    let path = write_file(tmp.path(), "audit.jsonl", jsonl(&lines))?;
    let mut opts = options();
    if log == Log::Collection {
        // One collection-log entry per line.
        opts.chunk_lines = 1;
    }
    let report = store.ingest_files("SAMR-SH", &[&path], &opts)?;
    assert_eq!(report.accepted, SUBJECTS, "{:?}", report.rejects);
    if log == Log::Query {
        for code in &orgs {
            let answer = store.query(&Asker::Public, code, &QueryOptions::new(today()))?;
            assert_eq!(answer.records.len(), 1);
        }
    }
    let collection: Vec<CollectionEntry> = store.collection_log().collect::<Result<_, _>>()?;
    let queries: Vec<QueryLogEntry> = store.query_log().collect::<Result<_, _>>()?;
    let numbered = |seqs: Vec<u64>| seqs.iter().enumerate().all(|(i, s)| *s == i as u64);
    assert!(
        numbered(collection.iter().map(|e| e.seq).collect()),
        "collection seqs"
    );
    assert!(
        numbered(queries.iter().map(|e| e.seq).collect()),
        "query seqs"
    );
    let (n, other_n) = match log {
        Log::Collection => (collection.len() as u64, queries.len() as u64),
        Log::Query => (queries.len() as u64, collection.len() as u64),
    };
    let (want_n, want_other) = match log {
        Log::Collection => (SUBJECTS + 1, 0),
        Log::Query => (SUBJECTS, 1),
    };
    assert_eq!((n, other_n), (want_n, want_other), "{log:?} fixture");
    drop(store);
    Ok(Fixture {
        _tmp: tmp,
        dir,
        n,
        other_n,
    })
}

/// The stored bytes under `key`.
fn stored(tree: &sled::Tree, key: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(tree
        .get(key)?
        .ok_or_else(|| format!("no value under {key:?}"))?
        .to_vec())
}

/// Reopens the store and verifies both logs.
fn verify(dir: &Path) -> Result<AuditReport, Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let report = store.audit_verify()?;
    drop(store);
    Ok(report)
}

/// Asserts that `log` is broken at exactly `seq` and the other log is intact; returns the
/// problem text.
fn assert_broken_at(report: &AuditReport, log: Log, seq: u64, what: &str) -> String {
    assert!(
        !report.ok(),
        "{what}: {log:?} tampering not detected: {report:?}"
    );
    let chain = log.chain(report);
    assert_eq!(chain.log, log.name());
    let broken = chain
        .broken
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: {log:?} log not reported broken: {report:?}"));
    assert_eq!(broken.seq, seq, "{what}: {log:?}: {}", broken.problem);
    assert!(!broken.problem.is_empty(), "{what}: a problem text");
    assert_eq!(
        log.other(report).broken,
        None,
        "{what}: only the {log:?} log was touched"
    );
    broken.problem.clone()
}

#[test]
fn untouched_logs_verify_with_their_counts_and_heads() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let (dir, n) = (fx.dir.as_path(), fx.n);
        let report = verify(dir)?;
        assert!(report.ok(), "{log:?}: {report:?}");
        let chain = log.chain(&report);
        assert_eq!(chain.log, log.name());
        assert_eq!(chain.entries, n, "{log:?}");
        assert_eq!(chain.broken, None);
        // The head is the SHA-256 of the newest entry's stored bytes, in hex.
        let mut last = Vec::new();
        with_tree(dir, |tree| {
            last = stored(tree, &log.key(n - 1))?;
            Ok(())
        })?;
        let expected: String = Sha256::digest(&last)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(chain.head, expected, "{log:?}");
        assert_ne!(chain.head, "0".repeat(64));
        assert_eq!(log.other(&report).entries, fx.other_n, "{log:?}");

        let run = credstore_in(dir, &["audit", "verify"])?;
        assert_eq!(run.code, 0, "{log:?}: {}{}", run.stdout, run.stderr);
        let intact = format!(
            "{} log: {} entries, chain intact, head {}",
            log.name(),
            n,
            expected
        );
        assert!(run.stdout.contains(&intact), "{log:?}: {}", run.stdout);
        assert!(!run.stdout.contains("BROKEN"), "{}", run.stdout);
        let run = credstore_in(dir, &["audit", "verify", "--json"])?;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: Value = serde_json::from_str(run.stdout.trim())?;
        assert_eq!(v[log.name()]["entries"], n);
        assert_eq!(v[log.name()]["broken"], Value::Null);
        assert_eq!(v[log.name()]["head"], expected.as_str());
    }
    Ok(())
}

#[test]
fn an_edited_middle_entry_breaks_the_chain_at_the_next_entry() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let (dir, n) = (fx.dir.as_path(), fx.n);
        let edited = n / 2;
        with_tree(dir, |tree| {
            let key = log.key(edited);
            let bytes = stored(tree, &key)?;
            let changed = log.edited(&bytes, &key)?;
            assert_ne!(changed, bytes, "the edit changes the stored bytes");
            tree.insert(&key, changed)?;
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, edited + 1, "edited middle entry");
        assert!(problem.contains("previous-hash"), "{log:?}: {problem}");
        assert_eq!(
            log.chain(&report).entries,
            edited + 1,
            "counted up to the break"
        );
    }
    Ok(())
}

#[test]
fn an_edited_last_entry_no_longer_matches_the_head() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let (dir, n) = (fx.dir.as_path(), fx.n);
        let last = n - 1;
        with_tree(dir, |tree| {
            let key = log.key(last);
            let bytes = stored(tree, &key)?;
            tree.insert(&key, log.edited(&bytes, &key)?)?;
            Ok(())
        })?;
        let report = verify(dir)?;
        // Like a middle edit, the break is reported where the next link (here: the head) fails.
        let problem = assert_broken_at(&report, log, n, "edited last entry");
        assert!(problem.contains("head"), "{log:?}: {problem}");
    }
    Ok(())
}

#[test]
fn a_deleted_middle_entry_is_reported_missing() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let dir = fx.dir.as_path();
        let deleted = 3;
        with_tree(dir, |tree| {
            assert!(tree.remove(log.key(deleted))?.is_some());
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, deleted, "deleted middle entry");
        assert!(problem.contains("missing"), "{log:?}: {problem}");
    }
    Ok(())
}

#[test]
fn a_deleted_first_or_last_entry_is_detected() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let (dir, n) = (fx.dir.as_path(), fx.n);
        with_tree(dir, |tree| {
            assert!(tree.remove(log.key(n - 1))?.is_some());
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, n - 1, "deleted last entry");
        assert!(problem.contains("head"), "{log:?}: {problem}");

        let fx = fixture(log)?;
        let dir = fx.dir.as_path();
        with_tree(dir, |tree| {
            assert!(tree.remove(log.key(0))?.is_some());
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, 0, "deleted first entry");
        assert!(problem.contains("missing"), "{log:?}: {problem}");
    }
    Ok(())
}

#[test]
fn an_appended_well_chained_entry_is_detected_by_the_head() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let (dir, n) = (fx.dir.as_path(), fx.n);
        with_tree(dir, |tree| {
            let last_key = log.key(n - 1);
            let last = stored(tree, &last_key)?;
            let prev: [u8; 32] = Sha256::digest(&last).into();
            let forged = log.renumbered(&last, &last_key, n, prev)?;
            assert!(tree.insert(log.key(n), forged)?.is_none());
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, n, "appended entry");
        assert!(problem.contains("head"), "{log:?}: {problem}");
        // The chain itself is valid: every stored entry links to the one before it.
        assert_eq!(log.chain(&report).entries, n + 1, "{log:?}: {problem}");
    }
    Ok(())
}

#[test]
fn an_entry_inserted_after_a_gap_is_detected() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let (dir, n) = (fx.dir.as_path(), fx.n);
        let gap = n + 5;
        with_tree(dir, |tree| {
            let last_key = log.key(n - 1);
            let last = stored(tree, &last_key)?;
            let prev: [u8; 32] = Sha256::digest(&last).into();
            let forged = log.renumbered(&last, &last_key, gap, prev)?;
            tree.insert(log.key(gap), forged)?;
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, n, "entry after a gap");
        assert!(problem.contains("missing"), "{log:?}: {problem}");
        assert!(problem.contains(&gap.to_string()), "{log:?}: {problem}");
    }
    Ok(())
}

#[test]
fn the_cli_exits_1_and_names_the_broken_log_and_entry() -> TestResult {
    for log in BOTH {
        let fx = fixture(log)?;
        let dir = fx.dir.as_path();
        let edited = 1;
        with_tree(dir, |tree| {
            let key = log.key(edited);
            let bytes = stored(tree, &key)?;
            tree.insert(&key, log.edited(&bytes, &key)?)?;
            Ok(())
        })?;
        let run = credstore_in(dir, &["audit", "verify"])?;
        assert_eq!(run.code, 1, "{log:?}: {}{}", run.stdout, run.stderr);
        let broken = format!("{} log: BROKEN at entry {}", log.name(), edited + 1);
        assert!(run.stdout.contains(&broken), "{log:?}: {}", run.stdout);
        let other = match log {
            Log::Collection => "query log:",
            Log::Query => "collection log:",
        };
        let other_line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(other))
            .ok_or_else(|| format!("no {other} line in {}", run.stdout))?;
        assert!(other_line.contains("chain intact"), "{other_line}");

        let run = credstore_in(dir, &["audit", "verify", "--json"])?;
        assert_eq!(run.code, 1, "{}", run.stderr);
        let v: Value = serde_json::from_str(run.stdout.trim())?;
        assert_eq!(v[log.name()]["broken"]["seq"], edited + 1, "{v}");
        assert!(v[log.name()]["broken"]["problem"].is_string(), "{v}");
    }
    Ok(())
}

#[test]
fn an_undecodable_entry_is_reported_not_a_crash() -> TestResult {
    for log in BOTH {
        // A truncated value.
        let fx = fixture(log)?;
        let dir = fx.dir.as_path();
        let corrupted = 2;
        with_tree(dir, |tree| {
            let key = log.key(corrupted);
            let bytes = stored(tree, &key)?;
            tree.insert(&key, &bytes[..bytes.len() / 2])?;
            Ok(())
        })?;
        let report = verify(dir)?;
        let problem = assert_broken_at(&report, log, corrupted, "truncated entry");
        assert!(problem.contains("decode"), "{log:?}: {problem}");

        let run = credstore_in(dir, &["audit", "verify"])?;
        assert_eq!(run.code, 1, "{log:?}: {}{}", run.stdout, run.stderr);
        let broken = format!("{} log: BROKEN at entry {corrupted}", log.name());
        assert!(run.stdout.contains(&broken), "{log:?}: {}", run.stdout);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

        // Garbage under an unknown format byte, and an empty value, as the last entry.
        for garbage in [vec![0xEE; 40], Vec::new()] {
            let fx = fixture(log)?;
            let (dir, n) = (fx.dir.as_path(), fx.n);
            with_tree(dir, |tree| {
                tree.insert(log.key(n - 1), garbage.clone())?;
                Ok(())
            })?;
            let report = verify(dir)?;
            let problem = assert_broken_at(&report, log, n - 1, "garbage last entry");
            assert!(problem.contains("decode"), "{log:?}: {problem}");
        }
    }
    Ok(())
}

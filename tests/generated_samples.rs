//! Generated provider files and the bundled samples: ingestion refuses exactly the lines the
//! generator marked bad (`bad-lines.jsonl`), for the reason of their kind, and keeps every other.

mod common;

use common::*;
use credstore::domain::date::Date;
use credstore::generate::{generate, GenerateConfig, PROHIBITED_MARKER};
use credstore::ingest::{FileFormat, IngestOptions, IngestReport};
use credstore::Store;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Deserialize)]
struct BadLine {
    file: String,
    line: u64,
    kind: String,
}

/// `bad-lines.jsonl` of a generated directory: (file, line) → kind.
fn bad_lines(dir: &Path) -> Result<BTreeMap<(String, u64), String>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(dir.join("bad-lines.jsonl"))?;
    let mut out = BTreeMap::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let bad: BadLine = serde_json::from_str(l)?;
        assert!(
            out.insert((bad.file, bad.line), bad.kind).is_none(),
            "listed twice: {l}"
        );
    }
    Ok(out)
}

/// Ingests every provider folder of `dir` (provider code = folder name) and returns the summed
/// report, with rejects' files made relative to `dir` (`SAMR-SH/records.jsonl`).
fn ingest_all(
    store: &Store,
    dir: &Path,
    options: &IngestOptions,
) -> Result<IngestReport, Box<dyn std::error::Error>> {
    let sources = credstore::ingest::bulk::provider_tree(dir)?;
    let groups: Vec<_> = sources.chunk_by(|a, b| a.provider == b.provider).collect();
    assert!(groups.len() >= 13, "{sources:?}");
    let mut total = IngestReport::default();
    for group in groups {
        let files: Vec<&Path> = group.iter().map(|s| s.path.as_path()).collect();
        let mut report = store.ingest_files(&group[0].provider, &files, options)?;
        for r in &mut report.rejects {
            let relative = Path::new(&r.file).strip_prefix(dir)?;
            r.file = relative.to_str().ok_or("path")?.replace('\\', "/");
        }
        total.absorb(report);
    }
    Ok(total)
}

/// Data lines (CSV: rows after the header) of every provider file under `dir`.
fn data_lines(dir: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let mut n = 0;
    for path in all_files(dir)? {
        let Some(format) = FileFormat::from_path(&path) else {
            continue;
        };
        if path.parent() == Some(dir) {
            continue; // bad-lines.jsonl itself
        }
        let text = std::fs::read_to_string(&path)?;
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
        n += if format == FileFormat::Csv {
            lines - 1
        } else {
            lines
        };
    }
    Ok(n)
}

/// A text the reason for each kind of bad line must contain.
fn reason_part(kind: &str) -> &'static str {
    match kind {
        "bad_check_digit" => "subject_code",
        "missing_required_field" => "subject_name",
        "impossible_date" => "no such calendar day",
        "unknown_item" => "not in the catalog",
        "item_not_for_kind" => "does not apply to",
        "under_18" => "Art. 10",
        "malformed_line" => "",
        "prohibited_field" => "Art. 14",
        "utility_arrears_too_recent" => "Art. 13 (4)",
        other => panic!("unknown kind of bad line {other:?}"),
    }
}

/// Checks a summed report against the generator's list of bad lines.
fn check_against_list(report: &IngestReport, dir: &Path) -> TestResult {
    let listed = bad_lines(dir)?;
    assert!(!listed.is_empty(), "the generator wrote bad lines");
    let rejected: BTreeSet<(String, u64)> = report
        .rejects
        .iter()
        .map(|r| (r.file.clone(), r.line))
        .collect();
    assert_eq!(
        rejected.len(),
        report.rejects.len(),
        "a line rejected twice"
    );
    let expected: BTreeSet<(String, u64)> = listed.keys().cloned().collect();
    let unexpected: Vec<_> = report
        .rejects
        .iter()
        .filter(|r| !expected.contains(&(r.file.clone(), r.line)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "good lines rejected: {unexpected:#?}"
    );
    let missed: Vec<_> = expected.difference(&rejected).collect();
    assert!(missed.is_empty(), "bad lines accepted: {missed:?}");
    for r in &report.rejects {
        let kind = &listed[&(r.file.clone(), r.line)];
        assert!(
            r.reason.contains(reason_part(kind)),
            "{kind} at {}:{}: {}",
            r.file,
            r.line,
            r.reason
        );
    }
    assert_eq!(report.rejected, listed.len() as u64);
    assert_eq!(report.lines, data_lines(dir)?);
    assert_eq!(report.accepted, report.lines - report.rejected);
    assert_eq!((report.duplicates, report.new_versions), (0, 0));
    Ok(())
}

#[test]
fn generated_files_are_refused_exactly_on_their_bad_lines() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("gen");
    let config = GenerateConfig {
        subjects: 2_000,
        seed: 20_261_127,
        bad_share: 0.05,
        today: today(),
    };
    let summary = generate(&config, &out)?;
    assert_eq!(summary.subjects, 2_000);
    assert!(
        summary.bad_lines > 0 && summary.good_lines > 5 * summary.bad_lines,
        "{summary:?}"
    );

    let store_dir = tmp.path().join("store");
    let store = Store::open(&store_dir)?;
    let report = ingest_all(&store, &out, &options())?;
    check_against_list(&report, &out)?;
    assert_eq!(report.accepted, summary.good_lines);
    assert_eq!(report.rejected, summary.bad_lines);
    assert_eq!(store.stats()?.records, summary.good_lines);

    // Every kind of bad line occurs, and the generated prohibited values were stored nowhere.
    let kinds: BTreeSet<String> = bad_lines(&out)?.into_values().collect();
    assert!(kinds.len() >= 8, "{kinds:?}");
    assert!(kinds.contains("prohibited_field"), "{kinds:?}");
    drop(store);
    assert!(files_containing(&store_dir, PROHIBITED_MARKER.as_bytes())?.is_empty());

    // Chunking is invisible: small chunks give the same rejects and the same store.
    let small = Store::open(tmp.path().join("small-chunks"))?;
    let mut opts = options();
    opts.chunk_lines = 50;
    let chunked = ingest_all(&small, &out, &opts)?;
    assert_eq!(chunked, report);
    let store = Store::open(&store_dir)?;
    assert_eq!(small.stats()?, store.stats()?);
    Ok(())
}

#[test]
fn the_bundled_samples_are_refused_exactly_on_their_bad_lines() -> TestResult {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/providers");
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    // The samples were generated for this collection date.
    let options = IngestOptions::new(Date::parse("2026-11-01")?);
    let report = ingest_all(&store, &samples, &options)?;
    check_against_list(&report, &samples)?;
    assert_eq!(store.stats()?.records, report.accepted);
    Ok(())
}

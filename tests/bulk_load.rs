//! A bulk load gives the same store as ingesting the same files one after another: same counts,
//! same rejected lines, same subjects, records, versions and contents (ids aside, which a bulk
//! load assigns in key order).

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::record::Record;
use credstore::ingest::bulk::Source;
use credstore::ingest::IngestReport;
use credstore::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A second SAMR-SH file: some lines resubmitted unchanged, some changed (new versions), one
/// moved to another subject (a conflict), and a repeat of a changed line (a duplicate of the new
/// version).
fn resubmissions(data: &Path, dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(data.join("SAMR-SH/records.jsonl"))?;
    let good: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["subject_name"].as_str().is_some_and(|s| !s.is_empty()))
        .take(60)
        .collect();
    let mut lines = Vec::new();
    for (i, v) in good.iter().enumerate() {
        let mut v = v.clone();
        match i % 4 {
            0 => {}
            1 | 2 => v["title"] = serde_json::json!(format!("更正后的标题 {i}")),
            _ => {
                v["subject_code"] =
                    serde_json::json!(good[(i + 1) % good.len()]["subject_code"].clone())
            }
        }
        lines.push(v.clone());
        if i % 4 == 1 {
            lines.push(v);
        }
    }
    Ok(write_file(dir, "resubmitted.jsonl", jsonl(&lines))?)
}

/// Everything about a subject that does not depend on the order ids were assigned in.
type Snapshot = BTreeMap<String, (String, Vec<String>, BTreeMap<(String, String), String>)>;

fn snapshot(
    store: &Store,
    codes: &BTreeSet<SubjectCode>,
) -> Result<Snapshot, Box<dyn std::error::Error>> {
    let mut out = BTreeMap::new();
    for code in codes {
        let Some(found) = store.subject(code)? else {
            continue;
        };
        let records: BTreeMap<(String, String), String> = found
            .records
            .iter()
            .map(|r: &Record| {
                let versions: Vec<String> = r
                    .versions
                    .iter()
                    .map(|v| format!("{}|{}|{:?}", v.version, v.collected_on, v.content))
                    .collect();
                (
                    (r.provider.clone(), r.provider_record_id.clone()),
                    format!("{:?}|{}", r.category, versions.join("||")),
                )
            })
            .collect();
        out.insert(
            code.as_str().to_string(),
            (
                found.subject.name.clone(),
                found.subject.former_names.clone(),
                records,
            ),
        );
    }
    Ok(out)
}

/// The same sources into two new stores under `dir`: `a` one file after another, `b` in one
/// bulk load. Returns each store with its report.
fn both_ways(
    dir: &Path,
    sources: &[Source],
    options: &credstore::ingest::IngestOptions,
) -> Result<[(Store, IngestReport); 2], credstore::Error> {
    let one_by_one = Store::open(dir.join("a"))?;
    let mut sequential = IngestReport::default();
    for s in sources {
        sequential.absorb(one_by_one.ingest_files(&s.provider, &[&s.path], options)?);
    }
    let bulk_store = Store::open(dir.join("b"))?;
    let bulk = bulk_store.ingest_bulk(sources, options)?;
    Ok([(one_by_one, sequential), (bulk_store, bulk)])
}

/// A report's rejected lines: file, line, kind.
fn rejects(r: &IngestReport) -> BTreeSet<(String, u64, String)> {
    r.rejects
        .iter()
        .map(|x| (x.file.clone(), x.line, x.kind.to_string()))
        .collect()
}

#[test]
fn bulk_load_equals_one_file_after_another() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let mut inputs = generated(&data, 1_500, 11, 0.05)?;
    inputs.push(Source {
        provider: "SAMR-SH".into(),
        path: resubmissions(&data, tmp.path())?,
    });
    let mut options = options();
    options.chunk_lines = 500; // several chunks and runs-worth of subjects

    let [(one_by_one, sequential), (bulk_store, bulk)] = both_ways(tmp.path(), &inputs, &options)?;

    assert!(
        sequential.new_versions > 0 && sequential.duplicates > 0,
        "{sequential:?}"
    );
    assert_eq!(
        (
            bulk.lines,
            bulk.accepted,
            bulk.duplicates,
            bulk.new_versions,
            bulk.rejected
        ),
        (
            sequential.lines,
            sequential.accepted,
            sequential.duplicates,
            sequential.new_versions,
            sequential.rejected
        )
    );
    assert_eq!(rejects(&bulk), rejects(&sequential));
    assert!(
        rejects(&bulk).iter().any(|r| r.2 == "conflict"),
        "the moved line is a conflict"
    );

    let codes: BTreeSet<SubjectCode> = one_by_one
        .changes_since(0)
        .map(|c| c.map(|c| c.subjects))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    assert!(codes.len() > 1_000);
    assert_eq!(
        snapshot(&bulk_store, &codes)?,
        snapshot(&one_by_one, &codes)?
    );
    assert_eq!(bulk_store.stats()?, one_by_one.stats()?);

    // And it is idempotent: loading the same inputs again stores nothing new.
    let again = bulk_store.ingest_bulk(&inputs, &options)?;
    assert_eq!(again.accepted + again.new_versions, 0, "{again:?}");
    assert_eq!(
        snapshot(&bulk_store, &codes)?,
        snapshot(&one_by_one, &codes)?
    );
    // No temporary runs are left behind.
    let leftovers = all_files(&tmp.path().join("b").join("tmp")).unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Ok(())
}

/// The files a bulk load reads on one thread while another parses and stages them: the edge
/// cases of where a file's chunks end (an empty file, a CSV with only its header, a refused
/// header, blank lines, a last line without its newline, a file of exactly one chunk) report as
/// one file after another does.
#[test]
fn odd_files_report_in_a_bulk_load_as_one_file_after_another() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("files");
    std::fs::create_dir_all(&dir)?;
    let codes = usccs(41, 8);
    let header = "provider_record_id,subject_code,subject_name,item,occurred_on\n";
    let row = |i: usize| {
        format!(
            "CSV-{i},{},上海读取测试有限公司,B-ORG-REG,2025-0{}-01\n",
            codes[i].as_str(),
            1 + i % 9
        )
    };
    let lines = |from: usize, n: usize| {
        let l: Vec<_> = (from..from + n)
            .map(|i| {
                line(
                    &format!("J-{i}"),
                    &codes[i % codes.len()],
                    "上海读取测试有限公司",
                    "B-ORG-REG",
                    "2025-02-02",
                )
            })
            .collect();
        jsonl(&l)
    };
    let chunk = options().chunk_lines.min(4);
    let files: Vec<(&str, String)> = vec![
        ("empty.csv", String::new()),
        ("header-only.csv", header.to_string()),
        (
            "bad-header.csv",
            format!("provider_record_id,nonsense\n{}", row(0)),
        ),
        (
            "rows.csv",
            format!("{header}{}\n\n{}{}", row(1), row(2), row(3).trim_end()),
        ),
        ("empty.jsonl", String::new()),
        ("blank.jsonl", "\n  \n\n".to_string()),
        ("one-chunk.jsonl", lines(0, chunk)),
        (
            "chunks.jsonl",
            format!(
                "{}\n{{not json\n{}",
                lines(10, 2 * chunk + 1),
                lines(40, 3).trim_end()
            ),
        ),
    ];
    let mut sources = Vec::new();
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        sources.push(Source {
            provider: "SAMR-SH".into(),
            path,
        });
    }
    let mut options = options();
    options.chunk_lines = chunk;
    let [(one_by_one, sequential), (bulk_store, bulk)] = both_ways(tmp.path(), &sources, &options)?;
    // Every file's hash, as the collection log keeps it.
    let hashes = |store: &Store| -> Result<BTreeMap<String, [u8; 32]>, credstore::Error> {
        let mut out = BTreeMap::new();
        for entry in store.collection_log() {
            let entry = entry?;
            if let Some(sha) = entry.file_sha256 {
                out.insert(entry.file, sha);
            }
        }
        Ok(out)
    };
    assert_eq!(hashes(&bulk_store)?, hashes(&one_by_one)?);
    assert_eq!(hashes(&bulk_store)?.len(), files.len());
    let counts = |r: &IngestReport| {
        (
            r.files,
            r.lines,
            r.accepted,
            r.duplicates,
            r.new_versions,
            r.rejected,
        )
    };
    assert_eq!(counts(&bulk), counts(&sequential));
    assert!(sequential.accepted > 2 * chunk as u64, "{sequential:?}");
    assert_eq!(rejects(&bulk), rejects(&sequential));
    let files_rejected: BTreeSet<String> = rejects(&bulk).into_iter().map(|r| r.0).collect();
    assert_eq!(
        files_rejected.len(),
        2,
        "the bad header and the bad line: {files_rejected:?}"
    );
    Ok(())
}

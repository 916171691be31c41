//! Helpers shared by the integration tests: the fixed collection date, subject codes, provider
//! lines, running the real binary, and a byte scanner for data directories.
//!
//! Everything here goes through the public API (STYLE habit 11). Each test file uses a different
//! subset of these helpers, hence the `dead_code` allowance.
#![allow(dead_code)]

use credstore::domain::code::{gen, SubjectCode};
use credstore::domain::date::Date;
use credstore::domain::record::SubjectRecords;
use credstore::generate::rng::Rng;
use credstore::ingest::{FileFormat, IngestOptions, IngestReport};
use credstore::Store;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What every test returns.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The collection date of every test (`--today`).
pub const TODAY: &str = "2026-11-27";

/// A date from `YYYY-MM-DD`; panics on a typo in the test itself.
pub fn date(text: &str) -> Date {
    Date::parse(text).unwrap_or_else(|e| panic!("test date {text:?}: {e}"))
}

/// [`TODAY`] as a date.
pub fn today() -> Date {
    date(TODAY)
}

/// Generates `subjects` subjects (a share `bad_share` of lines bad) collected as of [`TODAY`]
/// into `data`, and returns its provider folders as bulk-load sources.
pub fn generated(
    data: &Path,
    subjects: u64,
    seed: u64,
    bad_share: f64,
) -> Result<Vec<credstore::ingest::bulk::Source>, Box<dyn std::error::Error>> {
    let config = credstore::generate::GenerateConfig {
        subjects,
        seed,
        bad_share,
        today: today(),
    };
    credstore::generate::generate(&config, data)?;
    Ok(credstore::ingest::bulk::provider_tree(data)?)
}

/// Default ingest options as of [`TODAY`].
pub fn options() -> IngestOptions {
    IngestOptions::new(today())
}

/// `n` distinct valid organisation codes (Pudong), deterministic for `seed`.
pub fn usccs(seed: u64, n: usize) -> Vec<SubjectCode> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let code = gen::uscc(&mut rng, "310115");
        if !out.contains(&code) {
            out.push(code);
        }
    }
    out
}

/// A valid resident ID (Huangpu) of someone born on `birth`, deterministic for `seed`.
pub fn person(seed: u64, birth: &str) -> SubjectCode {
    gen::resident_id(&mut Rng::new(seed), "310101", date(birth))
}

/// `code` with its check character replaced so that it is valid under neither standard.
pub fn with_bad_check(code: &SubjectCode) -> String {
    let original = code.as_str();
    for c in "0123456789XABCDEFGHJKLMNPQRTUWY".chars() {
        let candidate = format!("{}{c}", &original[..17]);
        if candidate != original && SubjectCode::parse(&candidate, today()).is_err() {
            return candidate;
        }
    }
    panic!("no invalid check character for {code:?}")
}

/// A provider line with the five required fields.
pub fn line(id: &str, code: &SubjectCode, name: &str, item: &str, occurred_on: &str) -> Value {
    json!({
        "provider_record_id": id,
        "subject_code": code.as_str(),
        "subject_name": name,
        "item": item,
        "occurred_on": occurred_on,
    })
}

/// JSON Lines text: one compact object per line.
pub fn jsonl(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Ingests JSON Lines text through `Store::ingest_reader`.
pub fn ingest_jsonl(
    store: &Store,
    provider: &str,
    name: &str,
    text: &str,
) -> credstore::Result<IngestReport> {
    store.ingest_reader(
        provider,
        name,
        FileFormat::JsonLines,
        text.as_bytes(),
        &options(),
    )
}

/// A subject that must be in the store.
pub fn must_get(
    store: &Store,
    code: &SubjectCode,
) -> Result<SubjectRecords, Box<dyn std::error::Error>> {
    store
        .subject(code)?
        .ok_or_else(|| format!("subject {code:?} is not in the store").into())
}

/// The line numbers of a report's rejects, in report order.
pub fn reject_lines(report: &IngestReport) -> Vec<u64> {
    report.rejects.iter().map(|r| r.line).collect()
}

/// The reason given for `line`; panics if that line was not rejected.
pub fn reason_for(report: &IngestReport, line: u64) -> &str {
    report
        .rejects
        .iter()
        .find(|r| r.line == line)
        .map(|r| r.reason.as_str())
        .unwrap_or_else(|| panic!("line {line} was not rejected: {:?}", report.rejects))
}

/// The outcome of one run of the real binary.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs `credstore` with `args` and no input.
pub fn credstore(args: &[&str]) -> std::io::Result<Run> {
    credstore_stdin(args, b"")
}

/// Runs `credstore` with `args`, feeding `stdin`.
pub fn credstore_stdin(args: &[&str], stdin: &[u8]) -> std::io::Result<Run> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_credstore"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin)?;
    }
    let out = child.wait_with_output()?;
    Ok(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs `credstore --data-dir DIR --today TODAY ARGS...`.
pub fn credstore_in(data_dir: &Path, args: &[&str]) -> std::io::Result<Run> {
    let dir = data_dir.to_str().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "non-UTF-8 temp path")
    })?;
    let mut full = vec!["--data-dir", dir, "--today", TODAY];
    full.extend_from_slice(args);
    credstore(&full)
}

/// Every regular file under `dir`, recursively.
pub fn all_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in all_files(dir)? {
        let bytes = std::fs::read(&path)?;
        if contains(&bytes, needle) {
            out.push(path);
        }
    }
    Ok(out)
}

/// Whether `haystack` contains `needle` (a non-empty byte string).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Copies a directory tree (a closed store) to `to`.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Peak resident memory of this process, in KiB (Linux).
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Opens the store's sled database directly (waiting for the lock a dropped store releases a
/// few milliseconds late), runs `change` on the one tree, flushes and closes it. The store must
/// not be open.
pub fn with_tree(
    dir: &Path,
    change: impl FnOnce(&sled::Tree) -> Result<(), Box<dyn std::error::Error>>,
) -> TestResult {
    let config = sled::Config::new()
        .path(dir.join("sled"))
        .flush_every_ms(None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let db = loop {
        match config.open() {
            Ok(db) => break db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let tree = db.open_tree("credstore")?;
    change(&tree)?;
    tree.flush()?;
    drop(tree);
    drop(db);
    Ok(())
}

//! Scenario `ingest`: the child ingests provider files one by one through `Store::ingest_files`,
//! which returns only when every accepted line is flushed (ARCHITECTURE.md, "Durability"); a
//! file is acknowledged when the call returns.
//!
//! The child works like an operator's spool: a file is written to `work/spool/`, announced
//! (`begin NAME`), ingested, acknowledged (`ack NAME`) and removed; a new child first ingests
//! again whatever a kill left in the spool (re-running a file stores exactly its missing lines).
//! The first file (`seed`) holds more than `TRAIN_AFTER` subjects in one chunk, so the batch
//! that trains the store's compression dictionary is crashed too; every later value is
//! compressed with it. Later files are small, cut in chunks of 1-8 lines, mix new records, new
//! versions of earlier ones and a few invalid lines, and some leave the search index behind
//! (`defer_search_index`).
//!
//! Every file's lines are a function of the seed and the file's name, so the parent rebuilds
//! them from the name. Every valid line's content is unique, so "this line is stored" means "a
//! version of its record has exactly this content". The parent checks: every line of an
//! acknowledged file is stored with identical content, and each subject is searchable by code;
//! a file announced but not acknowledged is stored as whole chunks from its start (a chunk is
//! one atomic batch); invalid lines are never stored; the store holds no version that no
//! announced file explains; and the store's own consistency (`checks::consistent`).

use super::checks;
use super::harness::{say, Child, History, Outcome};
use crate::common::{date, usccs};
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::record::{Record, RecordContent};
use credstore::generate::rng::Rng;
use credstore::ingest::IngestOptions;
use credstore::Store;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;

const PROVIDER: &str = "SAMR-SH";
/// Subjects of the seed file (more than `credstore::store::dictionaries::TRAIN_AFTER`).
const SEED_SUBJECTS: usize = 1100;
/// Subjects the later files write about (the first of the seed's): enough that a soak's
/// thousands of files leave each with tens of records, not thousands.
const POOL: usize = 1000;
/// The collection date of every ingest.
const TODAY: &str = "2026-11-27";

fn subjects() -> &'static [SubjectCode] {
    static CODES: OnceLock<Vec<SubjectCode>> = OnceLock::new();
    CODES.get_or_init(|| usccs(9_417, SEED_SUBJECTS))
}

fn subject_name(i: usize) -> String {
    format!("上海崩溃测试{i}号科技有限公司")
}

/// One provider line, as the parent and the child both rebuild it.
#[derive(Debug, Clone)]
struct Line {
    prid: String,
    subject: usize,
    item: &'static str,
    occurred_on: Date,
    amount_fen: Option<i64>,
    /// False for a line the store must refuse (an unknown catalog item).
    valid: bool,
}

impl Line {
    fn json(&self) -> Value {
        let mut v = json!({
            "provider_record_id": self.prid,
            "subject_code": subjects()[self.subject].as_str(),
            "subject_name": subject_name(self.subject),
            "item": self.item,
            "occurred_on": self.occurred_on.to_string(),
            "title": "崩溃测试",
        });
        if let Some(a) = self.amount_fen {
            v["amount_fen"] = json!(a);
        }
        v
    }

    /// Whether `c` is exactly this line's content (every field the interface carries).
    fn is(&self, c: &RecordContent) -> bool {
        c.subject_name == subject_name(self.subject)
            && c.item == self.item
            && c.occurred_on == self.occurred_on
            && c.amount_fen == self.amount_fen
            && c.title.as_deref() == Some("崩溃测试")
            && c.decided_on.is_none()
            && c.ended_on.is_none()
            && c.reminded_on.is_none()
            && c.grade.is_none()
            && c.document_no.is_none()
            && c.violation_type.is_none()
            && c.facts.is_none()
            && c.legal_basis.is_none()
            && c.penalty_type.is_none()
            && c.penalty_content.is_none()
            && c.authority.is_none()
            && c.authority_code.is_none()
            && c.attributes.is_empty()
    }
}

/// A file: its lines, the chunk size it is ingested with, and whether it defers the index.
struct File {
    lines: Vec<Line>,
    chunk: usize,
    defer_index: bool,
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A record's subject and date follow from its provider id, so every version of it agrees.
fn penalty(prid: String, amount_fen: i64, valid: bool) -> Line {
    let h = fnv(&prid);
    Line {
        subject: (h % POOL as u64) as usize,
        item: if valid { "D-PENALTY" } else { "X-NO-SUCH-ITEM" },
        occurred_on: Date::from_days(date("2025-01-01").to_days() + (h >> 32) as i32 % 600)
            .expect("a date"),
        amount_fen: Some(amount_fen),
        prid,
        valid,
    }
}

/// The file named `name` in the run with `seed`: `seed`, or `r<round>-f<index>`.
fn file(seed: u64, name: &str) -> Outcome<File> {
    if name == "seed" {
        let lines = (0..SEED_SUBJECTS)
            .map(|i| Line {
                prid: format!("S-{i}"),
                subject: i,
                item: "B-ORG-REG",
                occurred_on: Date::from_days(date("2012-01-01").to_days() + i as i32)
                    .expect("a date"),
                amount_fen: None,
                valid: true,
            })
            .collect();
        return Ok(File {
            lines,
            chunk: 2 * SEED_SUBJECTS,
            defer_index: false,
        });
    }
    let (round, index) = name
        .strip_prefix('r')
        .and_then(|rest| rest.split_once("-f"))
        .and_then(|(r, f)| Some((r.parse::<u64>().ok()?, f.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("not a file name: {name:?}"))?;
    let mut rng = Rng::new(super::harness::mix(seed, round, index));
    let n = 1 + rng.below(48);
    let chunk = [1, 3, 4, 8][rng.index(4)];
    // The index commit takes longer than the rest of a small ingest: deferring it most of the
    // time lets most kills land before or inside the store's flush.
    let defer_index = rng.chance(0.75);
    let mut lines = Vec::new();
    for l in 0..n {
        // Unique per line: every valid line's content differs from every other's.
        let amount = ((round * 10_000 + index) * 100 + l) as i64;
        let roll = rng.below(100);
        let line = if roll < 5 {
            penalty(format!("P-{round}-{index}-{l}"), amount, false)
        } else if roll < 35 {
            // A new version of a record an earlier line may have stored (if that line was never
            // stored, this one is the record's first version).
            let r = 1 + rng.below(round);
            let (f, l2) = if r == round {
                (rng.below(index + 1), rng.below(48))
            } else {
                (rng.below(8), rng.below(48))
            };
            penalty(format!("P-{r}-{f}-{l2}"), amount, true)
        } else {
            penalty(format!("P-{round}-{index}-{l}"), amount, true)
        };
        lines.push(line);
    }
    Ok(File {
        lines,
        chunk,
        defer_index,
    })
}

fn write_atomically(path: &Path, text: &str) -> Outcome {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)?;
    Ok(())
}

/// Ingests the spooled file `name`, acknowledges it, and removes it from the spool.
fn ingest_one(store: &Store, child: &Child, name: &str) -> Outcome {
    let f = file(child.seed, name)?;
    let path = child.work.join("spool").join(format!("{name}.jsonl"));
    let mut options = IngestOptions::new(date(TODAY));
    options.chunk_lines = f.chunk;
    options.defer_search_index = f.defer_index;
    say(format_args!("begin {name}"));
    let report = store.ingest_files(PROVIDER, &[&path], &options)?;
    let invalid = f.lines.iter().filter(|l| !l.valid).count() as u64;
    if report.rejected != invalid {
        return Err(format!("{name}: {} rejected, expected {invalid}", report.rejected).into());
    }
    say(format_args!("ack {name}"));
    if name == "seed" {
        std::fs::write(child.work.join("seeded"), b"")?;
    }
    std::fs::remove_file(path)?;
    Ok(())
}

fn spool(child: &Child, name: &str) -> Outcome {
    let f = file(child.seed, name)?;
    let text: String = f.lines.iter().map(|l| format!("{}\n", l.json())).collect();
    write_atomically(
        &child.work.join("spool").join(format!("{name}.jsonl")),
        &text,
    )
}

/// The child: re-ingests the spool, then ingests new files until killed.
pub fn child(child: &Child) -> Outcome {
    let spool_dir = child.work.join("spool");
    std::fs::create_dir_all(&spool_dir)?;
    let store = Store::open(&child.store)?;
    let mut left: Vec<String> = std::fs::read_dir(&spool_dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".jsonl").map(str::to_string))
        .collect();
    // The seed first, then in the order they were written.
    left.sort_by_key(|n| (n != "seed", n.clone()));
    for name in &left {
        ingest_one(&store, child, name)?;
    }
    if !child.work.join("seeded").exists() {
        spool(child, "seed")?;
        ingest_one(&store, child, "seed")?;
    }
    let mut index = 0;
    while child.go_on() {
        let name = format!("r{:05}-f{index:04}", child.round);
        spool(child, &name)?;
        ingest_one(&store, child, &name)?;
        index += 1;
    }
    Ok(())
}

/// What became of one chunk of an announced file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Stored,
    Missing,
    /// Only invalid lines: nothing to see.
    Empty,
}

/// The parent's check.
pub fn check(store: &Store, history: &History) -> Outcome {
    let stored = checks::consistent(store)?;
    if stored.versions != stored.logged_versions {
        return Err(format!(
            "{} versions stored, the collection log describes {}",
            stored.versions, stored.logged_versions
        )
        .into());
    }
    let mut records: HashMap<&str, &Record> = HashMap::new();
    for s in &stored.subjects {
        for r in &s.records {
            records.insert(&r.provider_record_id, r);
        }
    }
    // Every announced file, and whether it was acknowledged.
    let mut files: BTreeMap<&str, bool> = BTreeMap::new();
    for words in history.words() {
        match words.as_slice() {
            ["begin", name] => {
                files.entry(name).or_insert(false);
            }
            ["ack", name] => *files.get_mut(name).ok_or("ack without begin")? = true,
            other => return Err(format!("unexpected line from the child: {other:?}").into()),
        }
    }
    let mut explained = 0u64;
    for (name, acked) in &files {
        explained += check_file(&records, history.seed, name, *acked)?;
    }
    if explained != stored.versions {
        return Err(format!(
            "{} versions stored, the announced files explain {explained}",
            stored.versions
        )
        .into());
    }
    checks::not_searchable_unless_stored(store, &stored, &subjects()[..POOL])
}

/// Checks one announced file; returns how many of its lines are stored.
fn check_file(
    records: &HashMap<&str, &Record>,
    seed: u64,
    name: &str,
    acked: bool,
) -> Outcome<u64> {
    let f = file(seed, name)?;
    let stored = |l: &Line| {
        records
            .get(l.prid.as_str())
            .is_some_and(|r| r.versions.iter().any(|v| l.is(&v.content)))
    };
    let mut states = Vec::new();
    let mut count = 0;
    for (c, chunk) in f.lines.chunks(f.chunk).enumerate() {
        if let Some(bad) = chunk.iter().find(|l| !l.valid && stored(l)) {
            return Err(format!("{name}: invalid line {} was stored", bad.prid).into());
        }
        let valid: Vec<bool> = chunk.iter().filter(|l| l.valid).map(stored).collect();
        let n = valid.iter().filter(|s| **s).count();
        count += n as u64;
        states.push(match n {
            _ if valid.is_empty() => ChunkState::Empty,
            n if n == valid.len() => ChunkState::Stored,
            0 => ChunkState::Missing,
            _ => return Err(format!("{name}: chunk {c} is half stored: {valid:?}").into()),
        });
    }
    if acked {
        if let Some(c) = states.iter().position(|s| *s == ChunkState::Missing) {
            return Err(format!("{name} was acknowledged but its chunk {c} is missing").into());
        }
    } else {
        let first_missing = states.iter().position(|s| *s == ChunkState::Missing);
        let last_stored = states.iter().rposition(|s| *s == ChunkState::Stored);
        if let (Some(m), Some(s)) = (first_missing, last_stored) {
            if s > m {
                return Err(format!(
                    "{name}: chunk {s} is stored after missing chunk {m}: {states:?}"
                )
                .into());
            }
        }
    }
    Ok(count)
}

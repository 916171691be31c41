//! What a child process measures and hands back to the parent (`<engine>-result.json`, and its
//! lookup answers as `<engine>-lookups.jsonl`), and the helpers that measure it.

use anyhow::{Context, Result};
use credstore::domain::record::{Record, Subject, SubjectRecords};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// One engine's figures and answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EngineResult {
    /// `credstore` or `sqlite`.
    pub engine: String,
    /// Records the load stored.
    pub records: u64,
    /// Wall time of the load, from the first file read to durable (and searchable).
    pub load_secs: f64,
    /// Bytes on disk after the load (credstore: its directory, search index included; SQLite:
    /// the database and its WAL).
    pub disk_bytes: u64,
    /// Timed runs of the plain lookup batch (key order, 2 threads), in ms.
    pub lookup_ms: Vec<f64>,
    /// Timed runs of the same batch with no record decoded (reads only), in ms: credstore
    /// `Store::subject_header` (the value read and decompressed, only the subject's header
    /// decoded), SQLite the same statement with the subject built and each value fetched (its
    /// length taken).
    pub reads_only_ms: Vec<f64>,
    /// Timed runs of decoding the batch's records from memory, with no store, on the same pool,
    /// in ms: SQLite's values copied out, then decoded as its lookups decode them. SQLite's
    /// phase only (`None` for credstore).
    pub decode_only_ms: Option<Vec<f64>>,
    /// Codes of the batch found.
    pub lookup_found: u64,
    /// Records read by one pass of the batch.
    pub lookup_records: u64,
    /// Timed runs of the agency path (`Store::bulk_query`), in ms; credstore only.
    pub bulk_query_ms: Option<Vec<f64>>,
    /// Codes the agency path found.
    pub bulk_query_found: Option<u64>,
    /// Per search class: latencies and answers.
    pub searches: Vec<SearchResult>,
    /// The retention sweep, when the engine has one.
    pub sweep: Option<SweepResult>,
    /// Peak resident memory of the child (VmHWM), in bytes.
    pub peak_rss_bytes: u64,
    /// The machine's 1-minute load average when the phase started and when it ended (the
    /// machine is shared: a figure measured at load 8 on 2 cores is not one measured at 1).
    pub load_average: (f64, f64),
}

/// One search class's latencies and answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchResult {
    /// Per query, in µs: its median over the timed passes ([`search_latencies`]).
    pub latencies_us: Vec<f64>,
    /// Per query, the codes of the hits that mean "matches" (see the engines' modules).
    pub answers: Vec<Vec<String>>,
}

/// A retention sweep's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SweepResult {
    /// Wall time, durable at the end.
    pub secs: f64,
    /// Records moved to the archive.
    pub archived: u64,
    /// Records moved, by catalog item.
    pub by_item: BTreeMap<String, u64>,
}

impl EngineResult {
    /// Writes `dir/<engine>-result.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(format!("{}-result.json", self.engine));
        std::fs::write(&path, serde_json::to_vec(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Reads `dir/<engine>-result.json`.
    pub fn load(dir: &Path, engine: &str) -> Result<EngineResult> {
        let path = dir.join(format!("{engine}-result.json"));
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// A subject's answer in a form both engines can produce: the store-assigned numbers (subject id,
/// record ids, collection-log sequence) zeroed, since each engine assigns its own, and records in
/// (provider, provider record id) order.
#[derive(Debug, Serialize)]
pub struct Normalised<'a> {
    code: &'a str,
    subject: Option<Subject>,
    records: Vec<Record>,
}

/// One line of `<engine>-lookups.jsonl`.
pub fn normalised_line(code: &str, found: Option<SubjectRecords>) -> Result<String> {
    let (subject, mut records) = match found {
        Some(s) => (Some(s.subject), s.records),
        None => (None, Vec::new()),
    };
    let subject = subject.map(|mut s| {
        s.subject_id = 0;
        s
    });
    for r in &mut records {
        r.record_id = credstore::domain::record::RecordId(0);
        for v in &mut r.versions {
            v.collection_seq = 0;
        }
    }
    records.sort_by(|a, b| {
        (&a.provider, &a.provider_record_id).cmp(&(&b.provider, &b.provider_record_id))
    });
    Ok(serde_json::to_string(&Normalised {
        code,
        subject,
        records,
    })?)
}

/// Counts the answer pass of the lookups into `result` and saves it, normalised, for the parent
/// to compare engine with engine (`codes` in batch order, `answers` beside them).
pub fn note_lookups(
    result: &mut EngineResult,
    codes: &[String],
    answers: Vec<Option<SubjectRecords>>,
    dir: &Path,
    engine: &str,
) -> Result<()> {
    result.lookup_found = answers.iter().flatten().count() as u64;
    result.lookup_records = answers
        .iter()
        .flatten()
        .map(|s| s.records.len() as u64)
        .sum();
    let lines = codes
        .iter()
        .zip(answers)
        .map(|(code, a)| normalised_line(code, a))
        .collect::<Result<Vec<_>>>()?;
    save_lookups(dir, engine, &lines)
}

/// Writes the lookup answers, one line per code in batch order.
fn save_lookups(dir: &Path, engine: &str, lines: &[String]) -> Result<()> {
    let path = dir.join(format!("{engine}-lookups.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// The 1-minute load average (`/proc/loadavg`), 0 when unreadable.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Runs `f` and returns its result with the wall time in seconds.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed().as_secs_f64())
}

/// Codes per chunk of a lookup batch's parallel work (and, for SQLite, per read transaction).
pub const CHUNK: usize = 64;

/// Runs `f` `runs` times (at least once); returns its result, checked to be the same in every
/// run, and each run's wall time in ms.
pub fn timed_runs<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(T, Vec<f64>)>
where
    T: PartialEq + std::fmt::Debug,
{
    let (first, secs) = timed(&mut f);
    let first = first?;
    let mut times = vec![secs * 1e3];
    for _ in 1..runs {
        let (out, secs) = timed(&mut f);
        let out = out?;
        anyhow::ensure!(
            out == first,
            "two timed runs disagree: {first:?} and {out:?}"
        );
        times.push(secs * 1e3);
    }
    Ok((first, times))
}

/// [`timed_runs`] of one pass over `items` on `pool`, in chunks of [`CHUNK`]: each chunk's result
/// from `per_chunk`, the chunks' results combined with `add` (from `T::default()`).
pub fn timed_chunk_runs<I: Sync, T>(
    pool: &rayon::ThreadPool,
    runs: usize,
    items: &[I],
    per_chunk: impl Fn(&[I]) -> Result<T> + Sync,
    add: impl Fn(T, T) -> T + Sync,
) -> Result<(T, Vec<f64>)>
where
    T: Send + Default + PartialEq + std::fmt::Debug,
{
    use rayon::prelude::*;
    timed_runs(runs, || {
        pool.install(|| {
            items
                .par_chunks(CHUNK)
                .map(&per_chunk)
                .try_reduce(T::default, |a, b| Ok(add(a, b)))
        })
    })
}

/// Timed passes over a search class's queries; each query's latency is its median over them.
pub const SEARCH_PASSES: usize = 3;

/// Per query, in order, its median latency in µs over [`SEARCH_PASSES`] timed passes over all of
/// `queries` (after the caller's answer pass, the warm-up): a stall of this shared machine
/// during one pass moves one of a query's figures, not its median, and a query slow in every
/// pass stays slow.
pub fn search_latencies<T>(
    queries: &[String],
    mut search: impl FnMut(&str) -> Result<T>,
) -> Result<Vec<f64>> {
    let mut passes = Vec::with_capacity(SEARCH_PASSES);
    for _ in 0..SEARCH_PASSES {
        let mut pass = Vec::with_capacity(queries.len());
        for q in queries {
            let (hits, secs) = timed(|| search(q));
            std::hint::black_box(hits?);
            pass.push(secs * 1e6);
        }
        passes.push(pass);
    }
    Ok((0..queries.len())
        .map(|i| {
            let figures: Vec<f64> = passes.iter().map(|p: &Vec<f64>| p[i]).collect();
            quantile(&figures, 0.5)
        })
        .collect())
}

/// Peak resident memory of this process (VmHWM), in bytes.
pub fn peak_rss_bytes() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .context("no VmHWM in /proc/self/status")?;
    Ok(kb * 1024)
}

/// The `q`-quantile (0.0-1.0) of `values`, nearest rank; 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// A rayon pool of `threads` threads.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?)
}

//! The one table: per operation credstore's figure, SQLite's, and SQLite's divided by
//! credstore's (above 1: credstore is faster, or smaller); then the lookup bound (how much
//! faster than SQLite an engine decoding the batch's records as SQLite does could be); then
//! the targets.

use crate::args::Config;
use crate::check::Checked;
use crate::measure::{quantile, EngineResult};
use crate::workload::{ClassKind, Truth, Workload};
use std::io::{self, Write};

/// A figure in the table: a time in seconds, or a size in bytes.
#[derive(Clone, Copy)]
enum Figure {
    Secs(f64),
    Ms(f64),
    Us(f64),
    Bytes(u64),
}

impl Figure {
    fn value(self) -> f64 {
        match self {
            Figure::Secs(v) | Figure::Ms(v) | Figure::Us(v) => v,
            Figure::Bytes(b) => b as f64,
        }
    }

    fn show(self) -> String {
        match self {
            Figure::Secs(v) => format!("{v:.1} s"),
            Figure::Ms(v) => format!("{v:.1} ms"),
            Figure::Us(v) => format!("{v:.0} µs"),
            Figure::Bytes(b) => format!("{} MiB", b >> 20),
        }
    }
}

/// One row: label, credstore's figure (or why there is none), SQLite's.
struct Row {
    label: String,
    credstore: Result<Figure, String>,
    sqlite: Figure,
}

impl Row {
    /// SQLite's figure over credstore's.
    fn ratio(&self) -> Option<f64> {
        let c = self.credstore.as_ref().ok()?.value();
        (c > 0.0).then(|| self.sqlite.value() / c)
    }
}

/// Prints the header, the table and the targets to `out`.
pub fn print(
    out: &mut impl Write,
    config: &Config,
    w: &Workload,
    truth: &Truth,
    checked: &Checked,
    cs: &EngineResult,
    sq: &EngineResult,
) -> io::Result<()> {
    let rows = rows(w, cs, sq);
    writeln!(
        out,
        "credbench: {} subjects, {} records (generated, seed 1; {} lines refused), collected as of {}",
        w.subjects,
        truth.records,
        truth.refused,
        w.today()
    )?;
    writeln!(out, "machine: {}", machine())?;
    writeln!(
        out,
        "load average (1 min) at the start / end of each phase: credstore {:.1} / {:.1}, SQLite {:.1} / {:.1}",
        cs.load_average.0, cs.load_average.1, sq.load_average.0, sq.load_average.1
    )?;
    writeln!(
        out,
        "lookups: {} codes ({} found, {} records), key order, 2 threads, median of {} runs; searches: {} queries per class, limit 20, one thread, each query's median of {} timed passes",
        w.lookup_codes.len(),
        cs.lookup_found,
        cs.lookup_records,
        config.runs,
        config.queries,
        crate::measure::SEARCH_PASSES
    )?;
    writeln!(
        out,
        "answers checked: lookups identical; {} searches equal as sets, {} at the limit with every hit verified; sweep counts by item equal the data's",
        checked.as_sets, checked.by_containment
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| operation | credstore | SQLite | SQLite / credstore |"
    )?;
    writeln!(out, "|---|---:|---:|---:|")?;
    for row in &rows {
        let c = match &row.credstore {
            Ok(f) => f.show(),
            Err(why) => why.clone(),
        };
        let ratio = row.ratio().map_or("—".to_string(), |r| format!("{r:.2}×"));
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.label,
            c,
            row.sqlite.show(),
            ratio
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "SQLite / credstore above 1: credstore is faster (times) or smaller (memory, disk)."
    )?;
    lookup_bound(out, cs, sq)?;
    targets(out, &rows)
}

/// Where the lookup time goes, and the most an engine could gain: both engines build the same
/// records, so an engine that decodes them as SQLite's lookups do (`codec::decode`) can answer
/// the batch no faster than the decoding alone, however fast it reads.
fn lookup_bound(out: &mut impl Write, cs: &EngineResult, sq: &EngineResult) -> io::Result<()> {
    let Some(decode) = sq.decode_only_ms.as_deref() else {
        return Ok(());
    };
    let (decode_ms, total) = (median(decode), median(&sq.lookup_ms));
    writeln!(out)?;
    writeln!(
        out,
        "lookup bound: decoding the batch's {} records from memory with the crate's codec, no \
         store, takes {decode_ms:.1} ms on the same 2 threads (median of {} runs). Reading \
         only (no record decoded), then the whole batch: credstore {:.1} ms and {:.1} ms; \
         SQLite {:.1} ms and {total:.1} ms. An engine that read for nothing and decoded as \
         fast would be {:.2}× faster than SQLite; 3× is {:.1} ms.",
        cs.lookup_records,
        decode.len(),
        median(&cs.reads_only_ms),
        median(&cs.lookup_ms),
        median(&sq.reads_only_ms),
        total / decode_ms,
        total / 3.0
    )
}

fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

fn rows(w: &Workload, cs: &EngineResult, sq: &EngineResult) -> Vec<Row> {
    let mut rows = vec![
        Row {
            label: format!("bulk load, {} subjects (durable, searchable)", w.subjects),
            credstore: Ok(Figure::Secs(cs.load_secs)),
            sqlite: Figure::Secs(sq.load_secs),
        },
        Row {
            label: "lookup 10,000 codes: Store::subject (plain reads) vs SELECT".into(),
            credstore: Ok(Figure::Ms(median(&cs.lookup_ms))),
            sqlite: Figure::Ms(median(&sq.lookup_ms)),
        },
        Row {
            label: "lookup 10,000 codes: Store::bulk_query (agency path, logged) vs SELECT".into(),
            credstore: cs
                .bulk_query_ms
                .as_deref()
                .map(|v| Figure::Ms(median(v)))
                .ok_or_else(|| "n/a".to_string()),
            sqlite: Figure::Ms(median(&sq.lookup_ms)),
        },
        // NOTE: "codes, reads only", not "codes: ...": [`targets`] finds the two rows above
        // by their "lookup 10,000 codes: Store::..." prefixes.
        Row {
            label: "lookup 10,000 codes, reads only (no record decoded): Store::subject_header vs SELECT".into(),
            credstore: Ok(Figure::Ms(median(&cs.reads_only_ms))),
            sqlite: Figure::Ms(median(&sq.reads_only_ms)),
        },
    ];
    for (i, class) in w.classes.iter().enumerate() {
        for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
            rows.push(Row {
                label: format!("{} {name}", class.kind.label()),
                credstore: Ok(Figure::Us(quantile(&cs.searches[i].latencies_us, q))),
                sqlite: Figure::Us(quantile(&sq.searches[i].latencies_us, q)),
            });
        }
    }
    if let Some(s) = &sq.sweep {
        rows.push(Row {
            label: format!(
                "retention sweep: {} records due as of {}",
                s.archived,
                w.sweep_as_of()
            ),
            credstore: cs
                .sweep
                .as_ref()
                .map(|c| Figure::Secs(c.secs))
                .ok_or_else(|| "n/a (no sweep result)".to_string()),
            sqlite: Figure::Secs(s.secs),
        });
    }
    rows.push(Row {
        label: "peak memory of the engine's process (VmHWM)".into(),
        credstore: Ok(Figure::Bytes(cs.peak_rss_bytes)),
        sqlite: Figure::Bytes(sq.peak_rss_bytes),
    });
    rows.push(Row {
        label: "disk after the load (credstore: store and search index; SQLite: db + wal)".into(),
        credstore: Ok(Figure::Bytes(cs.disk_bytes)),
        sqlite: Figure::Bytes(sq.disk_bytes),
    });
    rows
}

/// The targets (set for 1,000,000 subjects), met or missed at this size.
fn targets(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    let find = |prefix: &str| {
        rows.iter()
            .find(|r| r.label.starts_with(prefix))
            .and_then(Row::ratio)
    };
    let verdict = |ratio: Option<f64>, need: f64| match ratio {
        None => "n/a".to_string(),
        Some(r) if r >= need => format!("met ({r:.2}×)"),
        Some(r) => format!("missed ({r:.2}×)"),
    };
    writeln!(out)?;
    writeln!(out, "targets of issue 6 (set at 1,000,000 subjects):")?;
    writeln!(
        out,
        "- bulk load ≥2× faster: {}",
        verdict(find("bulk load"), 2.0)
    )?;
    writeln!(
        out,
        "- lookup of 10,000 codes ≥3× faster: plain reads {}; bulk_query {}",
        verdict(find("lookup 10,000 codes: Store::subject"), 3.0),
        verdict(find("lookup 10,000 codes: Store::bulk_query"), 3.0)
    )?;
    for kind in [
        ClassKind::Fragment2,
        ClassKind::Fragment4,
        ClassKind::PersonName,
    ] {
        let l = kind.label();
        writeln!(
            out,
            "- {l} at least as fast: p50 {}, p99 {}",
            verdict(find(&format!("{l} p50")), 1.0),
            verdict(find(&format!("{l} p99")), 1.0)
        )?;
    }
    writeln!(
        out,
        "- 2-char fragments (SQLite's LIKE fallback) ≥10× faster at p99: {}",
        verdict(find(&format!("{} p99", ClassKind::Fragment2.label())), 10.0)
    )?;
    writeln!(
        out,
        "- retention sweep ≥2× faster: {}",
        verdict(find("retention sweep"), 2.0)
    )?;
    writeln!(
        out,
        "- disk no larger than SQLite's: {}",
        verdict(find("disk after the load"), 1.0)
    )
}

/// `nproc`, the CPU model and the RAM, from /proc.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let read = |path| std::fs::read_to_string(path).unwrap_or_default();
    let model = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    format!(
        "{cpus} CPUs ({model}), {:.1} GiB RAM, SQLite {}",
        mem_kib as f64 / (1 << 20) as f64,
        rusqlite::version()
    )
}

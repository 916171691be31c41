//! The credstore phase: a bulk load (`Store::ingest_bulk`, what `credstore load` runs: store and
//! search index, durable and searchable when it returns), the lookup batch through the plain
//! reader (`Store::subject`) and through the agency path (`Store::bulk_query`), the same batch
//! with no record decoded (`Store::subject_header`), the searches (`Store::search`), and the
//! retention sweep once the store has one ([`sweep`]).

use crate::data;
use crate::measure::{self, EngineResult, SearchResult, SweepResult};
use crate::workload::{Workload, LIMIT};
use anyhow::{anyhow, Result};
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::record::SubjectRecords;
use credstore::ingest::IngestOptions;
use credstore::query::bulk::{BulkInput, BulkRequest, BulkStatus};
use credstore::query::model::{BulkAccess, Requester, Role};
use credstore::search::{Matched, Requester as SearchAs};
use credstore::Store;
use rayon::prelude::*;
use std::path::Path;

/// Runs the credstore phase: the store in `work/credstore`, answers beside it in `work`.
pub fn run(w: &Workload, work: &Path) -> Result<EngineResult> {
    let dir = work.join("credstore");
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir)?;
    let sources = data::sources(&w.data_dir)?;
    let options = IngestOptions::new(w.today());
    let (report, load_secs) = measure::timed(|| store.ingest_bulk(&sources, &options));
    let report = report?;
    let mut result = EngineResult {
        engine: "credstore".into(),
        records: report.accepted + report.new_versions,
        load_secs,
        disk_bytes: store.disk_bytes()?,
        ..EngineResult::default()
    };
    let codes = parse_codes(&w.lookup_codes)?;
    lookups(&store, &codes, w, work, &mut result)?;
    bulk_query(&store, w, &mut result)?;
    for class in &w.classes {
        result.searches.push(search_class(&store, &class.queries)?);
    }
    result.sweep = Some(sweep(&store, w.sweep_as_of())?);
    result.peak_rss_bytes = measure::peak_rss_bytes()?;
    Ok(result)
}

/// The credstore side of the retention sweep: `Store::sweep` as of the workload's day (one
/// atomic batch, flushed), timed once; the parent checks its counts per catalog item against
/// the generated data, as it checks SQLite's.
pub fn sweep(store: &Store, as_of: Date) -> Result<SweepResult> {
    let started = std::time::Instant::now();
    let report = store.sweep(&credstore::store::retention::SweepOptions {
        as_of,
        dry_run: false,
    })?;
    let secs = started.elapsed().as_secs_f64();
    Ok(SweepResult {
        secs,
        archived: report.archived,
        by_item: report.by_item.into_iter().collect(),
    })
}

/// The workload's codes as subject codes.
pub fn parse_codes(codes: &[String]) -> Result<Vec<SubjectCode>> {
    codes
        .iter()
        .map(|c| {
            SubjectCode::from_stored(c.as_bytes())
                .ok_or_else(|| anyhow!("bad code in the workload"))
        })
        .collect()
}

/// The plain reader on a rayon pool of 2 threads, in key order, in chunks of [`measure::CHUNK`]
/// codes: an answer pass (saved for the parent), then the timed runs; then the same batch with
/// no record decoded (`Store::subject_header`: read, decompressed, only the header decoded).
fn lookups(
    store: &Store,
    codes: &[SubjectCode],
    w: &Workload,
    dir: &Path,
    result: &mut EngineResult,
) -> Result<()> {
    let pool = measure::pool(2)?;
    let answers: Vec<Option<SubjectRecords>> = pool.install(|| {
        codes
            .par_iter()
            .map(|c| store.subject(c))
            .collect::<Result<_, _>>()
    })?;
    measure::note_lookups(result, &w.lookup_codes, answers, dir, "credstore")?;
    // Per chunk, `count` summed over its codes.
    let timed_runs = |count: &(dyn Fn(&SubjectCode) -> credstore::Result<u64> + Sync)| {
        measure::timed_chunk_runs(
            &pool,
            w.runs,
            codes,
            |chunk| {
                Ok(chunk
                    .iter()
                    .try_fold(0, |n, c| Ok::<_, credstore::Error>(n + count(c)?))?)
            },
            |a, b| a + b,
        )
    };
    let (n, times) = timed_runs(&|c| Ok(store.subject(c)?.map_or(0, |s| s.records.len() as u64)))?;
    anyhow::ensure!(n == result.lookup_records, "a timed run read other records");
    result.lookup_ms = times;
    let (n, times) = timed_runs(&|c| Ok(u64::from(store.subject_header(c)?.is_some())))?;
    anyhow::ensure!(
        n == result.lookup_found,
        "a reads-only run found other subjects"
    );
    result.reads_only_ms = times;
    Ok(())
}

/// The agency path: one request of the batch's codes through `Store::bulk_query` (visibility
/// rule applied, query-log entry written and flushed), on a rayon pool of 2 threads.
fn bulk_query(store: &Store, w: &Workload, result: &mut EngineResult) -> Result<()> {
    let today = w.today();
    store.register_requester(&Requester {
        id: "CREDBENCH-AGENCY".into(),
        name: "credbench".into(),
        role: Role::Agency {
            bulk: BulkAccess::Granted { since: today },
        },
        registered_on: today,
        active: true,
    })?;
    let request = BulkRequest {
        agency: "CREDBENCH-AGENCY".into(),
        operator: "credbench".into(),
        purpose: "benchmark".into(),
        today,
        input: BulkInput::Lines,
    };
    let text = w.lookup_codes.join("\n") + "\n";
    let pool = measure::pool(2)?;
    let run = || -> Result<u64> {
        let mut found = 0;
        let summary = pool.install(|| {
            store.bulk_query(
                &request,
                text.as_bytes(),
                |line| line.status == BulkStatus::Found,
                |hit| {
                    found += u64::from(hit);
                    Ok(())
                },
            )
        })?;
        if let Err((_, refusal)) = summary {
            anyhow::bail!("the agency's bulk request was refused: {refusal:?}");
        }
        Ok(found)
    };
    let found = run()?;
    let (timed_found, times) = measure::timed_runs(w.runs, run)?;
    anyhow::ensure!(timed_found == found, "a timed run found other codes");
    result.bulk_query_found = Some(found);
    result.bulk_query_ms = Some(times);
    Ok(())
}

/// One class's queries: an answer pass (also the warm-up), then the timed passes. The answer keeps
/// the hits that match the text (code, code prefix, exact name, names containing it), not the
/// partial tier (names sharing most of its character pairs), which SQLite has no equivalent of.
fn search_class(store: &Store, queries: &[String]) -> Result<SearchResult> {
    let mut out = SearchResult::default();
    for q in queries {
        let hits = store.search(SearchAs::Entitled, q, LIMIT)?;
        out.answers.push(
            hits.into_iter()
                .filter(|h| h.matched != Matched::NamePartial)
                .map(|h| h.code)
                .collect(),
        );
    }
    out.latencies_us = measure::search_latencies(queries, |q| {
        Ok(store.search(SearchAs::Entitled, q, LIMIT)?)
    })?;
    Ok(out)
}

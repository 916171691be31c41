//! One full-scale ingest with the figures criterion does not give: records/s including the
//! flush, size on disk, and peak resident memory.
//!
//! `cargo bench --bench ingest_scale -- --subjects 1000000 [--bulk] [--defer-index]` (default
//! 100,000 subjects, file by file with `Store::ingest_files`; `--bulk` loads every file in one
//! `Store::ingest_bulk`; `--defer-index` times the store alone, then the search index's catch-up
//! separately).
//! Generated data is cached under `target/bench-data/`; generation time is not counted.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

fn main() {
    if common::listing() {
        return;
    }
    let subjects = common::arg_u64("--subjects").unwrap_or(common::subjects(100_000));
    let args: Vec<String> = std::env::args().collect();
    let data = common::dataset(subjects);
    let rss_before = common::peak_rss_mib().unwrap_or(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = credstore::Store::open(dir.path()).expect("open");
    let start = Instant::now();
    let bulk = args.iter().any(|a| a == "--bulk");
    let defer = args.iter().any(|a| a == "--defer-index");
    let records = if bulk {
        common::bulk_all_with(&store, &data, defer)
    } else {
        common::ingest_all(&store, &data)
    };
    let secs = start.elapsed().as_secs_f64();
    if defer {
        let started = Instant::now();
        let n = store.reindex().expect("index");
        let index_secs = started.elapsed().as_secs_f64();
        println!(
            "search index     {n} subjects in {index_secs:.1} s: {:.0} subjects/s",
            n as f64 / index_secs
        );
    }
    let disk = store.disk_bytes().expect("disk size") as f64 / (1u64 << 20) as f64;
    let peak = common::peak_rss_mib().unwrap_or(0);
    let mode = match (bulk, defer) {
        (true, true) => "bulk load, store only",
        (true, false) => "bulk load, with search index",
        _ => "file by file, with search index",
    };
    println!("ingest_scale ({mode}): {subjects} subjects, {records} records");
    println!("  time            {secs:.1} s (including flush)");
    println!("  throughput      {:.0} records/s", records as f64 / secs);
    println!("  disk            {disk:.0} MiB");
    println!("  peak RSS        {peak} MiB (before ingest {rss_before} MiB)");
}

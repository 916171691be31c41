//! Bulk lookup latency (Art. 20 ¶3): one agency request of 10,000 codes — 10% unknown, 1%
//! malformed — answered in input order, the query-log entry written and flushed (criterion).
//!
//! `cargo bench --bench bulk_query` (size: `CREDSTORE_BENCH_SUBJECTS`, default 100,000; the
//! issue's figure is at 1,000,000: `CREDSTORE_BENCH_SUBJECTS=1000000 cargo bench --bench
//! bulk_query`). Runs the batch on rayon pools of 1 and 2 threads (the speed-up), and once with
//! every answer encoded as JSON (what `credstore bulk-query` writes).

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::domain::code::{gen, SubjectCode};
use credstore::generate::rng::Rng;
use credstore::query::bulk::{BulkInput, BulkRequest};
use credstore::query::model::{BulkAccess, Requester, Role};
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::HashSet;
use std::time::Duration;

/// The 10,000 input lines: 8,900 stored codes, 1,000 unknown valid codes, 100 malformed lines.
fn input(store: &credstore::Store, subjects: u64) -> String {
    let codes: Vec<SubjectCode> = store
        .subject_codes()
        .collect::<Result<_, _>>()
        .expect("codes");
    let present: HashSet<SubjectCode> = codes.iter().copied().collect();
    let mut rng = Rng::new(subjects ^ 0xB0B);
    let mut lines = Vec::with_capacity(10_000);
    for i in 0..10_000u32 {
        let line = match i % 100 {
            0 => format!("31010{i}-NOT-A-CODE"),
            1..=10 => loop {
                let c = gen::resident_id(
                    &mut rng,
                    "310109",
                    credstore::domain::date::Date::from_ymd(
                        1960 + (i % 40) as i32,
                        1 + i % 12,
                        1 + i % 28,
                    )
                    .expect("date"),
                );
                if !present.contains(&c) {
                    break c.as_str().to_string();
                }
            },
            _ => codes[rng.below(codes.len() as u64) as usize]
                .as_str()
                .to_string(),
        };
        lines.push(line);
    }
    lines.join("\n") + "\n"
}

fn bulk(c: &mut Criterion) {
    let subjects = common::subjects(100_000);
    // NOTE: on a fresh copy of the clean store, deleted at the end: every sample appends a log
    // entry (~200 KB), and a cached store that kept them would grow from run to run and fill
    // sled's page cache with log pages (36.6 ms on a store grown to 3.4 GB, 33.8 ms at 1.3 GB).
    let base = common::clean_store(subjects);
    let scratch = tempfile::tempdir_in(base.parent().expect("bench-data")).expect("scratch");
    let dir = scratch.path().join("store");
    common::copy_dir(&base, &dir);
    // sled's page cache: `CREDSTORE_BENCH_CACHE_MIB` (default: the store's default, 256 MiB).
    let mut options = credstore::StoreOptions::default();
    if let Some(mib) = std::env::var("CREDSTORE_BENCH_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        options.cache_capacity_bytes = mib << 20;
    }
    // `CREDSTORE_BENCH_NO_SYNC=1`: the log entry is written but not flushed (to see the flush's share).
    if std::env::var_os("CREDSTORE_BENCH_NO_SYNC").is_some() {
        options.sync_query_log = false;
    }
    let store = credstore::Store::open_with(&dir, options).expect("open");
    store
        .register_requester(&Requester {
            id: "BENCH-AGENCY".into(),
            name: "bench".into(),
            role: Role::Agency {
                bulk: BulkAccess::Granted {
                    since: common::today(),
                },
            },
            registered_on: common::today(),
            active: true,
        })
        .expect("register");
    let text = input(&store, subjects);
    let request = BulkRequest {
        agency: "BENCH-AGENCY".into(),
        operator: "bench".into(),
        purpose: "benchmark".into(),
        today: common::today(),
        input: BulkInput::Lines,
    };
    let run = |json: bool| {
        let mut records = 0usize;
        let summary = store
            .bulk_query(
                &request,
                text.as_bytes(),
                |line| {
                    if json {
                        serde_json::to_vec(&line).expect("json").len()
                    } else {
                        line.records.len()
                    }
                },
                |n| {
                    records += n;
                    Ok(())
                },
            )
            .expect("bulk")
            .expect("not refused");
        assert_eq!(summary.counts.asked, 10_000);
        records
    };
    let mut group = c.benchmark_group("bulk_query");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(15));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_function(
            format!("10000_codes/{subjects}_subjects/{threads}_threads"),
            |b| b.iter(|| pool.install(|| run(false))),
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    group.bench_function(
        format!("10000_codes/{subjects}_subjects/2_threads_json"),
        |b| b.iter(|| pool.install(|| run(true))),
    );
    group.finish();
}

criterion_group!(benches, bulk);
criterion_main!(benches);

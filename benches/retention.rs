//! Retention (Art. 27 ¶1), criterion: the sweep as of a day on which ~10% of the records fall
//! due, and the verification sweep (every record decoded, its rule re-checked) on rayon pools
//! of 1 and 2 threads.
//!
//! `cargo bench --bench retention` (size: `CREDSTORE_BENCH_SUBJECTS`, default 100,000 subjects
//! ≈ 500,000 records; the figures are at 1,000,000 subjects ≈ 5,000,000 records:
//! `CREDSTORE_BENCH_SUBJECTS=1000000 cargo bench --bench retention`).
//!
//! The sweep changes the store, so every timed sweep runs on a fresh copy of a cached store
//! (`target/bench-data/store-s{N}-clean-v2`), copied and opened outside the timing. The day is
//! found with dry runs before anything is timed, and printed.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::domain::date::Date;
use credstore::store::retention::SweepOptions;
use credstore::Store;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::time::{Duration, Instant};

/// The first day on which at least `share` of all records are due, by bisection over dry runs.
fn day_with_share_due(store: &Store, records: u64, share: f64) -> (Date, u64) {
    let due = |day: Date| {
        store
            .sweep(&SweepOptions {
                as_of: day,
                dry_run: true,
            })
            .expect("dry run")
            .archived
    };
    let want = (records as f64 * share) as u64;
    let (mut lo, mut hi) = (
        common::today().to_days(),
        common::today().to_days() + 40 * 366,
    );
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if due(Date::from_days(mid).expect("day")) >= want {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let day = Date::from_days(lo).expect("day");
    (day, due(day))
}

fn retention(c: &mut Criterion) {
    let subjects = common::subjects(100_000);
    let base = common::clean_store(subjects);
    let (records, day, due) = {
        let store = Store::open(&base).expect("open");
        let check = store.verify_retention(None).expect("verify");
        assert_eq!(check.archived, 0, "the clean store is never swept");
        let (day, due) = day_with_share_due(&store, check.records, 0.10);
        (check.records, day, due)
    };
    println!(
        "retention: {subjects} subjects, {records} records; sweep as of {day}: {due} due ({:.1}%)",
        due as f64 * 100.0 / records as f64
    );

    let mut group = c.benchmark_group("retention");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(5));

    // The sweep, on a fresh copy each time.
    group.throughput(Throughput::Elements(due));
    let scratch = tempfile::tempdir_in(base.parent().expect("bench-data")).expect("scratch");
    group.bench_function(format!("sweep 10% due/{subjects}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let copy = scratch.path().join(format!("copy-{i}"));
                common::copy_dir(&base, &copy);
                let store = Store::open(&copy).expect("open copy");
                let started = Instant::now();
                let report = store
                    .sweep(&SweepOptions {
                        as_of: day,
                        dry_run: false,
                    })
                    .expect("sweep");
                total += started.elapsed();
                assert_eq!(report.archived, due);
                drop(store);
                std::fs::remove_dir_all(&copy).expect("remove copy");
            }
            total
        })
    });

    // The verification sweep, read-only, on the clean store, its cache warmed by the first run.
    // sled's cache: `CREDSTORE_BENCH_CACHE_MIB`, default 2048 (the whole store of 1M subjects
    // fits, as the anchors' "from RAM" figures assume; with the store's default 256 MiB every
    // pass re-reads most pages from the OS).
    let cache_mib = std::env::var("CREDSTORE_BENCH_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(2048);
    let options = credstore::StoreOptions {
        cache_capacity_bytes: cache_mib << 20,
        ..credstore::StoreOptions::default()
    };
    println!("verify: sled cache {cache_mib} MiB");
    let store = Store::open_with(&base, options).expect("open");
    group.throughput(Throughput::Elements(records));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_function(format!("verify/{threads} thread(s)/{subjects}"), |b| {
            b.iter(|| {
                let check = pool.install(|| store.verify_retention(Some(day)).expect("verify"));
                assert_eq!(check.records, records);
                assert_eq!(check.due_on_given_day, due);
                check
            })
        });
    }
    group.finish();
}

criterion_group!(benches, retention);
criterion_main!(benches);

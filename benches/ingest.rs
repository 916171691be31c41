//! Ingest throughput (records/s, flushed) on generated provider files.
//!
//! `cargo bench --bench ingest` (size: `CREDSTORE_BENCH_SUBJECTS`, default 20,000 subjects,
//! ~100,000 records). Each iteration loads every provider file into a fresh store, including the
//! final flush, file by file (`ingest_files`) and as one bulk load (`ingest_bulk`). For one run
//! at full scale with disk size and peak memory, see `ingest_scale`.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn ingest(c: &mut Criterion) {
    let subjects = common::subjects(20_000);
    let data = common::dataset(subjects);
    let records = {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = credstore::Store::open(dir.path()).expect("open");
        common::ingest_all(&store, &data)
    };
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records));
    group.bench_function(
        format!("file_by_file/{subjects}_subjects_{records}_records"),
        |b| {
            b.iter_with_large_drop(|| {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = credstore::Store::open(dir.path()).expect("open");
                common::ingest_all(&store, &data);
                (store, dir)
            })
        },
    );
    group.bench_function(format!("bulk/{subjects}_subjects_{records}_records"), |b| {
        b.iter_with_large_drop(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = credstore::Store::open(dir.path()).expect("open");
            common::bulk_all(&store, &data);
            (store, dir)
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);

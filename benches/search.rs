//! Search latency per query class (criterion).
//!
//! `cargo bench --bench search` (size: `CREDSTORE_BENCH_SUBJECTS`, default 20,000 subjects).
//! Each iteration runs one query of the class, cycling through 200 drawn from the data, limit 20,
//! as the public. For p50/p99 at 1,000,000 subjects and the index build speed, see
//! `search_scale`.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::search::Requester;
use criterion::{criterion_group, criterion_main, Criterion};

fn search(c: &mut Criterion) {
    let subjects = common::subjects(20_000);
    let data = common::dataset(subjects);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = credstore::Store::open(dir.path()).expect("open");
    common::bulk_all(&store, &data);
    let headers: Vec<_> = store
        .subject_codes()
        .step_by(37)
        .map(|c| {
            store
                .subject_header(&c.expect("code"))
                .expect("read")
                .expect("subject")
        })
        .collect();
    let classes: Vec<(&str, Vec<String>)> = vec![
        (
            "code",
            headers
                .iter()
                .map(|s| s.code.as_str().to_string())
                .collect(),
        ),
        ("name", headers.iter().map(|s| s.name.clone()).collect()),
        (
            "2-char",
            headers
                .iter()
                .map(|s| s.name.chars().skip(2).take(2).collect())
                .collect(),
        ),
        (
            "3-4-char",
            headers
                .iter()
                .enumerate()
                .map(|(i, s)| s.name.chars().skip(2).take(3 + i % 2).collect())
                .collect(),
        ),
        (
            "code-prefix",
            headers
                .iter()
                .map(|s| s.code.as_str()[..8].to_string())
                .collect(),
        ),
    ];
    let mut group = c.benchmark_group("search");
    for (class, queries) in &classes {
        let queries: Vec<&String> = queries.iter().take(200).collect();
        let mut i = 0;
        group.bench_function(format!("{class}/{subjects}_subjects"), |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                store
                    .search(Requester::Public, queries[i], 20)
                    .expect("search")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);

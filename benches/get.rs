//! Single-subject reads: `Store::subject(&code)` for stored codes drawn at random, and for a
//! valid code the store does not hold (criterion).
//!
//! `cargo bench --bench get` (size: `CREDSTORE_BENCH_SUBJECTS`, default 20,000; the store is
//! bulk-loaded once and cached under `target/bench-data/`, the cache the other benches share).
//! Each iteration reads one subject and decodes all its records, cycling through 1,000 codes.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::domain::code::{gen, SubjectCode};
use credstore::domain::date::Date;
use credstore::generate::rng::Rng;
use credstore::Store;
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::HashSet;
use std::hint::black_box;

fn get(c: &mut Criterion) {
    let subjects = common::subjects(20_000);
    let store = Store::open(common::cached_store(subjects)).expect("open");
    let codes: Vec<SubjectCode> = store
        .subject_codes()
        .collect::<Result<_, _>>()
        .expect("codes");
    let mut rng = Rng::new(subjects ^ 0x6E7);
    let present: Vec<SubjectCode> = (0..1_000).map(|_| codes[rng.index(codes.len())]).collect();
    let stored: HashSet<SubjectCode> = codes.iter().copied().collect();
    let absent = loop {
        let birth = Date::from_ymd(1970, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
            .expect("a date");
        let code = gen::resident_id(&mut rng, "310109", birth);
        if !stored.contains(&code) {
            break code;
        }
    };
    let mut group = c.benchmark_group("get");
    let mut i = 0;
    group.bench_function(format!("present/{subjects}_subjects"), |b| {
        b.iter(|| {
            i = (i + 1) % present.len();
            let found = store.subject(black_box(&present[i])).expect("read");
            assert!(found.is_some());
            found
        })
    });
    group.bench_function(format!("absent/{subjects}_subjects"), |b| {
        b.iter(|| {
            let found = store.subject(black_box(&absent)).expect("read");
            assert!(found.is_none());
            found
        })
    });
    group.finish();
}

criterion_group!(benches, get);
criterion_main!(benches);

//! Where credstore's lookup of 10,000 codes spends its time, part by part, on a batch shaped
//! like credbench's (9,000 stored codes drawn at random, 1,000 valid codes not stored, in key
//! order; its own draw), on a rayon pool of 2 threads in chunks of 64; median of 7 runs after a
//! warm-up run.
//!
//! `cargo bench --bench lookup_parts -- --subjects 1000000` (default 100,000). Copies the
//! benches' clean cached store (bulk-loaded once under `target/bench-data/`) to a scratch
//! directory, then times, on the copy:
//! 1. through the open store: `Store::subject` (what credbench's plain lookup calls) and
//!    `Store::subject_header` (credbench's "reads only");
//! 2. with the store closed, on its sled tree directly, a chain in which each row includes the
//!    ones before it: `Tree::get` alone; then each value decompressed into a fresh buffer
//!    (`codec::plain_into`); then the three record columns decoded as borrowed views
//!    (`subjects::decode_column`); then those views copied out into `Record`s; and beside the
//!    chain, `get` then `subjects::decode` (`Store::subject`'s decoding);
//! 3. from memory, no store (the values read and decompressed beforehand): the plain values
//!    decoded by `subjects::decode` (header, checks, views copied out: what `Store::subject`
//!    does since `c68ce88`), and with serde (what it did before).
//!
//! `--cache-mib N` sets sled's cache for both (default 256, the store's default).

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::domain::code::{gen, SubjectCode};
use credstore::domain::date::Date;
use credstore::domain::record::{Record, Subject};
use credstore::generate::rng::Rng;
use credstore::store::{dictionaries::Dictionaries, keys, subjects, StoreOptions};
use credstore::{codec, Store};
use rayon::prelude::*;
use std::collections::HashSet;
use std::time::Instant;

const RUNS: usize = 7;

fn main() {
    if common::listing() {
        return;
    }
    let subjects = common::arg_u64("--subjects").unwrap_or(common::subjects(100_000));
    let cache = common::arg_u64("--cache-mib").unwrap_or(256) << 20;
    let scratch = tempfile::tempdir_in(common::dataset(subjects).parent().expect("bench-data"))
        .expect("scratch dir");
    let dir = scratch.path().join("store");
    common::copy_dir(&common::clean_store(subjects), &dir);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    let options = StoreOptions {
        cache_capacity_bytes: cache,
        ..StoreOptions::default()
    };
    let store = Store::open_with(&dir, options).expect("open");
    let codes = batch(&store, subjects);
    println!(
        "lookup parts: {subjects} subjects, {} codes, sled cache {} MiB, 2 threads, median of {RUNS} runs",
        codes.len(),
        cache >> 20
    );
    let time = |label: &str, per_code: &(dyn Fn(&SubjectCode) -> usize + Sync)| {
        let run = || {
            let started = Instant::now();
            let n: usize = pool.install(|| {
                codes
                    .par_chunks(64)
                    .map(|chunk| chunk.iter().map(per_code).sum::<usize>())
                    .sum()
            });
            (n, started.elapsed().as_secs_f64() * 1e3)
        };
        let (n, _) = run();
        let mut times: Vec<f64> = (0..RUNS)
            .map(|_| {
                let (again, ms) = run();
                assert_eq!(again, n, "{label}: runs disagree");
                ms
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("{label:<52} {:>7.1} ms  ({n})", times[RUNS / 2]);
    };
    time("Store::subject (records counted)", &|c| {
        store
            .subject(c)
            .expect("read")
            .map_or(0, |s| s.records.len())
    });
    time("Store::subject_header (found counted)", &|c| {
        usize::from(store.subject_header(c).expect("read").is_some())
    });
    drop(store);

    let db = sled::Config::new()
        .path(dir.join("sled"))
        .cache_capacity(cache)
        .flush_every_ms(None)
        .open()
        .expect("open sled");
    let tree = db.open_tree(credstore::store::TREE).expect("tree");
    let dicts = Dictionaries::load(&tree).expect("dictionaries");
    let get = |c: &SubjectCode| tree.get(keys::subject(c)).expect("get");
    time("sled Tree::get (value bytes)", &|c| {
        get(c).map_or(0, |v| v.len())
    });
    // Decompressed into a fresh buffer per value (`Store::subject` reuses one per thread).
    let plain = |c: &SubjectCode, f: &dyn Fn(&[u8], &[u8]) -> usize| -> usize {
        let key = keys::subject(c);
        let Some(value) = get(c) else { return 0 };
        let mut buf = Vec::new();
        f(&key, decompress(&dicts, &key, &value, &mut buf))
    };
    time("+ decompressed (plain bytes)", &|c| {
        plain(c, &|_, p| p.len())
    });
    let views = |key: &[u8], plain: &[u8], owned: bool| -> usize {
        let [_, basic, dishonesty, other] =
            codec::unframe::<4>(plain, "subjects", key).expect("frame");
        let mut out = Vec::new();
        for column in [basic, dishonesty, other] {
            subjects::decode_column(column, key, &mut out).expect("column");
        }
        if owned {
            out.iter()
                .map(|r| {
                    std::hint::black_box(r.to_record().expect("utf-8"));
                    1
                })
                .sum()
        } else {
            out.len()
        }
    };
    time("+ records decoded as borrowed views (records)", &|c| {
        plain(c, &|k, p| views(k, p, false))
    });
    time("+ views copied out into Records (records)", &|c| {
        plain(c, &|k, p| views(k, p, true))
    });
    let decoded = |c: &SubjectCode, value: &[u8]| -> usize {
        subjects::decode(&keys::subject(c), value, &dicts)
            .expect("decode")
            .into_records()
            .len()
    };
    time("get, then subjects::decode (records)", &|c| {
        get(c).map_or(0, |v| decoded(c, &v))
    });
    // The same values decompressed once, beforehand: decoding alone, as credbench's
    // decoding-only figure decodes SQLite's values.
    let plains: std::collections::HashMap<SubjectCode, Vec<u8>> = codes
        .iter()
        .filter_map(|c| {
            let value = get(c)?;
            let mut buf = Vec::new();
            Some((
                *c,
                decompress(&dicts, &keys::subject(c), &value, &mut buf).to_vec(),
            ))
        })
        .collect();
    time("from memory: subjects::decode (records)", &|c| {
        plains.get(c).map_or(0, |p| decoded(c, p))
    });
    time("from memory: serde, as before c68ce88 (records)", &|c| {
        plains.get(c).map_or(0, |p| serde_decoded(c, p))
    });
}

/// A stored subject value's plain bytes: itself, or decompressed into `buf`.
fn decompress<'v>(
    dicts: &Dictionaries,
    key: &[u8],
    value: &'v [u8],
    buf: &'v mut Vec<u8>,
) -> &'v [u8] {
    codec::plain_into(value, |id| dicts.get(id), buf, "subjects", key).expect("decompress")
}

/// A plain subject value decoded with serde: the header, then each column as a `Vec<Record>`
/// (`Store::subject`'s decoding before `c68ce88`). The records counted.
fn serde_decoded(code: &SubjectCode, plain: &[u8]) -> usize {
    let key = keys::subject(code);
    let [header, basic, dishonesty, other] =
        codec::unframe::<4>(plain, "subjects", &key).expect("frame");
    let subject: Subject = codec::decode_body(header, "subjects", &key).expect("header");
    std::hint::black_box(subject);
    [basic, dishonesty, other]
        .into_iter()
        .map(|column| {
            let records: Vec<Record> =
                codec::decode_body(column, "subjects", &key).expect("column");
            records.len()
        })
        .sum()
}

/// A batch shaped like credbench's: 9,000 stored codes drawn at random (with replacement) and 1,000
/// valid codes the store does not hold, in key order.
fn batch(store: &Store, subjects: u64) -> Vec<SubjectCode> {
    let stored: Vec<SubjectCode> = store
        .subject_codes()
        .collect::<Result<_, _>>()
        .expect("codes");
    let known: HashSet<SubjectCode> = stored.iter().copied().collect();
    let mut rng = Rng::new(subjects ^ 0x10C);
    let mut codes: Vec<SubjectCode> = (0..9_000)
        .map(|_| stored[rng.index(stored.len())])
        .collect();
    while codes.len() < 10_000 {
        let birth = Date::from_ymd(1960 + rng.below(40) as i32, 1 + rng.below(12) as u32, 1)
            .expect("a date");
        let code = gen::resident_id(&mut rng, "310109", birth);
        if !known.contains(&code) {
            codes.push(code);
        }
    }
    codes.sort();
    codes
}

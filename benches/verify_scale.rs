//! Where the verification sweep's 2-thread scaling goes (issue 5): its phases timed apart, on
//! rayon pools of 1 and 2 threads in the same process, on the cached clean store.
//!
//! `CREDSTORE_BENCH_SUBJECTS=1000000 cargo bench --bench verify_scale [-- PHASE...]`
//!
//! Phases (default: all, in this order):
//! - `ranges`: how the subjects spread over the static key ranges the scan used to split on;
//! - `iter`: only iterate sled over the 1,297 key ranges, touching each value's first byte;
//! - `copy`: iterate and copy every value into one reused buffer (what a pipeline's reader does);
//! - `decode`: decompress and decode values already collected in memory (no sled);
//! - `unzip`: only decompress values already in memory (no decode);
//! - `scan`: the whole read (sled, decompress, decode) split over those static ranges;
//! - `pscan`: the whole read as `subjects::par_scan_views` does it (batches from one iterator);
//! - `verify`: `Store::verify_retention` (the scan plus the rule checks), through the `Store`.
//!
//! Each phase runs `CREDSTORE_VERIFY_REPS` (default 3) times per pool size, 1 and 2 threads
//! alternating, after one warm-up pass. Printed: median wall times and speed-up; the process's
//! CPU time on 1 and 2 threads (equal: the work does not grow with a second thread, so nothing
//! is contended); and the busiest 2-thread worker's CPU time, which is what a 2-thread run
//! takes on two free cores, so "1T CPU / busiest" is the speed-up a quiet machine would show
//! even when the machine is loaded. Not a criterion bench: the point is the ratio between
//! phases in one process.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::codec;
use credstore::store::dictionaries::Dictionaries;
use credstore::store::subjects::{self, RecordView};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// The key ranges the scan used before it shared one iterator: one per pair of leading code
/// characters (codes are 18 of `0-9A-Z`), plus one for anything else.
fn key_ranges() -> Vec<(Vec<u8>, Vec<u8>)> {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bounds = vec![vec![b's']];
    for &a in CHARS {
        for &b in CHARS {
            bounds.push(vec![b's', a, b]);
        }
    }
    bounds.push(vec![b's' + 1]);
    bounds
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect()
}

/// The values of one key range, copied out of sled.
type Raw = Vec<(sled::IVec, sled::IVec)>;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Decompresses and decodes one subject value as the scan does; returns its records.
fn decode_one(key: &[u8], value: &[u8], dicts: &Dictionaries, buf: &mut Vec<u8>) -> u64 {
    let value = codec::plain_into(value, |id| dicts.get(id), buf, "subjects", key).expect("plain");
    let [_, basic, dishonesty, other] =
        codec::unframe::<4>(value, "subjects", key).expect("unframe");
    let mut all: Vec<RecordView<'_>> = Vec::new();
    for column in [basic, dishonesty, other] {
        subjects::decode_column(column, key, &mut all).expect("decode");
    }
    all.len() as u64
}

/// CPU time of this process so far (user + system), from `/proc/self/stat` (10 ms ticks).
fn cpu_time() -> Duration {
    cpu_time_of("/proc/self/stat")
}

/// CPU time of each of `pool`'s threads so far.
fn worker_times(pool: &rayon::ThreadPool) -> Vec<Duration> {
    pool.broadcast(|_| cpu_time_of("/proc/thread-self/stat"))
}

fn cpu_time_of(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // NOTE: fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    if common::listing() {
        return;
    }
    let subjects = common::subjects(100_000);
    let base = common::clean_store(subjects);
    let reps: usize = std::env::var("CREDSTORE_VERIFY_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |p: &str| wanted.is_empty() || wanted.iter().any(|w| w == p);
    let pools: Vec<rayon::ThreadPool> = [1, 2]
        .map(|n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("pool")
        })
        .into();
    let ranges = key_ranges();
    // Times `f` on both pools, alternating; prints medians. `f` returns a count (records or bytes).
    let run = |name: &str, unit: &str, f: &(dyn Fn() -> u64 + Sync)| {
        let mut times = [Vec::new(), Vec::new()];
        let mut cpu = [Vec::new(), Vec::new()];
        // The busiest 2-thread worker's CPU time: what the 2-thread run takes on two free cores.
        let mut busiest = Vec::new();
        let mut count = 0;
        let _ = pools[1].install(f);
        for _ in 0..reps {
            for (i, pool) in pools.iter().enumerate() {
                let before = worker_times(pool);
                let (started, cpu0) = (Instant::now(), cpu_time());
                count = pool.install(f);
                times[i].push(started.elapsed());
                cpu[i].push(cpu_time().saturating_sub(cpu0));
                if i == 1 {
                    let after = worker_times(pool);
                    let max = after
                        .iter()
                        .zip(&before)
                        .map(|(a, b)| a.saturating_sub(*b))
                        .max();
                    busiest.push(max.unwrap_or_default());
                }
            }
        }
        let [t1, t2] = times.map(median);
        let [c1, c2] = cpu.map(median);
        let b2 = median(busiest);
        println!(
            "{name:7} wall 1T {:6.3} s 2T {:6.3} s ({:.2}x) | cpu 1T {:5.2} s 2T {:5.2} s, busiest 2T worker {:5.2} s ({:.2}x) | {count} {unit}, 2T {:.2} M/s | load {}",
            t1.as_secs_f64(),
            t2.as_secs_f64(),
            t1.as_secs_f64() / t2.as_secs_f64(),
            c1.as_secs_f64(),
            c2.as_secs_f64(),
            b2.as_secs_f64(),
            c1.as_secs_f64() / b2.as_secs_f64(),
            count as f64 / t2.as_secs_f64() / 1e6,
            load_avg()
        );
    };

    let cache_mib: u64 = std::env::var("CREDSTORE_BENCH_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    println!(
        "verify_scale: {subjects} subjects, sled cache {cache_mib} MiB, {reps} reps, load {}",
        load_avg()
    );
    {
        let db = sled::Config::new()
            .path(base.join("sled"))
            .cache_capacity(cache_mib << 20)
            .flush_every_ms(None)
            .open()
            .expect("open sled");
        let tree = db.open_tree("credstore").expect("tree");
        let dicts = Dictionaries::load(&tree).expect("dictionaries");
        if want("ranges") {
            // How the work is spread over the ranges: the largest bounds any parallel speed-up.
            let mut sizes: Vec<(u64, u64, String)> = ranges
                .iter()
                .map(|(lo, hi)| {
                    let (mut n, mut bytes) = (0u64, 0u64);
                    for item in tree.range(&lo[..]..&hi[..]) {
                        let (_, v) = item.expect("read");
                        n += 1;
                        bytes += v.len() as u64;
                    }
                    (bytes, n, String::from_utf8_lossy(&lo[1..]).into_owned())
                })
                .collect();
            let (total_bytes, total) = sizes.iter().fold((0, 0), |(b, n), s| (b + s.0, n + s.1));
            let non_empty = sizes.iter().filter(|s| s.1 > 0).count();
            sizes.sort_unstable_by(|a, b| b.cmp(a));
            println!(
                "ranges: {} ({non_empty} non-empty), {total} values, {total_bytes} bytes",
                sizes.len()
            );
            for (bytes, n, lo) in sizes.iter().take(8) {
                println!(
                    "  from {lo:>2}: {n:7} values ({:4.1}%), {:4.1}% of bytes",
                    *n as f64 * 100.0 / total as f64,
                    *bytes as f64 * 100.0 / total_bytes as f64
                );
            }
        }
        if want("iter") {
            run("iter", "values", &|| {
                ranges
                    .par_iter()
                    .map(|(lo, hi)| {
                        let mut n = 0u64;
                        for item in tree.range(&lo[..]..&hi[..]) {
                            let (_, v) = item.expect("read");
                            n += 1 + u64::from(v.first().copied().unwrap_or(0) == 0);
                        }
                        n
                    })
                    .sum::<u64>()
            });
        }
        if want("copy") {
            run("copy", "MB", &|| {
                ranges
                    .par_iter()
                    .map(|(lo, hi)| {
                        let mut buf = Vec::new();
                        let mut bytes = 0u64;
                        for item in tree.range(&lo[..]..&hi[..]) {
                            let (_, v) = item.expect("read");
                            buf.clear();
                            buf.extend_from_slice(&v);
                            bytes += buf.len() as u64;
                        }
                        bytes / 1_000_000
                    })
                    .sum::<u64>()
            });
        }
        if want("decode") || want("unzip") {
            let raw: Vec<Raw> = ranges
                .par_iter()
                .map(|(lo, hi)| {
                    tree.range(&lo[..]..&hi[..])
                        .map(|i| i.expect("read"))
                        .collect()
                })
                .collect();
            let bytes: usize = raw.iter().flatten().map(|(_, v)| v.len()).sum();
            println!(
                "in memory: {} values, {} MB compressed",
                raw.iter().map(Vec::len).sum::<usize>(),
                bytes / 1_000_000
            );
            if want("unzip") {
                run("unzip", "values", &|| {
                    raw.par_iter()
                        .map(|values| {
                            let mut buf = Vec::new();
                            for (k, v) in values {
                                let p = codec::plain_into(v, |id| dicts.get(id), &mut buf, "s", k)
                                    .expect("plain");
                                std::hint::black_box(p);
                            }
                            values.len() as u64
                        })
                        .sum::<u64>()
                });
            }
            if want("decode") {
                run("decode", "records", &|| {
                    raw.par_iter()
                        .map(|values| {
                            let mut buf = Vec::new();
                            values
                                .iter()
                                .map(|(k, v)| decode_one(k, v, &dicts, &mut buf))
                                .sum::<u64>()
                        })
                        .sum::<u64>()
                });
            }
        }
        if want("scan") {
            // The scan as it was: the static ranges in parallel, each decoded in turn.
            run("scan", "records", &|| {
                ranges
                    .par_iter()
                    .map(|(lo, hi)| {
                        let mut buf = Vec::new();
                        tree.range(&lo[..]..&hi[..])
                            .map(|item| {
                                let (k, v) = item.expect("read");
                                decode_one(&k, &v, &dicts, &mut buf)
                            })
                            .sum::<u64>()
                    })
                    .sum::<u64>()
            });
        }
        if want("pscan") {
            // The scan as it is: batches taken from one shared iterator.
            run("pscan", "records", &|| {
                subjects::par_scan_views(
                    &tree,
                    &dicts,
                    || 0u64,
                    |n, _, records| *n += records.len() as u64,
                    |a, b| a + b,
                )
                .expect("scan")
            });
        }
        if want("vcheck") {
            // The scan plus verify_retention's rule check, compiled here instead of in the lib.
            let catalog = credstore::domain::catalog::Catalog::builtin();
            run("vcheck", "records", &|| {
                subjects::par_scan_views(
                    &tree,
                    &dicts,
                    || [0u64; 3],
                    |n, _, records| {
                        for r in records {
                            n[0] += 1;
                            let Some(current) = r.versions.last() else {
                                continue;
                            };
                            let c = &current.content;
                            let end = catalog
                                .get(c.item)
                                .and_then(|i| i.query_period_end(c.occurred_on, c.ended_on));
                            n[1] += u64::from(end.is_some());
                            n[2] += u64::from(end.is_some_and(|e| e.to_days() < 0));
                        }
                    },
                    |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]],
                )
                .expect("scan")[0]
            });
        }
        drop(tree);
        drop(db);
    }
    if want("verify") {
        let options = credstore::StoreOptions {
            cache_capacity_bytes: cache_mib << 20,
            ..credstore::StoreOptions::default()
        };
        let store = credstore::Store::open_with(&base, options).expect("open");
        let [one, two] = [&pools[0], &pools[1]]
            .map(|pool| pool.install(|| store.verify_retention(None).expect("verify")));
        assert_eq!(one, two, "1 and 2 threads find the same");
        println!("verify: {one:?}");
        run("verify", "records", &|| {
            store.verify_retention(None).expect("verify").records
        });
    }
}

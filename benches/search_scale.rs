//! Search latency by query class, and index build speed, at scale.
//!
//! `cargo bench --bench search_scale -- --subjects 1000000` (default 100,000). Builds (once, and
//! caches under `target/bench-data/`) a store of the generated subjects, rebuilds its search
//! index (timed), then runs 1,000 queries per class with limit 20 and prints p50 / p99 / max in
//! microseconds: full codes, full person names, 2-character name fragments, 3-4 character
//! fragments of company names, 4-character all-Chinese fragments of company names (credbench's
//! 4-char class), 6-9 character code prefixes.
//!
//! `--only CLASS` runs one class (its label, e.g. `--only "4-char company fragment"`), and
//! `--repeat N` times its queries N times (for a profiler); `--no-reindex` skips the timed
//! rebuild (the store's index as it is, caught up on open).

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::generate::rng::Rng;
use credstore::search::Requester;
use credstore::Store;
use std::time::Instant;

fn main() {
    if common::listing() {
        return;
    }
    let subjects = common::arg_u64("--subjects").unwrap_or(common::subjects(100_000));
    let store_dir = common::cached_store(subjects);
    let store = Store::open(&store_dir).expect("open");
    if !std::env::args().any(|a| a == "--no-reindex") {
        let cpu = cpu_seconds();
        let started = Instant::now();
        let n = store.reindex().expect("reindex");
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds().zip(cpu).map(|(b, a)| b - a);
        println!(
            "index build: {n} subjects in {secs:.1} s = {:.0} subjects/s{}",
            n as f64 / secs,
            cpu.map(|c| format!(" ({c:.1} CPU-s)")).unwrap_or_default()
        );
    }
    let only = arg_str("--only");
    let repeat = common::arg_u64("--repeat").unwrap_or(1).max(1) as usize;

    // Queries drawn deterministically from the store's own subjects.
    let mut rng = Rng::new(7);
    let mut headers = Vec::new();
    for (i, code) in store.subject_codes().enumerate() {
        if i % 97 == 0 {
            headers.push(
                store
                    .subject_header(&code.expect("code"))
                    .expect("read")
                    .expect("subject"),
            );
        }
    }
    let persons: Vec<_> = headers
        .iter()
        .filter(|s| s.code.kind() == credstore::domain::SubjectKind::NaturalPerson)
        .collect();
    let companies: Vec<_> = headers
        .iter()
        .filter(|s| s.code.kind() == credstore::domain::SubjectKind::Organization)
        .collect();
    let pick = |rng: &mut Rng, n: usize| rng.index(n);
    let mut classes: Vec<(&str, Vec<String>)> = Vec::new();
    classes.push((
        "code",
        (0..1000)
            .map(|_| {
                headers[pick(&mut rng, headers.len())]
                    .code
                    .as_str()
                    .to_string()
            })
            .collect(),
    ));
    classes.push((
        "full person name",
        (0..1000)
            .map(|_| persons[pick(&mut rng, persons.len())].name.clone())
            .collect(),
    ));
    classes.push((
        "2-char fragment",
        (0..1000)
            .map(|_| {
                let s = &headers[pick(&mut rng, headers.len())];
                let chars: Vec<char> = s.name.chars().collect();
                let at = pick(&mut rng, chars.len().saturating_sub(1).max(1));
                chars[at..(at + 2).min(chars.len())].iter().collect()
            })
            .collect(),
    ));
    classes.push((
        "3-4 char company fragment",
        (0..1000)
            .map(|i| {
                let s = companies[pick(&mut rng, companies.len())];
                let chars: Vec<char> = s.name.chars().collect();
                let len = 3 + i % 2;
                let at = pick(&mut rng, chars.len().saturating_sub(len).max(1));
                chars[at..(at + len).min(chars.len())].iter().collect()
            })
            .collect(),
    ));
    // Its own generator, so the classes above and below draw what they always drew.
    let mut rng4 = Rng::new(11);
    classes.push((
        "4-char company fragment",
        (0..1000)
            .map(|_| loop {
                // As credbench draws them: four consecutive Chinese characters.
                let s = companies[pick(&mut rng4, companies.len())];
                let chars: Vec<char> = s.name.chars().collect();
                if chars.len() < 4 {
                    continue;
                }
                let at = pick(&mut rng4, chars.len() - 3);
                let piece = &chars[at..at + 4];
                if piece.iter().all(|c| c.is_alphabetic() && !c.is_ascii()) {
                    break piece.iter().collect::<String>();
                }
            })
            .collect(),
    ));
    classes.push((
        "code prefix (6-9)",
        (0..1000)
            .map(|i| {
                let s = &headers[pick(&mut rng, headers.len())];
                s.code.as_str()[..6 + i % 4].to_string()
            })
            .collect(),
    ));
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9}",
        "class (1,000 queries, limit 20)", "p50 µs", "p99 µs", "max µs", "mean hits"
    );
    for (class, queries) in &classes {
        if only.as_deref().is_some_and(|o| o != *class) {
            continue;
        }
        // One warm-up pass, then the timed one.
        for q in queries.iter().take(200) {
            let _ = store.search(Requester::Public, q, 20);
        }
        let mut times = Vec::with_capacity(queries.len() * repeat);
        let mut hits = 0usize;
        for q in std::iter::repeat_n(queries, repeat).flatten() {
            let t = Instant::now();
            hits += store
                .search(Requester::Public, q, 20)
                .expect("search")
                .len();
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{class:<28} {:>9.0} {:>9.0} {:>9.0} {:>9.1}",
            p(0.5),
            p(0.99),
            p(1.0),
            hits as f64 / times.len() as f64
        );
    }
}

/// The text after `flag` on the bench's command line, if given.
fn arg_str(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).cloned()
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`), to tell a slow build
/// from a busy machine: the wall time of a build depends on what else runs, its CPU time less.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15 (1-based).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // NOTE: USER_HZ is 100 on every Linux this runs on (it is fixed by the kernel ABI).
    Some(ticks / 100.0)
}

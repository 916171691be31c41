//! `audit verify` at scale: both hash chains checked over a store whose query log holds
//! 1,000,000 entries (the target: under 10 s).
//!
//! `cargo bench --bench audit_scale` (or `-- --entries N`). Builds once, and caches under
//! `target/bench-data/audit-q{N}-v1`, a store of 2,000 generated subjects queried N times
//! (single public queries, the log flushed at the end rather than per query), then times
//! `Store::audit_verify` twice in the same process and prints both.

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use credstore::query::{Asker, QueryOptions};
use credstore::{Store, StoreOptions};
use std::time::Instant;

fn main() {
    if common::listing() {
        return;
    }
    let entries = common::arg_u64("--entries").unwrap_or(1_000_000);
    let data = common::dataset(20_000);
    let dir = data.with_file_name(format!("audit-q{entries}-v1"));
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let options = StoreOptions {
            sync_query_log: false,
            ..StoreOptions::default()
        };
        let store = Store::open_with(&dir, options).expect("open");
        common::bulk_all(&store, &data);
        let codes: Vec<_> = store
            .subject_codes()
            .take(2_000)
            .collect::<Result<_, _>>()
            .expect("codes");
        let started = Instant::now();
        let query = QueryOptions::new(common::today());
        for i in 0..entries {
            store
                .query(&Asker::Public, &codes[i as usize % codes.len()], &query)
                .expect("query");
        }
        store.flush().expect("flush");
        println!(
            "built: {entries} query-log entries in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        drop(store);
        std::fs::write(&done, b"").expect("mark");
    }
    let store = Store::open(&dir).expect("open");
    for run in 1..=2 {
        let started = Instant::now();
        let report = store.audit_verify().expect("verify");
        let secs = started.elapsed().as_secs_f64();
        assert!(report.ok(), "{report:?}");
        println!(
            "audit verify run {run}: {} query-log + {} collection-log entries in {secs:.2} s ({:.0} entries/s)",
            report.query.entries,
            report.collection.entries,
            (report.query.entries + report.collection.entries) as f64 / secs
        );
    }
}

//! Shared bench fixtures: deterministic generated provider files, cached under
//! `target/bench-data/` so repeated bench runs do not regenerate them.
#![allow(dead_code)]

use credstore::domain::date::Date;
use credstore::generate::{generate, GenerateConfig};
use std::path::{Path, PathBuf};

/// The collection date every bench uses.
pub fn today() -> Date {
    Date::from_ymd(2026, 11, 1).expect("a date")
}

/// Subjects to generate: `CREDSTORE_BENCH_SUBJECTS`, else `default`.
pub fn subjects(default: u64) -> u64 {
    std::env::var("CREDSTORE_BENCH_SUBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The generated files for `subjects` (seed 1, no bad lines), generated once and cached.
pub fn dataset(subjects: u64) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target
        .join("bench-data")
        .join(format!("s{subjects}-seed1-v1"));
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let config = GenerateConfig {
            subjects,
            seed: 1,
            bad_share: 0.0,
            today: today(),
        };
        generate(&config, &dir).expect("generate bench data");
        std::fs::write(&done, b"").expect("mark bench data complete");
    }
    dir
}

/// Ingests a whole dataset into `store`; returns records accepted.
pub fn ingest_all(store: &credstore::Store, dir: &Path) -> u64 {
    let options = credstore::ingest::IngestOptions::new(today());
    let mut accepted = 0;
    let sources = credstore::ingest::bulk::provider_tree(dir).expect("read bench data");
    for group in sources.chunk_by(|a, b| a.provider == b.provider) {
        let files: Vec<&Path> = group.iter().map(|s| s.path.as_path()).collect();
        let report = store
            .ingest_files(&group[0].provider, &files, &options)
            .expect("ingest");
        assert_eq!(report.rejected, 0, "bench data has no bad lines");
        accepted += report.accepted;
    }
    accepted
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Loads a whole dataset with one bulk load; returns records accepted.
pub fn bulk_all(store: &credstore::Store, dir: &Path) -> u64 {
    bulk_all_with(store, dir, false)
}

/// Like [`bulk_all`]; `defer_index` leaves the search index to a later catch-up.
pub fn bulk_all_with(store: &credstore::Store, dir: &Path, defer_index: bool) -> u64 {
    let mut options = credstore::ingest::IngestOptions::new(today());
    options.defer_search_index = defer_index;
    let sources = credstore::ingest::bulk::provider_tree(dir).expect("read bench data");
    let report = store.ingest_bulk(&sources, &options).expect("bulk load");
    assert_eq!(report.rejected, 0, "bench data has no bad lines");
    report.accepted
}

/// The number after `flag` on the bench's command line (`-- --subjects 1000000`), if given.
pub fn arg_u64(flag: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1)?.parse().ok()
}

/// Whether `cargo bench -- --list` is probing the bench targets (nothing to run then).
pub fn listing() -> bool {
    std::env::args().any(|a| a == "--list")
}

/// A store holding the generated dataset for `subjects` (bulk-loaded, search index built),
/// built once and cached under `target/bench-data/store-s{N}-v2` (the same cache
/// `search_scale` uses).
pub fn cached_store(subjects: u64) -> PathBuf {
    built_store(subjects, "")
}

/// Like [`cached_store`], but a store no bench writes to (`store-s{N}-clean-v2`): benches that
/// change a store (the retention sweep) copy it with [`copy_dir`] and change the copy.
pub fn clean_store(subjects: u64) -> PathBuf {
    built_store(subjects, "-clean")
}

fn built_store(subjects: u64, tag: &str) -> PathBuf {
    let data = dataset(subjects);
    // NOTE: `-v2`: values written with raw literals (codec::Dictionary::compressor); a store
    // built by an older bench is rebuilt rather than measured with yesterday's layout.
    let dir = data.with_file_name(format!("store-s{subjects}{tag}-v2"));
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let store = credstore::Store::open(&dir).expect("open");
        bulk_all_with(&store, &data, true);
        store.reindex().expect("reindex");
        drop(store);
        std::fs::write(&done, b"").expect("mark");
    }
    dir
}

/// Copies a directory tree (a closed store) to `to`, which must not exist.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

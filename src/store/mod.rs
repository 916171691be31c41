//! The store: subjects and their record columns on sled, with the logs that follow them.
//!
//! **Architecture invariant:** this module is the only one that touches sled. Everything above
//! it sees the store through the crate's own types (`Subject`, `Record`, `SubjectRecords`), so
//! the engine can be tuned or replaced without touching the domain. The key layout of every
//! keyspace is in [`keys`] and at the top of each keyspace's module; FORMAT.md has it whole.

pub mod bulk;
pub mod changelog;
pub mod collection_log;
pub mod dictionaries;
pub mod keys;
pub mod meta;
pub mod provider_index;
pub mod subjects;
pub mod writer;

use crate::domain::catalog::Catalog;
use crate::domain::code::SubjectCode;
use crate::domain::record::{Record, SubjectRecords};
use crate::domain::{Category, SubjectKind};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// sled's page cache, in bytes. sled's resident memory runs above this (see BENCHMARKS.md).
    pub cache_capacity_bytes: u64,
    /// The catalog to validate against; the built-in 2026 catalog when `None`.
    pub catalog: Option<Arc<Catalog>>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_capacity_bytes: 256 << 20,
            catalog: None,
        }
    }
}

/// An open credit store. `Send + Sync`: share it between threads behind an `Arc`; reads run
/// concurrently, writes are serialised inside.
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    dicts: dictionaries::Dictionaries,
    search: crate::search::SearchIndex,
    catalog: Arc<Catalog>,
    writer: Mutex<meta::Counters>,
    path: PathBuf,
}

/// The name of the one sled tree holding every keyspace.
const TREE: &str = "credstore";

impl Store {
    /// Opens (or creates) the store in directory `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the store in directory `path`.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        // NOTE: no background flusher. Every write path flushes before it reports success, which
        // is the only durability credstore promises; sled's default 500 ms flusher only competed
        // with bulk loads for the disk and a core.
        let config = sled::Config::new()
            .path(path.join("sled"))
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(None);
        let db = open_with_lock_wait(&config)?;
        let tree = db.open_tree(TREE)?;
        meta::check_or_init(&tree)?;
        let counters = meta::load_counters(&tree)?;
        let dicts = dictionaries::Dictionaries::load(&tree)?;
        let search = crate::search::SearchIndex::open(&path.join("search"))?;
        let catalog = options
            .catalog
            .unwrap_or_else(|| Arc::new(Catalog::builtin().clone()));
        let store = Store {
            db,
            tree,
            dicts,
            search,
            catalog,
            writer: Mutex::new(counters),
            path,
        };
        // The index may be behind the store (a crash between an ingest's flush and the index
        // commit): it catches up from the change log before anyone searches.
        store.search.catch_up(&store)?;
        Ok(store)
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The catalog records are validated against.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// A subject and all its records (every version), or `None` if the store has none.
    pub fn subject(&self, code: &SubjectCode) -> Result<Option<SubjectRecords>> {
        Ok(
            subjects::get(&self.tree, &self.dicts, code)?.map(|entry| SubjectRecords {
                subject: entry.subject.clone(),
                records: entry.into_records(),
            }),
        )
    }

    /// A subject's header (name, kind, ids) without decoding its records.
    pub fn subject_header(
        &self,
        code: &SubjectCode,
    ) -> Result<Option<crate::domain::record::Subject>> {
        subjects::get_header(&self.tree, &self.dicts, code)
    }

    /// Every subject's header, in code order, in batches of up to `batch` (read in one scan,
    /// decoded in parallel).
    pub fn subject_header_batches(
        &self,
        batch: usize,
        f: impl FnMut(Vec<crate::domain::record::Subject>) -> Result<()>,
    ) -> Result<()> {
        subjects::header_batches(&self.tree, &self.dicts, batch, f)
    }

    /// Every subject's code, in code order.
    pub fn subject_codes(&self) -> impl Iterator<Item = Result<SubjectCode>> + '_ {
        subjects::codes(&self.tree)
    }

    /// The sequence number the next change-log entry will get.
    pub fn next_change_seq(&self) -> u64 {
        self.writer().next_change_seq
    }

    /// Searches subjects by code, code prefix, name or name fragment (see [`crate::search`]).
    pub fn search(
        &self,
        requester: crate::search::Requester,
        text: &str,
        limit: usize,
    ) -> Result<Vec<crate::search::Hit>> {
        self.search.search(requester, text, limit)
    }

    /// Rebuilds the search index from the store; returns the subjects indexed.
    pub fn reindex(&self) -> Result<u64> {
        let counters = self.writer();
        self.search.rebuild(self, counters.next_change_seq)
    }

    /// Makes every write durable, then brings the search index up to date (one commit): what a
    /// write path calls before it reports success.
    pub(crate) fn publish(&self, options: &crate::ingest::IngestOptions) -> Result<()> {
        self.flush()?;
        if options.defer_search_index {
            return Ok(());
        }
        self.search.catch_up(self)
    }

    /// A subject's records (every version), empty when there are none.
    pub fn records(&self, code: &SubjectCode) -> Result<Vec<Record>> {
        Ok(subjects::get(&self.tree, &self.dicts, code)?
            .map_or_else(Vec::new, |e| e.into_records()))
    }

    /// Change-log entries from sequence `from` on, for consumers that follow the store.
    pub fn changes_since(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<changelog::ChangeEntry>> + '_ {
        changelog::since(&self.tree, from)
    }

    /// The collection log (Art. 26), oldest first.
    pub fn collection_log(
        &self,
    ) -> impl Iterator<Item = Result<collection_log::CollectionEntry>> + '_ {
        collection_log::scan(&self.tree)
    }

    /// Makes every write so far durable. Ingest calls it before reporting success.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Counts of subjects and records (current versions) by kind, category, item and provider.
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        for entry in subjects::scan(&self.tree, &self.dicts) {
            let entry = entry?;
            *stats
                .subjects_by_kind
                .entry(entry.subject.kind)
                .or_default() += 1;
            stats.subjects += 1;
            for r in entry.into_records() {
                stats.records += 1;
                stats.versions += r.versions.len() as u64;
                *stats.by_category.entry(r.category).or_default() += 1;
                *stats
                    .by_item
                    .entry(r.current().content.item.clone())
                    .or_default() += 1;
                *stats.by_provider.entry(r.provider.clone()).or_default() += 1;
            }
        }
        Ok(stats)
    }

    /// The writer lock and the counters it guards; one writer at a time.
    pub(crate) fn writer(&self) -> MutexGuard<'_, meta::Counters> {
        // NOTE: a writer that panicked left the counters as they were before its batch (the
        // batch is applied, and the counters updated, only on success), so poisoning is benign.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    pub(crate) fn dicts(&self) -> &dictionaries::Dictionaries {
        &self.dicts
    }

    /// Size on disk of the store directory, in bytes.
    pub fn disk_bytes(&self) -> Result<u64> {
        dir_size(&self.path).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Opens sled, waiting a little for its file lock.
///
/// NOTE: sled 0.34 releases its `flock` only when internal threads of a dropped `Db` finish
/// (sled issues #1234, #1289), so reopening a store right after dropping it in the same process
/// can fail with `WouldBlock` for a few milliseconds. A store really open elsewhere holds the lock
/// far longer than this budget, and still gets the error.
fn open_with_lock_wait(config: &sled::Config) -> Result<sled::Db> {
    let mut wait = std::time::Duration::from_millis(5);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.to_string().contains("could not acquire lock") =>
            {
                if std::time::Instant::now() >= deadline {
                    return Err(Error::Storage(sled::Error::Io(e)));
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(std::time::Duration::from_millis(100));
            }
            other => return Ok(other?),
        }
    }
}

fn dir_size(path: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// What `Store::stats` counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Subjects.
    pub subjects: u64,
    /// Subjects by kind.
    pub subjects_by_kind: BTreeMap<SubjectKind, u64>,
    /// Records.
    pub records: u64,
    /// Versions of all records.
    pub versions: u64,
    /// Records by category.
    pub by_category: BTreeMap<Category, u64>,
    /// Records by current item.
    pub by_item: BTreeMap<String, u64>,
    /// Records by provider.
    pub by_provider: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn store_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Store>();
    }
}

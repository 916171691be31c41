//! The store: subjects and their record columns on sled, with the logs that follow them.
//!
//! **Architecture invariant:** this module is the only one that touches sled. Everything above
//! it sees the store through the crate's own types (`Subject`, `Record`, `SubjectRecords`), so
//! the engine can be tuned or replaced without touching the domain. The key layout of every
//! keyspace is in [`keys`] and at the top of each keyspace's module; FORMAT.md has it whole.

pub mod audit;
pub mod bulk;
pub mod changelog;
pub mod collection_log;
pub mod dictionaries;
pub mod keys;
mod kv;
pub mod lifecycle;
pub mod meta;
pub mod provider_index;
pub mod query_log;
pub mod registry;
pub mod retention;
pub mod subjects;
pub mod writer;

use crate::domain::catalog::Catalog;
use crate::domain::code::SubjectCode;
use crate::domain::record::{Record, SubjectRecords};
use crate::domain::{Category, SubjectKind};
use crate::error::{Error, Result};
use crate::query::application::ApplicationCatalog;
use crate::query::model::{
    Authorisation, BulkAccess, Requester, Revocation, RevocationReason, Role,
};
use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// sled's page cache, in bytes. sled's resident memory runs above this (see BENCHMARKS.md).
    pub cache_capacity_bytes: u64,
    /// The catalog to validate against; the built-in 2026 catalog when `None`.
    pub catalog: Option<Arc<Catalog>>,
    /// The application catalog government queries are judged by; the built-in one when `None`.
    pub applications: Option<Arc<ApplicationCatalog>>,
    /// The deadline profile; the Measures (2018) when `None`.
    pub policy: Option<Arc<crate::domain::policy::Policy>>,
    /// The working-day calendar; the built-in 2019-2026 tables when `None`.
    pub calendar: Option<Arc<crate::domain::calendar::WorkCalendar>>,
    /// Flush every query-log entry before the answer is returned (the default). Off, an answer
    /// given just before a crash may be missing from the log; only benches and bulk tooling
    /// that flush themselves should turn it off.
    pub sync_query_log: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_capacity_bytes: 256 << 20,
            catalog: None,
            applications: None,
            policy: None,
            calendar: None,
            sync_query_log: true,
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
    applications: Arc<ApplicationCatalog>,
    /// The query log's head; its lock serialises appends.
    query_log: Mutex<query_log::QueryLogHead>,
    sync_query_log: bool,
    /// Serialises catch-ups of the who-queried index.
    who_queried: Mutex<()>,
    /// The registry's counters; its lock serialises registry writes.
    registry: Mutex<registry::RegistryCounters>,
    /// Subjects with record marks (few: objections are rare), so queries of the others skip a read.
    marked: RwLock<HashSet<SubjectCode>>,
    policy: Arc<crate::domain::policy::Policy>,
    calendar: Arc<crate::domain::calendar::WorkCalendar>,
    /// Subjects with records deleted on request (few), so ingest checks tombstones only there.
    tombstoned: RwLock<HashSet<SubjectCode>>,
    /// Records archived by retention sweeps (one bit per record id), swapped whole by a sweep.
    archived: RwLock<Arc<retention::ArchivedSet>>,
}

/// The name of the one sled tree holding every keyspace (in the `sled` directory of a store;
/// for tools that read a closed store's sled database directly, as the `lookup_parts` bench).
pub const TREE: &str = "credstore";

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
        let db = open_with_lock_wait(&config, &path.join("sled"))?;
        let tree = db.open_tree(TREE)?;
        meta::check_or_init(&tree)?;
        let counters = meta::load_counters(&tree)?;
        let dicts = dictionaries::Dictionaries::load(&tree)?;
        let search = crate::search::SearchIndex::open(&path.join("search"))?;
        let catalog = options
            .catalog
            .unwrap_or_else(|| Arc::new(Catalog::builtin().clone()));
        let applications = options
            .applications
            .unwrap_or_else(|| Arc::new(ApplicationCatalog::builtin().clone()));
        let query_head = query_log::head(&tree)?;
        let registry_counters = registry::counters(&tree)?;
        let marked = registry::marked_subjects(&tree).collect::<Result<HashSet<_>>>()?;
        let tombstoned = lifecycle::tombstoned_subjects(&tree).collect::<Result<HashSet<_>>>()?;
        let archived = retention::ArchivedSet::load(&tree)?;
        let store = Store {
            db,
            tree,
            dicts,
            search,
            catalog,
            writer: Mutex::new(counters),
            path,
            applications,
            query_log: Mutex::new(query_head),
            sync_query_log: options.sync_query_log,
            who_queried: Mutex::new(()),
            registry: Mutex::new(registry_counters),
            marked: RwLock::new(marked),
            policy: options.policy.unwrap_or_else(|| {
                Arc::new(crate::domain::policy::Policy::measures_2018().clone())
            }),
            calendar: options.calendar.unwrap_or_else(|| {
                Arc::new(crate::domain::calendar::WorkCalendar::builtin().clone())
            }),
            tombstoned: RwLock::new(tombstoned),
            archived: RwLock::new(Arc::new(archived)),
        };
        // A store written before the due-date index existed is indexed once.
        store.build_due_index()?;
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
        Ok(subjects::get(&self.tree, &self.dicts, code)?
            .map(subjects::SubjectEntry::into_subject_records))
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

    /// Like [`Store::search`], also returning the hits' codes in full (for the query log).
    pub(crate) fn search_with_codes(
        &self,
        requester: crate::search::Requester,
        text: &str,
        limit: usize,
    ) -> Result<(Vec<crate::search::Hit>, Vec<SubjectCode>)> {
        self.search.search_with_codes(requester, text, limit)
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

    pub(crate) fn search_index(&self) -> &crate::search::SearchIndex {
        &self.search
    }

    pub(crate) fn dicts(&self) -> &dictionaries::Dictionaries {
        &self.dicts
    }

    /// The deadline profile.
    pub fn policy(&self) -> &crate::domain::policy::Policy {
        &self.policy
    }

    /// The working-day calendar.
    pub fn calendar(&self) -> &crate::domain::calendar::WorkCalendar {
        &self.calendar
    }

    /// The application catalog government queries are judged by.
    pub fn applications(&self) -> &ApplicationCatalog {
        &self.applications
    }

    /// A registered requester.
    pub fn requester(&self, id: &str) -> Result<Option<Requester>> {
        registry::requester(&self.tree, id)
    }

    /// Every registered requester, by id.
    pub fn requesters(&self) -> Result<Vec<Requester>> {
        registry::requesters(&self.tree).collect()
    }

    /// Registers a requester, or updates one (same id). Ids are 1-64 printable ASCII characters;
    /// a government body's matters must be in the application catalog.
    pub fn register_requester(&self, requester: &Requester) -> Result<()> {
        let id_ok = !requester.id.is_empty()
            && requester.id.len() <= 64
            && requester.id.bytes().all(|b| b.is_ascii_graphic());
        if !id_ok {
            return Err(Error::Invalid(
                "a requester id is 1-64 printable ASCII characters without spaces".to_string(),
            ));
        }
        if let Role::Government { matters, .. } = &requester.role {
            if let Some(m) = matters
                .iter()
                .find(|m| self.applications.matter(m).is_none())
            {
                return Err(Error::Invalid(format!(
                    "matter {m:?} is not in application catalog {}",
                    self.applications.version()
                )));
            }
        }
        let _guard = self.registry_lock();
        let mut batch = sled::Batch::default();
        registry::put_requester(&mut batch, requester);
        self.tree.apply_batch(batch)?;
        self.flush()
    }

    /// An authorisation by id.
    pub fn authorisation(&self, id: u64) -> Result<Option<Authorisation>> {
        registry::authorisation(&self.tree, id)
    }

    /// Every authorisation, by id.
    pub fn authorisations(&self) -> Result<Vec<Authorisation>> {
        registry::authorisations(&self.tree).collect()
    }

    /// Records a subject's written authorisation (its `id` is assigned here and returned). The
    /// grantee must be a registered grantee or agency; the scope must name something and every
    /// item must be in the catalog; the validity must not end before it starts.
    pub fn record_authorisation(&self, mut a: Authorisation) -> Result<Authorisation> {
        let grantee = self.requester(&a.grantee)?.ok_or_else(|| {
            Error::Invalid("the grantee is not a registered requester".to_string())
        })?;
        if !matches!(grantee.role, Role::Grantee | Role::Agency { .. }) {
            return Err(Error::Invalid(format!(
                "authorisations are given to grantees and agencies, not to a {}",
                grantee.role.as_str()
            )));
        }
        if a.scope.is_empty() {
            return Err(Error::Invalid("the scope names nothing".to_string()));
        }
        if let Some(item) = a.scope.items.iter().find(|i| self.catalog.get(i).is_none()) {
            return Err(Error::Invalid(format!(
                "item {item:?} is not in the catalog"
            )));
        }
        if a.valid_until < a.valid_from {
            return Err(Error::Invalid(
                "the validity ends before it starts".to_string(),
            ));
        }
        if a.document.trim().is_empty() {
            return Err(Error::Invalid(
                "the document reference is empty".to_string(),
            ));
        }
        let mut counters = self.registry_lock();
        let next = counters.next_authorisation_id.max(1);
        a.id = next;
        a.revoked = None;
        let updated = registry::RegistryCounters {
            next_authorisation_id: next + 1,
        };
        let mut batch = sled::Batch::default();
        registry::put_authorisation(&mut batch, &a);
        registry::put_counters(&mut batch, &updated);
        self.tree.apply_batch(batch)?;
        self.flush()?;
        *counters = updated;
        Ok(a)
    }

    /// Revokes an authorisation (the subject withdrew it). Revoking twice keeps the first.
    pub fn revoke_authorisation(
        &self,
        id: u64,
        on: crate::domain::date::Date,
    ) -> Result<Authorisation> {
        self.revoke(id, on, RevocationReason::Withdrawn)
            .map(|(a, _)| a)
    }

    /// Records that an authorisation was forged or altered (Art. 34): it is revoked as forged,
    /// and if its grantee is a credit service agency with bulk access, that access is revoked in
    /// the same atomic write. Returns the authorisation and the agency's updated registration
    /// when its access was taken.
    pub fn record_forgery(
        &self,
        id: u64,
        on: crate::domain::date::Date,
    ) -> Result<(Authorisation, Option<Requester>)> {
        self.revoke(id, on, RevocationReason::Forged)
    }

    fn revoke(
        &self,
        id: u64,
        on: crate::domain::date::Date,
        reason: RevocationReason,
    ) -> Result<(Authorisation, Option<Requester>)> {
        let _guard = self.registry_lock();
        let mut a = self
            .authorisation(id)?
            .ok_or_else(|| Error::Invalid(format!("no authorisation {id}")))?;
        let mut batch = sled::Batch::default();
        // A forgery found after a withdrawal still counts (the withdrawal is replaced).
        let replace = match (&a.revoked, reason) {
            (None, _) => true,
            (Some(r), RevocationReason::Forged) => r.reason != RevocationReason::Forged,
            (Some(_), RevocationReason::Withdrawn) => false,
        };
        if replace {
            a.revoked = Some(Revocation { on, reason });
            registry::put_authorisation(&mut batch, &a);
        }
        let mut agency = None;
        if reason == RevocationReason::Forged {
            if let Some(mut r) = self.requester(&a.grantee)? {
                if let Role::Agency { bulk } = &mut r.role {
                    if !matches!(bulk, BulkAccess::Revoked { .. }) {
                        *bulk = BulkAccess::Revoked {
                            on,
                            authorisation: id,
                        };
                        registry::put_requester(&mut batch, &r);
                        agency = Some(r);
                    }
                }
            }
        }
        self.tree.apply_batch(batch)?;
        self.flush()?;
        Ok((a, agency))
    }

    pub(crate) fn registry_lock(&self) -> MutexGuard<'_, registry::RegistryCounters> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets (or, with neither flag, clears) the query-time mark of a record (Art. 30): the
    /// objection process calls this when an objection opens, closes or passes its deadline.
    pub fn set_record_mark(
        &self,
        code: &SubjectCode,
        record_id: u64,
        objection: bool,
        suspended: bool,
        since: crate::domain::date::Date,
    ) -> Result<()> {
        let _guard = self.registry_lock();
        let mut batch = sled::Batch::default();
        let any = self.mark_in_batch(&mut batch, code, record_id, (objection, suspended), since)?;
        self.tree.apply_batch(batch)?;
        self.flush()?;
        self.note_marked(code, any);
        Ok(())
    }

    /// Adds a record's new mark to `batch` (the caller holds the registry lock); returns whether
    /// the subject has any mark left. Call [`Store::note_marked`] once the batch is applied.
    pub(crate) fn mark_in_batch(
        &self,
        batch: &mut sled::Batch,
        code: &SubjectCode,
        record_id: u64,
        (objection, suspended): (bool, bool),
        since: crate::domain::date::Date,
    ) -> Result<bool> {
        let mut marks = registry::marks(&self.tree, code)?;
        let unchanged = marks
            .iter()
            .find(|m| m.record_id == record_id)
            .map(|m| (m.objection, m.suspended))
            .unwrap_or((false, false))
            == (objection, suspended);
        if unchanged {
            return Ok(!marks.is_empty());
        }
        marks.retain(|m| m.record_id != record_id);
        if objection || suspended {
            marks.push(registry::RecordMark {
                record_id,
                objection,
                suspended,
                since,
            });
            marks.sort_by_key(|m| m.record_id);
        }
        registry::put_marks(batch, code, &marks);
        Ok(!marks.is_empty())
    }

    /// Rewrites one subject's value under the writer lock: `change` edits the decoded subject and
    /// may add its own keys to the batch; the subject is re-encoded (compressed with the newest
    /// dictionary), a change-log entry names it, and everything is applied as one batch, flushed,
    /// and the search index caught up. `None` if the subject is not stored.
    pub(crate) fn rewrite_subject<R>(
        &self,
        code: &SubjectCode,
        change: impl FnOnce(&mut subjects::SubjectEntry, &mut sled::Batch) -> Result<R>,
    ) -> Result<Option<R>> {
        {
            let mut counters = self.writer();
            let Some(mut entry) = subjects::get(&self.tree, &self.dicts, code)? else {
                return Ok(None);
            };
            let mut batch = sled::Batch::default();
            // Each record's end of query period before and after the change: what the due-date
            // index must learn in this batch.
            let ends =
                |e: &subjects::SubjectEntry| -> HashMap<u64, (crate::domain::date::Date, String)> {
                    e.columns
                        .iter()
                        .flatten()
                        .filter_map(|r| {
                            let (day, item) =
                                retention::end_of(&self.catalog, &r.current().content)?;
                            Some((r.record_id.0, (day, item.to_string())))
                        })
                        .collect()
                };
            let before = ends(&entry);
            let out = change(&mut entry, &mut batch)?;
            let after = ends(&entry);
            let mut due = retention::DueChanges::default();
            let ids: std::collections::BTreeSet<u64> =
                before.keys().chain(after.keys()).copied().collect();
            fn end(
                m: &HashMap<u64, (crate::domain::date::Date, String)>,
                id: u64,
            ) -> Option<(crate::domain::date::Date, &str)> {
                m.get(&id).map(|(day, item)| (*day, item.as_str()))
            }
            for id in ids {
                due.ends_changed(*code, id, end(&before, id), end(&after, id));
            }
            let plain = subjects::encode_plain(&entry);
            let value = match self.dicts.newest() {
                Some(dict) => {
                    crate::codec::compress_or_plain(plain, &dict, dict.compressor().ok().as_mut())
                }
                None => plain,
            };
            batch.insert(&keys::subject(code), value);
            let mut next = counters.clone();
            let seq = next.next_change_seq;
            next.next_change_seq += 1;
            due.put(&mut batch, seq);
            changelog::put(
                &mut batch,
                &changelog::ChangeEntry {
                    seq,
                    at_unix_ms: crate::ingest::now_unix_ms(),
                    collection_seq: None,
                    subjects: vec![*code],
                },
            );
            meta::put_counters(&mut batch, &next);
            self.tree.apply_batch(batch)?;
            *counters = next;
            self.flush()?;
            Ok::<_, Error>(Some(out))
        }
        .and_then(|out| {
            self.search.catch_up(self)?;
            Ok(out)
        })
    }

    /// The subjects that have records deleted on request.
    pub(crate) fn tombstoned_subjects(&self) -> HashSet<SubjectCode> {
        self.tombstoned
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn note_tombstoned(&self, code: &SubjectCode) {
        self.tombstoned
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(*code);
    }

    /// Updates the in-memory set of marked subjects after a batch with marks was applied.
    pub(crate) fn note_marked(&self, code: &SubjectCode, any: bool) {
        let mut marked = self.marked.write().unwrap_or_else(|p| p.into_inner());
        if any {
            marked.insert(*code);
        } else {
            marked.remove(code);
        }
    }

    /// The marks of a subject's records.
    pub fn record_marks(&self, code: &SubjectCode) -> Result<Vec<registry::RecordMark>> {
        registry::marks(&self.tree, code)
    }

    pub(crate) fn has_marks(&self, code: &SubjectCode) -> bool {
        self.marked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(code)
    }

    /// Appends a query-log entry (durably unless `sync_query_log` is off); returns its seq.
    pub(crate) fn log_query(&self, entry: query_log::QueryLogEntry) -> Result<u64> {
        let seq = self.log_query_unsynced(entry)?;
        self.sync_log()?;
        Ok(seq)
    }

    /// Appends a query-log entry without waiting for it to be durable: the caller calls
    /// [`Store::sync_log`] before it reports the query answered.
    pub(crate) fn log_query_unsynced(&self, mut entry: query_log::QueryLogEntry) -> Result<u64> {
        let mut head = self.query_log.lock().unwrap_or_else(|p| p.into_inner());
        *head = query_log::append(&self.tree, *head, &mut entry)?;
        Ok(entry.seq)
    }

    /// Makes every query-log entry appended so far durable (unless `sync_query_log` is off).
    pub(crate) fn sync_log(&self) -> Result<()> {
        // NOTE: flushed outside the log's lock: concurrent queries share one fsync instead of
        // queueing.
        if self.sync_query_log {
            self.flush()?;
        }
        Ok(())
    }

    /// The query log, oldest first (personal data: for audits and the subject's own report).
    pub fn query_log(&self) -> impl Iterator<Item = Result<query_log::QueryLogEntry>> + '_ {
        query_log::since(&self.tree, 0)
    }

    /// The entries that asked about `code`, oldest first, after bringing the who-queried index
    /// up to date. No access check: callers go through [`Store::who_queried`].
    pub(crate) fn query_log_about(
        &self,
        code: &SubjectCode,
    ) -> Result<Vec<query_log::QueryLogEntry>> {
        {
            let _guard = self.who_queried.lock().unwrap_or_else(|p| p.into_inner());
            query_log::catch_up_who_queried(&self.tree)?;
        }
        let mut out = Vec::new();
        for seq in query_log::who_queried(&self.tree, code) {
            if let Some(e) = query_log::get(&self.tree, seq?)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Verifies the hash chains of the collection log and the query log (`credstore audit
    /// verify`). Writers wait while it runs, so the heads it compares against are current.
    pub fn audit_verify(&self) -> Result<audit::AuditReport> {
        let _writer = self.writer();
        let _queries = self.query_log.lock().unwrap_or_else(|p| p.into_inner());
        audit::verify(&self.tree)
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
fn open_with_lock_wait(config: &sled::Config, dir: &Path) -> Result<sled::Db> {
    let mut wait = std::time::Duration::from_millis(5);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut cleared_snapshot = false;
    loop {
        match config.open() {
            // sled 0.34.7 writes a snapshot (an index of its log, rebuilt from the log when
            // absent) to `snap.N.generating` and renames it to `snap.N` when complete, but on open
            // it also reads `.generating` files: a process killed mid-write (which happens while
            // opening, when sled snapshots what it recovered) leaves one that makes every later
            // open fail as "corrupted". The rename is the commit, so an unrenamed file was never
            // part of the store; removing it is what sled's own protocol implies. Found by
            // tests/retention.rs (a_killed_sweep_rerun_ends_in_the_state_of_an_uninterrupted_one);
            // see sled issue #1527. Only after sled itself refused (it held the lock then, so no
            // other process was writing that file).
            Err(sled::Error::Corruption { .. }) if !cleared_snapshot => {
                cleared_snapshot = true;
                let io = |e: std::io::Error| Error::Storage(sled::Error::Io(e));
                let mut removed = 0;
                for entry in std::fs::read_dir(dir).map_err(io)? {
                    let name = entry.map_err(io)?.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with("snap.") && name.ends_with(".generating") {
                        std::fs::remove_file(dir.join(name.as_ref())).map_err(io)?;
                        removed += 1;
                    }
                }
                if removed == 0 {
                    return Err(Error::Storage(sled::Error::Corruption { at: None, bt: () }));
                }
            }
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

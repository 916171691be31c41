//! Applying validated submissions: one chunk of input becomes one atomic sled batch.
//!
//! The writer reads what it needs (subjects with their columns, provider-index buckets) into an
//! overlay,
//! applies each submission to the overlay in input order, then writes every touched value, the
//! counters, a change-log entry and a collection-log entry in one `apply_batch`. sled applies a
//! batch atomically for readers and across a crash, so the store never holds half a chunk, and
//! the logs always describe exactly what is stored.
//!
//! **Invariant:** only one writer runs at a time (the store's writer mutex); the counters in the
//! overlay are the store's until the batch is applied.

use super::dictionaries::Dictionaries;
use super::meta::Counters;
use super::provider_index::IndexEntry;
use super::retention::DueChanges;
use super::subjects::SubjectEntry;
use super::{changelog, collection_log, keys, meta, provider_index, subjects};
use crate::domain::catalog::Catalog;
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::record::{Record, RecordId, Subject, Submission, Version};
use crate::error::Result;
use std::collections::{BTreeSet, HashMap};

/// What became of one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored as a new record.
    Accepted,
    /// Identical to one of the record's stored versions: nothing written.
    Duplicate,
    /// Stored as a new version of a known record.
    NewVersion,
    /// Refused because of what is already stored (the reason is for the operator).
    Refused(String),
}

/// Describes the chunk for the collection log.
#[derive(Debug, Clone)]
pub struct ChunkInfo {
    /// The provider.
    pub provider: String,
    /// The file name.
    pub file: String,
    /// First and last line numbers.
    pub lines: (u64, u64),
    /// SHA-256 of the chunk's raw bytes.
    pub chunk_sha256: [u8; 32],
    /// Lines of the chunk refused before reaching the writer (parse and validation errors).
    pub rejected_before: u64,
    /// On the file's last chunk, the file's SHA-256.
    pub file_sha256: Option<[u8; 32]>,
}

/// Counts of one committed chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    /// New records.
    pub accepted: u64,
    /// Unchanged resubmissions.
    pub duplicates: u64,
    /// New versions.
    pub new_versions: u64,
    /// Refusals (before and in the writer).
    pub rejected: u64,
}

/// What a committed chunk leaves behind: the subjects it held. Dropping it frees every record
/// the chunk read or wrote, which a bulk load does on another thread than its writer's.
pub struct Spent {
    subjects: HashMap<SubjectCode, Option<SubjectEntry>>,
    touched: Vec<SubjectCode>,
}

impl Spent {
    /// The subjects the chunk changed, as stored (in code order).
    pub fn touched_subjects(&self) -> impl Iterator<Item = &Subject> {
        self.touched
            .iter()
            .filter_map(|code| self.subjects.get(code).and_then(Option::as_ref))
            .map(|entry| &entry.subject)
    }
}

/// An overlay over the store for one chunk.
pub struct ChunkWriter<'a> {
    tree: &'a sled::Tree,
    dicts: &'a Dictionaries,
    counters: Counters,
    collected_on: Date,
    subjects: HashMap<SubjectCode, Option<SubjectEntry>>,
    dirty_subjects: BTreeSet<SubjectCode>,
    buckets: HashMap<(String, u16), Vec<IndexEntry>>,
    dirty_buckets: BTreeSet<(String, u16)>,
    counts: ChunkCounts,
    /// Subjects with records deleted on request (few): their resubmissions are refused.
    tombstoned: std::collections::HashSet<SubjectCode>,
    /// The catalog, for the records' ends of query period.
    catalog: &'a Catalog,
    /// The due-date index entries this chunk writes.
    due: DueChanges,
    /// Provider-index buckets read, and the entries they held.
    buckets_read: (usize, usize),
}

impl<'a> ChunkWriter<'a> {
    /// Starts a chunk over `tree` with the store's current counters.
    pub fn new(
        tree: &'a sled::Tree,
        dicts: &'a Dictionaries,
        counters: Counters,
        collected_on: Date,
        catalog: &'a Catalog,
    ) -> Self {
        ChunkWriter {
            tree,
            dicts,
            counters,
            collected_on,
            subjects: HashMap::new(),
            dirty_subjects: BTreeSet::new(),
            buckets: HashMap::new(),
            dirty_buckets: BTreeSet::new(),
            counts: ChunkCounts::default(),
            tombstoned: std::collections::HashSet::new(),
            catalog,
            due: DueChanges::default(),
            buckets_read: (0, 0),
        }
    }

    /// Provider-index buckets this chunk has read, and the entries they held.
    pub fn buckets_read(&self) -> (usize, usize) {
        self.buckets_read
    }

    /// The subjects that have records deleted on request (`Store::tombstoned_subjects`).
    pub fn with_tombstoned(mut self, subjects: std::collections::HashSet<SubjectCode>) -> Self {
        self.tombstoned = subjects;
        self
    }

    /// Reads, in parallel and in key order, everything `apply` will need for these submissions
    /// (their subjects and provider-index buckets), so the sequential apply finds it in memory.
    pub fn prefetch<'s>(&mut self, subs: impl Iterator<Item = &'s Submission>) -> Result<()> {
        self.prefetch_inner(subs, true)
    }

    /// Like [`prefetch`](Self::prefetch), for submissions whose record ids are decided already:
    /// only their subjects are read.
    pub fn prefetch_subjects<'s>(
        &mut self,
        subs: impl Iterator<Item = &'s Submission>,
    ) -> Result<()> {
        self.prefetch_inner(subs, false)
    }

    fn prefetch_inner<'s>(
        &mut self,
        subs: impl Iterator<Item = &'s Submission>,
        with_buckets: bool,
    ) -> Result<()> {
        use rayon::prelude::*;
        let mut codes = Vec::new();
        let mut buckets = Vec::new();
        for sub in subs {
            codes.push(sub.subject);
            if with_buckets {
                let bucket = provider_index::bucket_of(&sub.provider_record_id);
                buckets.push((sub.provider.clone(), bucket));
            }
        }
        codes.sort_unstable();
        codes.dedup();
        buckets.sort_unstable();
        buckets.dedup();
        codes.retain(|c| !self.subjects.contains_key(c));
        buckets.retain(|b| !self.buckets.contains_key(b));
        let (tree, dicts) = (self.tree, self.dicts);
        let (got_subjects, got_buckets) = rayon::join(
            || -> Result<Vec<Option<SubjectEntry>>> {
                codes
                    .par_iter()
                    .map(|c| subjects::get(tree, dicts, c))
                    .collect()
            },
            || -> Result<Vec<Vec<IndexEntry>>> {
                buckets
                    .par_iter()
                    .map(|(p, b)| provider_index::get_bucket(tree, p, *b))
                    .collect()
            },
        );
        let got_buckets = got_buckets?;
        self.buckets_read.0 += got_buckets.len();
        self.buckets_read.1 += got_buckets.iter().map(Vec::len).sum::<usize>();
        self.subjects.extend(codes.into_iter().zip(got_subjects?));
        self.buckets.extend(buckets.into_iter().zip(got_buckets));
        Ok(())
    }

    /// Applies one submission to the overlay.
    pub fn apply(&mut self, sub: Submission) -> Result<Outcome> {
        // NOTE: every outcome is counted once, where it is decided (the conflict check below,
        // or `apply_decided`).
        self.apply_inner(sub)
    }

    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Accepted => self.counts.accepted += 1,
            Outcome::Duplicate => self.counts.duplicates += 1,
            Outcome::NewVersion => self.counts.new_versions += 1,
            Outcome::Refused(_) => self.counts.rejected += 1,
        }
    }

    fn apply_inner(&mut self, sub: Submission) -> Result<Outcome> {
        let bucket_key = (
            sub.provider.clone(),
            provider_index::bucket_of(&sub.provider_record_id),
        );
        let bucket = self.bucket(&bucket_key)?;
        if let Some(entry) = provider_index::find(bucket, &sub.provider_record_id) {
            if let Some(reason) = conflict(entry, &sub) {
                let outcome = Outcome::Refused(reason);
                self.count(&outcome);
                return Ok(outcome);
            }
            let record_id = entry.record_id;
            return self.apply_decided(sub, record_id);
        }
        let record_id = RecordId(self.counters.next_record_id);
        provider_index::insert(
            self.bucket(&bucket_key)?,
            IndexEntry {
                provider_record_id: sub.provider_record_id.clone(),
                subject: sub.subject,
                category: sub.category,
                record_id,
            },
        );
        self.counters.next_record_id += 1;
        self.dirty_buckets.insert(bucket_key);
        self.apply_decided(sub, record_id)
    }

    fn bucket(&mut self, key: &(String, u16)) -> Result<&mut Vec<IndexEntry>> {
        if !self.buckets.contains_key(key) {
            let loaded = provider_index::get_bucket(self.tree, &key.0, key.1)?;
            self.buckets_read.0 += 1;
            self.buckets_read.1 += loaded.len();
            self.buckets.insert(key.clone(), loaded);
        }
        Ok(self.buckets.entry(key.clone()).or_default())
    }

    /// Applies a submission whose record id the provider index already decided: a duplicate of
    /// one of the record's stored versions, a new version, or the record's first version (also when an
    /// interrupted bulk load reserved the id in the index but never wrote the record).
    pub fn apply_decided(&mut self, sub: Submission, record_id: RecordId) -> Result<Outcome> {
        let outcome = self.apply_decided_inner(sub, record_id)?;
        self.count(&outcome);
        Ok(outcome)
    }

    fn apply_decided_inner(&mut self, sub: Submission, record_id: RecordId) -> Result<Outcome> {
        let catalog = self.catalog;
        let mut old_end = None;
        let stored = self.subject(sub.subject)?.as_ref().and_then(|e| {
            e.column(sub.category)
                .iter()
                .find(|r| r.record_id == record_id)
                .map(|r| {
                    old_end = super::retention::end_of(catalog, &r.current().content)
                        .map(|(day, item)| (day, item.to_string()));
                    r.versions.iter().any(|v| v.content == sub.content)
                })
        });
        // NOTE: a line equal to *any* stored version is a duplicate, not only one equal to the
        // current version: re-running a sequence of files after a crash, or replaying an older
        // file, must not re-add superseded content as a new version.
        if stored == Some(true) {
            return Ok(Outcome::Duplicate);
        }
        // A record the subject had deleted (Art. 27 ¶2) is not collected again: the provider
        // index still names it, the subject no longer holds it, and its tombstone says why.
        if stored.is_none() && self.tombstoned.contains(&sub.subject) {
            let tombstones = super::lifecycle::tombstones(self.tree, &sub.subject)?;
            if let Some(t) = tombstones.iter().find(|t| t.record_id == record_id.0) {
                return Ok(Outcome::Refused(format!(
                    "record {:?} was deleted on the subject's request on {} (Art. 27 ¶2); it is not collected again",
                    sub.provider_record_id, t.deleted_on
                )));
            }
        }
        self.due.ends_changed(
            sub.subject,
            record_id.0,
            old_end.as_ref().map(|(day, item)| (*day, item.as_str())),
            super::retention::end_of(catalog, &sub.content),
        );
        self.touch_subject(sub.subject, &sub.content.subject_name, sub.kind)?;
        let (collected_on, collection_seq) = (self.collected_on, self.counters.next_collection_seq);
        let Some(entry) = self.subject(sub.subject)?.as_mut() else {
            unreachable!("touch_subject creates the subject");
        };
        let column = entry.column_mut(sub.category);
        match column.iter_mut().find(|r| r.record_id == record_id) {
            Some(record) => {
                let version = record.current().version + 1;
                record.versions.push(Version {
                    version,
                    collected_on,
                    collection_seq,
                    content: sub.content,
                });
                Ok(Outcome::NewVersion)
            }
            None => {
                let at = column.partition_point(|r| r.record_id < record_id);
                column.insert(
                    at,
                    Record {
                        record_id,
                        category: sub.category,
                        provider: sub.provider,
                        provider_record_id: sub.provider_record_id,
                        versions: vec![Version {
                            version: 1,
                            collected_on,
                            collection_seq,
                            content: sub.content,
                        }],
                    },
                );
                Ok(Outcome::Accepted)
            }
        }
    }

    fn subject(&mut self, code: SubjectCode) -> Result<&mut Option<SubjectEntry>> {
        use std::collections::hash_map::Entry;
        match self.subjects.entry(code) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => Ok(e.insert(subjects::get(self.tree, self.dicts, &code)?)),
        }
    }

    /// Creates the subject if new, and records a change of name.
    fn touch_subject(
        &mut self,
        code: SubjectCode,
        name: &str,
        kind: crate::domain::SubjectKind,
    ) -> Result<()> {
        let (collected_on, next_id) = (self.collected_on, self.counters.next_subject_id);
        let slot = self.subject(code)?;
        match slot {
            Some(entry) => {
                let subject = &mut entry.subject;
                if subject.name != name {
                    let old = std::mem::replace(&mut subject.name, name.to_string());
                    subject.former_names.retain(|n| n != name);
                    if !subject.former_names.contains(&old) {
                        subject.former_names.push(old);
                    }
                }
            }
            None => {
                *slot = Some(SubjectEntry::new(Subject {
                    code,
                    kind,
                    name: name.to_string(),
                    former_names: Vec::new(),
                    subject_id: next_id,
                    first_collected_on: collected_on,
                }));
                self.counters.next_subject_id += 1;
            }
        }
        self.dirty_subjects.insert(code);
        Ok(())
    }

    /// Writes the chunk as one atomic batch and returns the new counters and the chunk's counts.
    pub fn commit(self, info: ChunkInfo, at_unix_ms: i64) -> Result<(Counters, ChunkCounts)> {
        self.commit_spent(info, at_unix_ms)
            .map(|(counters, counts, _)| (counters, counts))
    }

    /// Like [`commit`](ChunkWriter::commit), also handing back the subjects the chunk held.
    pub fn commit_spent(
        mut self,
        info: ChunkInfo,
        at_unix_ms: i64,
    ) -> Result<(Counters, ChunkCounts, Spent)> {
        self.counts.rejected += info.rejected_before;
        let mut batch = sled::Batch::default();
        let new_dict = self.put_subjects(&mut batch)?;
        for key in &self.dirty_buckets {
            if let Some(entries) = self.buckets.get(key) {
                provider_index::put_bucket(&mut batch, &key.0, key.1, entries);
            }
        }
        let touched: Vec<SubjectCode> = std::mem::take(&mut self.dirty_subjects)
            .into_iter()
            .collect();
        let collection_seq = self.counters.next_collection_seq;
        self.counters.next_collection_seq += 1;
        if !touched.is_empty() {
            let seq = self.counters.next_change_seq;
            self.counters.next_change_seq += 1;
            std::mem::take(&mut self.due).put(&mut batch, seq);
            changelog::put(
                &mut batch,
                &changelog::ChangeEntry {
                    seq,
                    at_unix_ms,
                    collection_seq: Some(collection_seq),
                    subjects: touched.clone(),
                },
            );
        }
        let entry = collection_log::CollectionEntry {
            seq: collection_seq,
            at_unix_ms,
            collected_on: self.collected_on,
            provider: info.provider,
            file: info.file,
            lines: info.lines,
            chunk_sha256: info.chunk_sha256,
            accepted: self.counts.accepted,
            duplicates: self.counts.duplicates,
            new_versions: self.counts.new_versions,
            rejected: self.counts.rejected,
            file_sha256: info.file_sha256,
            prev_hash: self.counters.collection_head,
        };
        self.counters.collection_head = collection_log::put(&mut batch, &entry);
        meta::put_counters(&mut batch, &self.counters);
        self.tree.apply_batch(batch)?;
        if let Some(dict) = new_dict {
            self.dicts.install(dict);
        }
        let spent = Spent {
            subjects: std::mem::take(&mut self.subjects),
            touched,
        };
        Ok((self.counters, self.counts, spent))
    }

    /// Encodes every touched subject and compresses it with the newest dictionary (training
    /// one on these values when the store has none and there are enough), in parallel.
    /// Returns a newly trained dictionary, to install once the batch is applied.
    fn put_subjects(
        &self,
        batch: &mut sled::Batch,
    ) -> Result<Option<std::sync::Arc<crate::codec::Dictionary>>> {
        use rayon::prelude::*;
        let entries: Vec<&SubjectEntry> = self
            .dirty_subjects
            .iter()
            .filter_map(|code| self.subjects.get(code).and_then(Option::as_ref))
            .collect();
        let plain: Vec<Vec<u8>> = entries
            .par_iter()
            .map(|e| subjects::encode_plain(e))
            .collect();
        let mut new_dict = None;
        let dict = match self.dicts.newest() {
            Some(d) => Some(d),
            None if plain.len() >= super::dictionaries::TRAIN_AFTER => {
                new_dict = self.dicts.train(&plain, batch);
                new_dict.clone()
            }
            None => None,
        };
        let values: Vec<Vec<u8>> = match &dict {
            Some(dict) => plain
                .into_par_iter()
                .map_init(
                    || dict.compressor().ok(),
                    |c, value| crate::codec::compress_or_plain(value, dict, c.as_mut()),
                )
                .collect(),
            None => plain,
        };
        for (entry, value) in entries.iter().zip(values) {
            batch.insert(&keys::subject(&entry.subject.code), value);
        }
        Ok(new_dict)
    }
}

/// Why a submission may not update the record its provider id names, if it may not.
pub fn conflict(entry: &IndexEntry, sub: &Submission) -> Option<String> {
    if entry.subject != sub.subject {
        return Some(format!(
            "provider record id {:?} is already stored for subject {}; a record cannot move to another subject",
            sub.provider_record_id,
            entry.subject.masked()
        ));
    }
    if entry.category != sub.category {
        return Some(format!(
            "provider record id {:?} is stored as a {} record; item {} is {} (a record keeps its category)",
            sub.provider_record_id,
            entry.category.as_str(),
            sub.content.item,
            sub.category.as_str()
        ));
    }
    None
}

//! Applying validated submissions: one chunk of input becomes one atomic sled batch.
//!
//! The writer reads what it needs (provider-index entries, columns, subjects) into an overlay,
//! applies each submission to the overlay in input order, then writes every touched value, the
//! counters, a change-log entry and a collection-log entry in one `apply_batch`. sled applies a
//! batch atomically for readers and across a crash, so the store never holds half a chunk, and
//! the logs always describe exactly what is stored.
//!
//! **Invariant:** only one writer runs at a time (the store's writer mutex); the counters in the
//! overlay are the store's until the batch is applied.

use super::meta::Counters;
use super::provider_index::IndexEntry;
use super::{changelog, collection_log, keys, meta, provider_index, records, subjects};
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::record::{Record, RecordId, Subject, Submission, Version};
use crate::domain::Category;
use crate::error::Result;
use std::collections::{BTreeSet, HashMap};

/// What became of one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored as a new record.
    Accepted,
    /// Identical to the record's current version: nothing written.
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

/// An overlay over the store for one chunk.
pub struct ChunkWriter<'a> {
    tree: &'a sled::Tree,
    counters: Counters,
    collected_on: Date,
    columns: HashMap<(SubjectCode, Category), Vec<Record>>,
    dirty_columns: BTreeSet<(SubjectCode, Category)>,
    subjects: HashMap<SubjectCode, Option<Subject>>,
    dirty_subjects: BTreeSet<SubjectCode>,
    index: HashMap<(String, String), Option<IndexEntry>>,
    new_index: Vec<(String, String)>,
    counts: ChunkCounts,
}

impl<'a> ChunkWriter<'a> {
    /// Starts a chunk over `tree` with the store's current counters.
    pub fn new(tree: &'a sled::Tree, counters: Counters, collected_on: Date) -> Self {
        ChunkWriter {
            tree,
            counters,
            collected_on,
            columns: HashMap::new(),
            dirty_columns: BTreeSet::new(),
            subjects: HashMap::new(),
            dirty_subjects: BTreeSet::new(),
            index: HashMap::new(),
            new_index: Vec::new(),
            counts: ChunkCounts::default(),
        }
    }

    /// Reads, in parallel and in key order, everything `apply` will need for these submissions
    /// (provider-index entries, columns, subjects), so the sequential apply finds it in memory.
    pub fn prefetch<'s>(&mut self, subs: impl Iterator<Item = &'s Submission>) -> Result<()> {
        use rayon::prelude::*;
        let mut ids = Vec::new();
        let mut columns = Vec::new();
        let mut codes = Vec::new();
        for sub in subs {
            ids.push((sub.provider.clone(), sub.provider_record_id.clone()));
            columns.push((sub.subject, sub.category));
            codes.push(sub.subject);
        }
        columns.sort_unstable();
        columns.dedup();
        ids.sort_unstable();
        ids.dedup();
        codes.sort_unstable();
        codes.dedup();
        let tree = self.tree;
        let got_ids: Vec<Option<IndexEntry>> = ids
            .par_iter()
            .map(|(p, r)| provider_index::get(tree, p, r))
            .collect::<Result<_>>()?;
        let got_columns: Vec<Vec<Record>> = columns
            .par_iter()
            .map(|(code, cat)| records::get_column(tree, code, *cat))
            .collect::<Result<_>>()?;
        let got_subjects: Vec<Option<Subject>> = codes
            .par_iter()
            .map(|code| subjects::get(tree, code))
            .collect::<Result<_>>()?;
        for (k, v) in ids.into_iter().zip(got_ids) {
            self.index.entry(k).or_insert(v);
        }
        for (k, v) in columns.into_iter().zip(got_columns) {
            self.columns.entry(k).or_insert(v);
        }
        for (k, v) in codes.into_iter().zip(got_subjects) {
            self.subjects.entry(k).or_insert(v);
        }
        Ok(())
    }

    /// Applies one submission to the overlay.
    pub fn apply(&mut self, sub: Submission) -> Result<Outcome> {
        let outcome = self.apply_inner(sub)?;
        match outcome {
            Outcome::Accepted => self.counts.accepted += 1,
            Outcome::Duplicate => self.counts.duplicates += 1,
            Outcome::NewVersion => self.counts.new_versions += 1,
            Outcome::Refused(_) => self.counts.rejected += 1,
        }
        Ok(outcome)
    }

    fn apply_inner(&mut self, sub: Submission) -> Result<Outcome> {
        let id_key = (sub.provider.clone(), sub.provider_record_id.clone());
        let known = match self.index.get(&id_key) {
            Some(entry) => *entry,
            None => {
                let entry = provider_index::get(self.tree, &sub.provider, &sub.provider_record_id)?;
                self.index.insert(id_key.clone(), entry);
                entry
            }
        };
        match known {
            Some(entry) => self.resubmit(entry, sub),
            None => {
                self.new_record(sub, id_key)?;
                Ok(Outcome::Accepted)
            }
        }
    }

    fn resubmit(&mut self, entry: IndexEntry, sub: Submission) -> Result<Outcome> {
        if entry.subject != sub.subject {
            return Ok(Outcome::Refused(format!(
                "provider record id {:?} is already stored for subject {}; a record cannot move to another subject",
                sub.provider_record_id,
                entry.subject.masked()
            )));
        }
        if entry.category != sub.category {
            return Ok(Outcome::Refused(format!(
                "provider record id {:?} is stored as a {} record; item {} is {} (a record keeps its category)",
                sub.provider_record_id,
                entry.category.as_str(),
                sub.content.item,
                sub.category.as_str()
            )));
        }
        let collected_on = self.collected_on;
        let collection_seq = self.counters.next_collection_seq;
        let (code, kind, name) = (sub.subject, sub.kind, sub.content.subject_name.clone());
        let column = self.column(entry.subject, entry.category)?;
        let Some(record) = column.iter_mut().find(|r| r.record_id == entry.record_id) else {
            return Err(crate::error::Error::Corrupt {
                tree: "provider_index",
                key: keys::describe(&keys::provider_index(&sub.provider, &sub.provider_record_id)),
                reason: format!("points at record {} which its column lacks", entry.record_id.0),
            });
        };
        if record.current().content == sub.content {
            return Ok(Outcome::Duplicate);
        }
        let version = record.current().version + 1;
        record.versions.push(Version {
            version,
            collected_on,
            collection_seq,
            content: sub.content,
        });
        self.dirty_columns.insert((entry.subject, entry.category));
        self.touch_subject(&code, &name, kind)?;
        Ok(Outcome::NewVersion)
    }

    fn new_record(&mut self, sub: Submission, id_key: (String, String)) -> Result<()> {
        let record_id = RecordId(self.counters.next_record_id);
        self.counters.next_record_id += 1;
        let name = sub.content.subject_name.clone();
        let record = Record {
            record_id,
            category: sub.category,
            provider: sub.provider,
            provider_record_id: sub.provider_record_id,
            versions: vec![Version {
                version: 1,
                collected_on: self.collected_on,
                collection_seq: self.counters.next_collection_seq,
                content: sub.content,
            }],
        };
        self.column(sub.subject, sub.category)?.push(record);
        self.dirty_columns.insert((sub.subject, sub.category));
        let entry = IndexEntry {
            subject: sub.subject,
            category: sub.category,
            record_id,
        };
        self.index.insert(id_key.clone(), Some(entry));
        self.new_index.push(id_key);
        self.touch_subject(&sub.subject, &name, sub.kind)
    }

    fn column(&mut self, code: SubjectCode, category: Category) -> Result<&mut Vec<Record>> {
        use std::collections::hash_map::Entry;
        match self.columns.entry((code, category)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => Ok(e.insert(records::get_column(self.tree, &code, category)?)),
        }
    }

    fn touch_subject(
        &mut self,
        code: &SubjectCode,
        name: &str,
        kind: crate::domain::SubjectKind,
    ) -> Result<()> {
        let slot = match self.subjects.entry(*code) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(subjects::get(self.tree, code)?),
        };
        match slot {
            Some(subject) => {
                if subject.name != name {
                    let old = std::mem::replace(&mut subject.name, name.to_string());
                    subject.former_names.retain(|n| n != name);
                    if !subject.former_names.contains(&old) {
                        subject.former_names.push(old);
                    }
                    self.dirty_subjects.insert(*code);
                }
            }
            None => {
                *slot = Some(Subject {
                    code: *code,
                    kind,
                    name: name.to_string(),
                    former_names: Vec::new(),
                    subject_id: self.counters.next_subject_id,
                    first_collected_on: self.collected_on,
                });
                self.counters.next_subject_id += 1;
                self.dirty_subjects.insert(*code);
            }
        }
        Ok(())
    }

    /// Writes the chunk as one atomic batch and returns the new counters and the chunk's counts.
    pub fn commit(mut self, info: ChunkInfo, at_unix_ms: i64) -> Result<(Counters, ChunkCounts)> {
        self.counts.rejected += info.rejected_before;
        let mut batch = sled::Batch::default();
        let mut touched: BTreeSet<SubjectCode> = BTreeSet::new();
        for key in &self.dirty_columns {
            if let Some(column) = self.columns.get(key) {
                records::put_column(&mut batch, &key.0, key.1, column);
                touched.insert(key.0);
            }
        }
        for code in &self.dirty_subjects {
            if let Some(Some(subject)) = self.subjects.get(code) {
                subjects::put(&mut batch, subject);
                touched.insert(*code);
            }
        }
        for id_key in &self.new_index {
            if let Some(Some(entry)) = self.index.get(id_key) {
                provider_index::put(&mut batch, &id_key.0, &id_key.1, entry);
            }
        }
        let collection_seq = self.counters.next_collection_seq;
        self.counters.next_collection_seq += 1;
        if !touched.is_empty() {
            let seq = self.counters.next_change_seq;
            self.counters.next_change_seq += 1;
            changelog::put(
                &mut batch,
                &changelog::ChangeEntry {
                    seq,
                    at_unix_ms,
                    collection_seq: Some(collection_seq),
                    subjects: touched.into_iter().collect(),
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
        Ok((self.counters, self.counts))
    }
}

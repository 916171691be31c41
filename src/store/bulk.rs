//! The store side of a bulk load: the provider-index pass and the closing file summaries.
//!
//! A bulk load (see `ingest::bulk`) sorts its input twice. In provider-index order, each bucket
//! is read once, every input line's record id is decided (a known record, a new record, or a
//! conflict), and the bucket is written once. In subject order, each subject is read and written
//! once per chunk through the ordinary [`ChunkWriter`](super::writer::ChunkWriter), with the ids
//! decided here. Both passes visit keys in order, so sled does one operation per bucket and per
//! subject instead of several per record.
//!
//! **Invariant:** an index entry written here may name a record that is not stored yet (the
//! subject pass had not reached it when the process stopped). That is a reservation: the next
//! ingest of the same line stores the record under the reserved id (`apply_decided`).

use super::meta::Counters;
use super::provider_index::{self, IndexEntry};
use super::{collection_log, meta};
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::record::RecordId;
use crate::domain::Category;
use crate::error::Result;

/// One input line as the index pass sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLine {
    /// Its position in the whole load's input.
    pub seq: u64,
    /// The provider's id of the record.
    pub provider_record_id: String,
    /// The subject it names.
    pub subject: SubjectCode,
    /// Its category.
    pub category: Category,
}

/// What the index pass decided for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Apply it to this record (new, or known and of the same subject and category).
    Record(RecordId),
    /// Refuse it: the record belongs to another subject or category.
    Conflict(String),
}

/// Buckets written per batch.
const BUCKETS_PER_BATCH: usize = 16_384;

/// The provider-index pass: give it every bucket's lines in key order.
pub struct IndexPass<'a> {
    tree: &'a sled::Tree,
    counters: Counters,
    batch: sled::Batch,
    pending: usize,
}

impl<'a> IndexPass<'a> {
    /// Starts the pass with the store's counters (the caller holds the writer lock).
    pub fn new(tree: &'a sled::Tree, counters: Counters) -> Self {
        IndexPass {
            tree,
            counters,
            batch: sled::Batch::default(),
            pending: 0,
        }
    }

    /// Decides every line of one bucket; `lines` sorted by (provider record id, seq).
    pub fn bucket(
        &mut self,
        provider: &str,
        bucket: u16,
        lines: &[IndexLine],
    ) -> Result<Vec<Decision>> {
        let mut entries = provider_index::get_bucket(self.tree, provider, bucket)?;
        let mut changed = false;
        let mut out = Vec::with_capacity(lines.len());
        for line in lines {
            let decision = match provider_index::find(&entries, &line.provider_record_id) {
                Some(entry) if entry.subject != line.subject => Decision::Conflict(format!(
                    "provider record id {:?} is already stored for subject {}; a record cannot move to another subject",
                    line.provider_record_id,
                    entry.subject.masked()
                )),
                Some(entry) if entry.category != line.category => Decision::Conflict(format!(
                    "provider record id {:?} is stored as a {} record; this line's item is {} (a record keeps its category)",
                    line.provider_record_id,
                    entry.category.as_str(),
                    line.category.as_str()
                )),
                Some(entry) => Decision::Record(entry.record_id),
                None => {
                    let record_id = RecordId(self.counters.next_record_id);
                    self.counters.next_record_id += 1;
                    provider_index::insert(
                        &mut entries,
                        IndexEntry {
                            provider_record_id: line.provider_record_id.clone(),
                            subject: line.subject,
                            category: line.category,
                            record_id,
                        },
                    );
                    changed = true;
                    Decision::Record(record_id)
                }
            };
            out.push(decision);
        }
        if changed {
            provider_index::put_bucket(&mut self.batch, provider, bucket, &entries);
            self.pending += 1;
            if self.pending >= BUCKETS_PER_BATCH {
                self.write()?;
            }
        }
        Ok(out)
    }

    fn write(&mut self) -> Result<()> {
        meta::put_counters(&mut self.batch, &self.counters);
        self.tree.apply_batch(std::mem::take(&mut self.batch))?;
        self.pending = 0;
        Ok(())
    }

    /// Writes what is left; returns the counters the subject pass continues from.
    pub fn finish(mut self) -> Result<Counters> {
        if self.pending > 0 {
            self.write()?;
        }
        Ok(self.counters)
    }
}

/// What a bulk load did with one file, for its collection-log summary.
#[derive(Debug, Clone, Default)]
pub struct FileSummary {
    /// The provider.
    pub provider: String,
    /// The file, as given.
    pub file: String,
    /// Lines read.
    pub lines: u64,
    /// The file's SHA-256.
    pub sha256: [u8; 32],
    /// New records.
    pub accepted: u64,
    /// Unchanged resubmissions.
    pub duplicates: u64,
    /// New versions.
    pub new_versions: u64,
    /// Refused lines.
    pub rejected: u64,
}

/// Appends one collection-log entry per file of a bulk load, in one batch.
pub fn append_file_summaries(
    tree: &sled::Tree,
    mut counters: Counters,
    collected_on: Date,
    at_unix_ms: i64,
    files: &[FileSummary],
) -> Result<Counters> {
    let mut batch = sled::Batch::default();
    for f in files {
        let entry = collection_log::CollectionEntry {
            seq: counters.next_collection_seq,
            at_unix_ms,
            collected_on,
            provider: f.provider.clone(),
            file: f.file.clone(),
            lines: (1, f.lines),
            chunk_sha256: f.sha256,
            accepted: f.accepted,
            duplicates: f.duplicates,
            new_versions: f.new_versions,
            rejected: f.rejected,
            file_sha256: Some(f.sha256),
            prev_hash: counters.collection_head,
        };
        counters.next_collection_seq += 1;
        counters.collection_head = collection_log::put(&mut batch, &entry);
    }
    meta::put_counters(&mut batch, &counters);
    tree.apply_batch(batch)?;
    Ok(counters)
}

//! Change log keyspace: a monotonic sequence of what changed, for consumers that follow the store
//! (the search index, audit).
//!
//! ```text
//! 'c' ++ seq[u64 BE] -> ChangeEntry (codec v1)
//! ```
//! One entry per write batch, in the same atomic batch as the change itself, so a consumer that
//! remembers the last sequence it applied can always catch up exactly.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// One batch's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEntry {
    /// Its sequence number.
    pub seq: u64,
    /// When it was written (Unix milliseconds).
    pub at_unix_ms: i64,
    /// The collection-log entry of the same batch, for ingest batches.
    pub collection_seq: Option<u64>,
    /// The subjects whose data changed, in code order, without repeats.
    pub subjects: Vec<SubjectCode>,
}

/// Adds an entry to a batch.
pub fn put(batch: &mut sled::Batch, entry: &ChangeEntry) {
    batch.insert(
        &keys::sequenced(keys::CHANGES, entry.seq),
        codec::encode(entry),
    );
}

/// Entries with sequence ≥ `from`, in order.
pub fn since(tree: &sled::Tree, from: u64) -> impl Iterator<Item = Result<ChangeEntry>> + '_ {
    tree.range(keys::sequenced(keys::CHANGES, from)..keys::sequenced(keys::CHANGES, u64::MAX))
        .map(|item| {
            let (k, v) = item?;
            codec::decode(&v, "changes", &k)
        })
}

//! Provider index keyspace: (provider, provider record id) to the record's place.
//!
//! ```text
//! 'p' ++ provider ++ 0x00 ++ provider_record_id -> IndexEntry (codec v1)
//! ```
//! Makes re-ingestion idempotent: a line whose (provider, provider record id) is known is either
//! a duplicate (same content as the current version) or a new version of that record.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::record::RecordId;
use crate::domain::Category;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Where a provider's record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The subject.
    pub subject: SubjectCode,
    /// The column.
    pub category: Category,
    /// The record.
    pub record_id: RecordId,
}

/// Looks up a provider's record.
pub fn get(tree: &sled::Tree, provider: &str, provider_record_id: &str) -> Result<Option<IndexEntry>> {
    let key = keys::provider_index(provider, provider_record_id);
    tree.get(&key)?
        .map(|v| codec::decode(&v, "provider_index", &key))
        .transpose()
}

/// Adds an entry to a batch.
pub fn put(batch: &mut sled::Batch, provider: &str, provider_record_id: &str, entry: &IndexEntry) {
    batch.insert(keys::provider_index(provider, provider_record_id), codec::encode(entry));
}

//! Collection log keyspace (Art. 26): one entry per ingest batch, kept for good, hash-chained.
//!
//! ```text
//! 'l' ++ seq[u64 BE] -> CollectionEntry (codec v1)
//! ```
//! Each entry carries the SHA-256 of the previous entry's stored bytes (`prev_hash`), so any
//! edit, deletion or insertion breaks the chain. It is written in the same atomic batch as the
//! records it describes: whatever a crash leaves stored is described by the log.

use super::keys;
use crate::codec;
use crate::domain::date::Date;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One ingest batch (a chunk of a provider file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionEntry {
    /// Its sequence number.
    pub seq: u64,
    /// When it was written (Unix milliseconds).
    pub at_unix_ms: i64,
    /// The collection date in force (`--today`).
    pub collected_on: Date,
    /// The provider.
    pub provider: String,
    /// The file name as given.
    pub file: String,
    /// First and last line numbers (1-based) of the chunk.
    pub lines: (u64, u64),
    /// SHA-256 of the chunk's raw bytes.
    pub chunk_sha256: [u8; 32],
    /// Lines stored as new records.
    pub accepted: u64,
    /// Lines identical to what was stored.
    pub duplicates: u64,
    /// Lines stored as new versions of known records.
    pub new_versions: u64,
    /// Lines refused.
    pub rejected: u64,
    /// On the last chunk of a file: the whole file's SHA-256.
    pub file_sha256: Option<[u8; 32]>,
    /// SHA-256 of the previous entry's stored bytes (zero for the first).
    pub prev_hash: [u8; 32],
}

/// Encodes an entry, adds it to a batch and returns the hash the next entry must carry.
pub fn put(batch: &mut sled::Batch, entry: &CollectionEntry) -> [u8; 32] {
    let bytes = codec::encode(entry);
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    batch.insert(&keys::sequenced(keys::COLLECTION_LOG, entry.seq), bytes);
    hash
}

/// Every entry, in order.
pub fn scan(tree: &sled::Tree) -> impl Iterator<Item = Result<CollectionEntry>> + '_ {
    super::kv::scan(tree, keys::COLLECTION_LOG, "collection_log")
}

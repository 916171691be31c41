//! Provider index keyspace: (provider, provider record id) to the record's place, in buckets.
//!
//! ```text
//! 'p' ++ provider ++ 0x00 ++ bucket[u16 BE] -> Vec<IndexEntry> (codec v1), by provider_record_id
//! bucket = top 14 bits of mix64(FNV-1a-64(provider_record_id))   (0 ..= 16383)
//! ```
//! Makes re-ingestion idempotent: a line whose (provider, provider record id) is known is a
//! duplicate (same content as the current version), a new version of that record, or — if it
//! names another subject or category — refused. Buckets rather than one key per record: one key
//! per record would add a sled operation per record, the store's scarcest resource (see
//! `subjects`). With 16,384 buckets per provider, a first load visits each bucket once, and a
//! bucket of a provider with two million records holds about 120 entries (6 KiB).
//!
//! NOTE: the number of buckets is fixed, so a bucket grows with its provider. A file-by-file
//! chunk reads and rewrites the bucket of every new line: its memory and its writes grow with the
//! provider's size, which is why a chunk is cut short when its buckets would hold more than
//! `IngestOptions::max_index_entries` entries ([`mean_bucket_len`] estimates them).
//!
//! The hash is fixed here because bucket numbers are persisted: it must never change with a
//! dependency. FNV-1a-64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3), then the
//! SplitMix64 finaliser (`mix64`).
//!
//! NOTE: the finaliser matters. FNV-1a alone leaves ids that differ only in their last
//! characters (`…-00000001`, `…-00000002`: every provider's ids are sequential) with the same
//! top bits, so they would all fall in one bucket.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::record::RecordId;
use crate::domain::Category;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Where a provider's record lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The provider's id of the record.
    pub provider_record_id: String,
    /// The subject.
    pub subject: SubjectCode,
    /// The column.
    pub category: Category,
    /// The record.
    pub record_id: RecordId,
}

/// The bucket of a provider record id.
pub fn bucket_of(provider_record_id: &str) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in provider_record_id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (mix64(hash) >> 50) as u16
}

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Reads one bucket (empty when absent).
pub fn get_bucket(tree: &sled::Tree, provider: &str, bucket: u16) -> Result<Vec<IndexEntry>> {
    let key = keys::provider_bucket(provider, bucket);
    match tree.get(&key)? {
        Some(v) => codec::decode(&v, "provider_index", &key),
        None => Ok(Vec::new()),
    }
}

/// Buckets read to estimate a provider's mean bucket length.
pub const SAMPLE_BUCKETS: u16 = 64;

/// The mean number of entries in a provider's buckets, estimated from [`SAMPLE_BUCKETS`] buckets
/// spread evenly over the range (the hash spreads ids uniformly over the buckets).
pub fn mean_bucket_len(tree: &sled::Tree, provider: &str) -> Result<f64> {
    let step = BUCKETS / SAMPLE_BUCKETS;
    let mut entries = 0usize;
    for i in 0..SAMPLE_BUCKETS {
        entries += get_bucket(tree, provider, i * step)?.len();
    }
    Ok(entries as f64 / f64::from(SAMPLE_BUCKETS))
}

/// Buckets per provider (the persisted hash keeps the top 14 bits).
pub const BUCKETS: u16 = 1 << 14;

/// Finds an entry in a bucket.
pub fn find<'a>(bucket: &'a [IndexEntry], provider_record_id: &str) -> Option<&'a IndexEntry> {
    bucket
        .binary_search_by(|e| e.provider_record_id.as_str().cmp(provider_record_id))
        .ok()
        .map(|i| &bucket[i])
}

/// Inserts an entry into a bucket, keeping it sorted (the id must not be present).
pub fn insert(bucket: &mut Vec<IndexEntry>, entry: IndexEntry) {
    // NOTE: exact growth. A chunk adds one or two entries to most buckets it touches; letting
    // the vector double would hold twice every touched bucket in memory until the commit.
    bucket.reserve_exact(1);
    let at = bucket
        .binary_search_by(|e| e.provider_record_id.cmp(&entry.provider_record_id))
        .unwrap_or_else(|i| i);
    bucket.insert(at, entry);
}

/// Adds a bucket to a batch.
pub fn put_bucket(batch: &mut sled::Batch, provider: &str, bucket: u16, entries: &[IndexEntry]) {
    batch.insert(
        keys::provider_bucket(provider, bucket),
        codec::encode(&entries),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_buckets_are_fixed() {
        // Persisted: these values must never change.
        assert_eq!(bucket_of(""), 0x3d4a);
        assert_eq!(bucket_of("a"), 0x00b0);
        // Sequential ids spread over buckets.
        let buckets: std::collections::BTreeSet<u16> = (0..1000)
            .map(|i| bucket_of(&format!("SAMR-SH-{i:08}")))
            .collect();
        assert!(buckets.len() > 950, "{} distinct buckets", buckets.len());
        assert!(buckets.iter().all(|b| *b < BUCKETS));
    }
}

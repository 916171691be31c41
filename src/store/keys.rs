//! Keyspaces and key encoding.
//!
//! The whole store is **one sled tree**, divided into keyspaces by the key's first byte. One tree
//! is deliberate: sled's `apply_batch` is atomic (for readers and across a crash) only within a
//! tree, and every ingest chunk must land as one unit across records, subjects, the provider
//! index, the change log and the collection log.
//!
//! | tag | keyspace | key | value |
//! |---|---|---|---|
//! | `0x00` | meta | `0x00 ++ name` | format: u32 BE raw; counters: `Counters` |
//! | `s` | subjects | `'s' ++ code[18]` | subject header + its three record columns |
//! | `p` | provider index | `'p' ++ provider ++ 0x00 ++ bucket[u16 BE]` | `Vec<IndexEntry>` |
//! | `c` | change log | `'c' ++ seq[u64 BE]` | `ChangeEntry` |
//! | `l` | collection log | `'l' ++ seq[u64 BE]` | `CollectionEntry` |
//! | `q` `w` | query log, who-queried index | see `query_log` | |
//! | `r` `a` `m` | requesters, authorisations, record marks | see `registry` | |
//!
//! Integers in keys are big-endian so byte order is numeric order. Codes are 18 ASCII bytes.

use crate::domain::code::SubjectCode;

/// Keyspace tag of the meta entries.
pub const META: u8 = 0x00;
/// Keyspace tag of subjects.
pub const SUBJECTS: u8 = b's';
/// Keyspace tag of the provider index.
pub const PROVIDER_INDEX: u8 = b'p';
/// Keyspace tag of the change log.
pub const CHANGES: u8 = b'c';
/// Keyspace tag of the collection log.
pub const COLLECTION_LOG: u8 = b'l';

/// `0x00 ++ name`.
pub fn meta(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(META);
    k.extend_from_slice(name.as_bytes());
    k
}

/// `'s' ++ code`.
pub fn subject(code: &SubjectCode) -> [u8; 19] {
    let mut k = [0u8; 19];
    k[0] = SUBJECTS;
    k[1..].copy_from_slice(code.as_bytes());
    k
}

/// `'p' ++ provider ++ 0x00 ++ bucket`. The provider code is ASCII without NUL (validated at
/// ingest), so the key is unambiguous.
pub fn provider_bucket(provider: &str, bucket: u16) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + provider.len());
    k.push(PROVIDER_INDEX);
    k.extend_from_slice(provider.as_bytes());
    k.push(0);
    k.extend_from_slice(&bucket.to_be_bytes());
    k
}

/// `tag ++ seq` for the two logs.
pub fn sequenced(tag: u8, seq: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = tag;
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The sequence number of a log key (`tag ++ seq`), if it is one.
pub fn seq_of(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(1..9)?.try_into().ok()?;
    (key.len() == 9).then_some(u64::from_be_bytes(bytes))
}

/// A printable description of a key for error messages, with any subject code masked.
pub fn describe(key: &[u8]) -> String {
    let code_at = |range: std::ops::Range<usize>| {
        key.get(range)
            .and_then(SubjectCode::from_stored)
            .map(|c| c.masked())
            .unwrap_or_else(|| "<bad code>".to_string())
    };
    match key.first() {
        Some(&SUBJECTS) => format!("s/{}", code_at(1..19)),
        Some(&CHANGES) => format!("c/{}", seq_of(key).map_or(-1, |s| s as i128)),
        Some(&COLLECTION_LOG) => format!("l/{}", seq_of(key).map_or(-1, |s| s as i128)),
        Some(b'q') => format!("q/{}", seq_of(key).map_or(-1, |s| s as i128)),
        Some(b'a') => format!("a/{}", seq_of(key).map_or(-1, |s| s as i128)),
        Some(b'm') => format!("m/{}", code_at(1..19)),
        Some(b'w') => format!("w/{}", code_at(1..19)),
        Some(b'r') => format!("r/{}", String::from_utf8_lossy(&key[1..])),
        Some(&PROVIDER_INDEX) => {
            let body = &key[1..];
            let split = body.len().saturating_sub(3);
            format!(
                "p/{}/{}",
                String::from_utf8_lossy(&body[..split]),
                body.get(split + 1..)
                    .map_or(0, |b| b.iter().fold(0u32, |a, x| a * 256 + u32::from(*x)))
            )
        }
        Some(&META) => format!("meta/{}", String::from_utf8_lossy(&key[1..])),
        _ => format!("<{} bytes>", key.len()),
    }
}

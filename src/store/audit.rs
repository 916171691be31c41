//! `audit verify`: checks the hash chains of the collection log and the query log (Art. 26, 31).
//!
//! For each log: entries are numbered 0, 1, 2, ... without gaps; each entry's own `seq` matches
//! its key; each carries the SHA-256 of the previous entry's stored bytes; and the newest entry's
//! hash and the count match the head kept in the meta keyspace (written in the same batch as
//! every entry). An edited, deleted or inserted entry — the last one included — is reported as
//! the first broken entry. A rewrite of a whole log *and* its head is not detectable from inside
//! the store: record the printed head hashes elsewhere (an operator's notebook, a timestamping
//! service) and compare.

use super::{collection_log, keys, meta, query_log};
use crate::codec;
use crate::error::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One log's verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// `collection` or `query`.
    pub log: &'static str,
    /// Entries checked.
    pub entries: u64,
    /// The newest entry's hash, hex (what to record outside the store).
    pub head: String,
    /// The first problem found, if any.
    pub broken: Option<Broken>,
}

/// The first broken place in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    /// The sequence number where the chain breaks (the entry expected there).
    pub seq: u64,
    /// What is wrong.
    pub problem: String,
}

/// Both logs' verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// The collection log (ingest batches).
    pub collection: ChainReport,
    /// The query log.
    pub query: ChainReport,
}

impl AuditReport {
    /// Whether both chains are intact.
    pub fn ok(&self) -> bool {
        self.collection.broken.is_none() && self.query.broken.is_none()
    }
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a chain verifier needs from one entry.
struct Link {
    seq: u64,
    prev_hash: [u8; 32],
}

fn verify_chain(
    log: &'static str,
    tag: u8,
    tree: &sled::Tree,
    decode: impl Fn(&[u8], &[u8]) -> Result<Link>,
    head_count: u64,
    head_hash: [u8; 32],
) -> Result<ChainReport> {
    let mut expected = 0u64;
    let mut prev = [0u8; 32];
    let mut broken = None;
    for item in tree.scan_prefix([tag]) {
        let (k, v) = item?;
        let fail = |seq: u64, problem: String| Some(Broken { seq, problem });
        let Some(key_seq) = keys::seq_of(&k) else {
            broken = fail(expected, format!("unexpected key {}", keys::describe(&k)));
            break;
        };
        if key_seq != expected {
            broken = fail(
                expected,
                if key_seq > expected {
                    format!("entry {expected} is missing (next key is {key_seq})")
                } else {
                    format!("unexpected key {key_seq}")
                },
            );
            break;
        }
        let link = match decode(&k, &v) {
            Ok(link) => link,
            Err(e) => {
                broken = fail(expected, format!("entry does not decode: {e}"));
                break;
            }
        };
        if link.seq != key_seq {
            broken = fail(
                expected,
                format!("entry says seq {} under key {key_seq}", link.seq),
            );
            break;
        }
        if link.prev_hash != prev {
            broken = fail(
                expected,
                if expected == 0 {
                    "the first entry does not start the chain".to_string()
                } else {
                    format!("previous-hash does not match entry {}", expected - 1)
                },
            );
            break;
        }
        prev = Sha256::digest(&v).into();
        expected += 1;
    }
    if broken.is_none() && (expected != head_count || prev != head_hash) {
        broken = Some(Broken {
            seq: expected.min(head_count),
            problem: format!(
                "the log ends at {expected} entries with hash {}, but the head records {head_count} entries with hash {}",
                &hex(&prev)[..16],
                &hex(&head_hash)[..16]
            ),
        });
    }
    Ok(ChainReport {
        log,
        entries: expected,
        head: hex(&prev),
        broken,
    })
}

/// Verifies both logs.
pub fn verify(tree: &sled::Tree) -> Result<AuditReport> {
    let counters = meta::load_counters(tree)?;
    let collection = verify_chain(
        "collection",
        keys::COLLECTION_LOG,
        tree,
        |k, v| {
            let e: collection_log::CollectionEntry = codec::decode(v, "collection_log", k)?;
            Ok(Link {
                seq: e.seq,
                prev_hash: e.prev_hash,
            })
        },
        counters.next_collection_seq,
        counters.collection_head,
    )?;
    let head = query_log::head(tree)?;
    let query = verify_chain(
        "query",
        query_log::QUERY_LOG,
        tree,
        |k, v| {
            let e: query_log::QueryLogEntry = codec::decode(v, "query_log", k)?;
            Ok(Link {
                seq: e.seq,
                prev_hash: e.prev_hash,
            })
        },
        head.next_seq,
        head.head,
    )?;
    Ok(AuditReport { collection, query })
}

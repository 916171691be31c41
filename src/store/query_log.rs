//! Query log keyspace (Art. 19, 26): one entry per query — single, search, bulk, refused ones
//! too — kept for good and hash-chained like the collection log; and the who-queried index
//! derived from it.
//!
//! ```text
//! 'q' ++ seq[u64 BE]            -> QueryLogEntry (codec v1)
//! 0x00 ++ "query_log"           -> QueryLogHead (codec v1): next seq, hash of the newest entry
//! 'w' ++ code[18] ++ seq[u64 BE] -> empty: `seq` asked about `code` (derived, see below)
//! 0x00 ++ "who_queried"         -> u64 (codec v1): the first query seq not yet in 'w'
//! ```
//! Each entry carries the SHA-256 of the previous entry's stored bytes, and the head records the
//! newest entry's hash and the count, both written in the entry's own atomic batch: an edit, a
//! deletion or an insertion anywhere, the last entry included, breaks the chain (`audit verify`).
//!
//! The who-queried index is derived data, like the search index: a bulk lookup of 10,000 codes
//! writes one log entry, not 10,000 index keys; `who_queried` first brings the index up to the
//! log's end, then reads one key range.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::error::Result;
use crate::query::model::Refusal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Keyspace tag of the query log.
pub const QUERY_LOG: u8 = b'q';
/// Keyspace tag of the who-queried index.
pub const WHO_QUERIED: u8 = b'w';

const HEAD_KEY: &str = "query_log";
const WHO_KEY: &str = "who_queried";

/// What kind of query an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// One subject by code.
    Single,
    /// A search by name or code.
    Search,
    /// A bulk lookup (Art. 20 ¶3).
    Bulk,
    /// A listing of who queried a subject.
    WhoQueried,
    /// A further part of a large bulk lookup. A request is logged in parts of at most
    /// [`LOG_BLOCK_LINES`](crate::query::bulk::LOG_BLOCK_LINES) input lines, each part one
    /// entry with the codes asked, the records returned and the counts of its lines, so memory
    /// stays bounded however long the input. The first part is the entry of kind `Bulk`;
    /// `request` is its seq and `part` counts the later ones from 1.
    BulkPart {
        /// The seq of the request's first entry.
        request: u64,
        /// This part's number (the first entry is part 0).
        part: u32,
    },
}

impl QueryKind {
    /// The name in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryKind::Single => "single",
            QueryKind::Search => "search",
            QueryKind::Bulk => "bulk",
            QueryKind::WhoQueried => "who_queried",
            QueryKind::BulkPart { .. } => "bulk_part",
        }
    }
}

/// How a query ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Answered (possibly with records withheld).
    Answered,
    /// Refused, and why.
    Refused(Refusal),
}

/// One query.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryLogEntry {
    /// Its sequence number.
    pub seq: u64,
    /// When it was logged (Unix milliseconds).
    pub at_unix_ms: i64,
    /// The day the query was judged as of.
    pub on: Date,
    /// Single, search, bulk, who-queried.
    pub kind: QueryKind,
    /// `public`, `subject`, `grantee`, `government`, `agency` or `staff`.
    pub role: String,
    /// The registered requester, if any.
    pub requester: Option<String>,
    /// The operator's name (Art. 19).
    pub operator: Option<String>,
    /// The stated purpose (Art. 19).
    pub purpose: Option<String>,
    /// A government body's matter type.
    pub matter: Option<String>,
    /// The authorisation presented, if any.
    pub authorisation: Option<u64>,
    /// The subject's reference to its identity proof, when the subject asked.
    pub identity_proof: Option<String>,
    /// The subjects asked about (for a search: those returned), in request order.
    pub subjects: Vec<SubjectCode>,
    /// The record ids returned.
    pub returned: Vec<u64>,
    /// A search's text.
    pub text: Option<String>,
    /// Answered or refused.
    pub outcome: Outcome,
    /// Counts for bulk lookups (`asked`, `found`, `not_found`, `invalid`, `refused`).
    pub counts: Option<BulkCounts>,
    /// SHA-256 of the previous entry's stored bytes (zero for the first).
    pub prev_hash: [u8; 32],
}

// NOTE: by hand: the entry is personal data; debug output shows its shape, not its subjects.
impl std::fmt::Debug for QueryLogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryLogEntry")
            .field("seq", &self.seq)
            .field("kind", &self.kind)
            .field("role", &self.role)
            .field("requester", &self.requester)
            .field("subjects", &self.subjects.len())
            .field("returned", &self.returned.len())
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// A bulk lookup's line counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkCounts {
    /// Input lines.
    pub asked: u64,
    /// Found subjects.
    pub found: u64,
    /// Valid codes with no subject.
    pub not_found: u64,
    /// Lines that are not valid codes.
    pub invalid: u64,
    /// Lines refused (a bad authorisation on the line).
    pub refused: u64,
}

/// The log's head: the next sequence and the newest entry's hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryLogHead {
    /// The next sequence number (= number of entries).
    pub next_seq: u64,
    /// SHA-256 of the newest entry's stored bytes (zero before the first).
    pub head: [u8; 32],
}

/// The head (zero for a new store).
pub fn head(tree: &sled::Tree) -> Result<QueryLogHead> {
    Ok(super::kv::get(tree, &keys::meta(HEAD_KEY), "meta")?.unwrap_or_default())
}

/// Appends `entry` after `head` in one atomic batch (entry and new head); returns the new head.
/// The caller serialises appends.
pub fn append(
    tree: &sled::Tree,
    head: QueryLogHead,
    entry: &mut QueryLogEntry,
) -> Result<QueryLogHead> {
    entry.seq = head.next_seq;
    entry.prev_hash = head.head;
    let bytes = codec::encode(entry);
    let new_head = QueryLogHead {
        next_seq: head.next_seq + 1,
        head: Sha256::digest(&bytes).into(),
    };
    let mut batch = sled::Batch::default();
    batch.insert(&keys::sequenced(QUERY_LOG, entry.seq), bytes);
    batch.insert(keys::meta(HEAD_KEY), codec::encode(&new_head));
    tree.apply_batch(batch)?;
    Ok(new_head)
}

/// Every entry's key and stored bytes, in key order (for verification).
pub fn raw(tree: &sled::Tree) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec)>> + '_ {
    tree.scan_prefix([QUERY_LOG]).map(|item| Ok(item?))
}

/// Entry `seq`.
pub fn get(tree: &sled::Tree, seq: u64) -> Result<Option<QueryLogEntry>> {
    super::kv::get(tree, &keys::sequenced(QUERY_LOG, seq), "query_log")
}

/// Entries from `from` on, in order.
pub fn since(tree: &sled::Tree, from: u64) -> impl Iterator<Item = Result<QueryLogEntry>> + '_ {
    tree.range(keys::sequenced(QUERY_LOG, from)..=keys::sequenced(QUERY_LOG, u64::MAX))
        .map(|item| {
            let (k, v) = item?;
            codec::decode(&v, "query_log", &k)
        })
}

fn who_key(code: &SubjectCode, seq: u64) -> [u8; 27] {
    let mut k = [0u8; 27];
    k[0] = WHO_QUERIED;
    k[1..19].copy_from_slice(code.as_bytes());
    k[19..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Brings the who-queried index up to the log's end. The caller serialises calls.
pub fn catch_up_who_queried(tree: &sled::Tree) -> Result<()> {
    let key = keys::meta(WHO_KEY);
    let mut next: u64 = super::kv::get(tree, &key, "meta")?.unwrap_or(0);
    let mut batch = sled::Batch::default();
    let mut pending = 0usize;
    for entry in since(tree, next) {
        let entry = entry?;
        for code in &entry.subjects {
            batch.insert(&who_key(code, entry.seq), &[]);
            pending += 1;
        }
        next = entry.seq + 1;
        if pending >= 50_000 {
            batch.insert(key.clone(), codec::encode(&next));
            tree.apply_batch(std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    batch.insert(key, codec::encode(&next));
    tree.apply_batch(batch)?;
    Ok(())
}

/// The sequence numbers of the entries that asked about `code`, oldest first (after a catch-up).
pub fn who_queried<'a>(
    tree: &'a sled::Tree,
    code: &SubjectCode,
) -> impl Iterator<Item = Result<u64>> + 'a {
    let mut prefix = [0u8; 19];
    prefix[0] = WHO_QUERIED;
    prefix[1..].copy_from_slice(code.as_bytes());
    tree.scan_prefix(prefix).map(|item| {
        let (k, _) = item?;
        let seq: Option<[u8; 8]> = k.get(19..27).and_then(|b| b.try_into().ok());
        seq.map(u64::from_be_bytes)
            .ok_or_else(|| crate::Error::Corrupt {
                tree: "who_queried",
                key: keys::describe(&k),
                reason: "bad key".to_string(),
            })
    })
}

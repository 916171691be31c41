//! Registry keyspaces: registered requesters, subjects' authorisations, and record marks.
//!
//! ```text
//! 'r' ++ requester id (UTF-8)  -> Requester (codec v1)
//! 'a' ++ id[u64 BE]            -> Authorisation (codec v1)
//! 'm' ++ code[18]              -> Vec<RecordMark> (codec v1), only for subjects with marks
//! 0x00 ++ "registry"           -> RegistryCounters (codec v1)
//! ```
//! Requesters and authorisations are never deleted (the query log refers to them): requesters
//! are deactivated, authorisations revoked.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::error::Result;
use crate::query::model::{Authorisation, Requester};
use serde::{Deserialize, Serialize};

/// Keyspace tag of requesters.
pub const REQUESTERS: u8 = b'r';
/// Keyspace tag of authorisations.
pub const AUTHORISATIONS: u8 = b'a';
/// Keyspace tag of record marks.
pub const MARKS: u8 = b'm';

const COUNTERS_KEY: &str = "registry";

/// The registry's id counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCounters {
    /// The next authorisation id (ids start at 1).
    pub next_authorisation_id: u64,
}

/// A record's query-time state set by the objection process (Art. 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMark {
    /// The record.
    pub record_id: u64,
    /// An objection is open, or closed with the subject still disagreeing: shown with a mark.
    pub objection: bool,
    /// Suspended from social queries (the provider missed its deadline).
    pub suspended: bool,
    /// Since when the mark applies.
    pub since: Date,
}

fn requester_key(id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(REQUESTERS);
    k.extend_from_slice(id.as_bytes());
    k
}

fn marks_key(code: &SubjectCode) -> [u8; 19] {
    let mut k = keys::subject(code);
    k[0] = MARKS;
    k
}

/// A requester by id.
pub fn requester(tree: &sled::Tree, id: &str) -> Result<Option<Requester>> {
    super::kv::get(tree, &requester_key(id), "requesters")
}

/// Writes a requester (new or updated).
pub fn put_requester(batch: &mut sled::Batch, requester: &Requester) {
    batch.insert(requester_key(&requester.id), codec::encode(requester));
}

/// Every requester, by id.
pub fn requesters(tree: &sled::Tree) -> impl Iterator<Item = Result<Requester>> + '_ {
    super::kv::scan(tree, REQUESTERS, "requesters")
}

/// An authorisation by id.
pub fn authorisation(tree: &sled::Tree, id: u64) -> Result<Option<Authorisation>> {
    super::kv::get(tree, &keys::sequenced(AUTHORISATIONS, id), "authorisations")
}

/// Writes an authorisation (new or updated).
pub fn put_authorisation(batch: &mut sled::Batch, a: &Authorisation) {
    batch.insert(&keys::sequenced(AUTHORISATIONS, a.id), codec::encode(a));
}

/// Every authorisation, by id.
pub fn authorisations(tree: &sled::Tree) -> impl Iterator<Item = Result<Authorisation>> + '_ {
    super::kv::scan(tree, AUTHORISATIONS, "authorisations")
}

/// The registry counters (zero for a new store).
pub fn counters(tree: &sled::Tree) -> Result<RegistryCounters> {
    Ok(super::kv::get(tree, &keys::meta(COUNTERS_KEY), "meta")?.unwrap_or_default())
}

/// Adds the registry counters to a batch.
pub fn put_counters(batch: &mut sled::Batch, c: &RegistryCounters) {
    batch.insert(keys::meta(COUNTERS_KEY), codec::encode(c));
}

/// A subject's record marks (empty when it has none).
pub fn marks(tree: &sled::Tree, code: &SubjectCode) -> Result<Vec<RecordMark>> {
    Ok(super::kv::get(tree, &marks_key(code), "marks")?.unwrap_or_default())
}

/// Replaces a subject's record marks; none removes the key.
pub fn put_marks(batch: &mut sled::Batch, code: &SubjectCode, marks: &[RecordMark]) {
    let key = marks_key(code);
    if marks.is_empty() {
        batch.remove(&key);
    } else {
        batch.insert(&key, codec::encode(&marks));
    }
}

/// The codes of every subject with marks.
pub fn marked_subjects(tree: &sled::Tree) -> impl Iterator<Item = Result<SubjectCode>> + '_ {
    tree.scan_prefix([MARKS]).map(|item| {
        let (k, _) = item?;
        SubjectCode::from_stored(&k[1..]).ok_or_else(|| crate::Error::Corrupt {
            tree: "marks",
            key: keys::describe(&k),
            reason: "key does not hold a code".to_string(),
        })
    })
}

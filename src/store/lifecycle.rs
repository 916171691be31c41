//! Lifecycle keyspaces (issue 5): objections and the notification outbox.
//!
//! ```text
//! 'o' ++ id[u64 BE]   -> Objection (codec v1)
//! 'n' ++ seq[u64 BE]  -> Notification (codec v1)
//! 0x00 ++ "lifecycle" -> LifecycleCounters (codec v1)
//! ```
//! An objection is written in the same batch as the record marks and notifications its
//! transition requires, so a crash never leaves a mark without its objection or the reverse.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::objection::Objection;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Keyspace tag of objections.
pub const OBJECTIONS: u8 = b'o';
/// Keyspace tag of the notification outbox.
pub const NOTIFICATIONS: u8 = b'n';

const COUNTERS_KEY: &str = "lifecycle";

/// Id counters of the lifecycle keyspaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleCounters {
    /// The next objection id (from 1).
    pub next_objection_id: u64,
    /// The next notification sequence number.
    pub next_notification_seq: u64,
    /// The next deletion request id (from 1).
    pub next_deletion_id: u64,
}

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The subject.
    Subject(SubjectCode),
    /// A provider, by its registered code.
    Provider(String),
}

/// A message the platform owes a subject or a provider (Art. 27 ¶2, 29).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its sequence number.
    pub seq: u64,
    /// When it was created.
    pub on: Date,
    /// Who it is for.
    pub to: Recipient,
    /// The objection it concerns, if any.
    pub objection: Option<u64>,
    /// The record it concerns.
    pub record_id: u64,
    /// What it says.
    pub message: String,
    /// When it was acknowledged as sent.
    pub acked_on: Option<Date>,
}

/// The counters (zero for a new store).
pub fn counters(tree: &sled::Tree) -> Result<LifecycleCounters> {
    Ok(super::kv::get(tree, &keys::meta(COUNTERS_KEY), "meta")?.unwrap_or_default())
}

/// Adds the counters to a batch.
pub fn put_counters(batch: &mut sled::Batch, c: &LifecycleCounters) {
    batch.insert(keys::meta(COUNTERS_KEY), codec::encode(c));
}

/// An objection by id.
pub fn objection(tree: &sled::Tree, id: u64) -> Result<Option<Objection>> {
    super::kv::get(tree, &keys::sequenced(OBJECTIONS, id), "objections")
}

/// Adds an objection to a batch.
pub fn put_objection(batch: &mut sled::Batch, o: &Objection) {
    batch.insert(&keys::sequenced(OBJECTIONS, o.id), codec::encode(o));
}

/// Every objection, by id.
pub fn objections(tree: &sled::Tree) -> impl Iterator<Item = Result<Objection>> + '_ {
    super::kv::scan(tree, OBJECTIONS, "objections")
}

/// Adds a notification to a batch.
pub fn put_notification(batch: &mut sled::Batch, n: &Notification) {
    batch.insert(&keys::sequenced(NOTIFICATIONS, n.seq), codec::encode(n));
}

/// A notification by sequence number.
pub fn notification(tree: &sled::Tree, seq: u64) -> Result<Option<Notification>> {
    super::kv::get(tree, &keys::sequenced(NOTIFICATIONS, seq), "notifications")
}

/// Every notification, oldest first.
pub fn notifications(tree: &sled::Tree) -> impl Iterator<Item = Result<Notification>> + '_ {
    super::kv::scan(tree, NOTIFICATIONS, "notifications")
}

/// Keyspace tag of deletion requests.
pub const DELETIONS: u8 = b'd';
/// Keyspace tag of tombstones (records deleted on request).
pub const TOMBSTONES: u8 = b't';

/// A subject's request to delete records (Art. 27 ¶2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionRequest {
    /// Its id.
    pub id: u64,
    /// The subject.
    pub subject: SubjectCode,
    /// The day it was received.
    pub received_on: Date,
    /// The day the deletion is due (the policy's working days after receipt).
    pub due_on: Date,
    /// The records to delete (those the request may delete).
    pub records: Vec<u64>,
    /// Records named in the request that may not be deleted on request, with the reason.
    pub refused: Vec<(u64, String)>,
    /// When the deletion was carried out.
    pub done_on: Option<Date>,
}

/// What remains of a record deleted on request: enough to refuse its resubmission and to answer
/// for the deletion, none of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The record's id.
    pub record_id: u64,
    /// Its provider.
    pub provider: String,
    /// The provider's id for it.
    pub provider_record_id: String,
    /// Its catalog item.
    pub item: String,
    /// When it was deleted.
    pub deleted_on: Date,
    /// The request that deleted it.
    pub request: u64,
}

fn tombstones_key(code: &SubjectCode) -> [u8; 19] {
    let mut k = keys::subject(code);
    k[0] = TOMBSTONES;
    k
}

/// A deletion request by id.
pub fn deletion(tree: &sled::Tree, id: u64) -> Result<Option<DeletionRequest>> {
    super::kv::get(tree, &keys::sequenced(DELETIONS, id), "deletions")
}

/// Adds a deletion request to a batch.
pub fn put_deletion(batch: &mut sled::Batch, d: &DeletionRequest) {
    batch.insert(&keys::sequenced(DELETIONS, d.id), codec::encode(d));
}

/// Every deletion request, by id.
pub fn deletions(tree: &sled::Tree) -> impl Iterator<Item = Result<DeletionRequest>> + '_ {
    super::kv::scan(tree, DELETIONS, "deletions")
}

/// A subject's tombstones (empty when it has none).
pub fn tombstones(tree: &sled::Tree, code: &SubjectCode) -> Result<Vec<Tombstone>> {
    Ok(super::kv::get(tree, &tombstones_key(code), "tombstones")?.unwrap_or_default())
}

/// Replaces a subject's tombstones in a batch.
pub fn put_tombstones(batch: &mut sled::Batch, code: &SubjectCode, t: &[Tombstone]) {
    batch.insert(&tombstones_key(code), codec::encode(&t));
}

/// The codes of every subject with tombstones.
pub fn tombstoned_subjects(tree: &sled::Tree) -> impl Iterator<Item = Result<SubjectCode>> + '_ {
    tree.scan_prefix([TOMBSTONES]).map(|item| {
        let (k, _) = item?;
        SubjectCode::from_stored(&k[1..]).ok_or_else(|| crate::Error::Corrupt {
            tree: "tombstones",
            key: keys::describe(&k),
            reason: "key does not hold a code".to_string(),
        })
    })
}

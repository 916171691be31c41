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
    let key = keys::meta(COUNTERS_KEY);
    match tree.get(&key)? {
        Some(v) => codec::decode(&v, "meta", &key),
        None => Ok(LifecycleCounters::default()),
    }
}

/// Adds the counters to a batch.
pub fn put_counters(batch: &mut sled::Batch, c: &LifecycleCounters) {
    batch.insert(keys::meta(COUNTERS_KEY), codec::encode(c));
}

/// An objection by id.
pub fn objection(tree: &sled::Tree, id: u64) -> Result<Option<Objection>> {
    let key = keys::sequenced(OBJECTIONS, id);
    tree.get(key)?
        .map(|v| codec::decode(&v, "objections", &key))
        .transpose()
}

/// Adds an objection to a batch.
pub fn put_objection(batch: &mut sled::Batch, o: &Objection) {
    batch.insert(&keys::sequenced(OBJECTIONS, o.id), codec::encode(o));
}

/// Every objection, by id.
pub fn objections(tree: &sled::Tree) -> impl Iterator<Item = Result<Objection>> + '_ {
    tree.scan_prefix([OBJECTIONS]).map(|item| {
        let (k, v) = item?;
        codec::decode(&v, "objections", &k)
    })
}

/// Adds a notification to a batch.
pub fn put_notification(batch: &mut sled::Batch, n: &Notification) {
    batch.insert(&keys::sequenced(NOTIFICATIONS, n.seq), codec::encode(n));
}

/// A notification by sequence number.
pub fn notification(tree: &sled::Tree, seq: u64) -> Result<Option<Notification>> {
    let key = keys::sequenced(NOTIFICATIONS, seq);
    tree.get(key)?
        .map(|v| codec::decode(&v, "notifications", &key))
        .transpose()
}

/// Every notification, oldest first.
pub fn notifications(tree: &sled::Tree) -> impl Iterator<Item = Result<Notification>> + '_ {
    tree.scan_prefix([NOTIFICATIONS]).map(|item| {
        let (k, v) = item?;
        codec::decode(&v, "notifications", &k)
    })
}

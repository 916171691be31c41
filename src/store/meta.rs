//! Meta keyspace: the store's format version and its counters.
//!
//! ```text
//! 0x00 ++ "format"   -> u32 BE (raw, no codec: readable by any future version)
//! 0x00 ++ "counters" -> Counters (codec v1)
//! ```
//! The counters are written in the same batch as the data they count, so after a crash they
//! agree with what is stored.

use super::keys;
use crate::codec;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The storage format this build writes and reads (see FORMAT.md).
pub const FORMAT_VERSION: u32 = 1;

const FORMAT_KEY: &str = "format";
const COUNTERS_KEY: &str = "counters";

/// Monotonic counters; every id and sequence number comes from here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// The next record id to assign.
    pub next_record_id: u64,
    /// The next subject id to assign.
    pub next_subject_id: u64,
    /// The next change-log sequence number.
    pub next_change_seq: u64,
    /// The next collection-log sequence number.
    pub next_collection_seq: u64,
    /// Hash of the newest collection-log entry (all zero before the first).
    pub collection_head: [u8; 32],
}

/// Checks the format version of an existing store, or writes it into a new (empty) one.
pub fn check_or_init(tree: &sled::Tree) -> Result<()> {
    let key = keys::meta(FORMAT_KEY);
    match tree.get(&key)? {
        Some(v) => {
            let bytes: [u8; 4] = v.as_ref().try_into().map_err(|_| Error::Corrupt {
                tree: "meta",
                key: keys::describe(&key),
                reason: format!("format version has {} bytes, expected 4", v.len()),
            })?;
            let found = u32::from_be_bytes(bytes);
            if found != FORMAT_VERSION {
                return Err(Error::FormatVersion {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            Ok(())
        }
        None => {
            if let Some((k, _)) = tree.first()? {
                return Err(Error::Corrupt {
                    tree: "meta",
                    key: keys::describe(&k),
                    reason: "store has data but no format version".to_string(),
                });
            }
            tree.insert(key, &FORMAT_VERSION.to_be_bytes())?;
            Ok(())
        }
    }
}

/// Reads the counters (zero for a new store).
pub fn load_counters(tree: &sled::Tree) -> Result<Counters> {
    Ok(super::kv::get(tree, &keys::meta(COUNTERS_KEY), "meta")?.unwrap_or_default())
}

/// Adds the counters to a batch.
pub fn put_counters(batch: &mut sled::Batch, counters: &Counters) {
    batch.insert(keys::meta(COUNTERS_KEY), codec::encode(counters));
}

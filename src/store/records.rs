//! Records keyspace: per-subject record columns.
//!
//! ```text
//! 'r' ++ code[18 ASCII] ++ category[1] -> Vec<Record> (codec v1), by record id
//! ```
//! A subject's records are one key prefix; inside it each category (1 basic, 2 dishonesty,
//! 3 other) is one value holding every record of that category with all its versions. Reading a
//! subject is one short prefix scan of at most three values; appending a record rewrites one
//! column. Few, larger values keep sled's per-key overhead (memory, disk, write amplification)
//! off the hot paths; see BENCHMARKS.md for the layout measurements behind this choice.
//!
//! **Invariant:** a record is never removed from its column and its versions are only appended.

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::record::Record;
use crate::domain::Category;
use crate::error::{Error, Result};

/// Reads one column (empty when the subject has no record of that category).
pub fn get_column(tree: &sled::Tree, code: &SubjectCode, category: Category) -> Result<Vec<Record>> {
    let key = keys::column(code, category);
    match tree.get(key)? {
        Some(v) => decode_column(&key, &v),
        None => Ok(Vec::new()),
    }
}

/// Reads all of a subject's records, in column order.
pub fn get_all(tree: &sled::Tree, code: &SubjectCode) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for item in tree.scan_prefix(keys::columns_of(code)) {
        let (k, v) = item?;
        out.extend(decode_column(&k, &v)?);
    }
    Ok(out)
}

/// Decodes a column value and checks its invariants.
pub fn decode_column(key: &[u8], value: &[u8]) -> Result<Vec<Record>> {
    let records: Vec<Record> = codec::decode(value, "records", key)?;
    let expected = key.get(19).copied().and_then(Category::from_tag);
    for r in &records {
        if r.versions.is_empty() || Some(r.category) != expected {
            return Err(Error::Corrupt {
                tree: "records",
                key: keys::describe(key),
                reason: format!(
                    "record {} has no version or the wrong category",
                    r.record_id.0
                ),
            });
        }
    }
    Ok(records)
}

/// Adds a column to a batch.
pub fn put_column(
    batch: &mut sled::Batch,
    code: &SubjectCode,
    category: Category,
    records: &[Record],
) {
    batch.insert(&keys::column(code, category), codec::encode(&records));
}

/// Every column in the store, as raw key and value (for scans that decode in parallel).
pub fn scan_raw(tree: &sled::Tree) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec)>> + '_ {
    tree.scan_prefix([keys::RECORDS])
        .map(|item| item.map_err(Error::from))
}

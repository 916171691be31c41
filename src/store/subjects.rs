//! Subjects keyspace: one entry per person or organisation.
//!
//! ```text
//! 's' ++ code[18 ASCII] -> Subject (codec v1)
//! ```

use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::record::Subject;
use crate::error::Result;

/// Reads one subject.
pub fn get(tree: &sled::Tree, code: &SubjectCode) -> Result<Option<Subject>> {
    let key = keys::subject(code);
    tree.get(key)?
        .map(|v| codec::decode(&v, "subjects", &key))
        .transpose()
}

/// Adds a subject to a batch.
pub fn put(batch: &mut sled::Batch, subject: &Subject) {
    batch.insert(&keys::subject(&subject.code), codec::encode(subject));
}

/// Every subject, in code order.
pub fn scan(tree: &sled::Tree) -> impl Iterator<Item = Result<Subject>> + '_ {
    tree.scan_prefix([keys::SUBJECTS]).map(|item| {
        let (k, v) = item?;
        codec::decode(&v, "subjects", &k)
    })
}

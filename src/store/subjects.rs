//! Subjects keyspace: one value per subject, holding its header and its three record columns.
//!
//! ```text
//! 's' ++ code[18 ASCII] -> [0x01]
//!                          ++ u32 BE len ++ Subject            (bincode)
//!                          ++ u32 BE len ++ Vec<Record> basic      (bincode)
//!                          ++ u32 BE len ++ Vec<Record> dishonesty (bincode)
//!                          ++ u32 BE len ++ Vec<Record> other      (bincode)
//! ```
//! All of a subject's records sit under one key; inside the value each category is one
//! contiguous, separately decodable column, records in id order with all their versions.
//!
//! Why one key and not one per column or per record: sled's cost is per operation, and on this
//! machine it tops out at roughly 50,000-75,000 batched inserts a second whatever the value size
//! (BENCHMARKS.md, "Layout"). One key per subject makes reading a subject one `get`, and writing
//! it one insert however many of its records a chunk touches.
//!
//! **Invariant:** a record is never removed from its column and its versions are only appended.

use super::dictionaries::Dictionaries;
use super::keys;
use crate::codec;
use crate::domain::code::SubjectCode;
use crate::domain::record::{Record, Subject};
use crate::domain::Category;
use crate::error::{Error, Result};

/// A subject with its three record columns (indexed by `Category as usize - 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectEntry {
    /// The subject.
    pub subject: Subject,
    /// Basic, dishonesty and other records, each in record-id order.
    pub columns: [Vec<Record>; 3],
}

impl SubjectEntry {
    /// A new subject with no records.
    pub fn new(subject: Subject) -> Self {
        SubjectEntry {
            subject,
            columns: [Vec::new(), Vec::new(), Vec::new()],
        }
    }

    /// The column of a category.
    pub fn column(&self, category: Category) -> &[Record] {
        &self.columns[column_index(category)]
    }

    /// The column of a category, to append to.
    pub fn column_mut(&mut self, category: Category) -> &mut Vec<Record> {
        &mut self.columns[column_index(category)]
    }

    /// Every record, in column order.
    pub fn into_records(self) -> Vec<Record> {
        self.columns.into_iter().flatten().collect()
    }
}

fn column_index(category: Category) -> usize {
    usize::from(category.tag()) - 1
}

/// Reads one subject with its records.
pub fn get(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    code: &SubjectCode,
) -> Result<Option<SubjectEntry>> {
    let key = keys::subject(code);
    tree.get(key)?.map(|v| decode(&key, &v, dicts)).transpose()
}

/// Reads only a subject's header (its records are not decoded).
pub fn get_header(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    code: &SubjectCode,
) -> Result<Option<Subject>> {
    let key = keys::subject(code);
    let Some(value) = tree.get(key)? else {
        return Ok(None);
    };
    let value = codec::plain(&value, |id| dicts.get(id), "subjects", &key)?;
    let [header, ..] = codec::unframe::<4>(&value, "subjects", &key)?;
    codec::decode_body(header, "subjects", &key).map(Some)
}

/// Every subject's header, in code order, handed to `f` in batches of up to `batch`: one scan of
/// the keyspace (no lookup per subject), each batch decompressed and decoded in parallel.
pub fn header_batches(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    batch: usize,
    mut f: impl FnMut(Vec<Subject>) -> Result<()>,
) -> Result<()> {
    use rayon::prelude::*;
    let decode_all = |raw: &[(sled::IVec, sled::IVec)]| -> Result<Vec<Subject>> {
        raw.par_iter()
            .map(|(key, value)| {
                let value = codec::plain(value, |id| dicts.get(id), "subjects", key)?;
                let [header, ..] = codec::unframe::<4>(&value, "subjects", key)?;
                codec::decode_body(header, "subjects", key)
            })
            .collect()
    };
    let mut raw = Vec::with_capacity(batch);
    for item in tree.scan_prefix([keys::SUBJECTS]) {
        raw.push(item?);
        if raw.len() == batch {
            f(decode_all(&raw)?)?;
            raw.clear();
        }
    }
    if !raw.is_empty() {
        f(decode_all(&raw)?)?;
    }
    Ok(())
}

/// Every subject's code, in code order.
pub fn codes(tree: &sled::Tree) -> impl Iterator<Item = Result<SubjectCode>> + '_ {
    tree.scan_prefix([keys::SUBJECTS]).map(|item| {
        let (k, _) = item?;
        SubjectCode::from_stored(&k[1..]).ok_or_else(|| Error::Corrupt {
            tree: "subjects",
            key: keys::describe(&k),
            reason: "the key is not a subject code".to_string(),
        })
    })
}

/// The plain (uncompressed) value of a subject; the writer compresses it.
pub fn encode_plain(entry: &SubjectEntry) -> Vec<u8> {
    let header = codec::encode_body(&entry.subject);
    let columns = entry.columns.each_ref().map(codec::encode_body);
    codec::frame(&[&header, &columns[0], &columns[1], &columns[2]])
}

/// Decodes a stored subject (compressed or not) and checks its invariants.
pub fn decode(key: &[u8], value: &[u8], dicts: &Dictionaries) -> Result<SubjectEntry> {
    let value = codec::plain(value, |id| dicts.get(id), "subjects", key)?;
    let [header, basic, dishonesty, other] = codec::unframe::<4>(&value, "subjects", key)?;
    let subject: Subject = codec::decode_body(header, "subjects", key)?;
    let mut columns: [Vec<Record>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (i, (bytes, category)) in [basic, dishonesty, other]
        .into_iter()
        .zip(Category::ALL)
        .enumerate()
    {
        let records: Vec<Record> = codec::decode_body(bytes, "subjects", key)?;
        if let Some(bad) = records
            .iter()
            .find(|r| r.versions.is_empty() || r.category != category)
        {
            return Err(Error::Corrupt {
                tree: "subjects",
                key: keys::describe(key),
                reason: format!(
                    "record {} has no version or the wrong category",
                    bad.record_id.0
                ),
            });
        }
        columns[i] = records;
    }
    if key.get(1..) != Some(subject.code.as_bytes().as_slice()) {
        return Err(Error::Corrupt {
            tree: "subjects",
            key: keys::describe(key),
            reason: "the value is another subject's".to_string(),
        });
    }
    Ok(SubjectEntry { subject, columns })
}

/// Every subject with its records, in code order.
pub fn scan<'a>(
    tree: &'a sled::Tree,
    dicts: &'a Dictionaries,
) -> impl Iterator<Item = Result<SubjectEntry>> + 'a {
    tree.scan_prefix([keys::SUBJECTS]).map(move |item| {
        let (k, v) = item?;
        decode(&k, &v, dicts)
    })
}

/// A record as stored, decoded without copying its text: every field is parsed (and checked)
/// and strings borrow from the value. Field for field the wire layout of
/// [`Record`](crate::domain::record::Record), which a test keeps in step. For scans that read
/// every record (the verification sweep), where allocating each string would dominate.
#[derive(Debug, serde::Deserialize)]
pub struct RecordView<'a> {
    /// The store's id.
    pub record_id: u64,
    /// Its category.
    pub category: Category,
    /// The provider.
    pub provider: &'a str,
    /// The provider's id for it.
    pub provider_record_id: &'a str,
    /// Every version, oldest first.
    #[serde(borrow)]
    pub versions: Vec<VersionView<'a>>,
}

/// A [`Version`](crate::domain::record::Version), borrowed.
#[derive(Debug, serde::Deserialize)]
pub struct VersionView<'a> {
    /// Its number.
    pub version: u32,
    /// When collected.
    pub collected_on: crate::domain::date::Date,
    /// Its collection-log entry.
    pub collection_seq: u64,
    /// Its content.
    #[serde(borrow)]
    pub content: ContentView<'a>,
}

/// A [`RecordContent`](crate::domain::record::RecordContent), borrowed.
#[allow(missing_docs)]
#[derive(Debug, serde::Deserialize)]
pub struct ContentView<'a> {
    pub subject_name: &'a str,
    pub item: &'a str,
    pub occurred_on: crate::domain::date::Date,
    pub decided_on: Option<crate::domain::date::Date>,
    pub ended_on: Option<crate::domain::date::Date>,
    pub reminded_on: Option<crate::domain::date::Date>,
    pub disclosure: crate::domain::Disclosure,
    pub grade: Option<crate::domain::Grade>,
    pub title: Option<&'a str>,
    pub document_no: Option<&'a str>,
    pub violation_type: Option<&'a str>,
    pub facts: Option<&'a str>,
    pub legal_basis: Option<&'a str>,
    pub penalty_type: Option<&'a str>,
    pub penalty_content: Option<&'a str>,
    pub amount_fen: Option<i64>,
    pub authority: Option<&'a str>,
    pub authority_code: Option<&'a str>,
    #[serde(borrow)]
    pub attributes: Vec<(&'a str, &'a str)>,
}

/// Key ranges that split the subjects keyspace for parallel scans: one per pair of leading
/// code characters (codes are 18 of `0-9A-Z`), plus one for anything else.
pub fn key_ranges() -> Vec<(Vec<u8>, Vec<u8>)> {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bounds = vec![vec![keys::SUBJECTS]];
    for &a in CHARS {
        for &b in CHARS {
            bounds.push(vec![keys::SUBJECTS, a, b]);
        }
    }
    bounds.push(vec![keys::SUBJECTS + 1]);
    bounds
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect()
}

/// Decodes every subject in `[lo, hi)` as record views and hands each subject's records, all three columns, to `f`.
pub fn scan_views(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    lo: &[u8],
    hi: &[u8],
    mut f: impl FnMut(&[u8], &[RecordView<'_>]),
) -> Result<()> {
    for item in tree.range(lo..hi) {
        let (key, value) = item?;
        let value = codec::plain(&value, |id| dicts.get(id), "subjects", &key)?;
        let [_, basic, dishonesty, other] = codec::unframe::<4>(&value, "subjects", &key)?;
        let mut all: Vec<RecordView<'_>> = Vec::new();
        for column in [basic, dishonesty, other] {
            let part: Vec<RecordView<'_>> = codec::decode_borrowed(column, "subjects", &key)?;
            all.extend(part);
        }
        f(&key, &all);
    }
    Ok(())
}

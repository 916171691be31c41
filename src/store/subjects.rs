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
/// [`Record`], which a test keeps in step. For scans that read
/// every record (the verification sweep), where allocating each string would dominate.
#[derive(Debug, serde::Deserialize)]
pub struct RecordView<'a> {
    /// The store's id.
    pub record_id: u64,
    /// Its category.
    pub category: Category,
    /// The provider.
    #[serde(borrow)]
    pub provider: Text<'a>,
    /// The provider's id for it.
    #[serde(borrow)]
    pub provider_record_id: Text<'a>,
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
    #[serde(borrow)]
    pub subject_name: Text<'a>,
    pub item: &'a str,
    pub occurred_on: crate::domain::date::Date,
    pub decided_on: Option<crate::domain::date::Date>,
    pub ended_on: Option<crate::domain::date::Date>,
    pub reminded_on: Option<crate::domain::date::Date>,
    pub disclosure: crate::domain::Disclosure,
    pub grade: Option<crate::domain::Grade>,
    pub title: Option<Text<'a>>,
    pub document_no: Option<Text<'a>>,
    pub violation_type: Option<Text<'a>>,
    pub facts: Option<Text<'a>>,
    pub legal_basis: Option<Text<'a>>,
    pub penalty_type: Option<Text<'a>>,
    pub penalty_content: Option<Text<'a>>,
    pub amount_fen: Option<i64>,
    pub authority: Option<Text<'a>>,
    pub authority_code: Option<Text<'a>>,
    #[serde(borrow)]
    pub attributes: Vec<(Text<'a>, Text<'a>)>,
}

/// Stored text, borrowed and not yet checked as UTF-8 (every stored string was valid UTF-8
/// when written; a scan that does not read a field's text need not pay for checking it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Text<'a>(#[serde(borrow)] pub &'a [u8]);

impl<'a> Text<'a> {
    /// The text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }
}

/// Subject values handed to a worker at a time by [`par_scan_views`]: about a millisecond of
/// decoding, so the lock on the shared iterator is held for a tenth of the time and the scan's
/// end leaves a thread idle for at most that long.
const SCAN_BATCH: usize = 256;

/// Decodes every subject as record views, in parallel on the current rayon pool, and folds
/// each subject's records (all three columns) into per-worker states with `f`; the states are
/// then combined with `merge`. Subjects reach `f` in no particular order.
///
/// One sled iterator over the whole keyspace is shared: a worker takes the next
/// [`SCAN_BATCH`] values under a lock (sled hands them out as reference-counted buffers, no
/// copy), then decompresses and decodes them on its own.
///
/// NOTE: not one range per leading pair of code characters, as before: subject codes are far
/// from uniform (every Shanghai resident ID starts `31`, most companies' USCC `91`), and one
/// such range held 70% of a generated store's subjects, which capped 2 threads at 1.43× one
/// (BENCHMARKS.md, "Retention"). Taking batches from one iterator balances by construction.
pub fn par_scan_views<T: Send>(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    init: impl Fn() -> T + Sync + Send,
    f: impl Fn(&mut T, &[u8], &[RecordView<'_>]) + Sync + Send,
    merge: impl Fn(T, T) -> T + Sync + Send,
) -> Result<T> {
    use rayon::prelude::*;
    let mut iter = tree.scan_prefix([keys::SUBJECTS]);
    let batches = std::iter::from_fn(move || {
        let mut batch = Vec::with_capacity(SCAN_BATCH);
        for item in iter.by_ref() {
            match item {
                Ok(kv) => batch.push(kv),
                Err(e) => return Some(Err(Error::from(e))),
            }
            if batch.len() == SCAN_BATCH {
                break;
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    });
    batches
        .par_bridge()
        .try_fold(
            || (init(), Vec::new()),
            |(mut state, mut buf), batch: Result<Vec<(sled::IVec, sled::IVec)>>| {
                for (key, value) in batch? {
                    let mut all = Vec::new();
                    decode_scanned(&key, &value, dicts, &mut buf, &mut all)?;
                    f(&mut state, &key, &all);
                }
                Ok((state, buf))
            },
        )
        .map(|folded| folded.map(|(state, _)| state))
        .try_reduce(&init, |a, b| Ok(merge(a, b)))
}

/// Decompresses one subject value into `buf` (reused from value to value) and decodes its
/// records, all three columns, as views into `all`.
#[inline]
fn decode_scanned<'b>(
    key: &[u8],
    value: &'b [u8],
    dicts: &Dictionaries,
    buf: &'b mut Vec<u8>,
    all: &mut Vec<RecordView<'b>>,
) -> Result<()> {
    let value = codec::plain_into(value, |id| dicts.get(id), buf, "subjects", key)?;
    let [_, basic, dishonesty, other] = codec::unframe::<4>(value, "subjects", key)?;
    for column in [basic, dishonesty, other] {
        let part: Vec<RecordView<'b>> = codec::decode_borrowed(column, "subjects", key)?;
        all.extend(part);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::date::Date;
    use crate::domain::record::{RecordContent, RecordId, Version};
    use crate::domain::{Disclosure, Grade};

    fn full_record() -> Record {
        let day = |d: &str| Date::parse(d).unwrap();
        let content = |n: u8| RecordContent {
            subject_name: format!("上海视图{n}有限公司"),
            item: "D-PENALTY".into(),
            occurred_on: day("2024-01-02"),
            decided_on: Some(day("2024-02-03")),
            ended_on: Some(day("2024-03-04")),
            reminded_on: None,
            disclosure: Disclosure::NonPublic,
            grade: Some(Grade::Serious),
            title: Some("标题".into()),
            document_no: Some("沪市监罚〔2024〕1号".into()),
            violation_type: None,
            facts: Some("事实".into()),
            legal_basis: Some("依据".into()),
            penalty_type: Some("罚款".into()),
            penalty_content: Some("罚款五千元".into()),
            amount_fen: Some(500_000),
            authority: Some("上海市市场监督管理局".into()),
            authority_code: Some("11310000MB2F00000X".into()),
            attributes: [
                ("a".to_string(), "1".to_string()),
                ("b".into(), "二".into()),
            ]
            .into(),
        };
        Record {
            record_id: RecordId(77),
            category: Category::Dishonesty,
            provider: "SAMR-SH".into(),
            provider_record_id: "P-1".into(),
            versions: vec![
                Version {
                    version: 1,
                    collected_on: day("2024-05-01"),
                    collection_seq: 3,
                    content: content(1),
                },
                Version {
                    version: 2,
                    collected_on: day("2024-06-01"),
                    collection_seq: 9,
                    content: content(2),
                },
            ],
        }
    }

    /// The borrowed view reads the owned type's bytes field for field (a field added to one and
    /// not the other fails here, not in a scan).
    #[test]
    fn record_view_matches_the_stored_layout() {
        let record = full_record();
        let bytes = codec::encode_body(&vec![record.clone(), record.clone()]);
        let views: Vec<RecordView<'_>> = codec::decode_borrowed(&bytes, "subjects", b"s").unwrap();
        assert_eq!(views.len(), 2);
        let v = &views[1];
        assert_eq!(v.record_id, record.record_id.0);
        assert_eq!(v.category, record.category);
        assert_eq!(v.provider.as_str(), Some("SAMR-SH"));
        assert_eq!(v.provider_record_id.as_str(), Some("P-1"));
        assert_eq!(v.versions.len(), 2);
        for (view, version) in v.versions.iter().zip(&record.versions) {
            let (c, o) = (&view.content, &version.content);
            assert_eq!(
                (view.version, view.collected_on, view.collection_seq),
                (
                    version.version,
                    version.collected_on,
                    version.collection_seq
                )
            );
            assert_eq!(c.subject_name.as_str(), Some(o.subject_name.as_str()));
            assert_eq!(c.item, o.item);
            assert_eq!(
                (c.occurred_on, c.decided_on, c.ended_on, c.reminded_on),
                (o.occurred_on, o.decided_on, o.ended_on, o.reminded_on)
            );
            assert_eq!(
                (c.disclosure, c.grade, c.amount_fen),
                (o.disclosure, o.grade, o.amount_fen)
            );
            let text = |t: &Option<Text<'_>>| t.and_then(|t| t.as_str()).map(str::to_string);
            assert_eq!(text(&c.title), o.title);
            assert_eq!(text(&c.document_no), o.document_no);
            assert_eq!(text(&c.violation_type), o.violation_type);
            assert_eq!(text(&c.facts), o.facts);
            assert_eq!(text(&c.legal_basis), o.legal_basis);
            assert_eq!(text(&c.penalty_type), o.penalty_type);
            assert_eq!(text(&c.penalty_content), o.penalty_content);
            assert_eq!(text(&c.authority), o.authority);
            assert_eq!(text(&c.authority_code), o.authority_code);
            let attributes: Vec<(String, String)> = c
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
                .collect();
            assert_eq!(
                attributes,
                o.attributes.clone().into_iter().collect::<Vec<_>>()
            );
        }
        // A truncated value is a typed error, never a panic.
        let cut = &bytes[..bytes.len() - 3];
        assert!(codec::decode_borrowed::<Vec<RecordView<'_>>>(cut, "subjects", b"s").is_err());
    }
}

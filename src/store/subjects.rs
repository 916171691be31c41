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
use crate::domain::record::{Record, RecordContent, RecordId, Subject, Version};
use crate::domain::{Category, SubjectKind};
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
        self.into_subject_records().records
    }

    /// The subject with every record, in column order (what [`crate::Store::subject`] returns).
    pub fn into_subject_records(self) -> crate::domain::record::SubjectRecords {
        crate::domain::record::SubjectRecords {
            subject: self.subject,
            records: self.columns.into_iter().flatten().collect(),
        }
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
    read_plain(tree, dicts, code, |key, plain| {
        let (subject, views) = decode_views(key, plain)?;
        entry_of(key, subject, &views)
    })
}

/// Reads only a subject's header (its records are not decoded).
pub fn get_header(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    code: &SubjectCode,
) -> Result<Option<Subject>> {
    read_plain(tree, dicts, code, |key, plain| {
        let [header, ..] = codec::unframe::<4>(plain, "subjects", key)?;
        header_of(key, header)
    })
}

/// A subject value's header section, decoded and checked to be the key's subject.
fn header_of(key: &[u8], header: &[u8]) -> Result<Subject> {
    let subject = decode_header(header, key)?;
    check_owner(key, &subject)?;
    Ok(subject)
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
                header_of(key, header)
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

/// Decodes a stored subject value (compressed or not) into its header and owned columns, and
/// checks the invariants (every record has a version and its column's category; the header's
/// code is the key's).
// NOTE: through the hand-written views (the query path's reader) and then copied out, not
// serde's `Vec<Record>`: one reader of the stored layout for every read. From memory the two
// decode at the same speed within this machine's noise (BENCHMARKS.md, "Where the lookup time
// goes", `lookup_parts`).
pub fn decode(key: &[u8], value: &[u8], dicts: &Dictionaries) -> Result<SubjectEntry> {
    let plain = codec::plain(value, |id| dicts.get(id), "subjects", key)?;
    let (subject, views) = decode_views(key, &plain)?;
    entry_of(key, subject, &views)
}

/// A subject's entry from its header and its records' views (in column order, as
/// [`decode_views`] returns them): every record copied out.
fn entry_of(key: &[u8], subject: Subject, views: &[RecordView<'_>]) -> Result<SubjectEntry> {
    let mut entry = SubjectEntry::new(subject);
    for view in views {
        let record = view.to_record().ok_or_else(|| Error::Corrupt {
            tree: "subjects",
            key: keys::describe(key),
            reason: format!("record {} holds text that is not UTF-8", view.record_id),
        })?;
        entry.column_mut(record.category).push(record);
    }
    Ok(entry)
}

/// Checks a decoded column's records (id, versionless, category): every one has a version and
/// the column's category.
fn check_column(
    key: &[u8],
    category: Category,
    mut records: impl Iterator<Item = (u64, bool, Category)>,
) -> Result<()> {
    match records.find(|&(_, versionless, c)| versionless || c != category) {
        None => Ok(()),
        Some((id, ..)) => Err(Error::Corrupt {
            tree: "subjects",
            key: keys::describe(key),
            reason: format!("record {id} has no version or the wrong category"),
        }),
    }
}

/// Checks that a value stored under `key` is that subject's.
fn check_owner(key: &[u8], subject: &Subject) -> Result<()> {
    if key.get(1..) != Some(subject.code.as_bytes().as_slice()) {
        return Err(Error::Corrupt {
            tree: "subjects",
            key: keys::describe(key),
            reason: "the value is another subject's".to_string(),
        });
    }
    Ok(())
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
/// and strings borrow from the value. Field for field the wire layout of [`Record`], read by
/// hand ([`decode_column`]; tests keep the two in step). For the paths that read many records
/// (queries, the verification sweep), where allocating each string would dominate.
#[derive(Debug)]
pub struct RecordView<'a> {
    /// The store's id.
    pub record_id: u64,
    /// Its category.
    pub category: Category,
    /// The provider.
    pub provider: Text<'a>,
    /// The provider's id for it.
    pub provider_record_id: Text<'a>,
    /// Every version, oldest first.
    pub versions: Vec<VersionView<'a>>,
}

/// A [`Version`], borrowed.
#[derive(Debug)]
pub struct VersionView<'a> {
    /// Its number.
    pub version: u32,
    /// When collected.
    pub collected_on: crate::domain::date::Date,
    /// Its collection-log entry.
    pub collection_seq: u64,
    /// Its content.
    pub content: ContentView<'a>,
}

/// A [`RecordContent`], borrowed.
#[allow(missing_docs)]
#[derive(Debug)]
pub struct ContentView<'a> {
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
    pub attributes: Vec<(Text<'a>, Text<'a>)>,
}

/// Stored text, borrowed and not yet checked as UTF-8 (every stored string was valid UTF-8
/// when written; a scan that does not read a field's text need not pay for checking it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<'a>(pub &'a [u8]);

impl<'a> Text<'a> {
    /// The text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }

    /// The text copied out, if it is UTF-8.
    pub fn to_owned_str(&self) -> Option<String> {
        self.as_str().map(str::to_string)
    }
}

/// Decodes one column (a sequence of records, as [`codec::encode_body`] wrote a
/// `Vec<Record>`) as views appended to `out`. `key` names the value in the error.
pub fn decode_column<'a>(
    column: &'a [u8],
    key: &[u8],
    out: &mut Vec<RecordView<'a>>,
) -> Result<()> {
    let mut w = codec::Wire::new(column);
    let read = |w: &mut codec::Wire<'a>, out: &mut Vec<RecordView<'a>>| -> Option<()> {
        for _ in 0..w.seq_len()? {
            out.push(read_record(w)?);
        }
        Some(())
    };
    let before = out.len();
    match read(&mut w, out) {
        Some(()) if w.is_done() => Ok(()),
        found => {
            out.truncate(before);
            Err(Error::Corrupt {
                tree: "subjects",
                key: keys::describe(key),
                reason: match found {
                    Some(()) => "trailing bytes after a column".to_string(),
                    None => "an undecodable record".to_string(),
                },
            })
        }
    }
}

/// Decodes a subject's header section (a [`Subject`]) by hand, as [`decode_column`] does its
/// records (the query path reads one per line asked).
fn decode_header(header: &[u8], key: &[u8]) -> Result<Subject> {
    let read = |w: &mut codec::Wire<'_>| -> Option<Subject> {
        let subject = Subject {
            code: SubjectCode::from_stored(w.str()?.as_bytes())?,
            kind: match w.u32()? {
                0 => SubjectKind::NaturalPerson,
                1 => SubjectKind::Organization,
                _ => return None,
            },
            name: w.str()?.to_string(),
            former_names: {
                let n = w.seq_len()?;
                let mut names = Vec::with_capacity(n.min(4));
                for _ in 0..n {
                    names.push(w.str()?.to_string());
                }
                names
            },
            subject_id: w.u64()?,
            first_collected_on: crate::domain::date::Date::from_days(w.i32()?)?,
        };
        w.is_done().then_some(subject)
    };
    read(&mut codec::Wire::new(header)).ok_or_else(|| Error::Corrupt {
        tree: "subjects",
        key: keys::describe(key),
        reason: "an undecodable subject header".to_string(),
    })
}

/// A [`Record`], field for field.
#[inline]
fn read_record<'a>(w: &mut codec::Wire<'a>) -> Option<RecordView<'a>> {
    let record_id = w.u64()?;
    let category = *Category::ALL.get(w.u32()? as usize)?;
    let provider = Text(w.bytes()?);
    let provider_record_id = Text(w.bytes()?);
    let n = w.seq_len()?;
    // NOTE: nearly every record has one version; `n` is not trusted for more than a few.
    let mut versions = Vec::with_capacity(n.min(4));
    for _ in 0..n {
        versions.push(read_version(w)?);
    }
    Some(RecordView {
        record_id,
        category,
        provider,
        provider_record_id,
        versions,
    })
}

/// A [`Version`], field for field.
#[inline]
fn read_version<'a>(w: &mut codec::Wire<'a>) -> Option<VersionView<'a>> {
    use crate::domain::{Disclosure, Grade};
    let date = |w: &mut codec::Wire<'a>| crate::domain::date::Date::from_days(w.i32()?);
    let text = |w: &mut codec::Wire<'a>| w.option(|w| w.bytes().map(Text));
    let version = w.u32()?;
    let collected_on = date(w)?;
    let collection_seq = w.u64()?;
    let content = ContentView {
        subject_name: Text(w.bytes()?),
        item: w.str()?,
        occurred_on: date(w)?,
        decided_on: w.option(date)?,
        ended_on: w.option(date)?,
        reminded_on: w.option(date)?,
        disclosure: match w.u32()? {
            0 => Disclosure::Public,
            1 => Disclosure::NonPublic,
            _ => return None,
        },
        grade: w.option(|w| match w.u32()? {
            0 => Some(Grade::Minor),
            1 => Some(Grade::General),
            2 => Some(Grade::Serious),
            _ => None,
        })?,
        title: text(w)?,
        document_no: text(w)?,
        violation_type: text(w)?,
        facts: text(w)?,
        legal_basis: text(w)?,
        penalty_type: text(w)?,
        penalty_content: text(w)?,
        amount_fen: w.option(codec::Wire::i64)?,
        authority: text(w)?,
        authority_code: text(w)?,
        attributes: {
            let n = w.seq_len()?;
            let mut pairs = Vec::with_capacity(n.min(8));
            for _ in 0..n {
                pairs.push((Text(w.bytes()?), Text(w.bytes()?)));
            }
            pairs
        },
    };
    Some(VersionView {
        version,
        collected_on,
        collection_seq,
        content,
    })
}

impl ContentView<'_> {
    /// The content copied out; `None` if a text is not UTF-8 (a damaged value).
    pub fn to_content(&self) -> Option<RecordContent> {
        let text = |t: &Option<Text<'_>>| -> Option<Option<String>> {
            match t {
                None => Some(None),
                Some(t) => t.to_owned_str().map(Some),
            }
        };
        Some(RecordContent {
            subject_name: self.subject_name.to_owned_str()?,
            item: self.item.to_string(),
            occurred_on: self.occurred_on,
            decided_on: self.decided_on,
            ended_on: self.ended_on,
            reminded_on: self.reminded_on,
            disclosure: self.disclosure,
            grade: self.grade,
            title: text(&self.title)?,
            document_no: text(&self.document_no)?,
            violation_type: text(&self.violation_type)?,
            facts: text(&self.facts)?,
            legal_basis: text(&self.legal_basis)?,
            penalty_type: text(&self.penalty_type)?,
            penalty_content: text(&self.penalty_content)?,
            amount_fen: self.amount_fen,
            authority: text(&self.authority)?,
            authority_code: text(&self.authority_code)?,
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| Some((k.to_owned_str()?, v.to_owned_str()?)))
                .collect::<Option<_>>()?,
        })
    }
}

impl RecordView<'_> {
    /// The record copied out, every version; `None` if a text is not UTF-8.
    pub fn to_record(&self) -> Option<Record> {
        Some(Record {
            record_id: RecordId(self.record_id),
            category: self.category,
            provider: self.provider.to_owned_str()?,
            provider_record_id: self.provider_record_id.to_owned_str()?,
            versions: self
                .versions
                .iter()
                .map(|v| {
                    Some(Version {
                        version: v.version,
                        collected_on: v.collected_on,
                        collection_seq: v.collection_seq,
                        content: v.content.to_content()?,
                    })
                })
                .collect::<Option<_>>()?,
        })
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
/// `SCAN_BATCH` values under a lock (sled hands them out as reference-counted buffers, no
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
    let value = plain_cached(value, dicts, buf, key)?;
    let [_, basic, dishonesty, other] = codec::unframe::<4>(value, "subjects", key)?;
    for column in [basic, dishonesty, other] {
        decode_column(column, key, all)?;
    }
    Ok(())
}

/// A subject value decompressed into `buf` (or as stored, if it is not compressed), with its
/// dictionary from the per-thread cache of [`Dictionaries::with`].
#[inline]
fn plain_cached<'v>(
    value: &'v [u8],
    dicts: &Dictionaries,
    buf: &'v mut Vec<u8>,
    key: &[u8],
) -> Result<&'v [u8]> {
    match codec::dictionary_id(value) {
        Some(id) => dicts.with(id, |d| {
            codec::plain_into(value, |_| d, buf, "subjects", key)
        }),
        None => codec::plain_into(value, |_| None::<&codec::Dictionary>, buf, "subjects", key),
    }
}

/// Reads one subject as its header and borrowed record views, and hands them to `f`: the
/// read path of queries, which decode every record but copy out only what they show. The value
/// is decompressed into a buffer kept per thread.
pub fn read_views<R>(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    code: &SubjectCode,
    f: impl FnOnce(Subject, &[RecordView<'_>]) -> Result<R>,
) -> Result<Option<R>> {
    read_plain(tree, dicts, code, |key, plain| {
        let (header, records) = decode_views(key, plain)?;
        f(header, &records)
    })
}

/// Reads one subject's value and hands `f` its key and plain bytes, decompressed into a buffer
/// kept per thread.
fn read_plain<R>(
    tree: &sled::Tree,
    dicts: &Dictionaries,
    code: &SubjectCode,
    f: impl FnOnce(&[u8], &[u8]) -> Result<R>,
) -> Result<Option<R>> {
    /// A buffer larger than this is not kept for the next read.
    const KEEP: usize = 1 << 20;
    thread_local! {
        static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let key = keys::subject(code);
    let Some(value) = tree.get(key)? else {
        return Ok(None);
    };
    // NOTE: taken out of the thread-local and put back after, so a nested read gets its own.
    let mut buf = BUF.take();
    let out = plain_cached(&value, dicts, &mut buf, &key).and_then(|plain| f(&key, plain));
    if buf.capacity() <= KEEP {
        BUF.set(buf);
    }
    out.map(Some)
}

/// Splits and decodes a plain subject value into its header and every record as a view, and
/// checks the invariants [`decode`] checks.
fn decode_views<'a>(key: &[u8], plain: &'a [u8]) -> Result<(Subject, Vec<RecordView<'a>>)> {
    let [header, basic, dishonesty, other] = codec::unframe::<4>(plain, "subjects", key)?;
    let subject = header_of(key, header)?;
    let mut all: Vec<RecordView<'a>> = Vec::with_capacity(8);
    for (column, category) in [basic, dishonesty, other].into_iter().zip(Category::ALL) {
        let from = all.len();
        decode_column(column, key, &mut all)?;
        check_column(
            key,
            category,
            all[from..]
                .iter()
                .map(|r| (r.record_id, r.versions.is_empty(), r.category)),
        )?;
    }
    Ok((subject, all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::date::Date;
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

    /// Views of one column, or the error.
    fn views(bytes: &[u8]) -> Result<Vec<RecordView<'_>>> {
        let mut out = Vec::new();
        decode_column(bytes, b"s", &mut out).map(|()| out)
    }

    /// The borrowed view reads the owned type's bytes field for field (a field added to one and
    /// not the other fails here, not in a scan).
    #[test]
    fn record_view_matches_the_stored_layout() {
        let record = full_record();
        let bytes = codec::encode_body(&vec![record.clone(), record.clone()]);
        let found = views(&bytes).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].to_record(), Some(record.clone()));
        assert_eq!(found[1].provider.as_str(), Some("SAMR-SH"));
        // Text is checked when read, not when decoded: bytes that are not UTF-8 give `None`.
        let mut bad = record.clone();
        bad.provider = "\u{7f}".into();
        let mut bytes = codec::encode_body(&vec![bad]);
        let at = bytes.iter().position(|&b| b == 0x7f).unwrap();
        bytes[at] = 0xff;
        assert_eq!(views(&bytes).unwrap()[0].to_record(), None);
        let bytes = codec::encode_body(&vec![record.clone(), record.clone()]);
        // A truncated value is a typed error, never a panic; so are trailing bytes.
        assert!(views(&bytes[..bytes.len() - 3]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(views(&longer).is_err());
    }

    /// Wide integers, negative and far dates, every enum variant, empty and absent fields:
    /// the hand reader and serde agree on every form the encoder writes.
    #[test]
    fn record_view_reads_every_integer_width_and_variant() {
        let mut records = Vec::new();
        for (n, id) in [
            0u64,
            250,
            251,
            65_535,
            65_536,
            u32::MAX as u64 + 1,
            u64::MAX,
        ]
        .into_iter()
        .enumerate()
        {
            let mut r = full_record();
            r.record_id = RecordId(id);
            r.category = Category::ALL[n % 3];
            let v = &mut r.versions[0];
            v.version = [0, 250, 251, 70_000, u32::MAX][n % 5];
            v.collection_seq = id;
            v.collected_on = Date::from_days([0, -1, 1_000_000, -700_000, 2_000_000][n % 5])
                .unwrap_or(v.collected_on);
            let c = &mut v.content;
            c.disclosure = [Disclosure::Public, Disclosure::NonPublic][n % 2];
            c.grade = [
                None,
                Some(Grade::Minor),
                Some(Grade::General),
                Some(Grade::Serious),
            ][n % 4];
            c.amount_fen = [None, Some(-1), Some(i64::MIN), Some(i64::MAX), Some(300)][n % 5];
            c.title = [None, Some(String::new()), Some("x".repeat(300))][n % 3].clone();
            c.attributes.clear();
            c.decided_on = None;
            records.push(r);
        }
        let bytes = codec::encode_body(&records);
        let read: Vec<Record> = views(&bytes)
            .unwrap()
            .iter()
            .map(|v| v.to_record().unwrap())
            .collect();
        assert_eq!(read, records);
        assert!(views(&codec::encode_body(&Vec::<Record>::new()))
            .unwrap()
            .is_empty());
    }

    fn code(text: &str) -> SubjectCode {
        SubjectCode::parse(text, Date::parse("2026-11-27").unwrap())
            .unwrap()
            .code
    }

    /// A subject of the code's kind with three records: one basic, two other.
    fn entry(code: SubjectCode) -> SubjectEntry {
        let mut entry = SubjectEntry::new(Subject {
            code,
            kind: code.kind(),
            name: "上海视图有限公司".into(),
            former_names: vec!["旧名".into()],
            subject_id: 7,
            first_collected_on: Date::parse("2024-05-01").unwrap(),
        });
        for (id, category) in [
            (1, Category::Basic),
            (2, Category::Other),
            (3, Category::Other),
        ] {
            let mut r = full_record();
            r.record_id = RecordId(id);
            r.category = category;
            entry.column_mut(category).push(r);
        }
        entry
    }

    /// `decode` (the owned read of `Store::subject` and the writer) gives back what was
    /// encoded, every column in place; a record whose text is not UTF-8 is a typed error that
    /// names the record and not the subject's code; a value under another subject's key is
    /// refused.
    #[test]
    fn owned_decode_round_trips_and_names_a_damaged_record() {
        // A person's code: an organisation's is public and shown whole.
        let code = code("310109199001011235");
        let entry = entry(code);
        let key = keys::subject(&code);
        let dicts = Dictionaries::default();
        let plain = encode_plain(&entry);
        assert_eq!(decode(&key, &plain, &dicts).unwrap(), entry);
        assert_eq!(
            entry.clone().into_subject_records(),
            crate::domain::record::SubjectRecords {
                subject: entry.subject.clone(),
                records: entry.clone().into_records(),
            }
        );

        let at = plain.windows(7).position(|w| w == b"SAMR-SH").unwrap();
        let mut bad = plain.clone();
        bad[at] = 0xff;
        match decode(&key, &bad, &dicts) {
            Err(e @ Error::Corrupt { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains("record 1") && text.contains("UTF-8"),
                    "{text}"
                );
                assert!(!text.contains(code.as_str()), "the code is masked: {text}");
                assert!(text.contains(&code.masked()), "{text}");
            }
            other => panic!("expected a corrupt-value error, got {other:?}"),
        }
        let other = keys::subject(&self::code("91310115MA1K3BTP2B"));
        match decode(&other, &plain, &dicts) {
            Err(Error::Corrupt { reason, .. }) => {
                assert!(reason.contains("another subject's"), "{reason}")
            }
            found => panic!("expected a refusal, got {found:?}"),
        }
    }

    /// The readers of a tree: the header alone checks its owner too, and a read nested inside
    /// another's callback (the per-thread buffer taken) reads its own subject.
    #[test]
    fn readers_check_the_owner_and_nest() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        let dicts = Dictionaries::default();
        let (a, b) = (code("91310115MA1K3BTP2B"), code("310109199001011235"));
        let mut second = entry(b);
        second.subject.name = "张三".into();
        tree.insert(keys::subject(&a), encode_plain(&entry(a)))
            .unwrap();
        tree.insert(keys::subject(&b), encode_plain(&second))
            .unwrap();
        assert_eq!(
            get_header(&tree, &dicts, &a).unwrap().unwrap().name,
            "上海视图有限公司"
        );
        let nested = read_views(&tree, &dicts, &a, |subject, views| {
            let inner = get(&tree, &dicts, &b)?.unwrap();
            Ok((subject.name, views.len(), inner))
        })
        .unwrap()
        .unwrap();
        assert_eq!(nested, ("上海视图有限公司".to_string(), 3, second));

        let misplaced = code("91310112087994932F");
        tree.insert(keys::subject(&misplaced), encode_plain(&entry(a)))
            .unwrap();
        for found in [
            get_header(&tree, &dicts, &misplaced).map(|_| ()),
            get(&tree, &dicts, &misplaced).map(|_| ()),
        ] {
            assert!(
                matches!(&found, Err(Error::Corrupt { reason, .. }) if reason.contains("another subject's")),
                "{found:?}"
            );
        }
    }

    /// The subject header, too: the hand reader and serde agree on it, changed or cut short.
    #[test]
    fn header_reader_agrees_with_serde() {
        let subject = Subject {
            code: SubjectCode::parse("91310115MA1K3BTP2B", Date::parse("2026-11-27").unwrap())
                .unwrap()
                .code,
            kind: SubjectKind::Organization,
            name: "上海视图有限公司".into(),
            former_names: vec!["旧名".into(), String::new()],
            subject_id: 70_000,
            first_collected_on: Date::parse("2024-05-01").unwrap(),
        };
        let bytes = codec::encode_body(&subject);
        assert_eq!(decode_header(&bytes, b"s").unwrap(), subject);
        let serde = |b: &[u8]| codec::decode_body::<Subject>(b, "subjects", b"s").ok();
        for at in 0..bytes.len() {
            for value in [0u8, 1, 2, 0x30, 0x7f, 0x80, 250, 251, 252, 253, 255] {
                let mut b = bytes.clone();
                b[at] = value;
                assert_eq!(
                    serde(&b),
                    decode_header(&b, b"s").ok(),
                    "byte {at} = {value}"
                );
            }
            assert!(decode_header(&bytes[..at], b"s").is_err());
        }
    }

    /// On corrupted bytes (one byte changed, or cut short) the hand reader accepts exactly
    /// what serde accepts, and reads the same records.
    #[test]
    fn record_view_rejects_what_serde_rejects() {
        let bytes = codec::encode_body(&vec![full_record(), full_record()]);
        let serde = |b: &[u8]| codec::decode_body::<Vec<Record>>(b, "subjects", b"s").ok();
        let hand = |b: &[u8]| {
            views(b).ok().map(|v| {
                v.iter()
                    .map(RecordView::to_record)
                    .collect::<Option<Vec<_>>>()
            })
        };
        let mut checked = 0;
        for at in 0..bytes.len() {
            for value in [0u8, 1, 2, 3, 0x7f, 0x80, 250, 251, 252, 253, 254, 255] {
                let mut b = bytes.clone();
                b[at] = value;
                // Text is checked only when copied out: a view of a value serde rejects for
                // its UTF-8 alone has a record that does not copy.
                match (serde(&b), hand(&b)) {
                    (Some(owned), Some(Some(viewed))) => {
                        assert_eq!(owned, viewed, "byte {at} = {value}")
                    }
                    (None, None) | (None, Some(None)) => {}
                    (s, h) => panic!(
                        "byte {at} = {value}: serde {:?}, hand {:?}",
                        s.is_some(),
                        h.map(|h| h.is_some())
                    ),
                }
                checked += 1;
            }
            assert_eq!(serde(&bytes[..at]).is_some(), views(&bytes[..at]).is_ok());
        }
        assert!(checked > 1000);
    }
}

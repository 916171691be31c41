//! JSON views of stored data: the shapes `credstore get` prints and the library returns for
//! serialisation. Field names here are a public contract (README: "Output formats").

use crate::domain::date::Date;
use crate::domain::record::{Record, RecordContent, SubjectRecords, Version};
use serde::Serialize;

/// A subject and its records.
#[derive(Debug, Serialize)]
pub struct SubjectView<'a> {
    /// The subject.
    pub subject: SubjectHeader<'a>,
    /// Its records, current version first-class, older versions under `history`.
    pub records: Vec<RecordView<'a>>,
}

/// The subject part of [`SubjectView`].
#[derive(Debug, Serialize)]
pub struct SubjectHeader<'a> {
    /// The full code.
    pub code: &'a str,
    /// The current name.
    pub name: &'a str,
    /// `natural_person` or `organization`.
    pub kind: &'static str,
    /// Earlier names.
    pub former_names: &'a [String],
    /// The store's numeric id.
    pub subject_id: u64,
    /// When the first record about it was collected.
    pub first_collected_on: Date,
}

/// One record: identity, the current version's content, and the older versions.
#[derive(Debug, Serialize)]
pub struct RecordView<'a> {
    /// The store's id.
    pub record_id: u64,
    /// `basic`, `dishonesty` or `other`.
    pub category: &'static str,
    /// The provider.
    pub provider: &'a str,
    /// The provider's id.
    pub provider_record_id: &'a str,
    /// The current version's number.
    pub version: u32,
    /// When the current version was collected.
    pub collected_on: Date,
    /// The current content.
    #[serde(flatten)]
    pub content: &'a RecordContent,
    /// Older versions, oldest first.
    pub history: Vec<VersionView<'a>>,
}

/// An older version.
#[derive(Debug, Serialize)]
pub struct VersionView<'a> {
    /// Its number.
    pub version: u32,
    /// When it was collected.
    pub collected_on: Date,
    /// Its content.
    #[serde(flatten)]
    pub content: &'a RecordContent,
}

impl<'a> SubjectView<'a> {
    /// The view of a subject as read from the store.
    pub fn new(found: &'a SubjectRecords) -> Self {
        let s = &found.subject;
        SubjectView {
            subject: SubjectHeader {
                code: s.code.as_str(),
                name: &s.name,
                kind: s.kind.as_str(),
                former_names: &s.former_names,
                subject_id: s.subject_id,
                first_collected_on: s.first_collected_on,
            },
            records: found.records.iter().map(RecordView::new).collect(),
        }
    }
}

impl<'a> RecordView<'a> {
    /// The view of one record.
    pub fn new(r: &'a Record) -> Self {
        let current = r.current();
        let older = &r.versions[..r.versions.len() - 1];
        RecordView {
            record_id: r.record_id.0,
            category: r.category.as_str(),
            provider: &r.provider,
            provider_record_id: &r.provider_record_id,
            version: current.version,
            collected_on: current.collected_on,
            content: &current.content,
            history: older.iter().map(VersionView::new).collect(),
        }
    }
}

impl<'a> VersionView<'a> {
    fn new(v: &'a Version) -> Self {
        VersionView {
            version: v.version,
            collected_on: v.collected_on,
            content: &v.content,
        }
    }
}

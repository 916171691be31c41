//! Records: what a provider submitted about a subject, kept with every version.
//!
//! A record is identified by the store's `RecordId` and, for the provider, by
//! `(provider, provider_record_id)`. It is never overwritten: a resubmission with different
//! content appends a [`Version`], so the history stays readable (Art. 31). The subject and the
//! category are fixed for the life of a record; they are the record's place in the store.

use super::code::SubjectCode;
use super::date::Date;
use super::{Category, Disclosure, Grade, SubjectKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The store's own identifier of a record, unique across the store and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId(pub u64);

/// A subject: a person or organisation the platform keeps records about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The normalised unified code (the key).
    pub code: SubjectCode,
    /// Natural person or organisation, as the code says.
    pub kind: SubjectKind,
    /// The name most recently submitted.
    pub name: String,
    /// Names submitted before the current one, oldest first, without repeats.
    pub former_names: Vec<String>,
    /// A dense numeric id, assigned when the subject is first stored (for the search index).
    pub subject_id: u64,
    /// The collection date of the first record about this subject.
    pub first_collected_on: Date,
}

/// One record with all of its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The store's id.
    pub record_id: RecordId,
    /// Basic, dishonesty or other: the column the record lives in.
    pub category: Category,
    /// The provider's registered code.
    pub provider: String,
    /// The provider's own id for the record (unique per provider).
    pub provider_record_id: String,
    /// Every version, oldest first; never empty.
    pub versions: Vec<Version>,
}

impl Record {
    /// The version in force: the newest.
    pub fn current(&self) -> &Version {
        // NOTE: the store never writes a record without a version (checked on decode).
        &self.versions[self.versions.len() - 1]
    }
}

/// One version of a record, exactly as collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for the first submission, then 2, 3, ...
    pub version: u32,
    /// The day the platform collected this version (the `--today` of the ingest).
    pub collected_on: Date,
    /// The collection-log entry of the batch that stored it.
    pub collection_seq: u64,
    /// The content submitted.
    pub content: RecordContent,
}

/// The content of a record as the provider submitted it (one version).
///
/// Field names follow the provider interface (see README: "Provider files"). Optional text
/// fields are `None` when absent or empty in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordContent {
    /// The subject's name as submitted with this record.
    pub subject_name: String,
    /// Catalog item code.
    pub item: String,
    /// When the act or event occurred.
    pub occurred_on: Date,
    /// When the decision was made (e.g. 处罚决定日期).
    pub decided_on: Option<Date>,
    /// When the act or event ended: starts the Art. 27 query period.
    pub ended_on: Option<Date>,
    /// Utility arrears only: when the reminder was served (Art. 13(4)).
    pub reminded_on: Option<Date>,
    /// Public or non-public (from the catalog when the provider gives none).
    pub disclosure: Disclosure,
    /// Minor, general or serious.
    pub grade: Option<Grade>,
    /// A short title.
    pub title: Option<String>,
    /// 处罚决定书文号 or other document number.
    pub document_no: Option<String>,
    /// 违法行为类型.
    pub violation_type: Option<String>,
    /// 违法事实.
    pub facts: Option<String>,
    /// 处罚依据.
    pub legal_basis: Option<String>,
    /// 处罚类别.
    pub penalty_type: Option<String>,
    /// 处罚内容.
    pub penalty_content: Option<String>,
    /// An amount in fen (0.01 yuan), e.g. 罚款金额.
    pub amount_fen: Option<i64>,
    /// The deciding authority (处罚机关).
    pub authority: Option<String>,
    /// The deciding authority's code.
    pub authority_code: Option<String>,
    /// Further string fields, by name.
    pub attributes: BTreeMap<String, String>,
}

/// A validated line of a provider file, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// The provider's registered code.
    pub provider: String,
    /// The provider's own id for the record.
    pub provider_record_id: String,
    /// The subject the record is about.
    pub subject: SubjectCode,
    /// The subject's kind.
    pub kind: SubjectKind,
    /// The item's category (from the catalog).
    pub category: Category,
    /// The content.
    pub content: RecordContent,
    /// Something accepted but worth an operator's look (e.g. an unknown registration type in
    /// the code); reported with the line, not stored.
    pub warning: Option<String>,
}

/// A subject with its records, as read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRecords {
    /// The subject.
    pub subject: Subject,
    /// Its records in column order (basic, dishonesty, other), by record id inside each.
    pub records: Vec<Record>,
}

//! The domain model: subjects, codes, records, the catalog and the rules of the Measures.
//!
//! **Architecture invariant:** nothing under `domain` imports sled, bincode or any I/O. It is the
//! vocabulary every other layer speaks, and it can be tested without a store.

pub mod calendar;
pub mod catalog;
pub mod code;
pub mod date;
pub mod objection;
pub mod policy;
pub mod prohibited;
pub mod record;

use serde::{Deserialize, Serialize};

/// Who a record is about (Art. 2, 10): a natural person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A natural person aged 18 or over, keyed by the resident ID number.
    NaturalPerson,
    /// A legal person or other organisation, keyed by its USCC.
    Organization,
}

impl SubjectKind {
    /// The name used in files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::NaturalPerson => "natural_person",
            SubjectKind::Organization => "organization",
        }
    }
}

/// The three categories of Art. 10. The discriminant is the column tag in record keys, so the
/// order here is the order of columns inside a subject's key range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 基本信息 (Art. 11).
    Basic = 1,
    /// 失信信息 (Art. 12).
    Dishonesty = 2,
    /// 其他信息 (Art. 13).
    Other = 3,
}

impl Category {
    /// Every category, in column order.
    pub const ALL: [Category; 3] = [Category::Basic, Category::Dishonesty, Category::Other];

    /// The name used in files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Basic => "basic",
            Category::Dishonesty => "dishonesty",
            Category::Other => "other",
        }
    }

    /// The one-byte column tag used in storage keys.
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// The category for a column tag, if it is one.
    pub fn from_tag(tag: u8) -> Option<Category> {
        match tag {
            1 => Some(Category::Basic),
            2 => Some(Category::Dishonesty),
            3 => Some(Category::Other),
            _ => None,
        }
    }
}

/// Disclosure level (Art. 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// Anyone may see it.
    Public,
    /// Only the subject, an authorised grantee, or a government body within its matters.
    NonPublic,
}

impl Disclosure {
    /// The name used in files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Disclosure::Public => "public",
            Disclosure::NonPublic => "non_public",
        }
    }
}

/// Severity grade of a record (Art. 17; national practice 轻微 / 一般 / 严重).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 轻微.
    Minor,
    /// 一般.
    General,
    /// 严重.
    Serious,
}

impl Grade {
    /// The name used in files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Minor => "minor",
            Grade::General => "general",
            Grade::Serious => "serious",
        }
    }
}

//! **The** visibility rule (Art. 16, 18, 20, 27, 30): which record a viewer sees. One function,
//! [`decide`], table-tested here and end to end in `tests/visibility.rs`; nothing else in the
//! crate decides what a query shows.

use crate::domain::{Category, Disclosure};
use serde::Serialize;
use std::collections::BTreeSet;

use super::model::Scope;

/// Who is looking, after the request was checked (identity proof, authorisation, matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Anyone, anonymous.
    Public,
    /// The subject itself, identity proven.
    Subject,
    /// A third party; `Some(scope)` when it presented a valid authorisation.
    Grantee(Option<Scope>),
    /// A credit service agency; `Some(scope)` when it presented a valid authorisation.
    Agency(Option<Scope>),
    /// A government body querying for a matter: the catalog items the matter covers.
    Government(BTreeSet<String>),
    /// The centre's staff; `non_public` when granted that permission.
    Staff {
        /// May see non-public records.
        non_public: bool,
    },
}

impl Viewer {
    /// Whether this viewer asks through a social channel (Art. 20), from which suspended records
    /// are withheld (Art. 30 ¶2): the public, third parties and agencies.
    fn is_social_third_party(&self) -> bool {
        matches!(
            self,
            Viewer::Public | Viewer::Grantee(_) | Viewer::Agency(_)
        )
    }

    /// Whether the viewer may see a person's full code (the subject, an authorised party, a
    /// government body, the centre's staff).
    pub fn sees_full_code(&self) -> bool {
        match self {
            Viewer::Public => false,
            Viewer::Grantee(scope) | Viewer::Agency(scope) => scope.is_some(),
            Viewer::Subject | Viewer::Government(_) | Viewer::Staff { .. } => true,
        }
    }
}

/// A record's state for queries on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordStatus {
    /// Nothing special.
    Normal,
    /// An objection is open, or closed with the subject still disagreeing (Art. 30 ¶1).
    UnderObjection,
    /// The provider missed its objection deadline: suspended from social queries (Art. 30 ¶2);
    /// the objection is still open, so the record carries the mark where it is shown.
    Suspended,
    /// Past its query period (Art. 27): out of the query interface for everyone.
    Expired,
}

/// What decides a record's visibility.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    /// Its category.
    pub category: Category,
    /// Its catalog item.
    pub item: &'a str,
    /// Its disclosure level.
    pub disclosure: Disclosure,
    /// Its state today.
    pub status: RecordStatus,
}

/// Why a record was withheld; answers count these, never show the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// Past its query period.
    Expired,
    /// Suspended from social queries.
    Suspended,
    /// Non-public, and the viewer is not entitled to it.
    NonPublic,
}

impl Withheld {
    /// The words used in an answer's summary ("3 non-public records withheld").
    pub fn describe(self) -> &'static str {
        match self {
            Withheld::Expired => "past their query period",
            Withheld::Suspended => "suspended from social queries",
            Withheld::NonPublic => "non-public",
        }
    }
}

/// The decision for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Shown; `objection_mark` when it must carry the objection mark.
    Show {
        /// The Art. 30 mark.
        objection_mark: bool,
    },
    /// Not shown, for this reason.
    Withhold(Withheld),
}

/// The rule. In order: expired records are never shown; suspended ones are withheld from the
/// public, third parties and agencies; non-public ones are shown only to the subject, an
/// authorised party within its scope, a government body within its matter, or staff granted
/// non-public access; everything shown that is under objection (or suspended) carries the mark.
pub fn decide(viewer: &Viewer, record: &RecordFacts<'_>) -> Decision {
    if record.status == RecordStatus::Expired {
        return Decision::Withhold(Withheld::Expired);
    }
    if record.status == RecordStatus::Suspended && viewer.is_social_third_party() {
        return Decision::Withhold(Withheld::Suspended);
    }
    if record.disclosure == Disclosure::NonPublic {
        let entitled = match viewer {
            Viewer::Public => false,
            Viewer::Subject => true,
            Viewer::Grantee(scope) | Viewer::Agency(scope) => scope
                .as_ref()
                .is_some_and(|s| s.covers(record.category, record.item)),
            Viewer::Government(items) => items.contains(record.item),
            Viewer::Staff { non_public } => *non_public,
        };
        if !entitled {
            return Decision::Withhold(Withheld::NonPublic);
        }
    }
    Decision::Show {
        objection_mark: matches!(
            record.status,
            RecordStatus::UnderObjection | RecordStatus::Suspended
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table: every viewer × disclosure × status, with the expected decision written
    /// out row by row (S = shown, M = shown with the objection mark, N/X/P = withheld as
    /// non-public / expired / suspended). The record is a dishonesty record of item D-PENALTY.
    #[test]
    fn the_table() {
        let scope_in = Some(Scope::parse("dishonesty").unwrap());
        let scope_out = Some(Scope::parse("other").unwrap());
        let matter_in: BTreeSet<String> = ["D-PENALTY".to_string()].into();
        let matter_out: BTreeSet<String> = ["O-CHARITY".to_string()].into();
        let viewers: Vec<(&str, Viewer)> = vec![
            ("public", Viewer::Public),
            ("subject", Viewer::Subject),
            ("grantee, no authorisation", Viewer::Grantee(None)),
            ("grantee, in scope", Viewer::Grantee(scope_in.clone())),
            ("grantee, out of scope", Viewer::Grantee(scope_out.clone())),
            ("agency, no authorisation", Viewer::Agency(None)),
            ("agency, in scope", Viewer::Agency(scope_in)),
            ("agency, out of scope", Viewer::Agency(scope_out)),
            ("government, in matter", Viewer::Government(matter_in)),
            ("government, outside matter", Viewer::Government(matter_out)),
            ("staff, non-public", Viewer::Staff { non_public: true }),
            ("staff, public only", Viewer::Staff { non_public: false }),
        ];
        // Columns: public × (normal, objection, suspended, expired), then non-public × the same.
        let expected = [
            "S M P X  N N P X",
            "S M M X  S M M X",
            "S M P X  N N P X",
            "S M P X  S M P X",
            "S M P X  N N P X",
            "S M P X  N N P X",
            "S M P X  S M P X",
            "S M P X  N N P X",
            "S M M X  S M M X",
            "S M M X  N N N X",
            "S M M X  S M M X",
            "S M M X  N N N X",
        ];
        let statuses = [
            RecordStatus::Normal,
            RecordStatus::UnderObjection,
            RecordStatus::Suspended,
            RecordStatus::Expired,
        ];
        for ((name, viewer), row) in viewers.iter().zip(expected) {
            let mut got = Vec::new();
            for disclosure in [Disclosure::Public, Disclosure::NonPublic] {
                for status in statuses {
                    let facts = RecordFacts {
                        category: Category::Dishonesty,
                        item: "D-PENALTY",
                        disclosure,
                        status,
                    };
                    got.push(match decide(viewer, &facts) {
                        Decision::Show {
                            objection_mark: false,
                        } => "S",
                        Decision::Show {
                            objection_mark: true,
                        } => "M",
                        Decision::Withhold(Withheld::NonPublic) => "N",
                        Decision::Withhold(Withheld::Expired) => "X",
                        Decision::Withhold(Withheld::Suspended) => "P",
                    });
                }
            }
            let got = format!("{}  {}", got[..4].join(" "), got[4..].join(" "));
            assert_eq!(got, row, "{name}");
        }
    }

    #[test]
    fn full_codes_only_for_the_entitled() {
        assert!(!Viewer::Public.sees_full_code());
        assert!(!Viewer::Agency(None).sees_full_code());
        assert!(Viewer::Agency(Some(Scope::everything())).sees_full_code());
        assert!(Viewer::Subject.sees_full_code());
    }
}

//! Who may ask: registered requesters, the subject's written authorisations, and the typed
//! reasons a query is refused (Art. 18-20, 26, 34).
//!
//! Pure data and rules, no I/O: the store keeps these values (see `store::registry`) and the
//! query layer ([`super`]) applies them.

use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::Category;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A registered requester: anyone who queries under a name (everyone but the anonymous public
/// and the subject itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// The id the requester is known by (e.g. an agency's licence number, a body's code).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it is, with what each kind needs.
    pub role: Role,
    /// When it was registered.
    pub registered_on: Date,
    /// Deactivated requesters are refused (kept for the log's sake, never deleted).
    pub active: bool,
}

/// The kinds of registered requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A third party (a bank, a landlord) that may hold subjects' written authorisations
    /// (Art. 20 ¶2).
    Grantee,
    /// An administrative body (Art. 18-19): it queries for a matter type it is registered for and
    /// sees the items the application catalog ties to that matter.
    Government {
        /// The body's code (统一社会信用代码 of the body).
        body_code: String,
        /// The matter types (application catalog codes) it handles.
        matters: Vec<String>,
    },
    /// A credit service agency (Art. 20 ¶3): public information, plus non-public information with
    /// an authorisation; bulk lookups when granted.
    Agency {
        /// Its bulk-query port.
        bulk: BulkAccess,
    },
    /// The centre's own staff (Art. 26), with the permissions the centre grants.
    Staff {
        /// What it may see beyond the public.
        permissions: Vec<StaffPermission>,
    },
}

impl Role {
    /// The role's name in files, the CLI and the query log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Grantee => "grantee",
            Role::Government { .. } => "government",
            Role::Agency { .. } => "agency",
            Role::Staff { .. } => "staff",
        }
    }
}

/// A credit service agency's bulk-query access (Art. 20 ¶3, Art. 34).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAccess {
    /// Never granted.
    None,
    /// Granted on this day.
    Granted {
        /// Since when.
        since: Date,
    },
    /// Taken away (Art. 34: a forged authorisation).
    Revoked {
        /// When.
        on: Date,
        /// The authorisation found forged.
        authorisation: u64,
    },
}

/// A permission the centre grants its staff (Art. 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffPermission {
    /// May see non-public records (handling objections, corrections).
    NonPublic,
    /// May list who queried a subject and verify the logs.
    Audit,
}

impl StaffPermission {
    /// The name used in the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffPermission::NonPublic => "non_public",
            StaffPermission::Audit => "audit",
        }
    }
}

/// What an authorisation (or a request) covers: whole categories and single catalog items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Every item of these categories.
    pub categories: Vec<Category>,
    /// These catalog items.
    pub items: Vec<String>,
}

impl Scope {
    /// Every category: what a request means when it names no scope.
    pub fn everything() -> Scope {
        Scope {
            categories: Category::ALL.to_vec(),
            items: Vec::new(),
        }
    }

    /// Whether a record of this category and item is covered.
    pub fn covers(&self, category: Category, item: &str) -> bool {
        self.categories.contains(&category) || self.items.iter().any(|i| i == item)
    }

    /// Whether everything `other` names is covered by `self`.
    pub fn contains(
        &self,
        other: &Scope,
        item_category: impl Fn(&str) -> Option<Category>,
    ) -> bool {
        other.categories.iter().all(|c| self.categories.contains(c))
            && other.items.iter().all(|i| {
                self.items.contains(i)
                    || item_category(i).is_some_and(|c| self.categories.contains(&c))
            })
    }

    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty() && self.items.is_empty()
    }

    /// Parses `basic,dishonesty,D-PENALTY`: category names and catalog item codes.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let mut scope = Scope::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "basic" => scope.categories.push(Category::Basic),
                "dishonesty" => scope.categories.push(Category::Dishonesty),
                "other" => scope.categories.push(Category::Other),
                item if item.len() > 2 && item.as_bytes()[1] == b'-' => {
                    scope.items.push(item.to_string())
                }
                other => return Err(format!("{other:?} is neither a category nor an item code")),
            }
        }
        if scope.is_empty() {
            return Err("the scope names nothing".to_string());
        }
        scope.categories.sort();
        scope.categories.dedup();
        scope.items.sort();
        scope.items.dedup();
        Ok(scope)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self
            .categories
            .iter()
            .map(|c| c.as_str())
            .chain(self.items.iter().map(String::as_str))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// A subject's written authorisation for a grantee to see its non-public information
/// (Art. 20 ¶2). Recorded by the centre when the grantee presents the document.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorisation {
    /// The store's id for it (what a query presents).
    pub id: u64,
    /// The subject who signed it.
    pub subject: SubjectCode,
    /// The requester it was given to.
    pub grantee: String,
    /// What it covers.
    pub scope: Scope,
    /// First day it may be used.
    pub valid_from: Date,
    /// Last day it may be used.
    pub valid_until: Date,
    /// A reference to the signed document (archive number).
    pub document: String,
    /// When the centre recorded it.
    pub recorded_on: Date,
    /// Whether, when and why it was revoked.
    pub revoked: Option<Revocation>,
}

// NOTE: by hand, so the subject's code is masked in any debug output.
impl fmt::Debug for Authorisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorisation")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("grantee", &self.grantee)
            .field("scope", &self.scope.to_string())
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

/// The end of an authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When.
    pub on: Date,
    /// Why.
    pub reason: RevocationReason,
}

/// Why an authorisation was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The subject withdrew it.
    Withdrawn,
    /// It was found forged or altered (Art. 34).
    Forged,
}

impl Authorisation {
    /// Checks that `grantee` may use this authorisation about `subject` on `today` for `want`;
    /// `item_category` resolves catalog item codes.
    pub fn check(
        &self,
        grantee: &str,
        subject: &SubjectCode,
        today: Date,
        want: Option<&Scope>,
        item_category: impl Fn(&str) -> Option<Category>,
    ) -> Result<(), Refusal> {
        if self.grantee != grantee {
            return Err(Refusal::AuthorisationNotYours);
        }
        if &self.subject != subject {
            return Err(Refusal::AuthorisationOtherSubject);
        }
        if let Some(r) = &self.revoked {
            return Err(match r.reason {
                RevocationReason::Withdrawn => Refusal::AuthorisationRevoked,
                RevocationReason::Forged => Refusal::AuthorisationForged,
            });
        }
        if today < self.valid_from {
            return Err(Refusal::AuthorisationNotYetValid);
        }
        if today > self.valid_until {
            return Err(Refusal::AuthorisationExpired);
        }
        if let Some(want) = want {
            if !self.scope.contains(want, item_category) {
                return Err(Refusal::OutOfScope);
            }
        }
        Ok(())
    }
}

/// Why a query was refused. Every refusal is logged like an answered query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The requester id is not registered.
    #[error("the requester is not registered")]
    UnknownRequester,
    /// The requester was deactivated.
    #[error("the requester is deactivated")]
    RequesterInactive,
    /// The requester is registered with another role than the one it asks as.
    #[error("the requester is not registered in that role")]
    WrongRole,
    /// A subject asked about itself without a reference to an identity proof (Art. 20 ¶2).
    #[error("no identity proof was given")]
    NoIdentityProof,
    /// A registered requester gave no operator name or no purpose (Art. 19).
    #[error("the operator's name and the purpose are required")]
    NoOperatorOrPurpose,
    /// The authorisation id is not recorded.
    #[error("the authorisation is not recorded")]
    UnknownAuthorisation,
    /// The authorisation was given to another requester.
    #[error("the authorisation was given to another requester")]
    AuthorisationNotYours,
    /// The authorisation is about another subject.
    #[error("the authorisation is about another subject")]
    AuthorisationOtherSubject,
    /// The authorisation's validity has not started.
    #[error("the authorisation is not yet valid")]
    AuthorisationNotYetValid,
    /// The authorisation's validity has ended.
    #[error("the authorisation has expired")]
    AuthorisationExpired,
    /// The subject withdrew the authorisation.
    #[error("the authorisation was revoked")]
    AuthorisationRevoked,
    /// The authorisation was found forged (Art. 34).
    #[error("the authorisation was found forged")]
    AuthorisationForged,
    /// The request asks for more than the authorisation (or the matter) covers.
    #[error("the request is outside the authorisation's scope")]
    OutOfScope,
    /// A government body asked for a matter type it is not registered for, or none.
    #[error("the body is not registered for that matter")]
    MatterNotRegistered,
    /// The staff member lacks the permission the request needs.
    #[error("the staff member lacks the permission")]
    NoPermission,
    /// An agency without bulk access asked for a bulk lookup.
    #[error("the agency has no bulk-query access")]
    NoBulkAccess,
    /// An agency whose bulk access was revoked (Art. 34) asked for a bulk lookup.
    #[error("the agency's bulk-query access was revoked")]
    BulkAccessRevoked,
}

impl Refusal {
    /// The reason's name in JSON output and the query log.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownRequester => "unknown_requester",
            Refusal::RequesterInactive => "requester_inactive",
            Refusal::WrongRole => "wrong_role",
            Refusal::NoIdentityProof => "no_identity_proof",
            Refusal::NoOperatorOrPurpose => "no_operator_or_purpose",
            Refusal::UnknownAuthorisation => "unknown_authorisation",
            Refusal::AuthorisationNotYours => "authorisation_not_yours",
            Refusal::AuthorisationOtherSubject => "authorisation_other_subject",
            Refusal::AuthorisationNotYetValid => "authorisation_not_yet_valid",
            Refusal::AuthorisationExpired => "authorisation_expired",
            Refusal::AuthorisationRevoked => "authorisation_revoked",
            Refusal::AuthorisationForged => "authorisation_forged",
            Refusal::OutOfScope => "out_of_scope",
            Refusal::MatterNotRegistered => "matter_not_registered",
            Refusal::NoPermission => "no_permission",
            Refusal::NoBulkAccess => "no_bulk_access",
            Refusal::BulkAccessRevoked => "bulk_access_revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn code(s: &str) -> SubjectCode {
        SubjectCode::parse(s, day("2026-11-27")).unwrap().code
    }

    fn auth() -> Authorisation {
        Authorisation {
            id: 7,
            subject: code("91310115MA1K3BTP2B"),
            grantee: "BANK-1".into(),
            scope: Scope::parse("dishonesty,O-UTILITY-ARREARS").unwrap(),
            valid_from: day("2026-01-01"),
            valid_until: day("2026-12-31"),
            document: "DOC-1".into(),
            recorded_on: day("2026-01-01"),
            revoked: None,
        }
    }

    fn category(item: &str) -> Option<Category> {
        match item.as_bytes().first() {
            Some(b'B') => Some(Category::Basic),
            Some(b'D') => Some(Category::Dishonesty),
            Some(b'O') => Some(Category::Other),
            _ => None,
        }
    }

    #[test]
    fn each_failure_has_its_reason() {
        let a = auth();
        let s = code("91310115MA1K3BTP2B");
        let today = day("2026-06-01");
        assert_eq!(a.check("BANK-1", &s, today, None, category), Ok(()));
        assert_eq!(
            a.check("BANK-2", &s, today, None, category),
            Err(Refusal::AuthorisationNotYours)
        );
        assert_eq!(
            a.check("BANK-1", &code("110101199003074514"), today, None, category),
            Err(Refusal::AuthorisationOtherSubject)
        );
        assert_eq!(
            a.check("BANK-1", &s, day("2025-12-31"), None, category),
            Err(Refusal::AuthorisationNotYetValid)
        );
        assert_eq!(
            a.check("BANK-1", &s, day("2027-01-01"), None, category),
            Err(Refusal::AuthorisationExpired)
        );
        // Inside: a category it names, an item of that category, an item it names.
        let inside = Scope::parse("dishonesty,D-PENALTY,O-UTILITY-ARREARS").unwrap();
        assert_eq!(
            a.check("BANK-1", &s, today, Some(&inside), category),
            Ok(())
        );
        let outside = Scope::parse("O-CRIMINAL-JUDGMENT").unwrap();
        assert_eq!(
            a.check("BANK-1", &s, today, Some(&outside), category),
            Err(Refusal::OutOfScope)
        );
        let mut revoked = a.clone();
        revoked.revoked = Some(Revocation {
            on: today,
            reason: RevocationReason::Forged,
        });
        assert_eq!(
            revoked.check("BANK-1", &s, today, None, category),
            Err(Refusal::AuthorisationForged)
        );
    }

    #[test]
    fn debug_masks_the_subject() {
        let text = format!("{:?}", auth());
        assert!(
            !text.contains("91310115MA1K3BTP2B")
                || code("91310115MA1K3BTP2B").masked() == "91310115MA1K3BTP2B"
        );
        let mut person = auth();
        person.subject = code("110101199003074514");
        assert!(!format!("{person:?}").contains("110101199003074514"));
    }

    #[test]
    fn scope_parses_and_prints() {
        let s = Scope::parse(" other , basic,D-PENALTY,basic").unwrap();
        assert_eq!(s.to_string(), "basic,other,D-PENALTY");
        assert!(s.covers(Category::Basic, "B-LICENCE"));
        assert!(s.covers(Category::Dishonesty, "D-PENALTY"));
        assert!(!s.covers(Category::Dishonesty, "D-TAX-ARREARS"));
        assert!(Scope::parse("").is_err());
        assert!(Scope::parse("nonsense").is_err());
    }
}

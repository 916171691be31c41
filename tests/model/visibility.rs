//! What each requester is shown (Art. 16, 18, 20, 27, 30), computed by the model from its own
//! statement of the rule: past the query period, no one; suspended, not the social third
//! parties; non-public, only the entitled; the objection mark on what is shown while an
//! objection is open or disputed. `query::visibility::decide` is not called.

use super::rules::*;
use credstore::domain::date::Date;
use credstore::domain::Disclosure::NonPublic;
use std::collections::BTreeMap;

/// The requesters every step compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerM {
    Public,
    Subject,
    /// The grantee BANK, presenting the subject's authorisation or not.
    Grantee {
        authorised: bool,
    },
    /// The credit service agency AGENCY, presenting the subject's authorisation or not.
    Agency {
        authorised: bool,
    },
    /// The government body GOV for [`MATTER`].
    Government,
    /// The centre's staff, with or without the non-public permission.
    Staff {
        non_public: bool,
    },
}

pub const VIEWERS: [ViewerM; 9] = [
    ViewerM::Public,
    ViewerM::Subject,
    ViewerM::Grantee { authorised: false },
    ViewerM::Grantee { authorised: true },
    ViewerM::Agency { authorised: false },
    ViewerM::Agency { authorised: true },
    ViewerM::Government,
    ViewerM::Staff { non_public: true },
    ViewerM::Staff { non_public: false },
];

/// Why a record is not shown, or why a query is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WithheldM {
    Expired,
    Suspended,
    NonPublic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedM {
    AuthorisationNotYetValid,
    AuthorisationExpired,
}

/// A record as an answer shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownM {
    pub key: Key,
    pub version: u32,
    pub collected_on: Date,
    pub content: Content,
    pub objection_mark: bool,
    /// The last day it is queryable.
    pub queryable_until: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerM {
    Refused(RefusedM),
    NotFound,
    Found {
        name: String,
        former_names: Vec<String>,
        /// In column order (basic, dishonesty, other), by record id inside a column.
        shown: Vec<ShownM>,
        withheld: BTreeMap<WithheldM, u64>,
    },
}

impl Model {
    /// The authorisation a viewer presents for `subject`: its scope, or why it is refused today.
    fn authorisation(&self, viewer: ViewerM) -> Option<Result<&'static ScopeM, RefusedM>> {
        let (scope, (from, until)) = match viewer {
            ViewerM::Grantee { authorised: true } => (&BANK_SCOPE, BANK_VALID),
            ViewerM::Agency { authorised: true } => (&AGENCY_SCOPE, AGENCY_VALID),
            _ => return None,
        };
        let (from, until) = (
            plus_days(self.first_day, from),
            plus_days(self.first_day, until),
        );
        Some(if self.today < from {
            Err(RefusedM::AuthorisationNotYetValid)
        } else if self.today > until {
            Err(RefusedM::AuthorisationExpired)
        } else {
            Ok(scope)
        })
    }

    /// What `viewer` is shown of `subject` today; record order uses the store's ids (`id_of`).
    pub fn answer(&self, viewer: ViewerM, subject: usize, id_of: impl Fn(&Key) -> u64) -> AnswerM {
        let scope = match self.authorisation(viewer) {
            Some(Err(refused)) => return AnswerM::Refused(refused),
            Some(Ok(scope)) => Some(scope),
            None => None,
        };
        let Some(s) = self.subjects.get(&subject) else {
            return AnswerM::NotFound;
        };
        let mut shown = Vec::new();
        let mut withheld = BTreeMap::new();
        let mut records: Vec<(&Key, &RecordM)> = s.records.iter().collect();
        records.sort_by_key(|(key, r)| (category_rank(r.category), id_of(key)));
        for (key, record) in records {
            let content = record.current();
            let end = period_end(content);
            let expired = end.is_some_and(|end| self.today >= end) || self.archived.contains(key);
            let (objection, suspended) = self.marks(key);
            // Social third parties do not see suspended records (Art. 30 ¶2).
            let social = matches!(
                viewer,
                ViewerM::Public | ViewerM::Grantee { .. } | ViewerM::Agency { .. }
            );
            // Non-public records: the subject, an authorised party within its scope, a body
            // within its matter, staff with the permission (Art. 16, 18, 20).
            let entitled = match viewer {
                ViewerM::Public => false,
                ViewerM::Subject => true,
                ViewerM::Grantee { .. } | ViewerM::Agency { .. } => {
                    scope.is_some_and(|sc| sc.covers(record.category, &content.item))
                }
                ViewerM::Government => MATTER_ITEMS.contains(&content.item.as_str()),
                ViewerM::Staff { non_public } => non_public,
            };
            let reason = if expired {
                Some(WithheldM::Expired)
            } else if suspended && social {
                Some(WithheldM::Suspended)
            } else if content.disclosure == NonPublic && !entitled {
                Some(WithheldM::NonPublic)
            } else {
                None
            };
            match reason {
                Some(r) => *withheld.entry(r).or_insert(0) += 1,
                None => shown.push(ShownM {
                    key: key.clone(),
                    version: record.versions.len() as u32,
                    collected_on: record.versions[record.versions.len() - 1].collected_on,
                    content: content.clone(),
                    objection_mark: objection || suspended,
                    queryable_until: end.map(|e| plus_days(e, -1)),
                }),
            }
        }
        AnswerM::Found {
            name: s.name.clone(),
            former_names: s.former_names.clone(),
            shown,
            withheld,
        }
    }

    /// Whether `viewer` sees a person's code in full: not the public, not a third party without
    /// a valid authorisation.
    pub fn sees_full_code(&self, viewer: ViewerM) -> bool {
        match viewer {
            ViewerM::Public => false,
            ViewerM::Grantee { .. } | ViewerM::Agency { .. } => {
                matches!(self.authorisation(viewer), Some(Ok(_)))
            }
            _ => true,
        }
    }
}

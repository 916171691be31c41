//! Queries under the law (Art. 16-20, 26, 30, 31): who asks ([`Asker`]), what they may see
//! ([`visibility::decide`], the one rule), and the log every query leaves (`store::query_log`).
//!
//! Every query — single, search, bulk, who-queried — resolves the asker first: a registered
//! requester must exist in the role it claims, name its operator and purpose (Art. 19), and any
//! authorisation it presents must be its own, about this subject, in force and covering what is
//! asked. A failed check is a [`Refusal`]: the answer says so, and the log records it like any
//! other query. Answers show records in force (their current version), each with its objection
//! mark where one applies, and count what was withheld by reason, never showing it.
//!
//! ```no_run
//! use credstore::query::{Asker, QueryOptions};
//! # fn main() -> credstore::Result<()> {
//! let store = credstore::Store::open("credstore-data")?;
//! let today = credstore::domain::date::Date::parse("2026-11-27").expect("a date");
//! let code = credstore::domain::code::SubjectCode::parse("91310115MA1K3BTP2B", today)
//!     .expect("a valid code")
//!     .code;
//! let answer = store.query(&Asker::Public, &code, &QueryOptions::new(today))?;
//! println!("{} records shown, {:?} withheld", answer.records.len(), answer.withheld);
//! # Ok(()) }
//! ```

pub mod application;
pub mod bulk;
pub mod model;
pub mod visibility;

use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::record::{RecordContent, Subject};
use crate::domain::Category;
use crate::error::{Error, Result};
use crate::store::query_log::{Outcome, QueryKind, QueryLogEntry};
use crate::store::registry::RecordMark;
use crate::store::retention::ArchivedSet;
use crate::store::subjects::{self, RecordView};
use crate::Store;
use model::{BulkAccess, Refusal, Role, Scope, StaffPermission};
use serde::Serialize;
use std::collections::BTreeMap;
use visibility::{Decision, RecordFacts, RecordStatus, Viewer, Withheld};

/// Who is asking, as they present themselves for one query.
#[derive(Clone, PartialEq, Eq)]
pub enum Asker {
    /// Anyone, anonymous: public information needs no proof (Art. 20 ¶2).
    Public,
    /// The subject itself, with a reference to the identity proof it showed (Art. 20 ¶2).
    Subject {
        /// E.g. the counter's check number or the e-ID session.
        identity_proof: String,
    },
    /// A registered requester.
    Registered(Registered),
}

// NOTE: by hand: the identity-proof reference is personal data.
impl std::fmt::Debug for Asker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Asker::Public => f.write_str("Public"),
            Asker::Subject { .. } => f.write_str("Subject { .. }"),
            Asker::Registered(r) => f
                .debug_struct("Registered")
                .field("requester", &r.requester)
                .field("role", &r.role)
                .finish_non_exhaustive(),
        }
    }
}

/// A registered requester's credentials for one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// Its registered id.
    pub requester: String,
    /// The role it claims (must be the registered one).
    pub role: RoleName,
    /// The operator's name (Art. 19).
    pub operator: String,
    /// The purpose of the query (Art. 19).
    pub purpose: String,
    /// A government body's matter type (application catalog code).
    pub matter: Option<String>,
    /// An authorisation presented (grantees and agencies).
    pub authorisation: Option<u64>,
}

/// The registered roles, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleName {
    /// A third party with authorisations.
    Grantee,
    /// An administrative body.
    Government,
    /// A credit service agency.
    Agency,
    /// The centre's staff.
    Staff,
}

impl RoleName {
    /// The name in the CLI and the log.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Grantee => "grantee",
            RoleName::Government => "government",
            RoleName::Agency => "agency",
            RoleName::Staff => "staff",
        }
    }

    fn of(role: &Role) -> RoleName {
        match role {
            Role::Grantee => RoleName::Grantee,
            Role::Government { .. } => RoleName::Government,
            Role::Agency { .. } => RoleName::Agency,
            Role::Staff { .. } => RoleName::Staff,
        }
    }
}

impl Asker {
    fn role_str(&self) -> &'static str {
        match self {
            Asker::Public => "public",
            Asker::Subject { .. } => "subject",
            Asker::Registered(r) => r.role.as_str(),
        }
    }
}

/// Options of a query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// The day the query is judged as of (query periods, authorisation validity).
    pub today: Date,
    /// What is asked for; `None` is everything the asker may see. A scope beyond a presented
    /// authorisation (or a body's matter) is refused as out of scope.
    pub scope: Option<Scope>,
}

impl QueryOptions {
    /// Everything, as of `today`.
    pub fn new(today: Date) -> Self {
        QueryOptions { today, scope: None }
    }
}

/// Whether a subject was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The subject is in the store.
    Found,
    /// No subject with that code.
    NotFound,
    /// The query was refused; nothing about the subject is shown.
    Refused,
}

/// The answer to a single query.
#[derive(Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The query-log entry that records this query.
    pub query_seq: u64,
    /// Found, not found, refused.
    pub status: Status,
    /// The code, masked unless the asker may see it in full.
    pub code: String,
    /// Why the query was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// The subject, when found and not refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectSummary>,
    /// The records shown, in column order.
    pub records: Vec<ShownRecord>,
    /// What was withheld, counted by reason.
    pub withheld: Vec<WithheldCount>,
}

// NOTE: by hand: the code may be a person's ID number in full (for entitled askers); debug
// output shows the answer's shape, never the number or the records' content.
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("query_seq", &self.query_seq)
            .field("status", &self.status)
            .field("refusal", &self.refusal)
            .field(
                "records",
                &self.records.iter().map(|r| r.record_id).collect::<Vec<_>>(),
            )
            .field("withheld", &self.withheld)
            .finish_non_exhaustive()
    }
}

/// The subject part of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectSummary {
    /// Its current name.
    pub name: String,
    /// `natural_person` or `organization`.
    pub kind: &'static str,
    /// Earlier names.
    pub former_names: Vec<String>,
}

/// A record as an answer shows it: its version in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownRecord {
    /// The store's id.
    pub record_id: u64,
    /// `basic`, `dishonesty` or `other`.
    pub category: &'static str,
    /// The provider.
    pub provider: String,
    /// The provider's id.
    pub provider_record_id: String,
    /// The version in force.
    pub version: u32,
    /// When it was collected.
    pub collected_on: Date,
    /// The last day it stays in the query interface (Art. 27), if it has a query period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queryable_until: Option<Date>,
    /// The Art. 30 objection mark.
    pub objection_mark: bool,
    /// The content.
    #[serde(flatten)]
    pub content: RecordContent,
}

/// The answer to a search made as a requester.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchAnswer {
    /// The query-log entry that records the search.
    pub query_seq: u64,
    /// Why the search was refused (then there are no hits).
    pub refusal: Option<Refusal>,
    /// The hits, in rank order.
    pub hits: Vec<crate::search::Hit>,
}

/// How many records were withheld for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithheldCount {
    /// The reason.
    pub reason: Withheld,
    /// How many.
    pub count: u64,
    /// In words: "3 non-public records withheld".
    pub message: String,
}

/// The asker after its checks: the viewer for the visibility rule and what the log records.
pub(crate) struct Resolved {
    pub viewer: Viewer,
    pub scope: Option<Scope>,
}

impl Store {
    fn item_category(&self) -> impl Fn(&str) -> Option<Category> + '_ {
        |item| self.catalog().get(item).map(|i| i.category)
    }

    /// Checks the asker (and any authorisation) for a query about `subject` (`None`: a search).
    pub(crate) fn resolve(
        &self,
        asker: &Asker,
        subject: Option<&SubjectCode>,
        options: &QueryOptions,
    ) -> Result<std::result::Result<Resolved, Refusal>> {
        let reg = match asker {
            Asker::Public => {
                return Ok(Ok(Resolved {
                    viewer: Viewer::Public,
                    scope: options.scope.clone(),
                }))
            }
            Asker::Subject { identity_proof } => {
                if identity_proof.trim().is_empty() {
                    return Ok(Err(Refusal::NoIdentityProof));
                }
                return Ok(Ok(Resolved {
                    viewer: Viewer::Subject,
                    scope: options.scope.clone(),
                }));
            }
            Asker::Registered(reg) => reg,
        };
        let Some(requester) = self.requester(&reg.requester)? else {
            return Ok(Err(Refusal::UnknownRequester));
        };
        if !requester.active {
            return Ok(Err(Refusal::RequesterInactive));
        }
        if RoleName::of(&requester.role) != reg.role {
            return Ok(Err(Refusal::WrongRole));
        }
        if reg.operator.trim().is_empty() || reg.purpose.trim().is_empty() {
            return Ok(Err(Refusal::NoOperatorOrPurpose));
        }
        let viewer = match &requester.role {
            Role::Grantee | Role::Agency { .. } => {
                let scope = match reg.authorisation {
                    None => None,
                    Some(id) => {
                        let Some(auth) = self.authorisation(id)? else {
                            return Ok(Err(Refusal::UnknownAuthorisation));
                        };
                        // A search names no subject: an authorisation cannot apply to it.
                        let Some(subject) = subject else {
                            return Ok(Err(Refusal::AuthorisationOtherSubject));
                        };
                        if let Err(refusal) = auth.check(
                            &requester.id,
                            subject,
                            options.today,
                            options.scope.as_ref(),
                            self.item_category(),
                        ) {
                            return Ok(Err(refusal));
                        }
                        Some(auth.scope)
                    }
                };
                if matches!(requester.role, Role::Grantee) {
                    Viewer::Grantee(scope)
                } else {
                    Viewer::Agency(scope)
                }
            }
            Role::Government { matters, .. } => {
                let matter = reg
                    .matter
                    .as_deref()
                    .filter(|m| matters.iter().any(|x| x == m))
                    .and_then(|m| self.applications().matter(m));
                let Some(matter) = matter else {
                    return Ok(Err(Refusal::MatterNotRegistered));
                };
                if let Some(want) = &options.scope {
                    let allowed = Scope {
                        categories: Vec::new(),
                        items: matter.items.iter().cloned().collect(),
                    };
                    if !allowed.contains(want, self.item_category()) {
                        return Ok(Err(Refusal::OutOfScope));
                    }
                }
                Viewer::Government(matter.items.clone())
            }
            Role::Staff { permissions } => Viewer::Staff {
                non_public: permissions.contains(&StaffPermission::NonPublic),
            },
        };
        Ok(Ok(Resolved {
            viewer,
            scope: options.scope.clone(),
        }))
    }

    /// Queries one subject by code: checks the asker, applies the visibility rule, logs the
    /// query (durably, before returning), and returns the answer. A refusal is an answer
    /// (`status: Refused`), logged too; `Err` is for storage failures only.
    pub fn query(
        &self,
        asker: &Asker,
        code: &SubjectCode,
        options: &QueryOptions,
    ) -> Result<Answer> {
        let resolved = self.resolve(asker, Some(code), options)?;
        let mut entry = log_entry(asker, QueryKind::Single, options.today);
        entry.subjects.push(*code);
        let answer = match resolved {
            Err(refusal) => {
                entry.outcome = Outcome::Refused(refusal);
                refused_answer(code, refusal)
            }
            Ok(resolved) => {
                let answer = self.answer(code, &resolved, &self.archived_set(), options.today)?;
                entry.returned = answer.records.iter().map(|r| r.record_id).collect();
                answer
            }
        };
        let seq = self.log_query(entry)?;
        Ok(Answer {
            query_seq: seq,
            ..answer
        })
    }

    /// Searches as `asker` (see [`Store::search`]): persons' codes are shown in full only to
    /// government bodies and staff; the search is logged with the subjects it returned.
    pub fn search_as(
        &self,
        asker: &Asker,
        text: &str,
        limit: usize,
        options: &QueryOptions,
    ) -> Result<SearchAnswer> {
        let resolved = self.resolve(asker, None, options)?;
        let mut entry = log_entry(asker, QueryKind::Search, options.today);
        entry.text = Some(text.to_string());
        let resolved = match resolved {
            Err(refusal) => {
                entry.outcome = Outcome::Refused(refusal);
                return Ok(SearchAnswer {
                    query_seq: self.log_query(entry)?,
                    refusal: Some(refusal),
                    hits: Vec::new(),
                });
            }
            Ok(r) => r,
        };
        let requester = match resolved.viewer {
            Viewer::Government(_) | Viewer::Staff { .. } => crate::search::Requester::Entitled,
            _ => crate::search::Requester::Public,
        };
        let (hits, codes) = self.search_with_codes(requester, text, limit)?;
        entry.subjects = codes;
        Ok(SearchAnswer {
            query_seq: self.log_query(entry)?,
            refusal: None,
            hits,
        })
    }

    /// The marks of a subject's records, when it has any (a set kept in memory: most have none).
    pub(crate) fn marks_if_any(&self, code: &SubjectCode) -> Result<BTreeMap<u64, RecordMark>> {
        if !self.has_marks(code) {
            return Ok(BTreeMap::new());
        }
        Ok(self
            .record_marks(code)?
            .into_iter()
            .map(|m| (m.record_id, m))
            .collect())
    }

    /// Reads a subject and builds the answer for a resolved asker. Records are decoded as
    /// borrowed views; only the versions shown are copied out. `archived` is the snapshot of
    /// archived records the whole request is answered against (a sweep landing meanwhile is
    /// seen wholly or not at all).
    pub(crate) fn answer(
        &self,
        code: &SubjectCode,
        resolved: &Resolved,
        archived: &ArchivedSet,
        today: Date,
    ) -> Result<Answer> {
        let shown_code = if resolved.viewer.sees_full_code() {
            code.as_str().to_string()
        } else {
            code.masked()
        };
        let marks = self.marks_if_any(code)?;
        let found = subjects::read_views(self.tree(), self.dicts(), code, |subject, records| {
            self.shown(code, subject, records, resolved, &marks, archived, today)
        })?;
        let Some((subject, records, withheld)) = found else {
            return Ok(Answer {
                query_seq: 0,
                status: Status::NotFound,
                code: shown_code,
                refusal: None,
                subject: None,
                records: Vec::new(),
                withheld: Vec::new(),
            });
        };
        Ok(Answer {
            query_seq: 0,
            status: Status::Found,
            code: shown_code,
            refusal: None,
            subject: Some(subject),
            records,
            withheld,
        })
    }

    /// What of a subject's records the asker is shown, and what is withheld.
    #[allow(clippy::too_many_arguments)]
    fn shown(
        &self,
        code: &SubjectCode,
        subject: Subject,
        found: &[RecordView<'_>],
        resolved: &Resolved,
        marks: &BTreeMap<u64, RecordMark>,
        archived: &ArchivedSet,
        today: Date,
    ) -> Result<(SubjectSummary, Vec<ShownRecord>, Vec<WithheldCount>)> {
        let mut records = Vec::new();
        let mut withheld: BTreeMap<Withheld, u64> = BTreeMap::new();
        for record in found {
            // NOTE: `read_views` checked that every record has a version.
            let Some(current) = record.versions.last() else {
                continue;
            };
            let content = &current.content;
            let item = content.item;
            if let Some(scope) = &resolved.scope {
                if !scope.covers(record.category, item) {
                    continue;
                }
            }
            let queryable_until = self
                .catalog()
                .get(item)
                .and_then(|i| i.query_period_end(content.occurred_on, content.ended_on))
                .and_then(|end| Date::from_days(end.to_days() - 1));
            let mark = marks.get(&record.record_id);
            let status = if archived.contains(record.record_id)
                || queryable_until.is_some_and(|last| today > last)
            {
                RecordStatus::Expired
            } else if mark.is_some_and(|m| m.suspended) {
                RecordStatus::Suspended
            } else if mark.is_some_and(|m| m.objection) {
                RecordStatus::UnderObjection
            } else {
                RecordStatus::Normal
            };
            let facts = RecordFacts {
                category: record.category,
                item,
                disclosure: content.disclosure,
                status,
            };
            match visibility::decide(&resolved.viewer, &facts) {
                Decision::Withhold(reason) => *withheld.entry(reason).or_default() += 1,
                Decision::Show { objection_mark } => {
                    let not_text = || Error::Corrupt {
                        tree: "subjects",
                        key: crate::store::keys::describe(&crate::store::keys::subject(code)),
                        reason: format!("record {} holds text that is not UTF-8", record.record_id),
                    };
                    records.push(ShownRecord {
                        record_id: record.record_id,
                        category: record.category.as_str(),
                        provider: record.provider.to_owned_str().ok_or_else(not_text)?,
                        provider_record_id: record
                            .provider_record_id
                            .to_owned_str()
                            .ok_or_else(not_text)?,
                        version: current.version,
                        collected_on: current.collected_on,
                        queryable_until,
                        objection_mark,
                        content: content.to_content().ok_or_else(not_text)?,
                    })
                }
            }
        }
        let summary = SubjectSummary {
            name: subject.name,
            kind: subject.kind.as_str(),
            former_names: subject.former_names,
        };
        let withheld = withheld
            .into_iter()
            .map(|(reason, count)| WithheldCount {
                reason,
                count,
                message: format!(
                    "{count} {} record{} withheld",
                    reason.describe(),
                    if count == 1 { "" } else { "s" }
                ),
            })
            .collect();
        Ok((summary, records, withheld))
    }

    /// Lists the queries that asked about `code` (the later 上海市社会信用条例 Art. 34: part of
    /// the subject's own report). Only the subject itself (with identity proof) and staff with
    /// the audit permission may ask; the listing is itself logged.
    pub fn who_queried(
        &self,
        asker: &Asker,
        code: &SubjectCode,
        today: Date,
    ) -> Result<std::result::Result<Vec<QueryLogEntry>, Refusal>> {
        let options = QueryOptions::new(today);
        let mut refusal = self.resolve(asker, Some(code), &options)?.err();
        if refusal.is_none() {
            if let Asker::Registered(reg) = asker {
                let allowed = reg.role == RoleName::Staff
                    && self.requester(&reg.requester)?.is_some_and(|r| {
                        matches!(&r.role, Role::Staff { permissions } if permissions.contains(&StaffPermission::Audit))
                    });
                if !allowed {
                    refusal = Some(Refusal::NoPermission);
                }
            } else if matches!(asker, Asker::Public) {
                refusal = Some(Refusal::NoIdentityProof);
            }
        }
        let mut entry = log_entry(asker, QueryKind::WhoQueried, today);
        entry.subjects.push(*code);
        if let Some(r) = refusal {
            entry.outcome = Outcome::Refused(r);
            self.log_query(entry)?;
            return Ok(Err(r));
        }
        let found = self.query_log_about(code)?;
        self.log_query(entry)?;
        Ok(Ok(found))
    }
}

fn refused_answer(code: &SubjectCode, refusal: Refusal) -> Answer {
    Answer {
        query_seq: 0,
        status: Status::Refused,
        code: code.masked(),
        refusal: Some(refusal),
        subject: None,
        records: Vec::new(),
        withheld: Vec::new(),
    }
}

/// A log entry for `asker`, answered until said otherwise; the store fills seq and hashes.
pub(crate) fn log_entry(asker: &Asker, kind: QueryKind, today: Date) -> QueryLogEntry {
    let mut entry = QueryLogEntry {
        seq: 0,
        at_unix_ms: crate::ingest::now_unix_ms(),
        on: today,
        kind,
        role: asker.role_str().to_string(),
        requester: None,
        operator: None,
        purpose: None,
        matter: None,
        authorisation: None,
        identity_proof: None,
        subjects: Vec::new(),
        returned: Vec::new(),
        text: None,
        outcome: Outcome::Answered,
        counts: None,
        prev_hash: [0; 32],
    };
    match asker {
        Asker::Public => {}
        Asker::Subject { identity_proof } => entry.identity_proof = Some(identity_proof.clone()),
        Asker::Registered(r) => {
            entry.requester = Some(r.requester.clone());
            entry.operator = Some(r.operator.clone());
            entry.purpose = Some(r.purpose.clone());
            entry.matter = r.matter.clone();
            entry.authorisation = r.authorisation;
        }
    }
    entry
}

/// Bulk access check for an agency (Art. 20 ¶3, 34).
pub(crate) fn bulk_access(role: &Role) -> std::result::Result<(), Refusal> {
    match role {
        Role::Agency {
            bulk: BulkAccess::Granted { .. },
        } => Ok(()),
        Role::Agency {
            bulk: BulkAccess::Revoked { .. },
        } => Err(Refusal::BulkAccessRevoked),
        Role::Agency {
            bulk: BulkAccess::None,
        } => Err(Refusal::NoBulkAccess),
        _ => Err(Refusal::WrongRole),
    }
}

//! The store side of the model test: a real `Store` in a temporary directory with the test's
//! requesters and authorisations, provider files written as JSON Lines, and every observation
//! (subjects, answers, objections, deletion requests) turned into the model's vocabulary so the
//! two can be compared with `==`.
//!
//! Store record ids are bound to provider keys the first time a record is seen; a binding never
//! changes, and no id is ever bound to two keys (ids are never reused).

use super::rules::*;
use super::visibility::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::objection::Objection;
use credstore::domain::record::RecordContent;
use credstore::domain::{Category, SubjectKind};
use credstore::ingest::bulk::Source;
use credstore::ingest::IngestOptions;
use credstore::query::application::ApplicationCatalog;
use credstore::query::model::StaffPermission;
use credstore::query::model::{Authorisation, BulkAccess, Refusal, Requester, Role, Scope};
use credstore::query::visibility::Withheld;
use credstore::query::{Answer, Asker, QueryOptions, Registered, RoleName, Status};
use credstore::store::lifecycle::{DeletionRequest, Recipient};
use credstore::{Store, StoreOptions};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A mismatch or an unexpected failure, described for the reader.
pub type Checked<T> = Result<T, String>;

pub fn err<E: std::fmt::Display>(context: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// The store under test and what the runner learnt about it.
pub struct Real {
    pub dir: tempfile::TempDir,
    pub store: Option<Store>,
    /// Store record id of each provider key, and back.
    pub ids: BTreeMap<Key, u64>,
    pub keys: BTreeMap<u64, Key>,
    /// Per pool subject with a valid code: the ids of BANK's and AGENCY's authorisations.
    pub auths: BTreeMap<usize, (u64, u64)>,
    files: u64,
}

fn options() -> Checked<StoreOptions> {
    let matter = json!({"format": 1, "version": "model", "matters": [
        {"code": MATTER, "name": "the model test's matter", "items": MATTER_ITEMS}]});
    let applications = ApplicationCatalog::parse(
        &matter.to_string(),
        credstore::domain::catalog::Catalog::builtin(),
    )
    .map_err(err("application catalog"))?;
    Ok(StoreOptions {
        applications: Some(Arc::new(applications)),
        // NOTE: the query log is not under test here; fsyncing each of the thousands of queries
        // a case makes would dominate the run. Every other write path still flushes.
        sync_query_log: false,
        ..StoreOptions::default()
    })
}

impl Real {
    /// A new store with the requesters and, for every subject with a valid code, an
    /// authorisation for BANK and one for AGENCY.
    pub fn new(model: &Model) -> Checked<Real> {
        let dir = tempfile::tempdir().map_err(err("tempdir"))?;
        let mut real = Real {
            dir,
            store: None,
            ids: BTreeMap::new(),
            keys: BTreeMap::new(),
            auths: BTreeMap::new(),
            files: 0,
        };
        real.reopen()?;
        real.register(model)?;
        Ok(real)
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("the store is open")
    }

    /// Drops the store (closing it) and opens it again.
    pub fn reopen(&mut self) -> Checked<()> {
        self.store = None;
        self.store = Some(Store::open_with(self.path(), options()?).map_err(err("open"))?);
        Ok(())
    }

    fn register(&mut self, model: &Model) -> Checked<()> {
        let day = model.first_day;
        let roles = [
            ("BANK", Role::Grantee),
            (
                "AGENCY",
                Role::Agency {
                    bulk: BulkAccess::None,
                },
            ),
            (
                "GOV",
                Role::Government {
                    body_code: "11310000MB2F3XXXXX".into(),
                    matters: vec![MATTER.into()],
                },
            ),
            (
                "STAFF-NP",
                Role::Staff {
                    permissions: vec![StaffPermission::NonPublic],
                },
            ),
            (
                "STAFF",
                Role::Staff {
                    permissions: vec![],
                },
            ),
        ];
        for (id, role) in roles {
            let requester = Requester {
                id: id.into(),
                name: format!("{id} (model test)"),
                role,
                registered_on: day,
                active: true,
            };
            self.store()
                .register_requester(&requester)
                .map_err(err("register"))?;
        }
        for (i, p) in model.pool.iter().enumerate() {
            let Some(code) = p.code else { continue };
            let bank = self.authorise(code, "BANK", &BANK_SCOPE, BANK_VALID, day)?;
            let agency = self.authorise(code, "AGENCY", &AGENCY_SCOPE, AGENCY_VALID, day)?;
            self.auths.insert(i, (bank, agency));
        }
        Ok(())
    }

    fn authorise(
        &self,
        subject: SubjectCode,
        grantee: &str,
        scope: &ScopeM,
        (from, until): (i32, i32),
        day: Date,
    ) -> Checked<u64> {
        let a = Authorisation {
            id: 0,
            subject,
            grantee: grantee.into(),
            scope: Scope {
                categories: scope.categories.to_vec(),
                items: scope.items.iter().map(|s| s.to_string()).collect(),
            },
            valid_from: plus_days(day, from),
            valid_until: plus_days(day, until),
            document: format!("DOC-{grantee}"),
            recorded_on: day,
            revoked: None,
        };
        let a = self
            .store()
            .record_authorisation(a)
            .map_err(err("authorisation"))?;
        Ok(a.id)
    }

    /// Writes `lines` as a provider file and ingests it as of `today`, file by file in chunks
    /// of `Some(n)` lines, or by the bulk load.
    pub fn ingest(
        &mut self,
        model: &Model,
        provider: &str,
        lines: &[Line],
        chunk_lines: Option<usize>,
    ) -> Checked<IngestCounts> {
        self.files += 1;
        let path = self.dir.path().join(format!("in-{}.jsonl", self.files));
        let text: String = lines.iter().map(|l| render(model, l) + "\n").collect();
        std::fs::write(&path, text).map_err(err("write file"))?;
        let mut options = IngestOptions::new(model.today);
        let report = match chunk_lines {
            Some(n) => {
                options.chunk_lines = n;
                self.store().ingest_files(provider, &[&path], &options)
            }
            None => {
                let source = Source {
                    provider: provider.to_string(),
                    path,
                };
                self.store().ingest_bulk(&[source], &options)
            }
        }
        .map_err(err("ingest"))?;
        let mut rejected_lines: Vec<(u64, &'static str)> =
            report.rejects.iter().map(|r| (r.line, r.kind)).collect();
        // NOTE: a bulk load reports rejects by pass (validation, index, subjects), not by line.
        rejected_lines.sort_unstable();
        Ok(IngestCounts {
            accepted: report.accepted,
            duplicates: report.duplicates,
            new_versions: report.new_versions,
            rejected: report.rejected,
            rejected_lines,
        })
    }

    /// The store id of a key the runner has seen, or a number no record has.
    pub fn id_of(&self, key: &Key) -> u64 {
        self.ids.get(key).copied().unwrap_or(u64::MAX)
    }

    fn key_of(&self, id: u64) -> Checked<Key> {
        self.keys
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("record id {id} was never seen in a subject"))
    }

    /// Binds a record id to its key, checking that neither was bound to something else.
    fn bind(&mut self, key: &Key, id: u64) -> Checked<()> {
        match (self.ids.get(key), self.keys.get(&id)) {
            (Some(&bound), _) if bound != id => Err(format!(
                "record {key:?} changed its id from {bound} to {id}"
            )),
            (_, Some(other)) if other != key => {
                Err(format!("record id {id} reused: was {other:?}, now {key:?}"))
            }
            _ => {
                self.ids.insert(key.clone(), id);
                self.keys.insert(id, key.clone());
                Ok(())
            }
        }
    }

    /// A subject as stored, in the model's terms (binding any record seen for the first time).
    pub fn subject(&mut self, code: &SubjectCode) -> Checked<Option<SubjectView>> {
        let Some(found) = self.store().subject(code).map_err(err("subject"))? else {
            return Ok(None);
        };
        let mut records = Vec::new();
        for r in &found.records {
            let key = (r.provider.clone(), r.provider_record_id.clone());
            self.bind(&key, r.record_id.0)?;
            let versions = r
                .versions
                .iter()
                .map(|v| (v.version, v.collected_on, content(&v.content)))
                .collect();
            records.push((key, r.record_id.0, r.category, versions));
        }
        Ok(Some(SubjectView {
            name: found.subject.name,
            former_names: found.subject.former_names,
            records,
        }))
    }

    /// The asker for a viewer of pool subject `subject`.
    pub fn asker(&self, viewer: ViewerM, subject: usize) -> Asker {
        let registered = |requester: &str, role, matter: Option<&str>, authorisation| {
            Asker::Registered(Registered {
                requester: requester.into(),
                role,
                operator: "模型测试员".into(),
                purpose: "model test".into(),
                matter: matter.map(str::to_string),
                authorisation,
            })
        };
        let auths = self.auths.get(&subject).copied();
        match viewer {
            ViewerM::Public => Asker::Public,
            ViewerM::Subject => Asker::Subject {
                identity_proof: "ID-MODEL".into(),
            },
            ViewerM::Grantee { authorised } => registered(
                "BANK",
                RoleName::Grantee,
                None,
                auths.filter(|_| authorised).map(|a| a.0),
            ),
            ViewerM::Agency { authorised } => registered(
                "AGENCY",
                RoleName::Agency,
                None,
                auths.filter(|_| authorised).map(|a| a.1),
            ),
            ViewerM::Government => registered("GOV", RoleName::Government, Some(MATTER), None),
            ViewerM::Staff { non_public } => registered(
                if non_public { "STAFF-NP" } else { "STAFF" },
                RoleName::Staff,
                None,
                None,
            ),
        }
    }

    /// What `viewer` is shown of `code` today, in the model's terms, and the code as shown.
    pub fn answer(
        &self,
        viewer: ViewerM,
        subject: usize,
        code: &SubjectCode,
        today: Date,
    ) -> Checked<(AnswerM, String)> {
        let answer: Answer = self
            .store()
            .query(
                &self.asker(viewer, subject),
                code,
                &QueryOptions::new(today),
            )
            .map_err(err("query"))?;
        let model = match answer.status {
            Status::Refused => AnswerM::Refused(match answer.refusal {
                Some(Refusal::AuthorisationNotYetValid) => RefusedM::AuthorisationNotYetValid,
                Some(Refusal::AuthorisationExpired) => RefusedM::AuthorisationExpired,
                other => return Err(format!("unexpected refusal {other:?}")),
            }),
            Status::NotFound => AnswerM::NotFound,
            Status::Found => {
                let subject = answer.subject.clone().ok_or("found without a subject")?;
                let mut shown = Vec::new();
                for r in &answer.records {
                    shown.push(ShownM {
                        key: self.key_of(r.record_id)?,
                        version: r.version,
                        collected_on: r.collected_on,
                        content: content(&r.content),
                        objection_mark: r.objection_mark,
                        queryable_until: r.queryable_until,
                    });
                }
                let withheld = answer
                    .withheld
                    .iter()
                    .map(|w| {
                        let reason = match w.reason {
                            Withheld::Expired => WithheldM::Expired,
                            Withheld::Suspended => WithheldM::Suspended,
                            Withheld::NonPublic => WithheldM::NonPublic,
                        };
                        (reason, w.count)
                    })
                    .collect();
                AnswerM::Found {
                    name: subject.name,
                    former_names: subject.former_names,
                    shown,
                    withheld,
                }
            }
        };
        Ok((model, answer.code))
    }

    /// An objection as stored, in the model's terms.
    pub fn objection(&self, o: &Objection, model: &Model) -> Checked<ObjectionView> {
        Ok(ObjectionView {
            id: o.id,
            subject: pool_index(model, &o.subject)?,
            key: self.key_of(o.record_id)?,
            ground: o.ground,
            filed_on: o.filed_on,
            state: o.state,
            compare_due: o.compare_due,
            provider_due: o.provider_due,
            history: o.history.iter().map(|t| (t.on, t.to)).collect(),
        })
    }

    /// The notification outbox, in the model's terms, sorted (the model does not know the
    /// order of records by id within one deletion).
    pub fn notices(&self, model: &Model) -> Checked<Vec<NoticeM>> {
        let mut out = Vec::new();
        for n in self.store().notifications().map_err(err("notifications"))? {
            let to = match n.to {
                Recipient::Subject(code) => ToM::Subject(pool_index(model, &code)?),
                Recipient::Provider(p) => ToM::Provider(p),
            };
            out.push((n.on, to, n.objection, self.key_of(n.record_id)?));
        }
        out.sort();
        Ok(out)
    }

    /// A deletion request as stored, in the model's terms.
    pub fn deletion(&self, d: &DeletionRequest, model: &Model) -> Checked<DeletionView> {
        let mut records = Vec::new();
        for &id in &d.records {
            records.push(self.key_of(id)?);
        }
        records.sort();
        let mut refused: Vec<Refused> = d
            .refused
            .iter()
            .map(|(id, _)| match self.keys.get(id) {
                Some(key) => Refused::Record(key.clone()),
                None => Refused::Unknown(*id),
            })
            .collect();
        refused.sort();
        Ok(DeletionView {
            id: d.id,
            subject: pool_index(model, &d.subject)?,
            received_on: d.received_on,
            due_on: d.due_on,
            records,
            refused,
            done_on: d.done_on,
        })
    }
}

fn pool_index(model: &Model, code: &SubjectCode) -> Checked<usize> {
    model
        .pool
        .iter()
        .position(|p| p.code.as_ref() == Some(code))
        .ok_or_else(|| "a subject outside the pool".to_string())
}

/// A stored record's content, as far as the model knows it.
fn content(c: &RecordContent) -> Content {
    Content {
        subject_name: c.subject_name.clone(),
        item: c.item.clone(),
        occurred_on: c.occurred_on,
        ended_on: c.ended_on,
        disclosure: c.disclosure,
        amount_fen: c.amount_fen,
        title: c.title.clone(),
    }
}

/// A subject, comparable: records in the store's order with their ids and every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectView {
    pub name: String,
    pub former_names: Vec<String>,
    #[allow(clippy::type_complexity)]
    pub records: Vec<(Key, u64, Category, Vec<(u32, Date, Content)>)>,
}

impl SubjectView {
    /// The model's subject, ordered like the store's columns (by category, then id).
    pub fn of_model(s: &SubjectM, real: &Real) -> SubjectView {
        let mut records: Vec<_> = s
            .records
            .iter()
            .map(|(key, r)| {
                let versions = r
                    .versions
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as u32 + 1, v.collected_on, v.content.clone()))
                    .collect();
                (key.clone(), real.id_of(key), r.category, versions)
            })
            .collect();
        records.sort_by_key(|r| (category_rank(r.2), r.1));
        SubjectView {
            name: s.name.clone(),
            former_names: s.former_names.clone(),
            records,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionView {
    pub id: u64,
    pub subject: usize,
    pub key: Key,
    pub ground: credstore::domain::objection::Ground,
    pub filed_on: Date,
    pub state: credstore::domain::objection::State,
    pub compare_due: Date,
    pub provider_due: Option<Date>,
    pub history: Vec<(Date, credstore::domain::objection::State)>,
}

impl From<&ObjectionM> for ObjectionView {
    fn from(o: &ObjectionM) -> Self {
        ObjectionView {
            id: o.id,
            subject: o.subject,
            key: o.key.clone(),
            ground: o.ground,
            filed_on: o.filed_on,
            state: o.state,
            compare_due: o.compare_due,
            provider_due: o.provider_due,
            history: o.history.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionView {
    pub id: u64,
    pub subject: usize,
    pub received_on: Date,
    pub due_on: Date,
    /// Sorted.
    pub records: Vec<Key>,
    /// Sorted (the model knows records by key, the store lists them by id).
    pub refused: Vec<Refused>,
    pub done_on: Option<Date>,
}

impl From<&DeletionM> for DeletionView {
    fn from(d: &DeletionM) -> Self {
        let mut refused = d.refused.clone();
        refused.sort();
        DeletionView {
            id: d.id,
            subject: d.subject,
            received_on: d.received_on,
            due_on: d.due_on,
            records: d.records.clone(),
            refused,
            done_on: d.done_on,
        }
    }
}

/// One line of a provider file as JSON.
pub fn render(model: &Model, line: &Line) -> String {
    let f = match line {
        Line::Garbage => return "{\"provider_record_id\": \"G-1\", oops".to_string(),
        Line::Fields(f) | Line::NoName(f) => f,
    };
    let text = &model.pool[f.subject].text;
    let code = match f.code_form {
        CodeForm::Plain => text.clone(),
        CodeForm::Lower => text.to_lowercase(),
        CodeForm::Spaced => format!("{} {}", &text[..6], &text[6..]),
    };
    let mut v: Value = json!({
        "provider_record_id": f.prid,
        "subject_code": code,
        "item": f.item,
        "occurred_on": f.occurred_on.to_string(),
    });
    if matches!(line, Line::Fields(_)) {
        v["subject_name"] = json!(f.name);
    }
    if let Some(d) = f.ended_on {
        v["ended_on"] = json!(d.to_string());
    }
    if let Some(d) = &f.disclosure {
        v["disclosure"] = json!(d);
    }
    if let Some(a) = f.amount_fen {
        v["amount_fen"] = json!(a);
    }
    if let Some(t) = &f.title {
        v["title"] = json!(t);
    }
    v.to_string()
}

/// The code as `viewer` should see it: a person's masked (first 6, last 4) unless entitled.
pub fn expected_code(model: &Model, viewer: ViewerM, subject: usize, refused: bool) -> String {
    let p = &model.pool[subject];
    let full = p.kind == SubjectKind::Organization || (!refused && model.sees_full_code(viewer));
    if full {
        p.text.clone()
    } else {
        format!("{}********{}", &p.text[..6], &p.text[14..])
    }
}

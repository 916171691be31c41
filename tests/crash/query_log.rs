//! Scenario `query_log`: two threads of the child query the store as different requesters —
//! single lookups (the public, the subject, staff, a grantee without an authorisation, whose
//! queries are refused and logged all the same), searches, bulk lookups by an agency, and
//! who-queried listings (which bring the derived who-queried index up to date) — and
//! acknowledge each answer's query-log sequence number once the call returned: the entry is
//! flushed before the answer (ARCHITECTURE.md, "Durability"), and the two threads share
//! fsyncs, since the flush runs outside the log's lock.
//!
//! The parent checks: both chains verify; every acknowledged entry is in the log with its
//! kind, role, outcome and subject; and a who-queried listing (the derived index, caught up
//! after the crash) names every acknowledged query about a subject, and only queries about it.

use super::checks;
use super::harness::{say, Child, History, Outcome};
use crate::common::{date, jsonl, line, person, usccs};
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::generate::rng::Rng;
use credstore::ingest::{FileFormat, IngestOptions};
use credstore::query::bulk::{BulkInput, BulkRequest};
use credstore::query::model::{BulkAccess, Requester, Role, StaffPermission};
use credstore::query::{Asker, QueryOptions, Registered, RoleName, Status};
use credstore::store::query_log::Outcome as Logged;
use credstore::Store;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const ORGS: usize = 16;
const PERSONS: usize = 8;
const TODAY: &str = "2026-11-27";

/// The subjects: organisations, then persons.
fn subjects() -> &'static [SubjectCode] {
    static CODES: OnceLock<Vec<SubjectCode>> = OnceLock::new();
    CODES.get_or_init(|| {
        let mut codes = usccs(9_601, ORGS);
        for i in 0..PERSONS {
            codes.push(person(9_700 + i as u64, &format!("198{i}-05-1{i}")));
        }
        codes
    })
}

fn name(i: usize) -> String {
    if i < ORGS {
        format!("上海查询崩溃{i}有限公司")
    } else {
        format!("查询测试人{i}")
    }
}

/// A public and a non-public record per subject.
fn base_text() -> String {
    let mut lines = Vec::new();
    for (i, code) in subjects().iter().enumerate() {
        let n = name(i);
        lines.push(line(
            &format!("QL-{i}-P"),
            code,
            &n,
            "D-PENALTY",
            "2025-06-01",
        ));
        lines.push(line(
            &format!("QL-{i}-N"),
            code,
            &n,
            "D-OTHER",
            "2025-07-01",
        ));
    }
    jsonl(&lines)
}

fn registered(id: &str, role: RoleName) -> Asker {
    Asker::Registered(Registered {
        requester: id.into(),
        role,
        operator: "王五".into(),
        purpose: "崩溃测试".into(),
        matter: None,
        authorisation: None,
    })
}

fn staff() -> Asker {
    registered("STAFF-1", RoleName::Staff)
}

/// Registers the requesters and ingests the base records, unless already done.
fn setup(store: &Store) -> Outcome {
    let on = date("2026-01-05");
    let requesters = [
        (
            "STAFF-1",
            Role::Staff {
                permissions: vec![StaffPermission::NonPublic, StaffPermission::Audit],
            },
        ),
        (
            "AG-1",
            Role::Agency {
                bulk: BulkAccess::Granted { since: on },
            },
        ),
        ("GR-1", Role::Grantee),
    ];
    for (id, role) in requesters {
        if store.requester(id)?.is_none() {
            store.register_requester(&Requester {
                id: id.into(),
                name: format!("{id} 名称"),
                role,
                registered_on: on,
                active: true,
            })?;
        }
    }
    if store.subject(&subjects()[subjects().len() - 1])?.is_none() {
        store.ingest_reader(
            "SAMR-SH",
            "base.jsonl",
            FileFormat::JsonLines,
            base_text().as_bytes(),
            &IngestOptions::new(date(TODAY)),
        )?;
    }
    Ok(())
}

/// One query; acknowledges its log entry: `q SEQ KIND ROLE CODE|- answered|refused`.
fn one_query(store: &Store, rng: &mut Rng, today: Date) -> Outcome {
    let codes = subjects();
    let code = codes[rng.index(codes.len())];
    let options = QueryOptions::new(today);
    let said = |seq: u64, kind: &str, role: &str, code: Option<&SubjectCode>, refused: bool| {
        let code = code.map_or("-", |c| c.as_str());
        let outcome = if refused { "refused" } else { "answered" };
        say(format_args!("q {seq} {kind} {role} {code} {outcome}"));
    };
    match rng.below(10) {
        0..=4 => {
            let (asker, role) = match rng.below(4) {
                0 => (Asker::Public, "public"),
                1 => (
                    Asker::Subject {
                        identity_proof: "ID-CHECK-1".into(),
                    },
                    "subject",
                ),
                2 => (staff(), "staff"),
                // A grantee with no authorisation, or with one that does not exist (refused).
                _ => {
                    let mut asker = registered("GR-1", RoleName::Grantee);
                    if let (Asker::Registered(r), true) = (&mut asker, rng.chance(0.5)) {
                        r.authorisation = Some(999_999);
                    }
                    (asker, "grantee")
                }
            };
            let answer = store.query(&asker, &code, &options)?;
            let refused = answer.status == Status::Refused;
            said(answer.query_seq, "single", role, Some(&code), refused);
        }
        5..=6 => {
            let (asker, role) = if rng.chance(0.5) {
                (Asker::Public, "public")
            } else {
                (staff(), "staff")
            };
            let text = if rng.chance(0.5) {
                code.as_str()[..8].to_string()
            } else {
                "查询".to_string()
            };
            let answer = store.search_as(&asker, &text, 10, &options)?;
            said(
                answer.query_seq,
                "search",
                role,
                None,
                answer.refusal.is_some(),
            );
        }
        7..=8 => {
            let n = 1 + rng.index(12);
            let input: String = (0..n)
                .map(|_| format!("{}\n", codes[rng.index(codes.len())].as_str()))
                .collect();
            let request = BulkRequest {
                agency: "AG-1".into(),
                operator: "赵六".into(),
                purpose: "批量核查".into(),
                today,
                input: BulkInput::Lines,
            };
            let summary = store.bulk_query(&request, input.as_bytes(), |l| l.status, |_| Ok(()))?;
            match summary {
                Ok(s) => said(s.query_seq, "bulk", "agency", None, false),
                Err((seq, _)) => said(seq, "bulk", "agency", None, true),
            }
        }
        // The listing's own entry number is not returned: it is not acknowledged.
        _ => {
            store
                .who_queried(&staff(), &code, today)?
                .map_err(|r| r.to_string())?;
        }
    }
    Ok(())
}

/// The child: sets up once, then two threads query until killed.
pub fn child(child: &Child) -> Outcome {
    let store = Store::open(&child.store)?;
    setup(&store)?;
    say("setup");
    let today = date(TODAY);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let store = &store;
                s.spawn(move || -> Result<(), String> {
                    let mut rng = child.rng(t);
                    while child.go_on() {
                        one_query(store, &mut rng, today).map_err(|e| e.to_string())?;
                        // A pause now and then: the log grows by hundreds of entries a round
                        // instead of a thousand, so a soak's checks stay affordable.
                        std::thread::sleep(std::time::Duration::from_micros(rng.below(1000)));
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| "a query thread panicked".to_string())?
        })
    })?;
    Ok(())
}

/// An acknowledged query.
struct Acked<'a> {
    kind: &'a str,
    role: &'a str,
    code: &'a str,
    refused: bool,
}

/// The parent's check.
pub fn check(store: &Store, history: &History) -> Outcome {
    let stored = checks::consistent(store)?;
    if stored.versions != stored.logged_versions {
        return Err("the collection log does not describe the stored versions".into());
    }
    let mut acked: BTreeMap<u64, Acked> = BTreeMap::new();
    let mut setup_acked = false;
    for words in history.words() {
        match words.as_slice() {
            ["setup"] => setup_acked = true,
            ["q", seq, kind, role, code, outcome] => {
                let a = Acked {
                    kind,
                    role,
                    code,
                    refused: *outcome == "refused",
                };
                if acked.insert(seq.parse()?, a).is_some() {
                    return Err(format!("query seq {seq} acknowledged twice").into());
                }
            }
            other => return Err(format!("unexpected line from the child: {other:?}").into()),
        }
    }
    if setup_acked && stored.subjects.len() != subjects().len() {
        return Err("the setup was acknowledged, its subjects are not all stored".into());
    }
    let log: Vec<_> = store.query_log().collect::<Result<_, _>>()?;
    for (seq, a) in &acked {
        let e = log
            .get(*seq as usize)
            .ok_or_else(|| format!("acknowledged query {seq} is not in the log ({})", log.len()))?;
        let refused = matches!(e.outcome, Logged::Refused(_));
        let code_ok = a.code == "-" || e.subjects.iter().map(|c| c.as_str()).eq([a.code]);
        if e.kind.as_str() != a.kind || e.role != a.role || refused != a.refused || !code_ok {
            return Err(format!(
                "query {seq}: acknowledged {} {} {}, logged {e:?}",
                a.kind, a.role, a.code
            )
            .into());
        }
    }
    who_queried_lists_all(store, history, &acked, &log)
}

/// A who-queried listing of one subject (a different one each round) names every acknowledged
/// query that asked about it, and nothing that did not.
fn who_queried_lists_all(
    store: &Store,
    history: &History,
    acked: &BTreeMap<u64, Acked>,
    log: &[credstore::store::query_log::QueryLogEntry],
) -> Outcome {
    // NOTE: a kill before the first round's setup registered the staff member leaves no one
    // to ask with; nothing can have been queried yet either.
    if store.requester("STAFF-1")?.is_none() {
        return match acked.is_empty() && log.is_empty() {
            true => Ok(()),
            false => Err("queries were logged, but the staff member who lists them is not".into()),
        };
    }
    let code = subjects()[history.rounds.len() % subjects().len()];
    let listed = store
        .who_queried(&staff(), &code, date(TODAY))?
        .map_err(|r| format!("who-queried refused: {r}"))?;
    if let Some(e) = listed.iter().find(|e| !e.subjects.contains(&code)) {
        return Err(format!("who-queried lists entry {} about other subjects", e.seq).into());
    }
    for seq in acked.keys() {
        let asked = log[*seq as usize].subjects.contains(&code);
        if asked && !listed.iter().any(|e| e.seq == *seq) {
            return Err(format!("who-queried misses acknowledged query {seq}").into());
        }
    }
    Ok(())
}

//! The visibility rule end to end (Art. 16, 18, 20, 27, 30): every requester role against one
//! subject holding a record of each disclosure level × status (normal, under objection,
//! suspended, past its query period), through `Store::query`, checking exactly which records are
//! shown (and marked), which are withheld and why, which queries are refused — and that the query
//! log records each, refused ones included, with the record ids returned.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::query::application::ApplicationCatalog;
use credstore::query::model::{
    Authorisation, BulkAccess, Refusal, Requester, Role, Scope, StaffPermission,
};
use credstore::query::visibility::Withheld;
use credstore::query::{Asker, QueryOptions, Registered, RoleName, Status};
use credstore::store::query_log::Outcome;
use credstore::{Store, StoreOptions};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Record labels: disclosure (P public, N non-public) and status (N normal, O objection,
/// S suspended, X expired).
const LABELS: [&str; 8] = ["PN", "PO", "PS", "PX", "NN", "NO", "NS", "NX"];

/// A small application catalog: one matter covering the records' item, one that does not.
const APPLICATIONS: &str = r#"{"format":1,"version":"test","matters":[
    {"code":"penalties","name":"p","items":["D-PENALTY"]},
    {"code":"charity","name":"c","items":["O-CHARITY"]}]}"#;

struct Fixture {
    _tmp: tempfile::TempDir,
    store: Store,
    subject: SubjectCode,
    other: SubjectCode,
    ids: BTreeMap<u64, &'static str>,
}

fn fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let applications =
        ApplicationCatalog::parse(APPLICATIONS, credstore::domain::catalog::Catalog::builtin())?;
    let store = Store::open_with(
        tmp.path().join("store"),
        StoreOptions {
            applications: Some(Arc::new(applications)),
            ..StoreOptions::default()
        },
    )?;
    let orgs = usccs(4040, 2);
    let (subject, other) = (orgs[0], orgs[1]);
    // The "X" records' query period (5 years from 2019-06-01) ended in 2024.
    let mut lines = Vec::new();
    for label in LABELS {
        let occurred = if label.ends_with('X') {
            "2019-06-01"
        } else {
            "2024-03-01"
        };
        let mut l = line(
            label,
            &subject,
            "上海可见性测试有限公司",
            "D-PENALTY",
            occurred,
        );
        l["disclosure"] = json!(if label.starts_with('P') {
            "public"
        } else {
            "non_public"
        });
        lines.push(l);
    }
    lines.push(line(
        "OTHER",
        &other,
        "上海另一家有限公司",
        "D-PENALTY",
        "2024-03-01",
    ));
    // The "X" records were collected in 2021 (a record already past its period is not
    // collected); the others today.
    let (old, new): (Vec<_>, Vec<_>) = lines
        .into_iter()
        .partition(|l| l["occurred_on"] == "2019-06-01");
    let path = write_file(tmp.path(), "old.jsonl", jsonl(&old))?;
    let mut opts = options();
    opts.today = date("2021-01-01");
    let report = store.ingest_files("SAMR-SH", &[&path], &opts)?;
    assert_eq!(report.accepted, 2, "{:?}", report.rejects);
    let path = write_file(tmp.path(), "new.jsonl", jsonl(&new))?;
    let report = store.ingest_files("SAMR-SH", &[&path], &options())?;
    assert_eq!(report.accepted, 7, "{:?}", report.rejects);

    let found = store.subject(&subject)?.ok_or("subject")?;
    let mut ids = BTreeMap::new();
    for r in &found.records {
        let label = LABELS
            .iter()
            .find(|l| **l == r.provider_record_id)
            .ok_or("label")?;
        ids.insert(r.record_id.0, *label);
        let (objection, suspended) = match label.as_bytes()[1] {
            b'O' => (true, false),
            b'S' => (true, true),
            _ => (false, false),
        };
        if objection || suspended {
            store.set_record_mark(&subject, r.record_id.0, objection, suspended, today())?;
        }
    }
    // The marks are kept in the store (not only in memory): they survive a reopen.
    drop(store);
    let store = Store::open_with(
        tmp.path().join("store"),
        StoreOptions {
            applications: Some(Arc::new(ApplicationCatalog::parse(
                APPLICATIONS,
                credstore::domain::catalog::Catalog::builtin(),
            )?)),
            ..StoreOptions::default()
        },
    )?;

    let register = |id: &str, role: Role| {
        store.register_requester(&Requester {
            id: id.to_string(),
            name: format!("{id} name"),
            role,
            registered_on: today(),
            active: true,
        })
    };
    register("BANK", Role::Grantee)?;
    register(
        "AGENCY",
        Role::Agency {
            bulk: BulkAccess::Granted { since: today() },
        },
    )?;
    register(
        "GOV",
        Role::Government {
            body_code: "11310000MB2F3XXXXX".into(),
            matters: vec!["penalties".into(), "charity".into()],
        },
    )?;
    register(
        "STAFF-NP",
        Role::Staff {
            permissions: vec![StaffPermission::NonPublic],
        },
    )?;
    register(
        "STAFF",
        Role::Staff {
            permissions: vec![],
        },
    )?;
    for grantee in ["BANK", "AGENCY"] {
        for scope in ["dishonesty", "other"] {
            store.record_authorisation(Authorisation {
                id: 0,
                subject,
                grantee: grantee.into(),
                scope: Scope::parse(scope)?,
                valid_from: date("2026-01-01"),
                valid_until: date("2026-12-31"),
                document: format!("DOC-{grantee}-{scope}"),
                recorded_on: today(),
                revoked: None,
            })?;
        }
    }
    Ok(Fixture {
        _tmp: tmp,
        store,
        subject,
        other,
        ids,
    })
}

fn registered(
    requester: &str,
    role: RoleName,
    matter: Option<&str>,
    authorisation: Option<u64>,
) -> Asker {
    Asker::Registered(Registered {
        requester: requester.into(),
        role,
        operator: "操作员甲".into(),
        purpose: "测试".into(),
        matter: matter.map(str::to_string),
        authorisation,
    })
}

/// Authorisation ids in recording order: BANK dishonesty, BANK other, AGENCY dishonesty,
/// AGENCY other.
const BANK_IN: u64 = 1;
const BANK_OUT: u64 = 2;
const AGENCY_IN: u64 = 3;
const AGENCY_OUT: u64 = 4;

#[test]
fn every_role_sees_exactly_what_the_rule_allows() -> TestResult {
    let f = fixture()?;
    // Expected, written out: shown labels (lower case = shown with the objection mark), then
    // withheld counts (non-public, suspended, expired).
    let cases: Vec<(&str, Asker, &str, [u64; 3])> = vec![
        ("public", Asker::Public, "PN po", [2, 2, 2]),
        (
            "subject",
            Asker::Subject {
                identity_proof: "ID-CHECK-77".into(),
            },
            "PN po ps NN no ns",
            [0, 0, 2],
        ),
        (
            "grantee, no authorisation",
            registered("BANK", RoleName::Grantee, None, None),
            "PN po",
            [2, 2, 2],
        ),
        (
            "grantee, in scope",
            registered("BANK", RoleName::Grantee, None, Some(BANK_IN)),
            "PN po NN no",
            [0, 2, 2],
        ),
        (
            "grantee, out of scope",
            registered("BANK", RoleName::Grantee, None, Some(BANK_OUT)),
            "PN po",
            [2, 2, 2],
        ),
        (
            "agency, no authorisation",
            registered("AGENCY", RoleName::Agency, None, None),
            "PN po",
            [2, 2, 2],
        ),
        (
            "agency, in scope",
            registered("AGENCY", RoleName::Agency, None, Some(AGENCY_IN)),
            "PN po NN no",
            [0, 2, 2],
        ),
        (
            "agency, out of scope",
            registered("AGENCY", RoleName::Agency, None, Some(AGENCY_OUT)),
            "PN po",
            [2, 2, 2],
        ),
        (
            "government, in matter",
            registered("GOV", RoleName::Government, Some("penalties"), None),
            "PN po ps NN no ns",
            [0, 0, 2],
        ),
        (
            "government, outside matter",
            registered("GOV", RoleName::Government, Some("charity"), None),
            "PN po ps",
            [3, 0, 2],
        ),
        (
            "staff, non-public",
            registered("STAFF-NP", RoleName::Staff, None, None),
            "PN po ps NN no ns",
            [0, 0, 2],
        ),
        (
            "staff, public only",
            registered("STAFF", RoleName::Staff, None, None),
            "PN po ps",
            [3, 0, 2],
        ),
    ];
    for (name, asker, shown, withheld) in cases {
        let answer = f
            .store
            .query(&asker, &f.subject, &QueryOptions::new(today()))?;
        assert_eq!(answer.status, Status::Found, "{name}");
        let mut got: Vec<String> = answer
            .records
            .iter()
            .map(|r| {
                let label = f.ids[&r.record_id];
                if r.objection_mark {
                    label.to_lowercase()
                } else {
                    label.to_string()
                }
            })
            .collect();
        got.sort_by_key(|l| LABELS.iter().position(|x| x.eq_ignore_ascii_case(l)));
        assert_eq!(got.join(" "), shown, "{name}: shown");
        let count = |reason| {
            answer
                .withheld
                .iter()
                .find(|w| w.reason == reason)
                .map_or(0, |w| w.count)
        };
        assert_eq!(
            [
                count(Withheld::NonPublic),
                count(Withheld::Suspended),
                count(Withheld::Expired)
            ],
            withheld,
            "{name}: withheld"
        );
        // The answer's messages say how many and why, nothing else.
        for w in &answer.withheld {
            assert!(w.message.starts_with(&w.count.to_string()), "{}", w.message);
        }
        // The log has this query, with exactly the record ids returned.
        let entry = f.store.query_log().last().ok_or("a log entry")??;
        assert_eq!(entry.seq, answer.query_seq, "{name}");
        assert_eq!(entry.outcome, Outcome::Answered, "{name}");
        assert_eq!(entry.subjects, vec![f.subject], "{name}");
        let mut returned: Vec<u64> = answer.records.iter().map(|r| r.record_id).collect();
        returned.sort_unstable();
        let mut logged = entry.returned.clone();
        logged.sort_unstable();
        assert_eq!(logged, returned, "{name}");
    }
    Ok(())
}

#[test]
fn refused_queries_show_nothing_and_are_logged() -> TestResult {
    let f = fixture()?;
    let cases: Vec<(&str, Asker, Refusal)> = vec![
        (
            "subject without proof",
            Asker::Subject {
                identity_proof: " ".into(),
            },
            Refusal::NoIdentityProof,
        ),
        (
            "unregistered",
            registered("NOBODY", RoleName::Grantee, None, None),
            Refusal::UnknownRequester,
        ),
        (
            "wrong role",
            registered("BANK", RoleName::Agency, None, None),
            Refusal::WrongRole,
        ),
        (
            "government without matter",
            registered("GOV", RoleName::Government, None, None),
            Refusal::MatterNotRegistered,
        ),
        (
            "government, matter not its own",
            registered("GOV", RoleName::Government, Some("hiring"), None),
            Refusal::MatterNotRegistered,
        ),
        (
            "authorisation about another subject",
            registered("BANK", RoleName::Grantee, None, Some(BANK_IN)),
            Refusal::AuthorisationOtherSubject,
        ),
    ];
    for (name, asker, refusal) in cases {
        let target = if name.contains("another subject") {
            f.other
        } else {
            f.subject
        };
        let answer = f
            .store
            .query(&asker, &target, &QueryOptions::new(today()))?;
        assert_eq!(answer.status, Status::Refused, "{name}");
        assert_eq!(answer.refusal, Some(refusal), "{name}");
        assert!(
            answer.records.is_empty() && answer.subject.is_none(),
            "{name}"
        );
        assert!(answer.withheld.is_empty(), "{name}: not even counts");
        let entry = f.store.query_log().last().ok_or("entry")??;
        assert_eq!(entry.seq, answer.query_seq);
        assert_eq!(entry.outcome, Outcome::Refused(refusal), "{name}");
        assert!(entry.returned.is_empty());
        assert_eq!(entry.subjects, vec![target]);
    }
    // Deactivated requesters are refused from then on.
    let mut bank = f.store.requester("BANK")?.ok_or("bank")?;
    bank.active = false;
    f.store.register_requester(&bank)?;
    let answer = f.store.query(
        &registered("BANK", RoleName::Grantee, None, None),
        &f.subject,
        &QueryOptions::new(today()),
    )?;
    assert_eq!(answer.refusal, Some(Refusal::RequesterInactive));
    Ok(())
}

#[test]
fn a_requested_scope_narrows_the_answer() -> TestResult {
    let f = fixture()?;
    let subject = Asker::Subject {
        identity_proof: "ID".into(),
    };
    let only_other = QueryOptions {
        today: today(),
        scope: Some(Scope::parse("other")?),
    };
    let answer = f.store.query(&subject, &f.subject, &only_other)?;
    assert_eq!(answer.status, Status::Found);
    assert!(answer.records.is_empty(), "no record of category other");
    // Outside what the matter covers: refused, not narrowed.
    let answer = f.store.query(
        &registered("GOV", RoleName::Government, Some("charity"), None),
        &f.subject,
        &QueryOptions {
            today: today(),
            scope: Some(Scope::parse("D-PENALTY")?),
        },
    )?;
    assert_eq!(answer.refusal, Some(Refusal::OutOfScope));
    Ok(())
}

#[test]
fn persons_codes_are_masked_for_the_public_only() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let p = person(4141, "1980-05-05");
    ingest_jsonl(
        &store,
        "SAMR-SH",
        "p.jsonl",
        &jsonl(&[line("P-1", &p, "王可见", "D-PENALTY", "2025-01-01")]),
    )?;
    let public = store.query(&Asker::Public, &p, &QueryOptions::new(today()))?;
    assert_eq!(public.code, p.masked());
    assert_ne!(public.code, p.as_str());
    let own = store.query(
        &Asker::Subject {
            identity_proof: "ID".into(),
        },
        &p,
        &QueryOptions::new(today()),
    )?;
    assert_eq!(own.code, p.as_str());
    // Debug output (what a log line would carry) never shows the number.
    assert!(!format!("{own:?}").contains(p.as_str()), "{own:?}");
    let entry = store.query_log().last().ok_or("entry")??;
    assert!(!format!("{entry:?}").contains(p.as_str()));
    Ok(())
}

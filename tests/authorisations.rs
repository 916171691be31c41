//! Subjects' written authorisations (Art. 20 ¶2, 34) end to end: a valid authorisation shows its
//! grantee the non-public records it covers, and without one they are withheld and counted; an
//! unknown, expired, not yet valid, revoked, someone else's, other-subject or out-of-scope
//! authorisation — and an unknown requester, a wrong role, a missing operator, a subject without
//! identity proof, an unregistered matter — is each refused with its own reason, shows nothing
//! of the subject, and leaves a query-log entry saying so; a forged authorisation revokes its
//! agency's bulk access, after which bulk lookups are refused and logged, through the library
//! and through the CLI.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::query::bulk::{BulkInput, BulkLine, BulkRequest, BulkStatus, BulkSummary};
use credstore::query::model::{
    Authorisation, BulkAccess, Refusal, Requester, RevocationReason, Role, Scope,
};
use credstore::query::visibility::Withheld;
use credstore::query::{Answer, Asker, QueryOptions, Registered, RoleName, Status};
use credstore::store::query_log::{Outcome, QueryKind, QueryLogEntry};
use credstore::Store;
use serde_json::Value;

/// The subject's name: a refused answer must not contain it.
const NAME: &str = "上海授权测试有限公司";
/// The other subject's name.
const OTHER_NAME: &str = "上海另一测试有限公司";

/// A store with two organisations, each with a public registration and a non-public
/// dishonesty record, and the requesters BANK-1, BANK-2 (grantees), AG-1 (agency with bulk
/// access), AG-2 (agency without) and GOV-1 (government body for `supervision`).
struct Setup {
    _tmp: tempfile::TempDir,
    store: Store,
    /// The subject of the authorisations.
    subject: SubjectCode,
    /// Another subject in the store.
    other: SubjectCode,
}

fn setup(seed: u64) -> Result<Setup, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(seed, 2);
    let mut lines = Vec::new();
    for (i, (code, name)) in orgs.iter().zip([NAME, OTHER_NAME]).enumerate() {
        lines.push(line(
            &format!("REG-{i}"),
            code,
            name,
            "B-ORG-REG",
            "2012-03-04",
        ));
        let mut false_materials = line(
            &format!("FM-{i}"),
            code,
            name,
            "D-FALSE-MATERIALS",
            "2026-03-01",
        );
        false_materials["ended_on"] = "2026-04-01".into();
        lines.push(false_materials);
    }
    let report = ingest_jsonl(&store, "SAMR-SH", "auth.jsonl", &jsonl(&lines))?;
    assert_eq!(report.accepted, 4, "{:?}", report.rejects);
    let register = |id: &str, role: Role| {
        store.register_requester(&Requester {
            id: id.into(),
            name: format!("{id} 名称"),
            role,
            registered_on: today(),
            active: true,
        })
    };
    register("BANK-1", Role::Grantee)?;
    register("BANK-2", Role::Grantee)?;
    register(
        "AG-1",
        Role::Agency {
            bulk: BulkAccess::Granted { since: today() },
        },
    )?;
    register(
        "AG-2",
        Role::Agency {
            bulk: BulkAccess::None,
        },
    )?;
    register(
        "GOV-1",
        Role::Government {
            body_code: "11310000002419213X".into(),
            matters: vec!["supervision".into()],
        },
    )?;
    Ok(Setup {
        _tmp: tmp,
        store,
        subject: orgs[0],
        other: orgs[1],
    })
}

/// Records an authorisation about `subject` for `grantee`, scope `dishonesty`, valid through
/// 2026.
fn authorise(
    store: &Store,
    subject: &SubjectCode,
    grantee: &str,
) -> Result<Authorisation, Box<dyn std::error::Error>> {
    Ok(store.record_authorisation(Authorisation {
        id: 0,
        subject: *subject,
        grantee: grantee.into(),
        scope: Scope::parse("dishonesty")?,
        valid_from: date("2026-01-01"),
        valid_until: date("2026-12-31"),
        document: "DOC-1".into(),
        recorded_on: today(),
        revoked: None,
    })?)
}

/// A registered requester's credentials with an operator and a purpose.
fn credentials(requester: &str, role: RoleName, authorisation: Option<u64>) -> Registered {
    Registered {
        requester: requester.into(),
        role,
        operator: "王五".into(),
        purpose: "贷款审查".into(),
        matter: None,
        authorisation,
    }
}

/// A registered asker with an operator and a purpose.
fn registered(requester: &str, role: RoleName, authorisation: Option<u64>) -> Asker {
    Asker::Registered(credentials(requester, role, authorisation))
}

/// Options as of `on`, optionally narrowed to `scope`.
fn as_of(on: Date, scope: Option<&str>) -> Result<QueryOptions, Box<dyn std::error::Error>> {
    Ok(QueryOptions {
        today: on,
        scope: scope.map(Scope::parse).transpose()?,
    })
}

/// The query-log entry `seq`.
fn logged(store: &Store, seq: u64) -> Result<QueryLogEntry, Box<dyn std::error::Error>> {
    for entry in store.query_log() {
        let entry = entry?;
        if entry.seq == seq {
            return Ok(entry);
        }
    }
    Err(format!("no query-log entry {seq}").into())
}

/// The items of the records an answer shows, in order.
fn items(answer: &Answer) -> Vec<&str> {
    answer
        .records
        .iter()
        .map(|r| r.content.item.as_str())
        .collect()
}

/// Asserts that `answer` is refused for `refusal`, shows nothing about the subject, and that
/// its query-log entry records the refusal, the requester and the authorisation presented.
fn assert_refused_and_logged(
    store: &Store,
    what: &str,
    answer: &Answer,
    code: &SubjectCode,
    refusal: Refusal,
    requester: Option<&str>,
    authorisation: Option<u64>,
) -> TestResult {
    assert_eq!(answer.status, Status::Refused, "{what}");
    assert_eq!(answer.refusal, Some(refusal), "{what}");
    assert!(answer.records.is_empty(), "{what}: {:?}", answer.records);
    assert!(answer.withheld.is_empty(), "{what}: {:?}", answer.withheld);
    assert_eq!(answer.subject, None, "{what}");
    let json = serde_json::to_string(answer)?;
    for secret in [NAME, OTHER_NAME, "D-FALSE-MATERIALS", "B-ORG-REG"] {
        assert!(!json.contains(secret), "{what}: {secret} in {json}");
    }
    let v: Value = serde_json::from_str(&json)?;
    assert_eq!(v["status"], "refused", "{what}");
    assert_eq!(v["refusal"], refusal.as_str(), "{what}");

    let entry = logged(store, answer.query_seq)?;
    assert_eq!(entry.seq, answer.query_seq);
    assert_eq!(entry.outcome, Outcome::Refused(refusal), "{what}");
    assert_eq!(entry.kind, QueryKind::Single, "{what}");
    assert_eq!(entry.requester.as_deref(), requester, "{what}");
    assert_eq!(entry.authorisation, authorisation, "{what}");
    assert_eq!(entry.subjects, vec![*code], "{what}");
    assert!(entry.returned.is_empty(), "{what}: nothing returned");
    Ok(())
}

#[test]
fn a_valid_authorisation_shows_the_non_public_record_and_none_withholds_it() -> TestResult {
    let s = setup(2001)?;
    let a = authorise(&s.store, &s.subject, "BANK-1")?;
    assert!(a.id >= 1, "an id is assigned");
    assert_eq!(s.store.authorisation(a.id)?.as_ref(), Some(&a));

    let with = s.store.query(
        &registered("BANK-1", RoleName::Grantee, Some(a.id)),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(with.status, Status::Found);
    assert_eq!(with.refusal, None);
    assert_eq!(items(&with), ["B-ORG-REG", "D-FALSE-MATERIALS"]);
    assert!(with.withheld.is_empty(), "{:?}", with.withheld);
    assert_eq!(with.subject.as_ref().map(|x| x.name.as_str()), Some(NAME));
    let entry = logged(&s.store, with.query_seq)?;
    assert_eq!(entry.outcome, Outcome::Answered);
    assert_eq!(entry.requester.as_deref(), Some("BANK-1"));
    assert_eq!(entry.authorisation, Some(a.id));
    assert_eq!(entry.operator.as_deref(), Some("王五"));
    assert_eq!(entry.purpose.as_deref(), Some("贷款审查"));
    let shown: Vec<u64> = with.records.iter().map(|r| r.record_id).collect();
    assert_eq!(entry.returned, shown, "the log lists what was returned");

    // Asking for exactly what it covers is fine too; a narrower scope shows only that.
    let narrowed = s.store.query(
        &registered("BANK-1", RoleName::Grantee, Some(a.id)),
        &s.subject,
        &as_of(today(), Some("D-FALSE-MATERIALS"))?,
    )?;
    assert_eq!(narrowed.status, Status::Found);
    assert_eq!(items(&narrowed), ["D-FALSE-MATERIALS"]);

    // The last day of validity still counts.
    let last_day = s.store.query(
        &registered("BANK-1", RoleName::Grantee, Some(a.id)),
        &s.subject,
        &as_of(date("2026-12-31"), None)?,
    )?;
    assert_eq!(last_day.status, Status::Found, "{:?}", last_day.refusal);
    assert_eq!(items(&last_day), ["B-ORG-REG", "D-FALSE-MATERIALS"]);

    let without = s.store.query(
        &registered("BANK-1", RoleName::Grantee, None),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(without.status, Status::Found);
    assert_eq!(items(&without), ["B-ORG-REG"]);
    assert_eq!(without.withheld.len(), 1, "{:?}", without.withheld);
    assert_eq!(without.withheld[0].reason, Withheld::NonPublic);
    assert_eq!(without.withheld[0].count, 1);
    assert_eq!(without.withheld[0].message, "1 non-public record withheld");
    let entry = logged(&s.store, without.query_seq)?;
    assert_eq!(entry.outcome, Outcome::Answered);
    assert_eq!(entry.authorisation, None);
    assert_eq!(entry.returned.len(), 1);
    Ok(())
}

#[test]
fn each_bad_authorisation_or_asker_is_refused_and_logged() -> TestResult {
    let s = setup(2002)?;
    let store = &s.store;
    let a = authorise(store, &s.subject, "BANK-1")?;
    let withdrawn = authorise(store, &s.subject, "BANK-1")?;
    assert_ne!(withdrawn.id, a.id);
    let revoked = store.revoke_authorisation(withdrawn.id, today())?;
    assert_eq!(
        revoked.revoked.as_ref().map(|r| (r.on, r.reason)),
        Some((today(), RevocationReason::Withdrawn))
    );
    let unknown = 999;
    assert!(store.authorisation(unknown)?.is_none());

    let grantee = |id: &str, auth: Option<u64>| registered(id, RoleName::Grantee, auth);
    let gov = |matter: Option<&str>| {
        Asker::Registered(Registered {
            requester: "GOV-1".into(),
            role: RoleName::Government,
            operator: "赵六".into(),
            purpose: "日常监管".into(),
            matter: matter.map(str::to_string),
            authorisation: None,
        })
    };
    let no_operator = Asker::Registered(Registered {
        operator: "  ".into(),
        ..credentials("BANK-1", RoleName::Grantee, Some(a.id))
    });
    let no_purpose = Asker::Registered(Registered {
        purpose: String::new(),
        ..credentials("BANK-1", RoleName::Grantee, None)
    });

    // (what, asker, subject, as of, scope, refusal, logged requester, logged authorisation)
    type Case<'a> = (
        &'a str,
        Asker,
        &'a SubjectCode,
        Date,
        Option<&'a str>,
        Refusal,
        Option<&'a str>,
        Option<u64>,
    );
    let cases: Vec<Case> = vec![
        (
            "unknown authorisation",
            grantee("BANK-1", Some(unknown)),
            &s.subject,
            today(),
            None,
            Refusal::UnknownAuthorisation,
            Some("BANK-1"),
            Some(unknown),
        ),
        (
            "expired",
            grantee("BANK-1", Some(a.id)),
            &s.subject,
            date("2027-01-05"),
            None,
            Refusal::AuthorisationExpired,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "expired the day after its last day",
            grantee("BANK-1", Some(a.id)),
            &s.subject,
            date("2027-01-01"),
            None,
            Refusal::AuthorisationExpired,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "not yet valid",
            grantee("BANK-1", Some(a.id)),
            &s.subject,
            date("2025-12-31"),
            None,
            Refusal::AuthorisationNotYetValid,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "revoked",
            grantee("BANK-1", Some(withdrawn.id)),
            &s.subject,
            today(),
            None,
            Refusal::AuthorisationRevoked,
            Some("BANK-1"),
            Some(withdrawn.id),
        ),
        (
            "another grantee's",
            grantee("BANK-2", Some(a.id)),
            &s.subject,
            today(),
            None,
            Refusal::AuthorisationNotYours,
            Some("BANK-2"),
            Some(a.id),
        ),
        (
            "about another subject",
            grantee("BANK-1", Some(a.id)),
            &s.other,
            today(),
            None,
            Refusal::AuthorisationOtherSubject,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "out of scope",
            grantee("BANK-1", Some(a.id)),
            &s.subject,
            today(),
            Some("other"),
            Refusal::OutOfScope,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "an item outside the scope",
            grantee("BANK-1", Some(a.id)),
            &s.subject,
            today(),
            Some("dishonesty,B-ORG-REG"),
            Refusal::OutOfScope,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "unregistered requester",
            grantee("NOBODY", Some(a.id)),
            &s.subject,
            today(),
            None,
            Refusal::UnknownRequester,
            Some("NOBODY"),
            Some(a.id),
        ),
        (
            "wrong role",
            registered("BANK-1", RoleName::Agency, Some(a.id)),
            &s.subject,
            today(),
            None,
            Refusal::WrongRole,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "blank operator",
            no_operator,
            &s.subject,
            today(),
            None,
            Refusal::NoOperatorOrPurpose,
            Some("BANK-1"),
            Some(a.id),
        ),
        (
            "empty purpose",
            no_purpose,
            &s.subject,
            today(),
            None,
            Refusal::NoOperatorOrPurpose,
            Some("BANK-1"),
            None,
        ),
        (
            "subject without identity proof",
            Asker::Subject {
                identity_proof: " ".into(),
            },
            &s.subject,
            today(),
            None,
            Refusal::NoIdentityProof,
            None,
            None,
        ),
        (
            "government body, unregistered matter",
            gov(Some("procurement")),
            &s.subject,
            today(),
            None,
            Refusal::MatterNotRegistered,
            Some("GOV-1"),
            None,
        ),
        (
            "government body, no matter",
            gov(None),
            &s.subject,
            today(),
            None,
            Refusal::MatterNotRegistered,
            Some("GOV-1"),
            None,
        ),
    ];
    let mut seqs = Vec::new();
    for (what, asker, code, on, scope, refusal, requester, authorisation) in cases {
        let answer = store.query(&asker, code, &as_of(on, scope)?)?;
        assert_refused_and_logged(
            store,
            what,
            &answer,
            code,
            refusal,
            requester,
            authorisation,
        )?;
        seqs.push(answer.query_seq);
    }
    // Each refusal has its own log entry.
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Control: the same askers done right are answered (so the refusals above are not blanket).
    let ok = store.query(
        &grantee("BANK-1", Some(a.id)),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(ok.status, Status::Found, "{:?}", ok.refusal);
    assert_eq!(items(&ok), ["B-ORG-REG", "D-FALSE-MATERIALS"]);
    let ok = store.query(
        &gov(Some("supervision")),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(ok.status, Status::Found, "{:?}", ok.refusal);
    assert_eq!(items(&ok), ["B-ORG-REG", "D-FALSE-MATERIALS"]);
    let ok = store.query(
        &Asker::Subject {
            identity_proof: "柜台核验 0001".into(),
        },
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(ok.status, Status::Found, "{:?}", ok.refusal);
    assert_eq!(items(&ok), ["B-ORG-REG", "D-FALSE-MATERIALS"]);

    // The whole log verifies after all of this.
    assert!(store.audit_verify()?.ok());
    Ok(())
}

/// How a bulk request ended, and the lines it answered.
type BulkRun = (Result<BulkSummary, (u64, Refusal)>, Vec<BulkLine>);

/// A bulk request of agency `agency` over `codes`, collecting the lines answered.
fn bulk(
    store: &Store,
    agency: &str,
    codes: &[SubjectCode],
) -> Result<BulkRun, Box<dyn std::error::Error>> {
    let input: String = codes.iter().map(|c| format!("{}\n", c.as_str())).collect();
    let request = BulkRequest {
        agency: agency.into(),
        operator: "钱七".into(),
        purpose: "信用评估".into(),
        today: today(),
        input: BulkInput::Lines,
    };
    let mut lines = Vec::new();
    let outcome = store.bulk_query(
        &request,
        input.as_bytes(),
        |line| line,
        |line| {
            lines.push(line);
            Ok(())
        },
    )?;
    Ok((outcome, lines))
}

#[test]
fn a_forged_authorisation_revokes_the_agencys_bulk_access() -> TestResult {
    let s = setup(2003)?;
    let store = &s.store;
    let codes = [s.subject, s.other];
    let forged = authorise(store, &s.subject, "AG-1")?;

    // Before: the agency's bulk lookup and its authorisation both work.
    let (outcome, lines) = bulk(store, "AG-1", &codes)?;
    let summary = outcome.map_err(|(seq, r)| format!("refused before forgery: {r} ({seq})"))?;
    assert_eq!(summary.counts.asked, 2);
    assert_eq!(summary.counts.found, 2);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l.status == BulkStatus::Found));
    let before = logged(store, summary.query_seq)?;
    assert_eq!(before.kind, QueryKind::Bulk);
    assert_eq!(before.outcome, Outcome::Answered);
    let single = store.query(
        &registered("AG-1", RoleName::Agency, Some(forged.id)),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(single.status, Status::Found, "{:?}", single.refusal);
    assert_eq!(items(&single), ["B-ORG-REG", "D-FALSE-MATERIALS"]);

    // The forgery is recorded: the authorisation is revoked as forged, the agency's bulk access
    // with it, and both are stored.
    let (auth, agency) = store.record_forgery(forged.id, today())?;
    assert_eq!(auth.id, forged.id);
    assert_eq!(
        auth.revoked.as_ref().map(|r| (r.on, r.reason)),
        Some((today(), RevocationReason::Forged))
    );
    let agency = agency.ok_or("record_forgery returned no agency")?;
    assert_eq!(agency.id, "AG-1");
    let revoked_bulk = BulkAccess::Revoked {
        on: today(),
        authorisation: forged.id,
    };
    assert_eq!(
        agency.role,
        Role::Agency {
            bulk: revoked_bulk.clone()
        }
    );
    assert_eq!(store.requester("AG-1")?, Some(agency.clone()));
    assert_eq!(store.authorisation(forged.id)?, Some(auth.clone()));

    // After: the bulk lookup is refused as a whole, nothing is answered, and the log says so.
    let (outcome, lines) = bulk(store, "AG-1", &codes)?;
    let (seq, refusal) = match outcome {
        Ok(summary) => {
            return Err(format!("bulk lookup answered after forgery: {summary:?}").into())
        }
        Err(refused) => refused,
    };
    assert_eq!(refusal, Refusal::BulkAccessRevoked);
    assert!(lines.is_empty(), "{} lines answered", lines.len());
    let entry = logged(store, seq)?;
    assert_eq!(entry.kind, QueryKind::Bulk);
    assert_eq!(entry.outcome, Outcome::Refused(Refusal::BulkAccessRevoked));
    assert_eq!(entry.requester.as_deref(), Some("AG-1"));
    assert!(entry.returned.is_empty());

    // The forged authorisation itself is refused as forged.
    let answer = store.query(
        &registered("AG-1", RoleName::Agency, Some(forged.id)),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_refused_and_logged(
        store,
        "forged authorisation",
        &answer,
        &s.subject,
        Refusal::AuthorisationForged,
        Some("AG-1"),
        Some(forged.id),
    )?;

    // Recording the forgery again changes nothing and revokes nothing new.
    let (again, agency_again) = store.record_forgery(forged.id, date("2026-12-01"))?;
    assert_eq!(again, auth);
    assert_eq!(agency_again, None);
    assert_eq!(store.requester("AG-1")?, Some(agency));

    // A forged grantee's authorisation is revoked, but there is no bulk access to take.
    let bank = authorise(store, &s.subject, "BANK-1")?;
    let (bank_auth, none) = store.record_forgery(bank.id, today())?;
    assert_eq!(
        bank_auth.revoked.map(|r| r.reason),
        Some(RevocationReason::Forged)
    );
    assert_eq!(none, None);
    let answer = store.query(
        &registered("BANK-1", RoleName::Grantee, Some(bank.id)),
        &s.subject,
        &as_of(today(), None)?,
    )?;
    assert_eq!(answer.refusal, Some(Refusal::AuthorisationForged));

    // An agency never granted bulk access, and an unknown one, are refused and logged.
    for (agency, expected) in [
        ("AG-2", Refusal::NoBulkAccess),
        ("AG-404", Refusal::UnknownRequester),
        ("BANK-1", Refusal::WrongRole),
    ] {
        let (outcome, lines) = bulk(store, agency, &codes)?;
        let (seq, refusal) = match outcome {
            Ok(summary) => return Err(format!("{agency}: answered: {summary:?}").into()),
            Err(refused) => refused,
        };
        assert_eq!(refusal, expected, "{agency}");
        assert!(lines.is_empty(), "{agency}");
        let entry = logged(store, seq)?;
        assert_eq!(entry.outcome, Outcome::Refused(expected), "{agency}");
        assert_eq!(entry.requester.as_deref(), Some(agency));
        assert_eq!(entry.kind, QueryKind::Bulk);
    }
    assert!(store.audit_verify()?.ok());
    Ok(())
}

#[test]
fn the_cli_records_authorisations_and_forgeries() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("data");
    let code = usccs(2004, 1)[0];
    let mut false_materials = line("FM-1", &code, NAME, "D-FALSE-MATERIALS", "2026-03-01");
    false_materials["ended_on"] = "2026-04-01".into();
    let file = write_file(
        tmp.path(),
        "auth.jsonl",
        jsonl(&[
            line("REG-1", &code, NAME, "B-ORG-REG", "2012-03-04"),
            false_materials,
        ]),
    )?;
    let file = file.to_str().ok_or("non-UTF-8 temp path")?;
    let run = credstore_in(&dir, &["ingest", "--provider", "SAMR-SH", file])?;
    assert_eq!(run.code, 0, "{}", run.stderr);

    for args in [
        &[
            "requester",
            "add",
            "BANK-1",
            "--role",
            "grantee",
            "--name",
            "某银行",
        ][..],
        &[
            "requester",
            "add",
            "AG-1",
            "--role",
            "agency",
            "--name",
            "某征信机构",
            "--bulk",
        ][..],
    ] {
        let run = credstore_in(&dir, args)?;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.starts_with("registered "), "{}", run.stdout);
    }

    let add = |grantee: &str| -> Result<u64, Box<dyn std::error::Error>> {
        let run = credstore_in(
            &dir,
            &[
                "authorisation",
                "add",
                "--subject",
                code.as_str(),
                "--grantee",
                grantee,
                "--scope",
                "dishonesty",
                "--until",
                "2026-12-31",
                "--document",
                "D",
            ],
        )?;
        assert_eq!(run.code, 0, "{}", run.stderr);
        Ok(run.stdout.trim().parse()?)
    };
    let bank_auth = add("BANK-1")?;
    let agency_auth = add("AG-1")?;
    assert_ne!(bank_auth, agency_auth);

    let bank_auth_text = bank_auth.to_string();
    let get = [
        "get",
        code.as_str(),
        "--as",
        "grantee",
        "--requester",
        "BANK-1",
        "--operator",
        "王五",
        "--purpose",
        "贷款审查",
        "--authorisation",
        bank_auth_text.as_str(),
    ];
    let run = credstore_in(&dir, &get)?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer: Value = serde_json::from_str(run.stdout.trim())?;
    assert_eq!(answer["status"], "found");
    let shown: Vec<&str> = answer["records"]
        .as_array()
        .ok_or("records")?
        .iter()
        .filter_map(|r| r["item"].as_str())
        .collect();
    assert_eq!(shown, ["B-ORG-REG", "D-FALSE-MATERIALS"], "{answer}");

    let codes = write_file(tmp.path(), "codes.txt", format!("{}\n", code.as_str()))?;
    let codes = codes.to_str().ok_or("non-UTF-8 temp path")?;
    let bulk_args = [
        "bulk-query",
        "--agency",
        "AG-1",
        "--operator",
        "钱七",
        "--purpose",
        "信用评估",
        codes,
    ];
    let run = credstore_in(&dir, &bulk_args)?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);

    // Forgeries: the grantee's authorisation, then the agency's, which takes its bulk access.
    let run = credstore_in(&dir, &["authorisation", "forged", &bank_auth_text])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("authorisation {bank_auth} recorded as forged")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("bulk-query access"), "{}", run.stdout);
    let run = credstore_in(&dir, &["authorisation", "forged", &agency_auth.to_string()])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("authorisation {agency_auth} recorded as forged")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("bulk-query access of agency AG-1 revoked"),
        "{}",
        run.stdout
    );

    let run = credstore_in(&dir, &get)?;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert!(run.stderr.contains("forged"), "{}", run.stderr);
    let answer: Value = serde_json::from_str(run.stdout.trim())?;
    assert_eq!(answer["status"], "refused");
    assert_eq!(answer["refusal"], "authorisation_forged");
    assert!(!run.stdout.contains(NAME), "{}", run.stdout);
    assert!(!run.stdout.contains("D-FALSE-MATERIALS"), "{}", run.stdout);

    let run = credstore_in(&dir, &bulk_args)?;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let run = credstore_in(&dir, &["requester", "list"])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let agency: Value = run
        .stdout
        .lines()
        .map(serde_json::from_str::<Value>)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|r| r["id"] == "AG-1")
        .ok_or("AG-1 not listed")?;
    assert_eq!(agency["bulk"]["forged_authorisation"], agency_auth);

    // The store's log holds the CLI's queries: two answered, then the two refusals.
    let store = Store::open(&dir)?;
    let log: Vec<QueryLogEntry> = store.query_log().collect::<Result<_, _>>()?;
    let outcomes: Vec<(QueryKind, Outcome, Option<u64>)> = log
        .iter()
        .map(|e| (e.kind, e.outcome, e.authorisation))
        .collect();
    assert_eq!(
        outcomes,
        [
            (QueryKind::Single, Outcome::Answered, Some(bank_auth)),
            (QueryKind::Bulk, Outcome::Answered, None),
            (
                QueryKind::Single,
                Outcome::Refused(Refusal::AuthorisationForged),
                Some(bank_auth)
            ),
            (
                QueryKind::Bulk,
                Outcome::Refused(Refusal::BulkAccessRevoked),
                None
            ),
        ]
    );
    assert!(log.iter().all(|e| e.operator.is_some()));
    Ok(())
}

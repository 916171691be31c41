//! Objections end to end (Art. 28-30) through the store: filing puts the objection mark on the
//! record, the comparison forwards it to the provider with a deadline counted in working days
//! across Spring Festival, the scheduler tick suspends the record when the provider misses it
//! (idempotently), each requester role sees the mark or the suspension as the law says, a
//! rejection clears the mark and a dispute brings it back, past-query-period objections settle at
//! once, notifications reach the outbox, and the state survives a reopen.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::objection::{Ground, State};
use credstore::query::model::{BulkAccess, Requester, Role};
use credstore::query::visibility::Withheld;
use credstore::query::{Asker, QueryOptions, Registered, RoleName};
use credstore::store::lifecycle::Recipient;
use credstore::Store;

struct Fixture {
    tmp: tempfile::TempDir,
    store: Store,
    org: SubjectCode,
    penalty: u64,
    old_penalty: u64,
}

fn fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let org = usccs(5151, 1)[0];
    let lines = vec![
        line(
            "PEN-1",
            &org,
            "上海异议测试有限公司",
            "D-PENALTY",
            "2025-03-01",
        ),
        line(
            "PEN-OLD",
            &org,
            "上海异议测试有限公司",
            "D-PENALTY",
            "2021-03-10",
        ),
    ];
    let path = write_file(tmp.path(), "p.jsonl", jsonl(&lines))?;
    let mut opts = options();
    opts.today = date("2026-01-05");
    let report = store.ingest_files("SAMR-SH", &[&path], &opts)?;
    assert_eq!(report.accepted, 2, "{:?}", report.rejects);
    let found = store.subject(&org)?.ok_or("subject")?;
    let id = |prid: &str| {
        found
            .records
            .iter()
            .find(|r| r.provider_record_id == prid)
            .map(|r| r.record_id.0)
            .ok_or("record")
    };
    let (penalty, old_penalty) = (id("PEN-1")?, id("PEN-OLD")?);
    store.register_requester(&Requester {
        id: "AG".into(),
        name: "agency".into(),
        role: Role::Agency {
            bulk: BulkAccess::None,
        },
        registered_on: date("2026-01-05"),
        active: true,
    })?;
    Ok(Fixture {
        tmp,
        store,
        org,
        penalty,
        old_penalty,
    })
}

/// What `asker` sees of record `id` on `day`: `None` if withheld (with the reason), else the
/// objection mark.
fn seen(
    store: &Store,
    asker: &Asker,
    org: &SubjectCode,
    id: u64,
    day: &str,
) -> Result<Result<bool, Vec<Withheld>>, Box<dyn std::error::Error>> {
    let answer = store.query(asker, org, &QueryOptions::new(date(day)))?;
    Ok(match answer.records.iter().find(|r| r.record_id == id) {
        Some(r) => Ok(r.objection_mark),
        None => Err(answer.withheld.iter().map(|w| w.reason).collect()),
    })
}

/// Runs the binary on the store in `data` as of `day` (`credstore_in` fixes the date).
fn at(data: &std::path::Path, day: &str, args: &[&str]) -> std::io::Result<Run> {
    let mut full = vec!["--data-dir", data.to_str().unwrap_or("?"), "--today", day];
    full.extend_from_slice(args);
    credstore(&full)
}

fn agency() -> Asker {
    Asker::Registered(Registered {
        requester: "AG".into(),
        role: RoleName::Agency,
        operator: "op".into(),
        purpose: "check".into(),
        matter: None,
        authorisation: None,
    })
}

fn subject() -> Asker {
    Asker::Subject {
        identity_proof: "ID-1".into(),
    }
}

#[test]
fn a_missed_deadline_suspends_until_the_provider_answers() -> TestResult {
    let f = fixture()?;
    let s = &f.store;
    assert_eq!(
        seen(s, &Asker::Public, &f.org, f.penalty, "2026-02-13")?,
        Ok(false)
    );

    // Filed Friday 13 February 2026, before the Spring Festival holiday (15-23 February).
    let o = s.file_objection(
        &f.org,
        f.penalty,
        Ground::ErrorOrOmission,
        date("2026-02-13"),
    )?;
    assert_eq!(o.state, State::Filed);
    assert_eq!(o.compare_due, date("2026-02-24"));
    assert_eq!(
        seen(s, &Asker::Public, &f.org, f.penalty, "2026-02-13")?,
        Ok(true)
    );

    // Compared on the adjusted working Saturday: forwarded, five working days to answer.
    let o = s.compare_objection(o.id, date("2026-02-14"))?;
    assert_eq!(o.state, State::Forwarded);
    assert_eq!(o.provider_due, Some(date("2026-02-28")));

    // The tick does nothing on the last day, suspends the day after, and only once.
    assert!(s.process_due(date("2026-02-28"))?.suspended.is_empty());
    assert_eq!(s.process_due(date("2026-03-01"))?.suspended, vec![o.id]);
    assert!(s.process_due(date("2026-03-02"))?.suspended.is_empty());
    assert_eq!(
        s.objection(o.id)?.ok_or("objection")?.state,
        State::Suspended
    );

    // Suspended from social queries: the public and agencies no longer see it; the subject does,
    // marked.
    for asker in [Asker::Public, agency()] {
        assert_eq!(
            seen(s, &asker, &f.org, f.penalty, "2026-03-02")?,
            Err(vec![Withheld::Suspended])
        );
    }
    assert_eq!(
        seen(s, &subject(), &f.org, f.penalty, "2026-03-02")?,
        Ok(true)
    );
    // Other records are untouched.
    assert_eq!(
        seen(s, &Asker::Public, &f.org, f.old_penalty, "2026-03-02")?,
        Ok(false)
    );

    // The provider answers late (rejecting): the suspension and the mark end...
    let o = s.respond_objection(o.id, false, date("2026-03-03"))?;
    assert_eq!(o.state, State::Rejected);
    assert_eq!(
        seen(s, &Asker::Public, &f.org, f.penalty, "2026-03-03")?,
        Ok(false)
    );
    // ...and come back, as a mark only, when the subject still disagrees.
    let o = s.dispute_objection(o.id, date("2026-03-04"))?;
    assert_eq!(o.state, State::Disputed);
    assert_eq!(
        seen(s, &agency(), &f.org, f.penalty, "2026-03-04")?,
        Ok(true)
    );
    assert!(s.dispute_objection(o.id, date("2026-03-05")).is_err());

    // The history names every transition with its date.
    let days: Vec<String> = o.history.iter().map(|t| t.on.to_string()).collect();
    assert_eq!(
        days,
        ["2026-02-14", "2026-03-01", "2026-03-03", "2026-03-04"]
    );

    // The outbox: the subject told of the forwarding and of the rejection, the provider of the
    // forwarding and of the missed deadline.
    let outbox = s.notifications()?;
    let to_provider = outbox
        .iter()
        .filter(|n| n.to == Recipient::Provider("SAMR-SH".into()))
        .count();
    let to_subject = outbox
        .iter()
        .filter(|n| n.to == Recipient::Subject(f.org))
        .count();
    assert_eq!((to_provider, to_subject), (2, 2), "{outbox:?}");
    let acked = s.ack_notification(outbox[0].seq, date("2026-03-05"))?;
    assert_eq!(acked.acked_on, Some(date("2026-03-05")));

    // Everything is stored: a reopened store shows the same mark.
    let (tmp, org, penalty) = (f.tmp, f.org, f.penalty);
    drop(f.store);
    let store = Store::open(tmp.path().join("store"))?;
    assert_eq!(
        seen(&store, &Asker::Public, &org, penalty, "2026-03-05")?,
        Ok(true)
    );
    assert_eq!(store.objections()?.len(), 1);
    Ok(())
}

#[test]
fn an_upheld_objection_clears_the_mark_and_illegal_steps_are_refused() -> TestResult {
    let f = fixture()?;
    let s = &f.store;
    let o = s.file_objection(
        &f.org,
        f.penalty,
        Ground::TradeSecretOrPrivacy,
        date("2025-09-30"),
    )?;
    // Two working days after 30 September 2025 skip National Day (1-8 October).
    assert_eq!(o.compare_due, date("2025-10-10"));
    assert!(
        s.respond_objection(o.id, true, date("2025-10-09")).is_err(),
        "not forwarded yet"
    );
    let o = s.compare_objection(o.id, date("2025-10-09"))?;
    // Five working days after Thursday 9 October: 10, 11 (adjusted working Saturday), 13, 14, 15.
    assert_eq!(o.provider_due, Some(date("2025-10-15")));
    let o = s.respond_objection(o.id, true, date("2025-10-15"))?;
    assert_eq!(o.state, State::Upheld);
    assert!(s.process_due(date("2025-12-01"))?.suspended.is_empty());
    assert_eq!(
        seen(s, &Asker::Public, &f.org, f.penalty, "2025-12-01")?,
        Ok(false)
    );
    assert!(s
        .file_objection(&f.org, 999_999, Ground::ErrorOrOmission, date("2025-12-01"))
        .is_err());
    Ok(())
}

#[test]
fn past_period_objections_settle_at_once() -> TestResult {
    let f = fixture()?;
    let s = &f.store;
    // PEN-OLD occurred 2021-03-10: its five years end on 2026-03-10.
    let early = s.file_objection(
        &f.org,
        f.old_penalty,
        Ground::PastQueryPeriod,
        date("2026-03-09"),
    )?;
    assert_eq!(early.state, State::Rejected);
    let late = s.file_objection(
        &f.org,
        f.old_penalty,
        Ground::PastQueryPeriod,
        date("2026-03-10"),
    )?;
    assert_eq!(late.state, State::Settled);
    // Settled: the record is out of the query interface for everyone, the subject included.
    assert_eq!(
        seen(s, &subject(), &f.org, f.old_penalty, "2026-03-10")?,
        Err(vec![Withheld::Expired])
    );
    let told: Vec<String> = s
        .notifications()?
        .into_iter()
        .filter(|n| n.to == Recipient::Subject(f.org))
        .map(|n| n.message)
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    Ok(())
}

#[test]
fn the_cli_walks_an_objection() -> TestResult {
    let f = fixture()?;
    let data = f.tmp.path().join("store");
    let (org, penalty) = (f.org, f.penalty);
    drop(f.store);
    let record = penalty.to_string();
    let run = at(
        &data,
        "2026-02-13",
        &[
            "objection",
            "file",
            "--subject",
            org.as_str(),
            "--record",
            &record,
            "--ground",
            "error",
        ],
    )?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let filed: serde_json::Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(filed["state"], "filed");
    assert_eq!(filed["compare_due"], "2026-02-24");
    let id = filed["id"].to_string();
    let run = at(&data, "2026-02-14", &["objection", "compare", &id])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = at(&data, "2026-03-02", &["process-due"])?;
    assert!(run.stdout.contains("1 objection(s)"), "{}", run.stdout);
    let run = credstore_in(&data, &["objection", "show", &id])?;
    let shown: serde_json::Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(shown["state"], "suspended");
    assert_eq!(shown["history"].as_array().map(Vec::len), Some(2));
    let run = at(&data, "2026-03-02", &["objection", "dispute", &id])?;
    assert_eq!(run.code, 1, "a suspended objection cannot be disputed");
    let run = credstore_in(&data, &["notifications", "list", "--pending"])?;
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
    Ok(())
}

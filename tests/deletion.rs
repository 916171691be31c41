//! Deletion on request (Art. 27 ¶2): only commendation, volunteer and charity records are
//! deleted, others are refused with the reason; the deletion is due within 2 working days and
//! carried out by the scheduler tick (idempotently) or at once; the records leave the subject,
//! each provider is told, and a resubmission of a deleted record — by file or by bulk load,
//! before or after a reopen — is refused instead of bringing it back.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::ingest::bulk::Source;
use credstore::query::{Asker, QueryOptions};
use credstore::store::lifecycle::Recipient;
use credstore::Store;

fn lines(p: &SubjectCode) -> String {
    jsonl(&[
        line("C-1", p, "刘删除", "O-COMMENDATION", "2024-05-01"),
        line("V-1", p, "刘删除", "O-VOLUNTEER", "2024-06-01"),
        line("P-1", p, "刘删除", "D-PENALTY", "2025-01-10"),
    ])
}

fn items(store: &Store, p: &SubjectCode) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(store
        .records(p)?
        .iter()
        .map(|r| r.current().content.item.clone())
        .collect())
}

#[test]
fn only_deletable_records_go_and_never_come_back() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let p = person(6161, "1985-08-08");
    let path = write_file(tmp.path(), "civil.jsonl", lines(&p))?;
    store.ingest_files("CIVIL-SH", &[&path], &options())?;
    let ids: Vec<u64> = store.records(&p)?.iter().map(|r| r.record_id.0).collect();
    assert_eq!(ids.len(), 3);

    // Received Friday 2025-09-26: Saturday is off, Sunday 28 September an adjusted working day
    // (the first), Monday the second: due 2025-09-29.
    let request = store.request_deletion(&p, &ids, date("2025-09-26"), false)?;
    assert_eq!(request.due_on, date("2025-09-29"));
    assert_eq!(request.records.len(), 2);
    assert_eq!(request.refused.len(), 1);
    assert!(
        request.refused[0].1.contains("D-PENALTY"),
        "{:?}",
        request.refused
    );
    assert_eq!(
        items(&store, &p)?.len(),
        3,
        "not carried out before the tick"
    );

    let report = store.process_due(date("2025-09-26"))?;
    assert_eq!(report.deleted, vec![request.id]);
    assert!(
        store.process_due(date("2025-09-29"))?.deleted.is_empty(),
        "idempotent"
    );
    assert_eq!(items(&store, &p)?, ["D-PENALTY"]);
    let own = store.query(
        &Asker::Subject {
            identity_proof: "ID".into(),
        },
        &p,
        &QueryOptions::new(today()),
    )?;
    assert_eq!(own.records.len(), 1);
    assert!(
        own.withheld.is_empty(),
        "deleted records are not 'withheld': they are gone"
    );

    // The provider was told, once per record.
    let told: Vec<_> = store
        .notifications()?
        .into_iter()
        .filter(|n| n.to == Recipient::Provider("CIVIL-SH".into()))
        .collect();
    assert_eq!(told.len(), 2);
    assert!(told.iter().all(|n| n.message.contains("Art. 27")));

    // The provider's next monthly file does not bring them back.
    let again = store.ingest_files("CIVIL-SH", &[&path], &options())?;
    assert_eq!(
        (again.accepted, again.duplicates, again.rejected),
        (0, 1, 2)
    );
    assert!(again
        .rejects
        .iter()
        .all(|r| r.reason.contains("deleted on the subject's request")));
    assert_eq!(items(&store, &p)?, ["D-PENALTY"]);

    // Nor after a reopen, nor through a bulk load.
    drop(store);
    let store = Store::open(tmp.path().join("store"))?;
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("CIVIL-SH"))?;
    std::fs::copy(&path, tree.join("CIVIL-SH").join("civil.jsonl"))?;
    let sources = vec![Source {
        provider: "CIVIL-SH".into(),
        path: tree.join("CIVIL-SH").join("civil.jsonl"),
    }];
    let bulk = store.ingest_bulk(&sources, &options())?;
    assert_eq!((bulk.accepted, bulk.rejected), (0, 2), "{bulk:?}");
    assert_eq!(items(&store, &p)?, ["D-PENALTY"]);
    // The search index still knows the subject.
    assert!(!store
        .search(credstore::search::Requester::Entitled, p.as_str(), 1)?
        .is_empty());
    Ok(())
}

#[test]
fn at_once_and_through_the_cli() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("store");
    let store = Store::open(&data)?;
    let p = person(6262, "1979-01-01");
    ingest_jsonl(&store, "CIVIL-SH", "c.jsonl", &lines(&p))?;
    // Every deletable record, at once.
    let done = store.request_deletion(&p, &[], today(), true)?;
    assert_eq!(done.done_on, Some(today()));
    assert_eq!(done.records.len(), 2);
    assert!(done.refused.is_empty());
    assert_eq!(items(&store, &p)?, ["D-PENALTY"]);
    let penalty = store.records(&p)?[0].record_id.0;
    drop(store);

    // The CLI refuses the penalty with the reason and exit 1.
    let run = credstore_in(
        &data,
        &[
            "deletion",
            "request",
            "--subject",
            p.as_str(),
            "--record",
            &penalty.to_string(),
            "--now",
        ],
    )?;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(printed["records"].as_array().map(Vec::len), Some(0));
    assert!(printed["refused"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("Art. 27")));
    assert!(!run.stdout.contains(p.as_str()), "the code is masked");
    let run = credstore_in(&data, &["deletion", "list"])?;
    assert_eq!(run.stdout.lines().count(), 2);
    Ok(())
}

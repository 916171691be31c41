//! Queries, searches and bulk lookups from several threads while ingests, objection transitions
//! and retention sweeps run (issue 7, part 5): everything finishes (no deadlock), every answer
//! is one some serial order could give (a subject's records other than the first only ever grow
//! while ingest only adds; its first record, due on 2030-01-01, is shown until a sweep as of
//! 2030-01-15 archives it and never again after; an objection mark never shows on a record
//! without an objection), every query left exactly one log entry, and both log chains verify
//! afterwards.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::objection::Ground;
use credstore::query::bulk::{BulkInput, BulkRequest};
use credstore::query::model::{BulkAccess, Requester, Role};
use credstore::query::{Asker, QueryOptions, Status};
use credstore::store::retention::SweepOptions;
use credstore::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

const SUBJECTS: usize = 40;
const ROUNDS: usize = 20;

#[test]
fn readers_and_writers_interleave_without_tearing() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Arc::new(Store::open(tmp.path().join("store"))?);
    let orgs: Vec<SubjectCode> = usccs(7070, SUBJECTS);
    let first: Vec<_> = orgs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            line(
                &format!("R0-{i}"),
                o,
                &format!("上海并发{i}有限公司"),
                "D-PENALTY",
                "2025-01-01",
            )
        })
        .collect();
    ingest_jsonl(&store, "SAMR-SH", "first.jsonl", &jsonl(&first))?;
    store.register_requester(&Requester {
        id: "AG".into(),
        name: "agency".into(),
        role: Role::Agency {
            bulk: BulkAccess::Granted { since: today() },
        },
        registered_on: today(),
        active: true,
    })?;
    let log_before = store.query_log().count() as u64;
    let queries = Arc::new(AtomicU64::new(0));
    let writing = Arc::new(AtomicBool::new(true));
    let objected: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();

    std::thread::scope(|scope| -> TestResult {
        // Writers: ingest rounds adding a record per subject; objections on the first records.
        let ingest = {
            let store = Arc::clone(&store);
            let orgs = orgs.clone();
            scope.spawn(move || -> credstore::Result<()> {
                for round in 1..=ROUNDS {
                    let lines: Vec<_> = orgs
                        .iter()
                        .enumerate()
                        .map(|(i, o)| {
                            line(
                                &format!("R{round}-{i}"),
                                o,
                                &format!("上海并发{i}有限公司"),
                                "D-PENALTY",
                                "2025-02-02",
                            )
                        })
                        .collect();
                    ingest_jsonl(
                        &store,
                        "SAMR-SH",
                        &format!("round{round}.jsonl"),
                        &jsonl(&lines),
                    )?;
                }
                Ok(())
            })
        };
        let objections = {
            let (store, orgs, objected) = (Arc::clone(&store), orgs.clone(), Arc::clone(&objected));
            scope.spawn(move || -> credstore::Result<()> {
                for org in orgs.iter().take(10) {
                    let record = store.records(org)?[0].record_id.0;
                    objected
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(record);
                    let o = store.file_objection(
                        org,
                        record,
                        Ground::ErrorOrOmission,
                        date("2026-03-02"),
                    )?;
                    store.compare_objection(o.id, date("2026-03-02"))?;
                    store.process_due(date("2026-03-20"))?;
                }
                Ok(())
            })
        };
        // Sweeps as of a day when only the first records (R0, due 2030-01-01) have passed their
        // query period, several times (each after the first finds nothing), then a dry run.
        let sweeps = {
            let store = Arc::clone(&store);
            scope.spawn(move || -> credstore::Result<u64> {
                let mut archived = 0;
                for _ in 0..3 {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    archived += store
                        .sweep(&SweepOptions {
                            as_of: date("2030-01-15"),
                            dry_run: false,
                        })?
                        .archived;
                }
                Ok(archived)
            })
        };
        // Readers.
        let mut readers = Vec::new();
        for t in 0..2 {
            let (store, orgs, queries, writing, objected) = (
                Arc::clone(&store),
                orgs.clone(),
                Arc::clone(&queries),
                Arc::clone(&writing),
                Arc::clone(&objected),
            );
            readers.push(scope.spawn(move || -> Result<(), String> {
                let mut seen: HashMap<SubjectCode, usize> = HashMap::new();
                let mut swept: std::collections::HashSet<SubjectCode> = Default::default();
                let mut i = t;
                let mut last_round = false;
                loop {
                    let org = orgs[i % orgs.len()];
                    i += 7;
                    // As the subject: it sees suspended records too, so with ingest only adding,
                    // its record count can only grow.
                    let subject = Asker::Subject {
                        identity_proof: "ID".into(),
                    };
                    let answer = store
                        .query(&subject, &org, &QueryOptions::new(date("2026-03-20")))
                        .map_err(|e| e.to_string())?;
                    queries.fetch_add(1, Ordering::Relaxed);
                    if answer.status != Status::Found {
                        return Err("a stored subject was not found".into());
                    }
                    let first = answer
                        .records
                        .iter()
                        .any(|r| r.provider_record_id.starts_with("R0-"));
                    let n = answer.records.len() - usize::from(first);
                    let before = seen.insert(org, n).unwrap_or(0);
                    if n < before {
                        return Err(format!("records went from {before} to {n}"));
                    }
                    if first && swept.contains(&org) {
                        return Err("an archived record came back".into());
                    }
                    if !first {
                        swept.insert(org);
                    }
                    let marked = objected.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    if let Some(r) = answer
                        .records
                        .iter()
                        .find(|r| r.objection_mark && !marked.contains(&r.record_id))
                    {
                        return Err(format!(
                            "record {} marked without an objection",
                            r.record_id
                        ));
                    }
                    let hits = store
                        .search_as(&Asker::Public, "并发", 5, &QueryOptions::new(today()))
                        .map_err(|e| e.to_string())?;
                    queries.fetch_add(1, Ordering::Relaxed);
                    if hits.hits.is_empty() {
                        return Err("search found nothing".into());
                    }
                    if last_round {
                        return Ok(());
                    }
                    last_round = !writing.load(Ordering::Acquire);
                }
            }));
        }
        let bulk = {
            let (store, orgs, queries, writing) = (
                Arc::clone(&store),
                orgs.clone(),
                Arc::clone(&queries),
                Arc::clone(&writing),
            );
            scope.spawn(move || -> Result<(), String> {
                let input: String = orgs.iter().map(|o| format!("{}\n", o.as_str())).collect();
                let request = BulkRequest {
                    agency: "AG".into(),
                    operator: "op".into(),
                    purpose: "concurrency".into(),
                    today: date("2026-03-20"),
                    input: BulkInput::Lines,
                };
                loop {
                    let done = !writing.load(Ordering::Acquire);
                    let mut found = 0;
                    store
                        .bulk_query(
                            &request,
                            input.as_bytes(),
                            // Found, even when every record is withheld (suspended).
                            |l| l.status == credstore::query::bulk::BulkStatus::Found,
                            |f| {
                                found += usize::from(f);
                                Ok(())
                            },
                        )
                        .map_err(|e| e.to_string())?
                        .map_err(|(_, r)| r.to_string())?;
                    queries.fetch_add(1, Ordering::Relaxed);
                    if found != orgs.len() {
                        return Err(format!("bulk found {found} of {}", orgs.len()));
                    }
                    if done {
                        return Ok(());
                    }
                }
            })
        };
        let swept = sweeps.join().map_err(|_| "sweeps panicked")??;
        assert_eq!(
            swept, SUBJECTS as u64,
            "the first sweep archives each first record once"
        );
        let ingested = ingest.join().map_err(|_| "ingest panicked")?;
        let objected_ok = objections.join().map_err(|_| "objections panicked")?;
        writing.store(false, Ordering::Release);
        ingested?;
        objected_ok?;
        for r in readers {
            r.join().map_err(|_| "reader panicked")??;
        }
        bulk.join().map_err(|_| "bulk panicked")??;
        Ok(())
    })?;

    // Every query left one entry, and both chains verify.
    let logged = store.query_log().count() as u64 - log_before;
    assert_eq!(logged, queries.load(Ordering::Relaxed));
    let report = store.audit_verify()?;
    assert!(report.ok(), "{report:?}");
    // The final state is what the serial writes give: 1 + ROUNDS records a subject (the first
    // archived, still stored), 10 marked, and the archive agrees with the rule.
    for org in &orgs {
        assert_eq!(store.records(org)?.len(), 1 + ROUNDS);
    }
    assert_eq!(store.archived_set().len(), SUBJECTS as u64);
    assert!(store.verify_retention(None)?.is_ok());
    let marks: usize = orgs
        .iter()
        .map(|o| store.record_marks(o).map(|m| m.len()))
        .sum::<credstore::Result<usize>>()?;
    assert_eq!(marks, 10);
    Ok(())
}

//! `credstore objection ...`, `credstore notifications ...`, `credstore process-due`.

use super::args::{DeletionAction, GroundArg, NotificationAction, ObjectionAction};
use credstore::domain::date::Date;
use credstore::domain::objection::{Ground, Objection};
use credstore::store::lifecycle::{DeletionRequest, Notification, Recipient};
use std::io::Write;
use std::path::Path;

/// An objection as the CLI prints it (the subject's code masked).
fn objection_json(o: &Objection, history: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": o.id,
        "subject": o.subject.masked(),
        "record_id": o.record_id,
        "provider": o.provider,
        "ground": o.ground,
        "filed_on": o.filed_on,
        "state": o.state,
        "open": o.state.is_open(),
        "objection_mark": o.state.mark().0,
        "suspended": o.state.mark().1,
        "compare_due": o.compare_due,
        "provider_due": o.provider_due,
    });
    if history {
        v["history"] = serde_json::to_value(&o.history).unwrap_or_default();
    }
    v
}

fn notification_json(n: &Notification) -> serde_json::Value {
    serde_json::json!({
        "seq": n.seq,
        "on": n.on,
        "to": match &n.to {
            Recipient::Subject(code) => format!("subject {}", code.masked()),
            Recipient::Provider(p) => format!("provider {p}"),
        },
        "objection": n.objection,
        "record_id": n.record_id,
        "message": n.message,
        "acked_on": n.acked_on,
    })
}

fn print(v: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

pub fn objection(data_dir: &Path, today: Date, action: ObjectionAction) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    let done = match action {
        ObjectionAction::File {
            subject,
            record,
            ground,
        } => {
            let Some(code) = super::query::parse_code(&subject, today) else {
                return Ok(1);
            };
            let ground = match ground {
                GroundArg::Error => Ground::ErrorOrOmission,
                GroundArg::Privacy => Ground::TradeSecretOrPrivacy,
                GroundArg::PastPeriod => Ground::PastQueryPeriod,
            };
            store.file_objection(&code, record, ground, today)?
        }
        ObjectionAction::Compare { id } => store.compare_objection(id, today)?,
        ObjectionAction::Respond { id, upheld, .. } => {
            store.respond_objection(id, upheld, today)?
        }
        ObjectionAction::Dispute { id } => store.dispute_objection(id, today)?,
        ObjectionAction::List => {
            for o in store.objections()? {
                print(&objection_json(&o, false))?;
            }
            return Ok(0);
        }
        ObjectionAction::Show { id } => match store.objection(id)? {
            Some(o) => o,
            None => {
                eprintln!("credstore: no objection {id}");
                return Ok(1);
            }
        },
    };
    print(&objection_json(&done, true))?;
    Ok(0)
}

pub fn notifications(
    data_dir: &Path,
    today: Date,
    action: NotificationAction,
) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    match action {
        NotificationAction::List { pending } => {
            for n in store.notifications()? {
                if !pending || n.acked_on.is_none() {
                    print(&notification_json(&n))?;
                }
            }
        }
        NotificationAction::Ack { seq } => {
            let n = store.ack_notification(seq, today)?;
            print(&notification_json(&n))?;
        }
    }
    Ok(0)
}

fn deletion_json(d: &DeletionRequest) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "subject": d.subject.masked(),
        "received_on": d.received_on,
        "due_on": d.due_on,
        "records": d.records,
        "refused": d.refused.iter().map(|(id, why)| serde_json::json!({"record_id": id, "reason": why})).collect::<Vec<_>>(),
        "done_on": d.done_on,
    })
}

pub fn deletion(data_dir: &Path, today: Date, action: DeletionAction) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    match action {
        DeletionAction::Request {
            subject,
            records,
            now,
        } => {
            let Some(code) = super::query::parse_code(&subject, today) else {
                return Ok(1);
            };
            let request = store.request_deletion(&code, &records, today, now)?;
            print(&deletion_json(&request))?;
            Ok(if request.refused.is_empty() { 0 } else { 1 })
        }
        DeletionAction::List => {
            for d in store.deletion_requests()? {
                print(&deletion_json(&d))?;
            }
            Ok(0)
        }
    }
}

pub fn process_due(data_dir: &Path, today: Date, sweep: bool) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    let report = store.process_due_with(today, sweep)?;
    println!(
        "process-due {today}: {} objection(s) past the provider's deadline, record(s) suspended: {:?}; {} deletion request(s) carried out: {:?}",
        report.suspended.len(),
        report.suspended,
        report.deleted.len(),
        report.deleted
    );
    if let Some(swept) = &report.swept {
        print_sweep(swept)?;
    }
    Ok(0)
}

pub fn sweep(
    data_dir: &Path,
    today: Date,
    dry_run: bool,
    verify: bool,
    json: bool,
) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    if verify {
        let started = std::time::Instant::now();
        let check = store.verify_retention(Some(today))?;
        if json {
            println!("{}", serde_json::to_string_pretty(&check)?);
        } else {
            println!(
                "verified {} records of {} subjects in {:.2} s: {} with a query period, {} archived (latest sweep as of {})",
                check.records,
                check.subjects,
                started.elapsed().as_secs_f64(),
                check.with_period,
                check.archived,
                check
                    .swept_as_of
                    .map_or_else(|| "none".to_string(), |d| d.to_string())
            );
            println!(
                "due as of the latest sweep but not archived: {}{}",
                check.due_not_archived,
                if check.examples.is_empty() {
                    String::new()
                } else {
                    format!(" (record ids {:?})", check.examples)
                }
            );
            println!(
                "archived, current version not due (corrected after archiving): {}",
                check.archived_not_due
            );
            println!(
                "due as of {today} and not archived yet (the next sweep's): {}",
                check.due_on_given_day
            );
        }
        return Ok(if check.is_ok() { 0 } else { 1 });
    }
    let report = store.sweep(&credstore::store::retention::SweepOptions {
        as_of: today,
        dry_run,
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_sweep(&report)?;
    }
    Ok(0)
}

fn print_sweep(report: &credstore::store::retention::SweepReport) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let verb = if report.dry_run {
        "would archive"
    } else {
        "archived"
    };
    writeln!(
        out,
        "sweep as of {}: {verb} {} record(s) past their query period{}",
        report.as_of,
        report.archived,
        report
            .sweep_id
            .map_or_else(String::new, |id| format!(" (sweep {id})"))
    )?;
    for (item, count) in &report.by_item {
        writeln!(out, "  {item:<24} {count:>10}")?;
    }
    Ok(())
}

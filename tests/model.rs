//! Model-based property test (issue 7, item 3; STYLE habit 10): random sequences of operations
//! applied to a real `Store` and to a plain in-memory model (`model/rules.rs`), compared after
//! every step.
//!
//! Operations: ingests of small provider files (new records for a pool of subjects, invalid lines
//! of several kinds, resubmissions identical or changed, records moved to another subject or
//! category), days passing, objections (file, compare, respond upheld / rejected, dispute) and
//! the scheduler tick, deletion requests and their execution, and reopening the store.
//! Compared after each step: the outcome of the operation; every pool subject as stored (name,
//! former names, records with their ids, categories and every version); what each of nine
//! requesters is shown of each subject (records, version, objection mark, query period,
//! withheld counts by reason, refusals, the code's masking); every objection and deletion
//! request.
//!
//! Cases: `CREDSTORE_MODEL_CASES` (or `PROPTEST_CASES`), default 48. A long run:
//! `CREDSTORE_MODEL_CASES=1000 cargo test --release --test model`.

mod common;
#[path = "model/lifecycle.rs"]
mod lifecycle;
#[path = "model/ops.rs"]
mod ops;
#[path = "model/real.rs"]
mod real;
#[path = "model/rules.rs"]
mod rules;
#[path = "model/visibility.rs"]
mod visibility;

use credstore::domain::date::Date;
use credstore::search::Requester;
use credstore::Error;
use ops::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use real::{err, expected_code, Checked, DeletionView, ObjectionView, Real, SubjectView};
use rules::*;
use visibility::*;

/// The run's first day: a Monday in the calendar's tables, with room for a year of steps, a
/// few days before 29 February 2020's fifth anniversary (28 February 2025).
const FIRST_DAY: &str = "2025-02-17";
/// Days do not pass beyond this one, so every deadline is inside the calendar's tables.
const LAST_DAY: &str = "2026-11-30";
/// A record id no record has (deletion requests and objections naming it are refused).
const NO_SUCH_RECORD: u64 = 9_999_999;

fn cases() -> u32 {
    ["CREDSTORE_MODEL_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
        .unwrap_or(48)
}

// ---- running a sequence ----

fn check<T: PartialEq + std::fmt::Debug>(what: &str, model: T, store: T) -> Checked<()> {
    if model == store {
        Ok(())
    } else {
        Err(format!("{what}:\n  model: {model:?}\n  store: {store:?}"))
    }
}

/// `Ok(Some)` for a success, `Ok(None)` for a refusal (`Error::Invalid`), `Err` otherwise.
fn refusable<T>(r: credstore::Result<T>) -> Checked<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Invalid(_)) => Ok(None),
        Err(e) => Err(format!("unexpected error: {e}")),
    }
}

/// The id an operation on the `pick`th objection or request names: one of the `n` known, or
/// the next (unknown) one.
fn pick_id(pick: usize, n: usize) -> u64 {
    (pick % (n + 1)) as u64 + 1
}

/// Applies one operation to both sides and compares what each returned.
fn step(model: &mut Model, real: &mut Real, op: &Op) -> Checked<()> {
    let calendar = real.store().calendar().clone();
    let today = model.today;
    match op {
        Op::Ingest {
            provider,
            lines,
            path,
        } => {
            let provider = PROVIDERS[*provider];
            let mut concrete_lines = Vec::new();
            let mut earlier = Vec::new();
            for l in lines {
                let Some(line) = concrete(model, provider, &earlier, l) else {
                    continue;
                };
                if let (Line::Fields(f), Ok(_)) = (&line, model.validate(&line)) {
                    earlier.push((provider.to_string(), f.clone()));
                }
                concrete_lines.push(line);
            }
            let chunk_lines = match path {
                Path::Chunks(n) => Some(*n),
                Path::Bulk => None,
            };
            let got = real.ingest(model, provider, &concrete_lines, chunk_lines)?;
            let want = model.ingest(provider, &concrete_lines);
            tally("lines accepted", want.accepted);
            tally("lines duplicate", want.duplicates);
            tally("lines new version", want.new_versions);
            tally("lines rejected", want.rejected);
            check("ingest report", want, got)
        }
        Op::Advance { days } => {
            // Deadlines must stay inside the calendar's tables (2019-2026).
            let last = Date::parse(LAST_DAY).map_err(err("last day"))?;
            model.today = plus_days(today, *days).min(last);
            Ok(())
        }
        Op::File {
            subject,
            record,
            ground,
        } => {
            let ground = GROUNDS[*ground];
            let key = resolve(model, *subject, record);
            let want = key
                .as_ref()
                .ok()
                .and_then(|k| model.file(&calendar, *subject, k, ground))
                .map(|o| ObjectionView::from(&o));
            let Some(code) = model.pool[*subject].code else {
                return check("objection on an invalid code", want, None);
            };
            let id = key.as_ref().map_or_else(|id| *id, |k| real.id_of(k));
            let got = refusable(real.store().file_objection(&code, id, ground, today))?;
            let got = got.map(|o| real.objection(&o, model)).transpose()?;
            check("file objection", want, got)
        }
        Op::Compare { objection } => {
            let id = pick_id(*objection, model.objections.len());
            let want = model
                .compare(&calendar, id)
                .map(|o| ObjectionView::from(&o));
            let got = refusable(real.store().compare_objection(id, today))?;
            let got = got.map(|o| real.objection(&o, model)).transpose()?;
            check("compare objection", want, got)
        }
        Op::Respond { objection, upheld } => {
            let id = pick_id(*objection, model.objections.len());
            let want = model.respond(id, *upheld).map(|o| ObjectionView::from(&o));
            let got = refusable(real.store().respond_objection(id, *upheld, today))?;
            let got = got.map(|o| real.objection(&o, model)).transpose()?;
            check("respond to objection", want, got)
        }
        Op::Dispute { objection } => {
            let id = pick_id(*objection, model.objections.len());
            let want = model.dispute(id).map(|o| ObjectionView::from(&o));
            let got = refusable(real.store().dispute_objection(id, today))?;
            let got = got.map(|o| real.objection(&o, model)).transpose()?;
            check("dispute objection", want, got)
        }
        Op::ProcessDue => {
            let want = model.process_due();
            tally("process_due suspensions", want.0.len() as u64);
            let got = real
                .store()
                .process_due(today)
                .map_err(err("process_due"))?;
            check("process_due", want, (got.suspended, got.deleted))
        }
        Op::RequestDeletion {
            subject,
            named,
            at_once,
        } => request_deletion(model, real, *subject, named, *at_once),
        Op::CarryOut { request } => {
            let id = pick_id(*request, model.deletions.len());
            let want = model.carry_out(id).map(|d| DeletionView::from(&d));
            let got = refusable(real.store().carry_out_deletion(id, today))?;
            let got = got.map(|d| real.deletion(&d, model)).transpose()?;
            check("carry out deletion", want, got)
        }
        Op::Reopen => real.reopen(),
        Op::Sweep => {
            let want = model.sweep();
            tally("records archived by sweeps", want);
            let got = real
                .store()
                .sweep(&credstore::store::retention::SweepOptions {
                    as_of: today,
                    dry_run: false,
                })
                .map_err(err("sweep"))?;
            check("sweep", want, got.archived)
        }
    }
}

/// The record `named` stands for: a key the model knows, or an id no record has.
fn resolve(model: &Model, subject: usize, named: &Named) -> Result<Key, u64> {
    match named {
        Named::Own(i) => model.pick_record(subject, *i).ok_or(NO_SUCH_RECORD),
        Named::Any(i) if !model.index.is_empty() => Ok(model
            .index
            .keys()
            .nth(i % model.index.len())
            .cloned()
            .ok_or(NO_SUCH_RECORD)?),
        Named::Any(_) | Named::Bogus => Err(NO_SUCH_RECORD),
    }
}

fn request_deletion(
    model: &mut Model,
    real: &mut Real,
    subject: usize,
    named: &[Named],
    at_once: bool,
) -> Checked<()> {
    let calendar = real.store().calendar().clone();
    let named: Vec<Result<Key, u64>> = named.iter().map(|n| resolve(model, subject, n)).collect();
    let mut want = model.request_deletion(&calendar, subject, &named);
    if let (Some(request), true) = (&want, at_once) {
        want = model.carry_out(request.id);
    }
    let want = want.map(|d| DeletionView::from(&d));
    let Some(code) = model.pool[subject].code else {
        return check("deletion request with an invalid code", want, None);
    };
    let ids: Vec<u64> = named
        .iter()
        .map(|n| n.as_ref().map_or_else(|id| *id, |k| real.id_of(k)))
        .collect();
    let got = refusable(
        real.store()
            .request_deletion(&code, &ids, model.today, at_once),
    )?;
    let got = got.map(|d| real.deletion(&d, model)).transpose()?;
    check("deletion request", want, got)
}

/// Compares everything observable: subjects (as stored, counted, found by search), answers to
/// every viewer, objections, deletion requests, notifications.
fn compare_all(model: &Model, real: &mut Real) -> Checked<()> {
    for (i, p) in model.pool.iter().enumerate() {
        let Some(code) = p.code else { continue };
        let got = real.subject(&code)?;
        let want = model
            .subjects
            .get(&i)
            .map(|s| SubjectView::of_model(s, real));
        check(&format!("subject {i}"), want, got)?;
        // Every stored subject is searchable by its code, under its current name.
        let hits = real
            .store()
            .search(Requester::Entitled, code.as_str(), 1)
            .map_err(err("search"))?;
        let want = model.subjects.get(&i).map(|s| s.name.clone());
        let got = hits.first().map(|h| h.name.clone());
        check(&format!("subject {i} found by code"), want, got)?;
    }
    let stats = real.store().stats().map_err(err("stats"))?;
    let records = || model.subjects.values().flat_map(|s| s.records.values());
    let want = (
        model.subjects.len() as u64,
        records().count() as u64,
        records().map(|r| r.versions.len() as u64).sum::<u64>(),
    );
    check(
        "stats (subjects, records, versions)",
        want,
        (stats.subjects, stats.records, stats.versions),
    )?;
    for (i, p) in model.pool.iter().enumerate() {
        let Some(code) = p.code else { continue };
        for viewer in VIEWERS {
            let (got, shown_code) = real.answer(viewer, i, &code, model.today)?;
            let want = model.answer(viewer, i, |k| real.id_of(k));
            let refused = matches!(want, AnswerM::Refused(_));
            check(&format!("subject {i} as {viewer:?}"), want, got)?;
            check(
                &format!("subject {i}'s code as {viewer:?} sees it"),
                expected_code(model, viewer, i, refused),
                shown_code,
            )?;
        }
    }
    let store = real.store();
    let mut got = Vec::new();
    for o in store.objections().map_err(err("objections"))? {
        got.push(real.objection(&o, model)?);
    }
    let want: Vec<_> = model.objections.iter().map(ObjectionView::from).collect();
    check("objections", want, got)?;
    let mut got = Vec::new();
    for d in store.deletion_requests().map_err(err("deletions"))? {
        got.push(real.deletion(&d, model)?);
    }
    let want: Vec<_> = model.deletions.iter().map(DeletionView::from).collect();
    check("deletion requests", want, got)?;
    let mut want = model.notices.clone();
    want.sort();
    check("notifications", want, real.notices(model)?)
}

/// How often each interesting thing happened over the run, so a reader can see the generator
/// reaches them (printed with `CREDSTORE_MODEL_STATS=1`).
static TALLY: std::sync::Mutex<std::collections::BTreeMap<String, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn tally(what: impl Into<String>, n: u64) {
    let mut t = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    *t.entry(what.into()).or_default() += n;
}

/// Tallies what the model holds after a case.
fn tally_case(model: &Model, real: &Real) {
    for o in &model.objections {
        tally(format!("objection ends {:?}", o.state), 1);
    }
    for d in &model.deletions {
        tally(
            format!("deletion requests done: {}", d.done_on.is_some()),
            1,
        );
        tally("records deleted on request", d.records.len() as u64);
    }
    for s in model.subjects.values() {
        for r in s.records.values() {
            tally(
                format!("records with {} version(s)", r.versions.len().min(3)),
                1,
            );
        }
        tally("former names", s.former_names.len() as u64);
    }
    for i in 0..model.pool.len() {
        for viewer in VIEWERS {
            match model.answer(viewer, i, |k| real.id_of(k)) {
                AnswerM::Found {
                    shown, withheld, ..
                } => {
                    let marked = shown.iter().filter(|s| s.objection_mark).count();
                    tally("final answers: marked records shown", marked as u64);
                    for (reason, n) in withheld {
                        tally(format!("final answers: withheld {reason:?}"), n);
                    }
                }
                other => tally(format!("final answers: {other:?}"), 1),
            }
        }
    }
}

/// Runs `ops` on a fresh store and a fresh model, comparing after every step.
fn run(ops: &[Op]) -> Checked<()> {
    let first_day = Date::parse(FIRST_DAY).map_err(err("first day"))?;
    let mut model = Model::new(pool(), first_day);
    let mut real = Real::new(&model)?;
    compare_all(&model, &mut real)?;
    for (n, op) in ops.iter().enumerate() {
        let day = model.today;
        step(&mut model, &mut real, op).map_err(|e| format!("step {n} ({op:?}) on {day}: {e}"))?;
        compare_all(&model, &mut real)
            .map_err(|e| format!("after step {n} ({op:?}) on {}: {e}", model.today))?;
    }
    tally_case(&model, &real);
    Ok(())
}

#[test]
fn the_store_behaves_like_the_model() {
    let config = Config {
        cases: cases(),
        max_shrink_iters: 1_024,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&ops(), |ops| run(&ops).map_err(TestCaseError::fail));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(_, ops)) => {
            let why = run(&ops)
                .err()
                .unwrap_or_else(|| "(passes when re-run)".into());
            let listed: Vec<String> = ops.iter().map(|op| format!("    {op:?},")).collect();
            panic!("minimal failing case:\n{}\n{why}", listed.join("\n"));
        }
        Err(e) => panic!("{e}"),
    }
    if std::env::var_os("CREDSTORE_MODEL_STATS").is_some() {
        let t = TALLY.lock().unwrap_or_else(|p| p.into_inner());
        for (what, n) in t.iter() {
            eprintln!("{n:>8}  {what}");
        }
    }
}

// ---- regressions: minimal cases the property test found, kept as plain tests ----

/// A new line for `subject` with provider record id `P<subject>-<prid>` under `item`, 10 days
/// old, every optional field absent.
fn new_line(subject: usize, prid: u8, item: &str) -> LineOp {
    LineOp::New {
        subject,
        prid,
        shared_prid: false,
        item: item_index(item),
        when: When::DaysAgo(10),
        ended_after: None,
        disclosure: 0,
        name: 0,
        amount: None,
        title: 0,
        form: 0,
        no_name: false,
    }
}

fn ingest(lines: Vec<LineOp>) -> Op {
    Op::Ingest {
        provider: 0,
        lines,
        path: Path::Chunks(10_000),
    }
}

fn item_index(code: &str) -> usize {
    ITEMS
        .iter()
        .position(|i| i.code == code)
        .unwrap_or(ITEMS.len())
}

/// A commendation the subject asked to delete became a property judgment (a new version from
/// its provider) before the deletion was carried out: the tick must not delete it.
#[test]
fn a_record_no_longer_deletable_when_the_deletion_is_carried_out_stays() -> Checked<()> {
    run(&[
        ingest(vec![new_line(0, 0, "O-COMMENDATION")]),
        Op::RequestDeletion {
            subject: 0,
            named: vec![],
            at_once: false,
        },
        ingest(vec![LineOp::Resubmit {
            pick: 0,
            change: Change::Item(item_index("O-PROPERTY-JUDGMENT")),
            form: 0,
            focus: false,
        }]),
        Op::ProcessDue,
    ])
}

/// The bulk load refused a resubmission of a record deleted on request as `refused` (the
/// catalog's or the law's rules) where a file-by-file ingest says `conflict` (what is stored).
#[test]
fn a_bulk_load_reports_a_deleted_records_resubmission_as_a_conflict() -> Checked<()> {
    run(&[
        ingest(vec![new_line(1, 0, "O-COMMENDATION")]),
        Op::RequestDeletion {
            subject: 1,
            named: vec![],
            at_once: true,
        },
        Op::Ingest {
            provider: 0,
            lines: vec![LineOp::Resubmit {
                pick: 0,
                change: Change::Same,
                form: 0,
                focus: false,
            }],
            path: Path::Bulk,
        },
    ])
}

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
#[path = "model/real.rs"]
mod real;
#[path = "model/rules.rs"]
mod rules;

use common::{person, usccs, with_bad_check};
use credstore::domain::date::Date;
use credstore::domain::objection::Ground;
use credstore::domain::SubjectKind;
use credstore::search::Requester;
use credstore::Error;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use real::{err, expected_code, Checked, DeletionView, ObjectionView, Real, SubjectView};
use rules::*;

/// The run's first day: a Monday in the calendar's tables, with room for a year of steps, a
/// few days before 29 February 2020's fifth anniversary (28 February 2025).
const FIRST_DAY: &str = "2025-02-17";
/// Days do not pass beyond this one, so every deadline is inside the calendar's tables.
const LAST_DAY: &str = "2026-11-30";
const PROVIDERS: [&str; 2] = ["SAMR-SH", "CIVIL-SH"];
/// Provider record ids are mostly the subject's own (`P3-0` .. `P3-7`), so new lines now and
/// then hit a stored record of the subject; some are shared (`P-0` .. `P-7`), so a line may
/// name another subject's record.
const PRIDS: u8 = 8;
/// A record id no record has (deletion requests and objections naming it are refused).
const NO_SUCH_RECORD: u64 = 9_999_999;

fn cases() -> u32 {
    ["CREDSTORE_MODEL_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
        .unwrap_or(48)
}

// ---- the operations ----

/// When a new line's act occurred, relative to the collection day.
#[derive(Debug, Clone)]
enum When {
    /// This many days ago.
    DaysAgo(i32),
    /// Five years ago plus this many days: a dishonesty record that leaves the query interface
    /// within the run (or, at 0, is already past it).
    NearExpiry(i32),
    /// In the future: refused.
    Future(i32),
    /// 29 February 2020: a dishonesty record's five years end on 28 February 2025.
    LeapDay,
}

#[derive(Debug, Clone)]
enum Change {
    Same,
    Amount(Option<i64>),
    Rename,
    Disclosure(u8),
    /// Any item: the same category (a new version), another (refused), or one not for the kind.
    Item(usize),
    /// Another subject: refused (a record never moves).
    Subject(usize),
    Occurred(i32),
    Title(u8),
}

#[derive(Debug, Clone)]
enum LineOp {
    New {
        subject: usize,
        prid: u8,
        shared_prid: bool,
        item: usize,
        when: When,
        ended_after: Option<i32>,
        disclosure: u8,
        name: usize,
        amount: Option<i64>,
        title: u8,
        form: u8,
        no_name: bool,
    },
    /// A line submitted before, again, with one change.
    Resubmit {
        pick: usize,
        change: Change,
        form: u8,
    },
    Garbage,
}

/// A record an objection or a deletion request names.
#[derive(Debug, Clone)]
enum Named {
    /// One of the subject's records.
    Own(usize),
    /// Any record ever stored (maybe another subject's, maybe deleted).
    Any(usize),
    /// An id no record has.
    Bogus,
}

/// How a file is ingested: file by file in chunks of this many lines, or by the bulk load.
#[derive(Debug, Clone, Copy)]
enum Path {
    Chunks(usize),
    Bulk,
}

#[derive(Debug, Clone)]
enum Op {
    Ingest {
        provider: usize,
        lines: Vec<LineOp>,
        path: Path,
    },
    Advance {
        days: i32,
    },
    File {
        subject: usize,
        record: Named,
        ground: usize,
    },
    Compare {
        objection: usize,
    },
    Respond {
        objection: usize,
        upheld: bool,
    },
    Dispute {
        objection: usize,
    },
    ProcessDue,
    RequestDeletion {
        subject: usize,
        named: Vec<Named>,
        at_once: bool,
    },
    CarryOut {
        request: usize,
    },
    Reopen,
    // NOTE: the retention sweep (`Store::sweep`, issue 5) joins here as `Sweep`, with its rule in
    // `Model` and its call in `step`.
}

const GROUNDS: [Ground; 3] = [
    Ground::ErrorOrOmission,
    Ground::TradeSecretOrPrivacy,
    Ground::PastQueryPeriod,
];

/// Pool subjects: 0-2 organisations, 3-4 adults, 5 a minor, 6 an invalid code.
const POOL: usize = 7;

fn pool() -> Vec<PoolSubject> {
    // Organisation codes with a letter in the organisation code, so never masked like an ID.
    let orgs: Vec<_> = usccs(77, 40)
        .into_iter()
        .filter(|c| c.as_str()[8..16].bytes().any(|b| b.is_ascii_uppercase()))
        .take(3)
        .collect();
    let org = |i: usize, names| PoolSubject {
        text: orgs[i].as_str().to_string(),
        code: Some(orgs[i]),
        kind: SubjectKind::Organization,
        adult: true,
        names,
    };
    let adult = |seed, birth, names| {
        let code = person(seed, birth);
        PoolSubject {
            text: code.as_str().to_string(),
            code: Some(code),
            kind: SubjectKind::NaturalPerson,
            adult: true,
            names,
        }
    };
    let minor = person(73, "2012-06-01");
    vec![
        org(0, ["上海模型甲有限公司", "上海模型甲科技有限公司"]),
        org(1, ["上海模型乙有限公司", "上海模型乙贸易有限公司"]),
        org(2, ["上海模型丙有限公司", "上海模型丙咨询有限公司"]),
        adult(71, "1980-04-05", ["张模型", "张模形"]),
        adult(72, "1999-12-31", ["李模型", "李模形"]),
        PoolSubject {
            text: minor.as_str().to_string(),
            code: Some(minor),
            kind: SubjectKind::NaturalPerson,
            adult: false,
            names: ["王少年", "王少年"],
        },
        PoolSubject {
            text: with_bad_check(&orgs[0]),
            code: None,
            kind: SubjectKind::Organization,
            adult: true,
            names: ["上海无效代码有限公司", "上海无效代码有限公司"],
        },
    ]
}

fn any_subject() -> impl Strategy<Value = usize> {
    // Mostly collectable subjects; the minor and the invalid code now and then.
    prop_oneof![10 => 0..5usize, 1 => 5..POOL]
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        12 => (0..900i32).prop_map(When::DaysAgo),
        6 => (0..90i32).prop_map(When::NearExpiry),
        1 => (1..4i32).prop_map(When::Future),
        1 => Just(When::LeapDay),
    ]
}

fn amount() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(prop::sample::select(vec![100i64, 200, 300]))
}

fn line_op() -> impl Strategy<Value = LineOp> {
    let new = (
        (
            any_subject(),
            0..PRIDS,
            prop::bool::weighted(0.1),
            0..=ITEMS.len(),
            when(),
        ),
        (
            prop::option::weighted(0.2, 0..400i32),
            0..16u8,
            0..2usize,
            amount(),
            0..4u8,
            0..3u8,
            prop::bool::weighted(0.03),
        ),
    )
        .prop_map(
            |(
                (subject, prid, shared_prid, item, when),
                (ended_after, disclosure, name, amount, title, form, no_name),
            )| LineOp::New {
                subject,
                prid,
                shared_prid,
                item,
                when,
                ended_after,
                disclosure,
                name,
                amount,
                title,
                form,
                no_name,
            },
        );
    let change = prop_oneof![
        3 => Just(Change::Same),
        3 => amount().prop_map(Change::Amount),
        1 => Just(Change::Rename),
        1 => (0..16u8).prop_map(Change::Disclosure),
        2 => (0..=ITEMS.len()).prop_map(Change::Item),
        1 => any_subject().prop_map(Change::Subject),
        1 => (-30..30i32).prop_map(Change::Occurred),
        1 => (0..4u8).prop_map(Change::Title),
    ];
    prop_oneof![
        5 => new,
        4 => (any::<usize>(), change, 0..3u8)
            .prop_map(|(pick, change, form)| LineOp::Resubmit { pick, change, form }),
        1 => Just(LineOp::Garbage),
    ]
}

fn named() -> impl Strategy<Value = Named> {
    prop_oneof![
        6 => any::<usize>().prop_map(Named::Own),
        2 => any::<usize>().prop_map(Named::Any),
        1 => Just(Named::Bogus),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        25 => (0..PROVIDERS.len(), prop::collection::vec(line_op(), 1..8), path())
            .prop_map(|(provider, lines, path)| Op::Ingest { provider, lines, path }),
        20 => prop_oneof![4 => 0..4i32, 2 => 4..10i32, 1 => Just(30i32), 1 => Just(200i32)]
            .prop_map(|days| Op::Advance { days }),
        12 => (any_subject(), named(), 0..GROUNDS.len())
            .prop_map(|(subject, record, ground)| Op::File { subject, record, ground }),
        10 => any::<usize>().prop_map(|objection| Op::Compare { objection }),
        6 => (any::<usize>(), any::<bool>())
            .prop_map(|(objection, upheld)| Op::Respond { objection, upheld }),
        4 => any::<usize>().prop_map(|objection| Op::Dispute { objection }),
        10 => Just(Op::ProcessDue),
        6 => (any_subject(), prop::collection::vec(named(), 0..3), any::<bool>())
            .prop_map(|(subject, named, at_once)| Op::RequestDeletion { subject, named, at_once }),
        2 => any::<usize>().prop_map(|request| Op::CarryOut { request }),
        3 => Just(Op::Reopen),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    prop_oneof![
        6 => Just(Path::Chunks(10_000)),
        2 => (1..3usize).prop_map(Path::Chunks),
        2 => Just(Path::Bulk),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..50)
}

// ---- turning generated choices into concrete lines ----

fn form(n: u8) -> CodeForm {
    match n {
        0 => CodeForm::Plain,
        1 => CodeForm::Lower,
        _ => CodeForm::Spaced,
    }
}

fn disclosure(n: u8) -> Option<String> {
    match n {
        0..=7 => None,
        8..=10 => Some("public".into()),
        11..=13 => Some("non_public".into()),
        14 => Some(" non_public ".into()),
        _ => Some("secret".into()),
    }
}

fn title(n: u8) -> Option<String> {
    match n {
        0 => None,
        1 => Some("行政处罚".into()),
        2 => Some("  行政处罚 ".into()),
        _ => Some("   ".into()),
    }
}

fn item_code(n: usize) -> String {
    ITEMS.get(n).map_or(UNKNOWN_ITEM, |i| i.code).to_string()
}

/// The concrete line a generated choice stands for, given what the model has seen: a
/// resubmission repeats a valid line `provider` sent before, in an earlier file or earlier in
/// this one (`earlier`); any provider's when it sent none; no line at all before the first
/// valid one.
fn concrete(
    model: &Model,
    provider: &str,
    earlier: &[(String, Fields)],
    op: &LineOp,
) -> Option<Line> {
    let today = model.today;
    Some(match op {
        LineOp::Garbage => Line::Garbage,
        LineOp::New {
            subject,
            prid,
            shared_prid,
            item,
            when,
            ended_after,
            disclosure: d,
            name,
            amount,
            title: t,
            form: f,
            no_name,
        } => {
            let occurred_on = match when {
                When::DaysAgo(n) => plus_days(today, -n),
                When::NearExpiry(n) => plus_days(plus_years(today, -5), *n),
                When::Future(n) => plus_days(today, *n),
                When::LeapDay => Date::from_ymd(2020, 2, 29).expect("a leap day"),
            };
            let fields = Fields {
                prid: if *shared_prid {
                    format!("P-{prid}")
                } else {
                    format!("P{subject}-{prid}")
                },
                subject: *subject,
                code_form: form(*f),
                name: model.pool[*subject].names[*name].to_string(),
                item: item_code(*item),
                occurred_on,
                ended_on: ended_after.map(|n| plus_days(occurred_on, n)),
                disclosure: disclosure(*d),
                amount_fen: *amount,
                title: title(*t),
            };
            if *no_name {
                Line::NoName(fields)
            } else {
                Line::Fields(fields)
            }
        }
        LineOp::Resubmit {
            pick,
            change,
            form: f,
        } => {
            let submitted = || model.submitted.iter().chain(earlier);
            let own: Vec<&Fields> = submitted()
                .filter(|(p, _)| p == provider)
                .map(|(_, f)| f)
                .collect();
            let all: Vec<&Fields> = submitted().map(|(_, f)| f).collect();
            let from = if own.is_empty() { all } else { own };
            if from.is_empty() {
                return None;
            }
            let mut fields = from[pick % from.len()].clone();
            fields.code_form = form(*f);
            match change {
                Change::Same => {}
                Change::Amount(a) => fields.amount_fen = *a,
                Change::Rename => {
                    let names = model.pool[fields.subject].names;
                    fields.name = if fields.name == names[0] {
                        names[1]
                    } else {
                        names[0]
                    }
                    .into();
                }
                Change::Disclosure(d) => fields.disclosure = disclosure(*d),
                Change::Item(i) => fields.item = item_code(*i),
                Change::Subject(s) => {
                    fields.subject = *s;
                    fields.name = model.pool[*s].names[0].to_string();
                }
                Change::Occurred(n) => fields.occurred_on = plus_days(fields.occurred_on, *n),
                Change::Title(t) => fields.title = title(*t),
            }
            Line::Fields(fields)
        }
    })
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
            }],
            path: Path::Bulk,
        },
    ])
}

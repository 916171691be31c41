//! Scenario `objections`: the child drives objections through their state machine — files,
//! compares, responds (an upheld objection's correction then arrives from the provider as a new
//! version of the record), disputes, and runs `process_due` past providers' deadlines —
//! acknowledging each transition once its call returned (each is one flushed batch: the
//! objection, the record's mark and the notifications). Up to three objections are open at once;
//! a new child resumes the ones a kill left half-way, and first ingests the correction an upheld
//! objection may still be owed.
//!
//! The parent checks: every acknowledged transition is in the objection's history; objection
//! ids and notification numbers have no gap; each history is a chain of allowed steps in date
//! order; every objection has exactly the notifications its transitions produce; every record's
//! mark is the union of its objections' marks (an objection `suspended` has its record
//! suspended); a public query shows marks and suspensions as stored; every acknowledged
//! correction is a version of its record, every correction belongs to an upheld objection, and
//! at most one upheld objection (the one in flight) still lacks its correction.

use super::checks;
use super::harness::{say, Child, History, Outcome};
use crate::common::{date, jsonl, line, usccs};
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::objection::{Event, Ground, Objection, State};
use credstore::domain::record::Record;
use credstore::generate::rng::Rng;
use credstore::ingest::{FileFormat, IngestOptions};
use credstore::query::{Asker, QueryOptions};
use credstore::store::lifecycle::Recipient;
use credstore::Store;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

const PROVIDER: &str = "SAMR-SH";
const ORGS: usize = 8;
/// Objections open at once, at most.
const OPEN: usize = 3;

fn orgs() -> &'static [SubjectCode] {
    static CODES: OnceLock<Vec<SubjectCode>> = OnceLock::new();
    CODES.get_or_init(|| usccs(9_501, ORGS))
}

fn org_name(i: usize) -> String {
    format!("上海异议崩溃{i}有限公司")
}

/// Each organisation's records: a current penalty (`A`), a penalty past its query period since
/// 2024-03-01 (`B`: only past-query-period objections, as its correction would be refused), and
/// a commendation (`C`). Collected on 2024-01-02, when `B` was still in its period.
fn base_lines() -> Vec<serde_json::Value> {
    let mut lines = Vec::new();
    for (i, code) in orgs().iter().enumerate() {
        let name = org_name(i);
        lines.push(line(
            &format!("OBJ-{i}-A"),
            code,
            &name,
            "D-PENALTY",
            "2023-06-01",
        ));
        let mut past = line(
            &format!("OBJ-{i}-B"),
            code,
            &name,
            "D-PENALTY",
            "2018-06-01",
        );
        past["ended_on"] = json!("2019-03-01");
        lines.push(past);
        lines.push(line(
            &format!("OBJ-{i}-C"),
            code,
            &name,
            "O-COMMENDATION",
            "2020-01-01",
        ));
    }
    lines
}

/// The base records as stored: (subject, record) by provider record id.
fn base_records(store: &Store) -> Outcome<BTreeMap<String, (SubjectCode, Record)>> {
    let mut out = BTreeMap::new();
    for code in orgs() {
        for r in store.records(code)? {
            out.insert(r.provider_record_id.clone(), (*code, r));
        }
    }
    Ok(out)
}

/// The attribute a correction carries: the objection it answers.
const CORRECTS: &str = "corrects_objection";

fn correction_of(r: &Record, objection: u64) -> bool {
    r.versions
        .iter()
        .any(|v| v.content.attributes.get(CORRECTS) == Some(&objection.to_string()))
}

/// What the child does next with an objection, if anything. Its plan follows from its id:
/// even ids are upheld, odd ones rejected; ids 2 and 3 modulo 4 wait for the provider's deadline
/// to pass first; rejected ones are disputed unless the id is a multiple of 3.
#[derive(Debug, Clone, Copy)]
enum Step {
    Compare,
    Respond { upheld: bool },
    Due,
    Dispute,
    Correct,
}

fn next_step(o: &Objection, corrected: bool) -> Option<Step> {
    let upheld = o.id.is_multiple_of(2);
    match o.state {
        State::Filed => Some(Step::Compare),
        State::Forwarded if o.id % 4 >= 2 => Some(Step::Due),
        State::Forwarded | State::Suspended => Some(Step::Respond { upheld }),
        State::Upheld if !corrected => Some(Step::Correct),
        State::Rejected if !o.id.is_multiple_of(3) => Some(Step::Dispute),
        _ => None,
    }
}

fn last_day(o: &Objection) -> Date {
    o.history.last().map_or(o.filed_on, |t| t.on)
}

fn days_after(d: Date, n: u64) -> Date {
    Date::from_days(d.to_days() + n as i32).expect("a date")
}

fn ack(o: &Objection) {
    say(format_args!(
        "obj {} {} {:?}",
        o.id,
        o.history.len(),
        o.state
    ));
}

/// The correction the provider sends for an upheld objection: the record's current content with
/// a changed amount and the objection's id, as a new version.
fn correct(store: &Store, o: &Objection) -> Outcome {
    let record = store
        .records(&o.subject)?
        .into_iter()
        .find(|r| r.record_id.0 == o.record_id)
        .ok_or("the objected record is gone")?;
    let c = &record.current().content;
    let mut l = line(
        &record.provider_record_id,
        &o.subject,
        &c.subject_name,
        &c.item,
        &c.occurred_on.to_string(),
    );
    l["amount_fen"] = json!(100_000 + o.id);
    l["attributes"] = json!({ CORRECTS: o.id.to_string() });
    let mut options = IngestOptions::new(last_day(o));
    options.chunk_lines = 1;
    // The index commit would take most of the child's time, and most kills would land in it:
    // most corrections leave the index to the next open (the name does not change anyway).
    options.defer_search_index = !o.id.is_multiple_of(16);
    let report = store.ingest_reader(
        PROVIDER,
        &format!("correction-{}.jsonl", o.id),
        FileFormat::JsonLines,
        jsonl(&[l]).as_bytes(),
        &options,
    )?;
    if report.new_versions + report.duplicates != 1 {
        return Err(format!("correction of objection {}: {report:?}", o.id).into());
    }
    say(format_args!("correct {}", o.id));
    Ok(())
}

/// Takes one step; returns the objections whose state changed.
fn take(store: &Store, o: &Objection, step: Step, rng: &mut Rng) -> Outcome<Vec<Objection>> {
    let on = days_after(last_day(o), 1 + rng.below(3));
    let done = match step {
        Step::Compare => vec![store.compare_objection(o.id, on)?],
        Step::Respond { upheld } => {
            let after = store.respond_objection(o.id, upheld, on)?;
            ack(&after);
            if upheld {
                correct(store, &after)?;
            }
            return Ok(vec![after]);
        }
        Step::Dispute => vec![store.dispute_objection(o.id, on)?],
        Step::Correct => {
            correct(store, o)?;
            return Ok(Vec::new());
        }
        Step::Due => {
            let due = o.provider_due.ok_or("forwarded without a deadline")?;
            let report = store.process_due(days_after(due, 1 + rng.below(2)))?;
            let mut changed = Vec::new();
            for id in report.suspended {
                changed.push(store.objection(id)?.ok_or("suspended objection is gone")?);
            }
            changed
        }
    };
    for o in &done {
        ack(o);
    }
    Ok(done)
}

/// The child: ingests the base records once, then files and drives objections until killed.
pub fn child(child: &Child) -> Outcome {
    let store = Store::open(&child.store)?;
    let mut rng = child.rng(0);
    if store.subject(&orgs()[ORGS - 1])?.is_none() {
        let mut options = IngestOptions::new(date("2024-01-02"));
        options.chunk_lines = 1000;
        let text = jsonl(&base_lines());
        store.ingest_reader(
            PROVIDER,
            "base.jsonl",
            FileFormat::JsonLines,
            text.as_bytes(),
            &options,
        )?;
    }
    say("base");
    let base = base_records(&store)?;
    let records: Vec<&(SubjectCode, Record)> = base.values().collect();
    let by_id: HashMap<u64, &Record> = records.iter().map(|(_, r)| (r.record_id.0, r)).collect();
    // The objections a kill left with something still to do.
    let mut open: BTreeMap<u64, Objection> = BTreeMap::new();
    for o in store.objections()? {
        let corrected = o.state == State::Upheld
            && by_id
                .get(&o.record_id)
                .is_some_and(|r| correction_of(r, o.id));
        if next_step(&o, corrected).is_some() {
            open.insert(o.id, o);
        }
    }
    while child.go_on() {
        if open.len() < OPEN && (open.is_empty() || rng.chance(0.3)) {
            let o = file_one(&store, &records, &mut rng)?;
            if next_step(&o, false).is_some() {
                open.insert(o.id, o);
            }
            continue;
        }
        let ids: Vec<u64> = open.keys().copied().collect();
        let o = open[&ids[rng.index(ids.len())]].clone();
        // An objection in `open` that is upheld still owes its correction.
        let step = match o.state {
            State::Upheld => Step::Correct,
            _ => next_step(&o, false).ok_or("nothing to do")?,
        };
        open.remove(&o.id);
        for c in take(&store, &o, step, &mut rng)? {
            // `take` ingests an upheld objection's correction with its response.
            if next_step(&c, c.state == State::Upheld).is_some() {
                open.insert(c.id, c);
            } else {
                open.remove(&c.id);
            }
        }
    }
    Ok(())
}

/// Files an objection to a random base record, on a random day of 2025-2026.
fn file_one(
    store: &Store,
    records: &[&(SubjectCode, Record)],
    rng: &mut Rng,
) -> Outcome<Objection> {
    let (code, record) = records[rng.index(records.len())];
    let past_only = record.provider_record_id.ends_with("-B");
    let ground = if past_only || rng.chance(0.15) {
        Ground::PastQueryPeriod
    } else if rng.chance(0.5) {
        Ground::ErrorOrOmission
    } else {
        Ground::TradeSecretOrPrivacy
    };
    let filed_on = days_after(date("2025-01-06"), rng.below(560));
    let o = store.file_objection(code, record.record_id.0, ground, filed_on)?;
    ack(&o);
    Ok(o)
}

/// The notifications a transition produces: (to the subject, to the provider).
fn notifications_of(event: &Event) -> (usize, usize) {
    match event {
        Event::Compare { differs: false } => (1, 1),
        Event::Compare { differs: true } | Event::Respond { .. } | Event::Settle { .. } => (1, 0),
        Event::DeadlinePassed => (0, 1),
        Event::Dispute => (0, 0),
    }
}

fn state_after(o: &Objection, transitions: usize) -> State {
    match transitions {
        0 => State::Filed,
        n => o.history[n - 1].to,
    }
}

/// The parent's check.
pub fn check(store: &Store, history: &History) -> Outcome {
    let stored = checks::consistent(store)?;
    if stored.versions != stored.logged_versions {
        return Err("the collection log does not describe the stored versions".into());
    }
    let objections = store.objections()?;
    for (i, o) in objections.iter().enumerate() {
        if o.id != i as u64 + 1 {
            return Err(format!("objection ids have a gap before {}", o.id).into());
        }
        well_formed(o)?;
    }
    let base = base_records(store)?;
    let by_id: HashMap<u64, &Record> = base.values().map(|(_, r)| (r.record_id.0, r)).collect();
    let mut corrected_acked = BTreeSet::new();
    for words in history.words() {
        match words.as_slice() {
            ["base"] if base.len() != 3 * ORGS => {
                return Err(
                    format!("the base was acknowledged, {} records stored", base.len()).into(),
                )
            }
            ["base"] => {}
            ["obj", id, transitions, state] => {
                let (id, n): (u64, usize) = (id.parse()?, transitions.parse()?);
                let o = objections
                    .get(id as usize - 1)
                    .ok_or_else(|| format!("acknowledged objection {id} is missing"))?;
                if o.history.len() < n || format!("{:?}", state_after(o, n)) != *state {
                    return Err(format!(
                        "objection {id}: acknowledged {state} after {n} transitions, stored {:?} after {}",
                        o.state,
                        o.history.len()
                    )
                    .into());
                }
            }
            ["correct", id] => {
                corrected_acked.insert(id.parse::<u64>()?);
            }
            other => return Err(format!("unexpected line from the child: {other:?}").into()),
        }
    }
    notifications_match(store, &objections)?;
    marks_match(store, &objections)?;
    corrections_match(&objections, &by_id, &corrected_acked)?;
    public_view_matches(store)
}

/// The history is a chain of transitions in date order, ending in the objection's state.
fn well_formed(o: &Objection) -> Outcome {
    let mut state = State::Filed;
    let mut on = o.filed_on;
    for t in &o.history {
        if t.from != state || t.on < on {
            return Err(format!("objection {}: broken history {:?}", o.id, o.history).into());
        }
        (state, on) = (t.to, t.on);
    }
    if state != o.state {
        return Err(format!(
            "objection {}: history ends in {state:?}, state {:?}",
            o.id, o.state
        )
        .into());
    }
    Ok(())
}

fn notifications_match(store: &Store, objections: &[Objection]) -> Outcome {
    let mut got: HashMap<u64, (usize, usize)> = HashMap::new();
    for (i, n) in store.notifications()?.iter().enumerate() {
        if n.seq != i as u64 {
            return Err(format!("notification numbers have a gap before {}", n.seq).into());
        }
        let id = n.objection.ok_or("a notification without an objection")?;
        let o = objections
            .get(id as usize - 1)
            .ok_or_else(|| format!("notification {} for missing objection {id}", n.seq))?;
        if n.record_id != o.record_id {
            return Err(format!("notification {} names another record", n.seq).into());
        }
        let counts = got.entry(id).or_default();
        match &n.to {
            Recipient::Subject(code) if *code == o.subject => counts.0 += 1,
            Recipient::Provider(p) if *p == o.provider => counts.1 += 1,
            _ => return Err(format!("notification {} to the wrong party", n.seq).into()),
        }
    }
    for o in objections {
        let expected = o.history.iter().fold((0, 0), |acc, t| {
            let n = notifications_of(&t.event);
            (acc.0 + n.0, acc.1 + n.1)
        });
        let actual = got.get(&o.id).copied().unwrap_or_default();
        if actual != expected {
            return Err(format!(
                "objection {} ({:?}): notifications {actual:?}, its history makes {expected:?}",
                o.id, o.state
            )
            .into());
        }
    }
    Ok(())
}

/// Every record's mark is the union of its objections' marks; no other record is marked.
fn marks_match(store: &Store, objections: &[Objection]) -> Outcome {
    let mut expected: BTreeMap<(SubjectCode, u64), (bool, bool)> = BTreeMap::new();
    for o in objections {
        let m = expected.entry((o.subject, o.record_id)).or_default();
        let s = o.state.mark();
        *m = (m.0 || s.0, m.1 || s.1);
    }
    expected.retain(|_, m| *m != (false, false));
    let mut actual = BTreeMap::new();
    for code in orgs() {
        for m in store.record_marks(code)? {
            actual.insert((*code, m.record_id), (m.objection, m.suspended));
        }
    }
    if actual != expected {
        return Err(format!("record marks {actual:?}, objections make {expected:?}").into());
    }
    Ok(())
}

fn corrections_match(
    objections: &[Objection],
    records: &HashMap<u64, &Record>,
    acked: &BTreeSet<u64>,
) -> Outcome {
    let mut owed = Vec::new();
    for o in objections {
        let r = records
            .get(&o.record_id)
            .ok_or("an objection to an unknown record")?;
        let has = correction_of(r, o.id);
        if has && o.state != State::Upheld {
            return Err(format!("objection {} is {:?} but has a correction", o.id, o.state).into());
        }
        if !has && acked.contains(&o.id) {
            return Err(format!(
                "the correction of objection {} was acknowledged, not stored",
                o.id
            )
            .into());
        }
        if !has && o.state == State::Upheld {
            owed.push(o.id);
        }
    }
    if owed.len() > 1 {
        return Err(format!("upheld objections {owed:?} lack their corrections").into());
    }
    Ok(())
}

/// A public query shows each base record as its mark says: suspended records withheld, the
/// others with the objection mark stored.
fn public_view_matches(store: &Store) -> Outcome {
    for code in orgs() {
        let marks: HashMap<u64, (bool, bool)> = store
            .record_marks(code)?
            .into_iter()
            .map(|m| (m.record_id, (m.objection, m.suspended)))
            .collect();
        let answer = store.query(&Asker::Public, code, &QueryOptions::new(date("2026-11-27")))?;
        for r in &answer.records {
            let (objection, suspended) = marks.get(&r.record_id).copied().unwrap_or_default();
            if suspended || r.objection_mark != objection {
                return Err(format!(
                    "record {} shown to the public with mark {}, stored {:?}",
                    r.record_id,
                    r.objection_mark,
                    (objection, suspended)
                )
                .into());
            }
        }
    }
    Ok(())
}

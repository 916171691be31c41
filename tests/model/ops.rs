//! The operations the property test generates, and how a generated choice becomes a concrete
//! provider line given what the model has seen (a resubmission repeats an earlier line).

use super::common::{person, usccs, with_bad_check};
use super::rules::*;
use credstore::domain::date::Date;
use credstore::domain::objection::{Ground, State};
use credstore::domain::SubjectKind;
use proptest::prelude::*;

pub const PROVIDERS: [&str; 2] = ["SAMR-SH", "CIVIL-SH"];
/// Provider record ids are mostly the subject's own (`P3-0` .. `P3-7`), so new lines now and
/// then hit a stored record of the subject; some are shared (`P-0` .. `P-7`), so a line may
/// name another subject's record.
const PRIDS: u8 = 8;

/// When a new line's act occurred, relative to the collection day.
#[derive(Debug, Clone)]
pub enum When {
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
pub enum Change {
    Same,
    Amount(Option<i64>),
    Rename,
    Disclosure(u8),
    /// Any item: the same category (a new version), another (refused), or one not for the kind.
    Item(usize),
    /// Another item of the same category: the provider corrects the item (a new version).
    ItemInCategory(usize),
    /// Another subject: refused (a record never moves).
    Subject(usize),
    Occurred(i32),
    Title(u8),
}

#[derive(Debug, Clone)]
pub enum LineOp {
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
    /// A line submitted before, again, with one change; with `focus`, a line of a record in
    /// the middle of something (a pending deletion request, an objection not closed), so such
    /// interleavings come up often.
    Resubmit {
        pick: usize,
        change: Change,
        form: u8,
        focus: bool,
    },
    Garbage,
}

/// A record an objection or a deletion request names.
#[derive(Debug, Clone)]
pub enum Named {
    /// One of the subject's records.
    Own(usize),
    /// Any record ever stored (maybe another subject's, maybe deleted).
    Any(usize),
    /// An id no record has.
    Bogus,
}

/// How a file is ingested: file by file in chunks of this many lines, or by the bulk load.
#[derive(Debug, Clone, Copy)]
pub enum Path {
    Chunks(usize),
    Bulk,
}

#[derive(Debug, Clone)]
pub enum Op {
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
    /// The retention sweep as of today (`Store::sweep`).
    Sweep,
}

pub const GROUNDS: [Ground; 3] = [
    Ground::ErrorOrOmission,
    Ground::TradeSecretOrPrivacy,
    Ground::PastQueryPeriod,
];

/// Pool subjects: 0-2 organisations, 3-4 adults, 5 a minor, 6 an invalid code.
const POOL: usize = 7;

pub fn pool() -> Vec<PoolSubject> {
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
        2 => (0..ITEMS.len()).prop_map(Change::ItemInCategory),
        1 => any_subject().prop_map(Change::Subject),
        1 => (-30..30i32).prop_map(Change::Occurred),
        1 => (0..4u8).prop_map(Change::Title),
    ];
    prop_oneof![
        5 => new,
        4 => (any::<usize>(), change, 0..3u8, prop::bool::weighted(0.4))
            .prop_map(|(pick, change, form, focus)| LineOp::Resubmit { pick, change, form, focus }),
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
        4 => Just(Op::Sweep),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    prop_oneof![
        6 => Just(Path::Chunks(10_000)),
        2 => (1..3usize).prop_map(Path::Chunks),
        2 => Just(Path::Bulk),
    ]
}

pub fn ops() -> impl Strategy<Value = Vec<Op>> {
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
pub fn concrete(
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
            focus,
        } => {
            let busy = busy_records(model);
            let submitted = || model.submitted.iter().chain(earlier);
            let own: Vec<&Fields> = submitted()
                .filter(|(p, _)| p == provider)
                .map(|(_, f)| f)
                .collect();
            let focused: Vec<&Fields> = submitted()
                .filter(|(p, f)| busy.contains(&(p.clone(), f.prid.clone())))
                .map(|(_, f)| f)
                .collect();
            let all: Vec<&Fields> = submitted().map(|(_, f)| f).collect();
            let from = if *focus && !focused.is_empty() {
                focused
            } else if own.is_empty() {
                all
            } else {
                own
            };
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
                Change::ItemInCategory(i) => {
                    if let Some(category) = item_of(&fields.item).map(|it| it.category) {
                        let same: Vec<&Item> =
                            ITEMS.iter().filter(|it| it.category == category).collect();
                        fields.item = same[i % same.len()].code.to_string();
                    }
                }
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

/// Records in the middle of something: named by a pending deletion request, or under an
/// objection not closed.
fn busy_records(model: &Model) -> Vec<Key> {
    let pending = model
        .deletions
        .iter()
        .filter(|d| d.done_on.is_none())
        .flat_map(|d| d.records.iter().cloned());
    let objected = model
        .objections
        .iter()
        .filter(|o| !matches!(o.state, State::Upheld | State::Settled))
        .map(|o| o.key.clone());
    pending.chain(objected).collect()
}

//! The model: what the store should hold and show, kept in plain maps and computed from the
//! rules as the Measures (/work/shared/DOMAIN.md) and the crate's documentation state them.
//! This file holds its data (the catalog items the tests use, the deadlines, the requesters'
//! scopes), its state and the ingest rules; `lifecycle.rs` the objections and deletions,
//! `visibility.rs` what each requester is shown.
//!
//! Nothing in the model calls the store, the catalog, the policy or `query::visibility`. It uses
//! only the crate's value types (dates, codes, enums) and, for working days, the calendar's
//! *data* (`is_workday`), counting the days itself.
//!
//! Records are identified by their provider key `(provider, provider_record_id)`; the store's
//! record ids are bound to those keys by the runner as it first sees each record.

use credstore::domain::calendar::WorkCalendar;
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::objection::{Ground, State};
use credstore::domain::{Category, Disclosure, SubjectKind};
use std::collections::BTreeMap;

/// A record as the provider names it: (provider, provider_record_id).
pub type Key = (String, String);

/// A catalog item as the model knows it (copied from `data-samples/catalog-2026.json`).
pub struct Item {
    pub code: &'static str,
    pub category: Category,
    pub for_orgs: bool,
    pub for_persons: bool,
    pub disclosure: Disclosure,
    /// Years of query period from the end date (or the occurrence date without one).
    pub period_years: Option<i32>,
    /// Commendation, volunteer, charity (Art. 27 ¶2).
    pub deletable: bool,
}

const fn item(
    code: &'static str,
    category: Category,
    (for_orgs, for_persons): (bool, bool),
    disclosure: Disclosure,
    period_years: Option<i32>,
    deletable: bool,
) -> Item {
    Item {
        code,
        category,
        for_orgs,
        for_persons,
        disclosure,
        period_years,
        deletable,
    }
}

use Category::{Basic, Dishonesty, Other};
use Disclosure::{NonPublic, Public};
const ORGS: (bool, bool) = (true, false);
const PERSONS: (bool, bool) = (false, true);
const BOTH: (bool, bool) = (true, true);

/// The items the generated lines use.
pub const ITEMS: &[Item] = &[
    item("B-ORG-REG", Basic, ORGS, Public, None, false),
    item("B-NP-ID", Basic, PERSONS, NonPublic, None, false),
    item("B-LICENCE", Basic, BOTH, Public, None, false),
    item("D-PENALTY", Dishonesty, BOTH, Public, Some(5), false),
    item(
        "D-FALSE-MATERIALS",
        Dishonesty,
        BOTH,
        NonPublic,
        Some(5),
        false,
    ),
    item("D-ORG-ACCIDENT", Dishonesty, ORGS, Public, Some(5), false),
    item("O-COMMENDATION", Other, BOTH, Public, None, true),
    item("O-VOLUNTEER", Other, BOTH, NonPublic, None, true),
    item("O-CHARITY", Other, BOTH, NonPublic, None, true),
    item("O-PROPERTY-JUDGMENT", Other, BOTH, NonPublic, None, false),
    item("O-NON-PERFORMANCE", Other, BOTH, Public, None, false),
];

/// An item code the catalog does not have.
pub const UNKNOWN_ITEM: &str = "D-NOT-IN-CATALOG";

pub fn item_of(code: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.code == code)
}

/// The test's one government matter and the items it covers (the application catalog the
/// runner gives the store is written from this list).
pub const MATTER: &str = "model-matter";
pub const MATTER_ITEMS: &[&str] = &["B-NP-ID", "D-FALSE-MATERIALS", "D-PENALTY", "O-VOLUNTEER"];

/// An authorisation's scope: categories and items.
pub struct ScopeM {
    pub categories: &'static [Category],
    pub items: &'static [&'static str],
}

impl ScopeM {
    pub fn covers(&self, category: Category, item: &str) -> bool {
        self.categories.contains(&category) || self.items.contains(&item)
    }
}

/// What each subject authorised the grantee `BANK` and the agency `AGENCY` to see, and when
/// (days after the run's first day, inclusive). BANK's is not valid yet for the first 20 days;
/// AGENCY's expires after 45.
pub const BANK_SCOPE: ScopeM = ScopeM {
    categories: &[Dishonesty],
    items: &["O-CHARITY"],
};
pub const BANK_VALID: (i32, i32) = (20, 700);
pub const AGENCY_SCOPE: ScopeM = ScopeM {
    categories: &[Basic],
    items: &["O-VOLUNTEER"],
};
pub const AGENCY_VALID: (i32, i32) = (0, 45);

/// Working-day periods of the Measures (DOMAIN.md): the centre compares within 2, the provider
/// checks within 5 (Art. 29); a deletion on request is done within 2 (Art. 27 ¶2).
pub const COMPARE_WORKDAYS: u32 = 2;
pub const PROVIDER_WORKDAYS: u32 = 5;
pub const DELETION_WORKDAYS: u32 = 2;

/// A subject of the pool and how its code behaves.
#[derive(Debug, Clone)]
pub struct PoolSubject {
    /// The code as files carry it.
    pub text: String,
    /// The parsed code when the code is valid.
    pub code: Option<SubjectCode>,
    pub kind: SubjectKind,
    /// False for a person under 18 (Art. 10: refused).
    pub adult: bool,
    /// The two names its lines use.
    pub names: [&'static str; 2],
}

impl PoolSubject {
    fn collectable(&self) -> bool {
        self.code.is_some() && self.adult
    }
}

/// How a line writes its subject code (the store normalises all three to one code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeForm {
    Plain,
    Lower,
    Spaced,
}

/// A provider line with the fields the tests vary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub prid: String,
    pub subject: usize,
    pub code_form: CodeForm,
    pub name: String,
    pub item: String,
    pub occurred_on: Date,
    pub ended_on: Option<Date>,
    /// As written: `public`, `non_public`, or something invalid.
    pub disclosure: Option<String>,
    pub amount_fen: Option<i64>,
    /// As written (may be padded with spaces or blank).
    pub title: Option<String>,
}

/// One line of a provider file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Fields(Fields),
    /// Not JSON at all.
    Garbage,
    /// The fields without the required `subject_name`.
    NoName(Fields),
}

/// A record's content as far as the tests vary it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub subject_name: String,
    pub item: String,
    pub occurred_on: Date,
    pub ended_on: Option<Date>,
    pub disclosure: Disclosure,
    pub amount_fen: Option<i64>,
    pub title: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VersionM {
    pub collected_on: Date,
    pub content: Content,
}

#[derive(Debug, Clone)]
pub struct RecordM {
    pub category: Category,
    pub versions: Vec<VersionM>,
}

impl RecordM {
    pub fn current(&self) -> &Content {
        &self.versions[self.versions.len() - 1].content
    }
}

#[derive(Debug, Clone)]
pub struct SubjectM {
    pub name: String,
    pub former_names: Vec<String>,
    pub records: BTreeMap<Key, RecordM>,
}

#[derive(Debug, Clone)]
pub struct ObjectionM {
    pub id: u64,
    pub subject: usize,
    pub key: Key,
    pub ground: Ground,
    pub filed_on: Date,
    pub state: State,
    pub compare_due: Date,
    pub provider_due: Option<Date>,
    /// Every transition: the day and the state reached.
    pub history: Vec<(Date, State)>,
}

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ToM {
    Subject(usize),
    Provider(String),
}

/// A notification in the outbox: the day, the recipient, the objection, the record.
pub type NoticeM = (Date, ToM, Option<u64>, Key);

#[derive(Debug, Clone)]
pub struct DeletionM {
    pub id: u64,
    pub subject: usize,
    pub received_on: Date,
    pub due_on: Date,
    pub records: Vec<Key>,
    /// Ids the subject named that were refused (unknown ids, or records not deletable).
    pub refused: Vec<Refused>,
    pub done_on: Option<Date>,
}

/// A record id a deletion request refused: one the model knows by key, or an unknown number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refused {
    Record(Key),
    Unknown(u64),
}

/// What an ingest did, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestCounts {
    pub accepted: u64,
    pub duplicates: u64,
    pub new_versions: u64,
    pub rejected: u64,
    /// Line numbers and the kinds of refusal.
    pub rejected_lines: Vec<(u64, &'static str)>,
}

/// The model of the whole store.
pub struct Model {
    pub first_day: Date,
    pub today: Date,
    pub pool: Vec<PoolSubject>,
    pub subjects: BTreeMap<usize, SubjectM>,
    /// Every provider key ever stored, with its subject and category (kept after a deletion).
    pub index: BTreeMap<Key, (usize, Category)>,
    pub objections: Vec<ObjectionM>,
    pub deletions: Vec<DeletionM>,
    /// The notification outbox.
    pub notices: Vec<NoticeM>,
    /// Every valid line submitted (stored or not), for resubmissions.
    pub submitted: Vec<(String, Fields)>,
    /// Records a retention sweep archived (Art. 27 ¶1): withheld from every query for good.
    pub archived: std::collections::BTreeSet<Key>,
}

/// `d` plus `n` days.
pub fn plus_days(d: Date, n: i32) -> Date {
    Date::from_days(d.to_days() + n).expect("a date in range")
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The same day `years` later (or earlier); 29 February becomes 28 February in a common year.
pub fn plus_years(d: Date, years: i32) -> Date {
    let (y, m, day) = d.ymd();
    let y = y + years;
    let day = if m == 2 && day == 29 && !is_leap(y) {
        28
    } else {
        day
    };
    Date::from_ymd(y, m, day).expect("a date in range")
}

/// The `n`th working day after `received` (the day of receipt is not counted).
pub fn add_workdays(calendar: &WorkCalendar, received: Date, n: u32) -> Date {
    let mut day = received;
    let mut left = n;
    loop {
        day = plus_days(day, 1);
        if calendar.is_workday(day).expect("inside the tables") {
            left -= 1;
            if left == 0 {
                return day;
            }
        }
    }
}

/// A column's place in a subject's value: basic, dishonesty, other.
pub fn category_rank(c: Category) -> u8 {
    match c {
        Basic => 0,
        Dishonesty => 1,
        Other => 2,
    }
}

/// The first day a record is no longer queryable (Art. 27), if its item has a query period.
pub fn period_end(content: &Content) -> Option<Date> {
    let years = item_of(&content.item)?.period_years?;
    Some(plus_years(
        content.ended_on.unwrap_or(content.occurred_on),
        years,
    ))
}

impl Model {
    pub fn new(pool: Vec<PoolSubject>, first_day: Date) -> Model {
        Model {
            first_day,
            today: first_day,
            pool,
            subjects: BTreeMap::new(),
            index: BTreeMap::new(),
            objections: Vec::new(),
            deletions: Vec::new(),
            notices: Vec::new(),
            submitted: Vec::new(),
            archived: Default::default(),
        }
    }

    /// What a line becomes after validation: the subject, the category and the content, or
    /// the kind of refusal when the line is refused on its own (before anything stored is looked
    /// at): `syntax`, `field` (a field missing or malformed, the code, the age) or `refused` (the
    /// catalog's rules), checked in the order the ingest documents.
    pub fn validate(&self, line: &Line) -> Result<(usize, Category, Content), &'static str> {
        let f = match line {
            Line::Garbage => return Err("syntax"),
            Line::NoName(_) => return Err("field"),
            Line::Fields(f) => f,
        };
        let subject = &self.pool[f.subject];
        if !subject.collectable() {
            return Err("field"); // an invalid code, or a person under 18 (Art. 10)
        }
        let item = item_of(&f.item).ok_or("refused")?; // not in the catalog
        let applies = match subject.kind {
            SubjectKind::Organization => item.for_orgs,
            SubjectKind::NaturalPerson => item.for_persons,
        };
        let today = self.today;
        let dates_ok =
            f.occurred_on <= today && f.ended_on.is_none_or(|e| f.occurred_on <= e && e <= today);
        let mut content = Content {
            subject_name: f.name.clone(),
            item: f.item.clone(),
            occurred_on: f.occurred_on,
            ended_on: f.ended_on,
            disclosure: item.disclosure,
            amount_fen: f.amount_fen,
            title: f
                .title
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        };
        // A record already past its query period is not collected (Art. 27).
        let expired = period_end(&content).is_some_and(|end| end <= today);
        if !applies || !dates_ok || expired {
            return Err("refused");
        }
        content.disclosure = match f.disclosure.as_deref().map(str::trim) {
            None => item.disclosure,
            Some("public") => Public,
            Some("non_public") => NonPublic,
            Some(_) => return Err("field"),
        };
        Ok((f.subject, item.category, content))
    }

    /// Ingests one provider file, line by line in order.
    pub fn ingest(&mut self, provider: &str, lines: &[Line]) -> IngestCounts {
        let mut counts = IngestCounts::default();
        for (n, line) in lines.iter().enumerate() {
            if let (Line::Fields(f), Ok(_)) = (line, self.validate(line)) {
                self.submitted.push((provider.to_string(), f.clone()));
            }
            match self.apply_line(provider, line) {
                LineOutcome::Accepted => counts.accepted += 1,
                LineOutcome::Duplicate => counts.duplicates += 1,
                LineOutcome::NewVersion => counts.new_versions += 1,
                LineOutcome::Rejected(kind) => {
                    counts.rejected += 1;
                    counts.rejected_lines.push((n as u64 + 1, kind));
                }
            }
        }
        counts
    }

    fn apply_line(&mut self, provider: &str, line: &Line) -> LineOutcome {
        let (subject, category, content) = match self.validate(line) {
            Ok(valid) => valid,
            Err(kind) => return LineOutcome::Rejected(kind),
        };
        let Line::Fields(f) = line else {
            unreachable!("validated lines have fields")
        };
        let key: Key = (provider.to_string(), f.prid.clone());
        if let Some(&(owner, stored_category)) = self.index.get(&key) {
            // A record never changes subject or category.
            if owner != subject || stored_category != category {
                return LineOutcome::Rejected("conflict");
            }
            let Some(record) = self
                .subjects
                .get_mut(&subject)
                .and_then(|s| s.records.get_mut(&key))
            else {
                // Deleted on the subject's request: never collected again (Art. 27 ¶2).
                return LineOutcome::Rejected("conflict");
            };
            // Equal to any stored version: a duplicate, nothing changes.
            if record.versions.iter().any(|v| v.content == content) {
                return LineOutcome::Duplicate;
            }
            record.versions.push(VersionM {
                collected_on: self.today,
                content: content.clone(),
            });
            self.touch_name(subject, &content.subject_name);
            return LineOutcome::NewVersion;
        }
        self.index.insert(key.clone(), (subject, category));
        let today = self.today;
        let entry = self.subjects.entry(subject).or_insert_with(|| SubjectM {
            name: content.subject_name.clone(),
            former_names: Vec::new(),
            records: BTreeMap::new(),
        });
        let name = content.subject_name.clone();
        entry.records.insert(
            key,
            RecordM {
                category,
                versions: vec![VersionM {
                    collected_on: today,
                    content,
                }],
            },
        );
        self.touch_name(subject, &name);
        LineOutcome::Accepted
    }

    /// The name of the last stored line is the subject's name; earlier ones are former names,
    /// oldest first, without repeats, never the current one.
    fn touch_name(&mut self, subject: usize, name: &str) {
        let s = self.subjects.get_mut(&subject).expect("the subject exists");
        if s.name != name {
            let old = std::mem::replace(&mut s.name, name.to_string());
            s.former_names.retain(|n| n != name);
            if !s.former_names.contains(&old) {
                s.former_names.push(old);
            }
        }
    }

    /// The record `key` of `subject`, if it is stored.
    pub fn record(&self, subject: usize, key: &Key) -> Option<&RecordM> {
        self.subjects.get(&subject)?.records.get(key)
    }

    /// The `pick`th stored record of `subject` (modulo), by key order.
    pub fn pick_record(&self, subject: usize, pick: usize) -> Option<Key> {
        let records = &self.subjects.get(&subject)?.records;
        if records.is_empty() {
            return None;
        }
        records.keys().nth(pick % records.len()).cloned()
    }
}

enum LineOutcome {
    Accepted,
    Duplicate,
    NewVersion,
    Rejected(&'static str),
}

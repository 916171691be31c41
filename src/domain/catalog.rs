//! The public credit information catalog (信息目录, Art. 15): what may be collected, for whom,
//! at what disclosure level, for how long it may be queried, and under which entry rules.
//!
//! The catalog is data, published yearly, so it is a versioned JSON file rather than code; the
//! 2026 catalog is embedded ([`Catalog::builtin`]) and another year's can be loaded
//! ([`Catalog::load`]). The file is `{"format": 1, "version", "title", "notes", "items"}`;
//! `data-samples/catalog-2026.json` documents the item code scheme and each choice of default
//! disclosure in its `notes`.
//!
//! A catalog is validated as a whole when loaded: unique well-formed codes whose category letter
//! matches their category, non-empty names, `applies_to` and `basis`, a query period on every
//! dishonesty item (Art. 27), and no item naming prohibited data (Art. 14).
//!
//! [`Catalog::check_entry`] is the gate every record passes before it is stored: the item exists
//! and applies to the subject's kind (Art. 11-13), its dates are coherent, a dishonesty record is
//! not already past its query period (Art. 27), and the item's entry rules hold (Art. 13 (4)).

use super::date::Date;
use super::prohibited::{classify_name, ProhibitedKind};
use super::{Category, Disclosure, SubjectKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A validated catalog, indexed by item code.
#[derive(Debug, Clone)]
pub struct Catalog {
    version: String,
    title: String,
    notes: Vec<String>,
    items: Vec<CatalogItem>,
    index: HashMap<String, usize, BuildFx>,
}

/// A word-at-a-time hash (rustc's FxHash), for the item index: looked up once per record
/// every query reads (SipHash, the default, was 3% of a bulk lookup's time), keyed by item
/// codes from the operator's own catalog file, so hash flooding is not a concern.
#[derive(Debug, Clone, Copy, Default)]
struct BuildFx;

impl std::hash::BuildHasher for BuildFx {
    type Hasher = Fx;
    fn build_hasher(&self) -> Fx {
        Fx(0)
    }
}

/// FxHash's state.
#[derive(Debug)]
struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in words.by_ref() {
            // NOTE: `chunks_exact(8)` yields 8-byte slices.
            self.add(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let mut last = [0u8; 8];
        let tail = words.remainder();
        last[..tail.len()].copy_from_slice(tail);
        self.add(u64::from_le_bytes(last) ^ ((tail.len() as u64) << 56));
    }
    #[inline]
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
}

/// One catalog item: a kind of information that may be collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    /// Stable code, `<B|D|O>-[<ORG|NP>-]<TOPIC>`, e.g. `D-TAX-ARREARS`.
    pub code: String,
    /// The item's name in Chinese, as the catalog publishes it.
    pub name: String,
    /// The item's name in English.
    pub name_en: String,
    /// Basic, dishonesty or other (Art. 10).
    pub category: Category,
    /// The kinds of subject the item may be recorded for (Art. 11-13); never empty.
    pub applies_to: Vec<SubjectKind>,
    /// Default disclosure level of its records (Art. 16).
    pub disclosure: Disclosure,
    /// How long a record stays queryable (Art. 27); `None`: no limit set by the Measures.
    pub query_period: Option<QueryPeriod>,
    /// Rules checked when a record is collected.
    #[serde(default)]
    pub rules: Vec<EntryRule>,
    /// Whether the subject may have its records deleted on request (Art. 27 ¶2).
    #[serde(default)]
    pub deletable_on_request: bool,
    /// The enumerating points of the Measures, e.g. `Art. 12 ¶1 (1)`; never empty.
    pub basis: Vec<String>,
    /// Why the item is as it is, where not obvious (e.g. the rule behind its disclosure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A query period (查询期限, Art. 27): `years` from the day named by `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryPeriod {
    /// Length in years; at least 1.
    pub years: u32,
    /// The day the period runs from.
    pub from: PeriodStart,
}

/// The day a query period runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodStart {
    /// The day the act or event ended (Art. 27 ¶1). A record without an end date is taken to
    /// have ended the day it occurred: most dishonesty records are one-day events (a decision),
    /// and a continuing act (arrears, an unremoved building) must be updated with its end date.
    EndedOn,
    /// The day the act occurred or was decided, for rules that count from the decision date.
    OccurredOn,
}

/// A rule a record must satisfy to be collected under an item. In JSON: `{"rule": "<name>"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryRule {
    /// Art. 13 (4): utility arrears are collected only if still unpaid more than 6 months after
    /// a reminder. A reminder date is required; the charge must not have been paid (`ended_on`)
    /// on or before the day 6 calendar months after the reminder; and the collection date must be
    /// later than that day. Six months after 10 Jan is 10 Jul, so collection may start 11 Jul;
    /// after 31 Aug it is 28/29 Feb (the month's last day when there is no same day).
    UtilityArrearsSixMonths,
}

/// What a provider says about a record, as far as the catalog's rules need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFacts<'a> {
    /// The catalog item code the record is filed under.
    pub item: &'a str,
    /// The subject's kind.
    pub kind: SubjectKind,
    /// The day the act or event occurred (for arrears: the day the charge fell due).
    pub occurred_on: Date,
    /// The day the act or event ended (for arrears: the day they were paid), if it has.
    pub ended_on: Option<Date>,
    /// The day the subject was reminded to pay, for arrears.
    pub reminded_on: Option<Date>,
    /// The day the record is collected.
    pub collected_on: Date,
}

/// An unknown item as a refusal may show it: quoted when shaped like a catalog code (at most
/// 40 upper-case letters, digits and hyphens, starting with a letter, with a hyphen); otherwise
/// not at all, because a value put in the wrong field may be a person's number, a name, or
/// control characters, and refusals go to reports and reject files (found by fuzzing).
fn shown_item(item: &str) -> String {
    let shaped = item.len() <= 40
        && item.starts_with(|c: char| c.is_ascii_uppercase())
        && item.contains('-')
        && item
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if shaped {
        format!("{item:?}")
    } else {
        "(not shown: not shaped like a catalog code)".to_string()
    }
}

/// Why a record may not be collected. The text never repeats an item that names prohibited data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryRefusal {
    /// The item names information that may never be collected; the item text is not kept.
    #[error("the item names information that may never be collected: {what}")]
    ProhibitedItem {
        /// What it names.
        what: ProhibitedKind,
    },
    /// No such item in the catalog. The text shows the item only when it is shaped like a
    /// catalog code (see `shown_item`).
    #[error("item {} is not in the catalog (Art. 15)", shown_item(item))]
    UnknownItem {
        /// The code given.
        item: String,
    },
    /// The item is not collected for this kind of subject (Art. 11, Art. 12 ¶2).
    #[error("item {item} does not apply to {} ({})", plural(*kind), kind_basis(*category, *kind))]
    NotForKind {
        /// The item code.
        item: String,
        /// The subject's kind.
        kind: SubjectKind,
        /// The item's category, which decides the article cited.
        category: Category,
    },
    /// The act occurred after the collection date.
    #[error("item {item}: occurred on {occurred_on}, after the collection date {collected_on}")]
    OccurredInFuture {
        /// The item code.
        item: String,
        /// When the act occurred.
        occurred_on: Date,
        /// When the record is collected.
        collected_on: Date,
    },
    /// The end date is before the start date.
    #[error("item {item}: ended on {ended_on}, before it occurred on {occurred_on}")]
    EndedBeforeOccurred {
        /// The item code.
        item: String,
        /// When the act occurred.
        occurred_on: Date,
        /// When it is said to have ended.
        ended_on: Date,
    },
    /// The end date is after the collection date.
    #[error("item {item}: ended on {ended_on}, after the collection date {collected_on}")]
    EndedInFuture {
        /// The item code.
        item: String,
        /// When it is said to have ended.
        ended_on: Date,
        /// When the record is collected.
        collected_on: Date,
    },
    /// The record's query period is already over: it could never be shown (Art. 27 ¶1).
    #[error(
        "item {item}: its query period ended on {expired_on}, before collection on \
         {collected_on}; it may no longer be queried (Art. 27)"
    )]
    QueryPeriodExpired {
        /// The item code.
        item: String,
        /// The first day the record is no longer queryable.
        expired_on: Date,
        /// When the record is collected.
        collected_on: Date,
    },
    /// Utility arrears without a reminder date (Art. 13 (4)).
    #[error(
        "item {item}: utility arrears are collected only after a reminder, and no reminder date \
         was given (Art. 13 (4))"
    )]
    MissingReminderDate {
        /// The item code.
        item: String,
    },
    /// The reminder is dated before the charge fell due.
    #[error(
        "item {item}: the reminder on {reminded_on} is before the charge fell due on \
         {occurred_on} (Art. 13 (4))"
    )]
    ReminderBeforeOccurred {
        /// The item code.
        item: String,
        /// When the charge fell due.
        occurred_on: Date,
        /// When the reminder was given.
        reminded_on: Date,
    },
    /// The arrears were paid within 6 months of the reminder (Art. 13 (4)).
    #[error(
        "item {item}: paid on {ended_on}, within 6 months of the reminder on {reminded_on} \
         (Art. 13 (4))"
    )]
    PaidWithinSixMonths {
        /// The item code.
        item: String,
        /// When the reminder was given.
        reminded_on: Date,
        /// When the arrears were paid.
        ended_on: Date,
    },
    /// Six months have not yet passed since the reminder (Art. 13 (4)).
    #[error(
        "item {item}: reminded on {reminded_on}, so collectable only if still unpaid more than \
         6 months later, from {earliest}; collected on {collected_on} (Art. 13 (4))"
    )]
    UtilityArrearsTooRecent {
        /// The item code.
        item: String,
        /// When the reminder was given.
        reminded_on: Date,
        /// When the record is collected.
        collected_on: Date,
        /// The first day it may be collected.
        earliest: Date,
    },
    /// A date too far in the future for period arithmetic.
    #[error("item {item}: date {date} is out of range")]
    DateOutOfRange {
        /// The item code.
        item: String,
        /// The offending date.
        date: Date,
    },
}

fn plural(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::NaturalPerson => "natural persons",
        SubjectKind::Organization => "organisations",
    }
}

fn kind_basis(category: Category, kind: SubjectKind) -> &'static str {
    match (category, kind) {
        (Category::Basic, _) => "Art. 11",
        (Category::Dishonesty, SubjectKind::NaturalPerson) => "Art. 12 ¶2",
        (Category::Dishonesty, SubjectKind::Organization) => "Art. 12 ¶1",
        (Category::Other, _) => "catalog, Art. 15",
    }
}

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read catalog {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not JSON of the catalog's shape.
    #[error("{source_name}:{line}:{column}: not a valid catalog: {message}")]
    Json {
        /// The file name, for the reader.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A `format` this build does not read.
    #[error(
        "{source_name}: catalog format {format} is not supported (this build reads format {})",
        Catalog::FORMAT
    )]
    UnsupportedFormat {
        /// The file name.
        source_name: String,
        /// The format found.
        format: u64,
    },
    /// Well-formed JSON, but not a valid catalog.
    #[error("{source_name}: item {item}: {reason}")]
    Invalid {
        /// The file name.
        source_name: String,
        /// The item code, `items[<index>]` when it has none, or `version`.
        item: String,
        /// What is wrong.
        reason: String,
    },
    /// An item names prohibited data (Art. 14). Its text is not repeated.
    #[error(
        "{source_name}: items[{item_index}] names information that may never be collected: {what}"
    )]
    Prohibited {
        /// The file name.
        source_name: String,
        /// 0-based position in `items`.
        item_index: usize,
        /// What it names.
        what: ProhibitedKind,
    },
}

const BUILTIN_NAME: &str = "data-samples/catalog-2026.json";
const BUILTIN_TEXT: &str = include_str!("../../data-samples/catalog-2026.json");

#[derive(Deserialize)]
struct Header {
    format: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[allow(dead_code)] // checked through `Header` first
    format: u64,
    version: String,
    title: String,
    #[serde(default)]
    notes: Vec<String>,
    items: Vec<CatalogItem>,
}

impl Catalog {
    /// The file format this build reads.
    pub const FORMAT: u64 = 1;

    /// The embedded 2026 catalog, parsed on first use.
    ///
    /// # Panics
    /// Never in a tested build: a unit test parses the embedded file, which is fixed at compile
    /// time.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| match Catalog::parse(BUILTIN_TEXT, BUILTIN_NAME) {
            Ok(catalog) => catalog,
            Err(e) => panic!("the embedded catalog is invalid: {e}"),
        })
    }

    /// Parses and validates a catalog; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Catalog, CatalogError> {
        let json_error = |e: serde_json::Error| {
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = e.to_string();
            CatalogError::Json {
                source_name: source.to_owned(),
                line: e.line(),
                column: e.column(),
                message: message.strip_suffix(&suffix).unwrap_or(&message).to_owned(),
            }
        };
        let header: Header = serde_json::from_str(text).map_err(json_error)?;
        if header.format != Self::FORMAT {
            return Err(CatalogError::UnsupportedFormat {
                source_name: source.to_owned(),
                format: header.format,
            });
        }
        let file: CatalogFile = serde_json::from_str(text).map_err(json_error)?;
        Catalog::validate(file, source)
    }

    /// Reads, parses and validates a catalog file.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.to_owned(),
            source,
        })?;
        Catalog::parse(&text, &path.display().to_string())
    }

    /// The catalog year, e.g. `2026`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The catalog's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The catalog's notes (code scheme, disclosure policy).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The item with this code.
    pub fn get(&self, code: &str) -> Option<&CatalogItem> {
        self.index.get(code).map(|&i| &self.items[i])
    }

    /// Every item, in file order.
    pub fn items(&self) -> &[CatalogItem] {
        &self.items
    }

    /// Whether a record with these facts may be collected, and under which item.
    ///
    /// Checks, in order: the item code does not name prohibited data (Art. 14; refused without
    /// repeating it); it is in the catalog; it applies to the subject's kind; the dates are
    /// coherent (occurred ≤ ended ≤ collected); a record with a query period is not already past
    /// it (Art. 27); the item's entry rules hold.
    pub fn check_entry(&self, facts: &EntryFacts<'_>) -> Result<&CatalogItem, EntryRefusal> {
        // A catalog never holds a prohibited item (refused at load), so only an item the
        // catalog does not know needs the Art. 14 check: it stays off the per-line hot path.
        let item = match self.get(facts.item) {
            Some(item) => item,
            None => {
                return Err(match classify_name(facts.item) {
                    Some(what) => EntryRefusal::ProhibitedItem { what },
                    None => EntryRefusal::UnknownItem {
                        item: facts.item.to_owned(),
                    },
                })
            }
        };
        if !item.applies_to(facts.kind) {
            return Err(EntryRefusal::NotForKind {
                item: item.code.clone(),
                kind: facts.kind,
                category: item.category,
            });
        }
        check_dates(item, facts)?;
        for rule in &item.rules {
            rule.check(item, facts)?;
        }
        Ok(item)
    }

    fn validate(file: CatalogFile, source: &str) -> Result<Catalog, CatalogError> {
        let invalid = |item: &str, reason: String| CatalogError::Invalid {
            source_name: source.to_owned(),
            item: item.to_owned(),
            reason,
        };
        if file.version.trim().is_empty() {
            return Err(invalid("version", "the catalog version is empty".into()));
        }
        if file.items.is_empty() {
            return Err(invalid("version", "the catalog has no items".into()));
        }
        let mut index = HashMap::with_capacity_and_hasher(file.items.len(), BuildFx);
        for (i, item) in file.items.iter().enumerate() {
            // Before anything that could echo the item's text.
            let named = [&item.code, &item.name, &item.name_en];
            if let Some(what) = named.iter().find_map(|text| classify_name(text)) {
                return Err(CatalogError::Prohibited {
                    source_name: source.to_owned(),
                    item_index: i,
                    what,
                });
            }
            let label = if item.code.is_empty() {
                format!("items[{i}]")
            } else {
                item.code.clone()
            };
            item.problem()
                .map_or(Ok(()), |reason| Err(invalid(&label, reason)))?;
            if index.insert(item.code.clone(), i).is_some() {
                return Err(invalid(&label, "duplicate code".into()));
            }
        }
        Ok(Catalog {
            version: file.version,
            title: file.title,
            notes: file.notes,
            items: file.items,
            index,
        })
    }
}

fn check_dates(item: &CatalogItem, facts: &EntryFacts<'_>) -> Result<(), EntryRefusal> {
    let code = || item.code.clone();
    if facts.occurred_on > facts.collected_on {
        return Err(EntryRefusal::OccurredInFuture {
            item: code(),
            occurred_on: facts.occurred_on,
            collected_on: facts.collected_on,
        });
    }
    if let Some(ended_on) = facts.ended_on {
        if ended_on < facts.occurred_on {
            return Err(EntryRefusal::EndedBeforeOccurred {
                item: code(),
                occurred_on: facts.occurred_on,
                ended_on,
            });
        }
        if ended_on > facts.collected_on {
            return Err(EntryRefusal::EndedInFuture {
                item: code(),
                ended_on,
                collected_on: facts.collected_on,
            });
        }
    }
    if let Some(expired_on) = item.query_period_end(facts.occurred_on, facts.ended_on) {
        if expired_on <= facts.collected_on {
            return Err(EntryRefusal::QueryPeriodExpired {
                item: code(),
                expired_on,
                collected_on: facts.collected_on,
            });
        }
    }
    Ok(())
}

impl CatalogItem {
    /// Whether the item may be recorded for this kind of subject.
    pub fn applies_to(&self, kind: SubjectKind) -> bool {
        self.applies_to.contains(&kind)
    }

    /// The first day the record is no longer queryable (Art. 27): the period's start plus its
    /// years, 29 Feb becoming 28 Feb in a common year. The start is `ended_on`, or `occurred_on`
    /// when the record has no end date (see [`PeriodStart::EndedOn`]). `None` when the item has no
    /// query period (or the date would be out of range).
    pub fn query_period_end(&self, occurred_on: Date, ended_on: Option<Date>) -> Option<Date> {
        let period = self.query_period?;
        let start = match period.from {
            PeriodStart::EndedOn => ended_on.unwrap_or(occurred_on),
            PeriodStart::OccurredOn => occurred_on,
        };
        start.add_years(period.years)
    }

    /// What is wrong with the item on its own, if anything (uniqueness is the catalog's check).
    fn problem(&self) -> Option<String> {
        let prefix = match self.category {
            Category::Basic => "B-",
            Category::Dishonesty => "D-",
            Category::Other => "O-",
        };
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 40
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !self.code.ends_with('-')
            && !self.code.contains("--");
        let mut kinds = self.applies_to.clone();
        kinds.sort();
        kinds.dedup();
        if !code_ok {
            Some("the code must be 1-40 of A-Z, 0-9 and single inner hyphens".into())
        } else if !self.code.starts_with(prefix) {
            Some(format!(
                "a {} item's code starts with {prefix}",
                self.category.as_str()
            ))
        } else if self.name.trim().is_empty() || self.name_en.trim().is_empty() {
            Some("name and name_en must not be empty".into())
        } else if self.applies_to.is_empty() {
            Some("applies_to is empty".into())
        } else if kinds.len() != self.applies_to.len() {
            Some("applies_to names a kind twice".into())
        } else if self.basis.is_empty() || self.basis.iter().any(|b| b.trim().is_empty()) {
            Some("basis must cite at least one article".into())
        } else if self.category == Category::Dishonesty && self.query_period.is_none() {
            Some("a dishonesty item needs a query period (Art. 27)".into())
        } else if self.query_period.is_some_and(|p| p.years == 0) {
            Some("a query period is at least 1 year".into())
        } else if (1..self.rules.len()).any(|i| self.rules[..i].contains(&self.rules[i])) {
            Some("a rule is listed twice".into())
        } else {
            None
        }
    }
}

impl EntryRule {
    fn check(self, item: &CatalogItem, facts: &EntryFacts<'_>) -> Result<(), EntryRefusal> {
        match self {
            EntryRule::UtilityArrearsSixMonths => utility_arrears(item, facts),
        }
    }
}

/// Art. 13 (4); see [`EntryRule::UtilityArrearsSixMonths`].
fn utility_arrears(item: &CatalogItem, facts: &EntryFacts<'_>) -> Result<(), EntryRefusal> {
    let code = || item.code.clone();
    let reminded_on = facts
        .reminded_on
        .ok_or_else(|| EntryRefusal::MissingReminderDate { item: code() })?;
    if reminded_on < facts.occurred_on {
        return Err(EntryRefusal::ReminderBeforeOccurred {
            item: code(),
            occurred_on: facts.occurred_on,
            reminded_on,
        });
    }
    let six_months = reminded_on
        .add_months(6)
        .ok_or_else(|| EntryRefusal::DateOutOfRange {
            item: code(),
            date: reminded_on,
        })?;
    if let Some(ended_on) = facts.ended_on {
        if ended_on <= six_months {
            return Err(EntryRefusal::PaidWithinSixMonths {
                item: code(),
                reminded_on,
                ended_on,
            });
        }
    }
    if facts.collected_on <= six_months {
        let earliest = Date::from_days(six_months.to_days() + 1).unwrap_or(six_months);
        return Err(EntryRefusal::UtilityArrearsTooRecent {
            item: code(),
            reminded_on,
            collected_on: facts.collected_on,
            earliest,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    fn facts(item: &str, kind: SubjectKind) -> EntryFacts<'_> {
        EntryFacts {
            item,
            kind,
            occurred_on: d("2026-01-01"),
            ended_on: None,
            reminded_on: None,
            collected_on: d("2026-11-27"),
        }
    }

    fn utility(
        reminded: Option<&str>,
        ended: Option<&str>,
        collected: &str,
    ) -> EntryFacts<'static> {
        EntryFacts {
            item: "O-UTILITY-ARREARS",
            kind: SubjectKind::NaturalPerson,
            occurred_on: d("2025-12-01"),
            ended_on: ended.map(d),
            reminded_on: reminded.map(d),
            collected_on: d(collected),
        }
    }

    /// A catalog file holding `items` (as JSON values), for load-error tests.
    fn file_with(items: serde_json::Value) -> String {
        serde_json::json!({"format": 1, "version": "test", "title": "t", "items": items})
            .to_string()
    }

    fn item_json(code: &str) -> serde_json::Value {
        let item = Catalog::builtin().get(code).unwrap();
        serde_json::to_value(item).unwrap()
    }

    #[test]
    fn builtin_catalog_parses_and_is_indexed() {
        let catalog = Catalog::parse(BUILTIN_TEXT, BUILTIN_NAME).unwrap();
        assert_eq!(catalog.version(), "2026");
        assert_eq!(catalog.items().len(), 33);
        for item in catalog.items() {
            assert_eq!(catalog.get(&item.code), Some(item));
        }
        assert!(catalog.get("d-tax-arrears").is_none());
        assert!(std::ptr::eq(Catalog::builtin(), Catalog::builtin()));
    }

    #[test]
    fn builtin_catalog_covers_every_point_of_art_11_to_13() {
        use SubjectKind::{NaturalPerson as P, Organization as O};
        let mut required = vec![
            ("Art. 11 ¶1 (1)", O),
            ("Art. 11 ¶1 (2)", O),
            ("Art. 11 ¶1 (3)", O),
            ("Art. 11 ¶1 (4)", O),
            ("Art. 11 ¶2 (1)", P),
            ("Art. 11 ¶2 (2)", P),
            ("Art. 11 ¶2 (3)", P),
        ];
        for point in 1..=8 {
            required.push((format!("Art. 12 ¶1 ({point})").leak(), O));
        }
        for point in [3, 4, 5, 7] {
            required.push((format!("Art. 12 ¶1 ({point})").leak(), P));
        }
        for point in 1..=5 {
            required.push((format!("Art. 12 ¶2 ({point})").leak(), P));
            required.push((format!("Art. 13 ({point})").leak(), O));
            required.push((format!("Art. 13 ({point})").leak(), P));
        }
        let catalog = Catalog::builtin();
        for (point, kind) in required {
            assert!(
                catalog
                    .items()
                    .iter()
                    .any(|i| i.basis.iter().any(|b| b == point) && i.applies_to(kind)),
                "{point} for {kind:?}"
            );
        }
    }

    #[test]
    fn builtin_catalog_follows_its_own_scheme() {
        for item in Catalog::builtin().items() {
            let single = match item.applies_to.as_slice() {
                [SubjectKind::Organization] => Some("-ORG-"),
                [SubjectKind::NaturalPerson] => Some("-NP-"),
                _ => None,
            };
            let marked = ["-ORG-", "-NP-"]
                .into_iter()
                .find(|m| item.code[1..].starts_with(m));
            // B-ORG-OTHER is marked: Art. 11 ¶2 has no catch-all for persons.
            assert_eq!(marked, single, "{}", item.code);
            let five_years = QueryPeriod {
                years: 5,
                from: PeriodStart::EndedOn,
            };
            let expected = (item.category == Category::Dishonesty).then_some(five_years);
            assert_eq!(item.query_period, expected, "{}", item.code);
            assert_eq!(
                item.deletable_on_request,
                ["O-COMMENDATION", "O-VOLUNTEER", "O-CHARITY"].contains(&item.code.as_str()),
                "{}",
                item.code
            );
        }
    }

    #[test]
    fn art_12_para_2_limits_dishonesty_items_by_kind() {
        use SubjectKind::{NaturalPerson, Organization};
        let catalog = Catalog::builtin();
        for code in [
            "D-TAX-ARREARS",
            "D-PENALTY",
            "D-FALSE-MATERIALS",
            "D-INDUSTRY-BAN",
        ] {
            assert!(
                catalog.check_entry(&facts(code, NaturalPerson)).is_ok(),
                "{code}"
            );
            assert!(
                catalog.check_entry(&facts(code, Organization)).is_ok(),
                "{code}"
            );
        }
        for code in [
            "D-ORG-SOCIAL-INS-ARREARS",
            "D-ORG-FEE-ARREARS",
            "D-ORG-ACCIDENT",
        ] {
            let refusal = catalog
                .check_entry(&facts(code, NaturalPerson))
                .unwrap_err();
            assert!(
                matches!(&refusal, EntryRefusal::NotForKind { item, kind: NaturalPerson, .. }
                    if item == code),
                "{refusal:?}"
            );
            assert!(
                catalog.check_entry(&facts(code, Organization)).is_ok(),
                "{code}"
            );
        }
        for code in [
            "D-NP-FARE-EVASION",
            "D-NP-INSURANCE-FRAUD",
            "D-NP-BED-OCCUPATION",
            "D-NP-EXAM-CHEATING",
        ] {
            assert!(
                catalog.check_entry(&facts(code, Organization)).is_err(),
                "{code}"
            );
            assert!(
                catalog.check_entry(&facts(code, NaturalPerson)).is_ok(),
                "{code}"
            );
        }
        let refusal = catalog
            .check_entry(&facts("D-ORG-FEE-ARREARS", NaturalPerson))
            .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "item D-ORG-FEE-ARREARS does not apply to natural persons (Art. 12 ¶2)"
        );
        let refusal = catalog
            .check_entry(&facts("D-NP-EXAM-CHEATING", Organization))
            .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "item D-NP-EXAM-CHEATING does not apply to organisations (Art. 12 ¶1)"
        );
        let refusal = catalog
            .check_entry(&facts("B-NP-MARITAL", Organization))
            .unwrap_err();
        assert!(refusal.to_string().ends_with("(Art. 11)"), "{refusal}");
    }

    #[test]
    fn utility_arrears_need_more_than_six_months_after_a_reminder() {
        let catalog = Catalog::builtin();
        let check = |f: EntryFacts<'static>| catalog.check_entry(&f).map(|i| i.code.as_str());
        // 2026-01-10 + 6 months = 2026-07-10: collectable from the day after.
        assert_eq!(
            check(utility(Some("2026-01-10"), None, "2026-07-11")),
            Ok("O-UTILITY-ARREARS")
        );
        let refusal = check(utility(Some("2026-01-10"), None, "2026-07-10")).unwrap_err();
        assert!(
            matches!(refusal, EntryRefusal::UtilityArrearsTooRecent { earliest, .. }
                if earliest == d("2026-07-11")),
            "{refusal:?}"
        );
        assert!(refusal.to_string().contains("Art. 13 (4)"));
        // Paid on the last day of the 6 months: refused; the day after: the arrears qualified.
        let refusal = check(utility(
            Some("2026-01-10"),
            Some("2026-07-10"),
            "2026-08-01",
        ))
        .unwrap_err();
        assert!(
            matches!(refusal, EntryRefusal::PaidWithinSixMonths { .. }),
            "{refusal:?}"
        );
        let refusal = check(utility(
            Some("2026-01-10"),
            Some("2026-02-01"),
            "2026-08-01",
        ))
        .unwrap_err();
        assert!(
            matches!(refusal, EntryRefusal::PaidWithinSixMonths { .. }),
            "{refusal:?}"
        );
        assert!(check(utility(
            Some("2026-01-10"),
            Some("2026-07-11"),
            "2026-08-01"
        ))
        .is_ok());
        // No reminder, or a reminder before the charge fell due.
        let refusal = check(utility(None, None, "2026-11-27")).unwrap_err();
        assert!(
            matches!(refusal, EntryRefusal::MissingReminderDate { .. }),
            "{refusal:?}"
        );
        let refusal = check(utility(Some("2025-11-30"), None, "2026-11-27")).unwrap_err();
        assert!(
            matches!(refusal, EntryRefusal::ReminderBeforeOccurred { .. }),
            "{refusal:?}"
        );
        // 31 Aug + 6 months is the last day of February.
        let f = |collected| EntryFacts {
            occurred_on: d("2025-08-01"),
            ..utility(Some("2025-08-31"), None, collected)
        };
        assert!(check(f("2026-02-28")).is_err());
        assert!(check(f("2026-03-01")).is_ok());
    }

    #[test]
    fn query_period_runs_five_years_from_the_end() {
        let catalog = Catalog::builtin();
        let penalty = catalog.get("D-PENALTY").unwrap();
        let end = |occurred: &str, ended: Option<&str>| {
            penalty.query_period_end(d(occurred), ended.map(d))
        };
        assert_eq!(end("2020-01-01", Some("2021-03-15")), Some(d("2026-03-15")));
        assert_eq!(end("2021-03-15", None), Some(d("2026-03-15")));
        assert_eq!(end("2023-01-01", Some("2024-02-29")), Some(d("2029-02-28")));
        let licence = catalog.get("B-LICENCE").unwrap();
        assert_eq!(licence.query_period_end(d("2020-01-01"), None), None);
        // A record already past its period is not collected; the day before it is.
        let mut f = facts("D-PENALTY", SubjectKind::Organization);
        f.occurred_on = d("2019-06-01");
        f.ended_on = Some(d("2020-01-01"));
        f.collected_on = d("2024-12-31");
        assert!(catalog.check_entry(&f).is_ok());
        f.collected_on = d("2025-01-01");
        let refusal = catalog.check_entry(&f).unwrap_err();
        assert!(
            matches!(refusal, EntryRefusal::QueryPeriodExpired { expired_on, .. }
                if expired_on == d("2025-01-01")),
            "{refusal:?}"
        );
        // Other items have no period: an old commendation is still collected.
        let mut f = facts("O-COMMENDATION", SubjectKind::NaturalPerson);
        f.occurred_on = d("2001-05-04");
        assert!(catalog.check_entry(&f).is_ok());
    }

    #[test]
    fn incoherent_dates_are_refused() {
        let catalog = Catalog::builtin();
        let mut f = facts("D-PENALTY", SubjectKind::Organization);
        f.occurred_on = d("2026-11-28");
        assert!(matches!(
            catalog.check_entry(&f),
            Err(EntryRefusal::OccurredInFuture { .. })
        ));
        let mut f = facts("D-PENALTY", SubjectKind::Organization);
        f.ended_on = Some(d("2025-12-31"));
        assert!(matches!(
            catalog.check_entry(&f),
            Err(EntryRefusal::EndedBeforeOccurred { .. })
        ));
        f.ended_on = Some(d("2026-11-28"));
        assert!(matches!(
            catalog.check_entry(&f),
            Err(EntryRefusal::EndedInFuture { .. })
        ));
        f.ended_on = Some(d("2026-11-27"));
        assert!(catalog.check_entry(&f).is_ok());
    }

    #[test]
    fn prohibited_items_are_refused_without_being_repeated() {
        let catalog = Catalog::builtin();
        for item in ["blood_type", "宗教信仰", "D-NP-DIAGNOSIS"] {
            let refusal = catalog
                .check_entry(&facts(item, SubjectKind::NaturalPerson))
                .unwrap_err();
            assert!(
                matches!(refusal, EntryRefusal::ProhibitedItem { .. }),
                "{refusal:?}"
            );
            assert!(!refusal.to_string().contains(item), "{refusal}");
            assert!(!format!("{refusal:?}").contains(item), "{refusal:?}");
        }
        let refusal = catalog
            .check_entry(&facts("D-NO-SUCH-ITEM", SubjectKind::NaturalPerson))
            .unwrap_err();
        assert_eq!(
            refusal,
            EntryRefusal::UnknownItem {
                item: "D-NO-SUCH-ITEM".into()
            }
        );
    }

    #[test]
    fn load_refuses_duplicate_codes() {
        let text = file_with(serde_json::json!([
            item_json("D-PENALTY"),
            item_json("D-PENALTY")
        ]));
        let err = Catalog::parse(&text, "dup.json").unwrap_err();
        assert!(
            matches!(&err, CatalogError::Invalid { source_name, item, reason }
                if source_name == "dup.json" && item == "D-PENALTY" && reason == "duplicate code"),
            "{err:?}"
        );
    }

    #[test]
    fn load_refuses_items_naming_prohibited_data() {
        let mut blood = item_json("O-OTHER");
        blood["code"] = "O-BLOOD-TYPE".into();
        let mut faith = item_json("O-OTHER");
        faith["code"] = "O-FAITH".into();
        faith["name"] = "宗教活动信息".into();
        for (bad, what) in [
            (blood, ProhibitedKind::BloodType),
            (faith, ProhibitedKind::ReligiousBelief),
        ] {
            let text = file_with(serde_json::json!([item_json("D-PENALTY"), bad]));
            let err = Catalog::parse(&text, "bad.json").unwrap_err();
            assert!(
                matches!(&err, CatalogError::Prohibited { item_index: 1, what: w, .. }
                    if *w == what),
                "{err:?}"
            );
            assert!(
                !err.to_string().contains("O-BLOOD") && !err.to_string().contains("宗教"),
                "{err}"
            );
        }
    }

    #[test]
    fn load_reports_bad_json_with_line_and_column() {
        let text = "{\n  \"format\": 1,\n  \"version\": \"2027\"\n  \"items\": []\n}";
        let err = Catalog::parse(text, "broken.json").unwrap_err();
        assert!(
            matches!(&err, CatalogError::Json { source_name, line: 4, column: 3, .. }
                if source_name == "broken.json"),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("broken.json:4:3: "), "{err}");
        assert!(!err.to_string().contains(" at line "), "{err}");
        let mut item = item_json("B-LICENCE");
        item["category"] = "good".into();
        let err = Catalog::parse(&file_with(serde_json::json!([item])), "c.json").unwrap_err();
        assert!(matches!(err, CatalogError::Json { line: 1, .. }), "{err:?}");
        let err = Catalog::parse("{\"format\": 2}", "f.json").unwrap_err();
        assert!(
            matches!(err, CatalogError::UnsupportedFormat { format: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn load_refuses_invalid_items() {
        let cases: [(&str, &str, serde_json::Value, &str); 5] = [
            (
                "D-PENALTY",
                "query_period",
                serde_json::Value::Null,
                "query period",
            ),
            (
                "D-PENALTY",
                "applies_to",
                serde_json::json!([]),
                "applies_to is empty",
            ),
            ("D-PENALTY", "category", "other".into(), "starts with O-"),
            ("D-PENALTY", "code", "D-penalty".into(), "A-Z"),
            ("O-OTHER", "basis", serde_json::json!([]), "basis"),
        ];
        for (code, field, value, reason_part) in cases {
            let mut item = item_json(code);
            item[field] = value;
            let err = Catalog::parse(&file_with(serde_json::json!([item])), "x.json").unwrap_err();
            assert!(
                matches!(&err, CatalogError::Invalid { reason, .. }
                    if reason.contains(reason_part)),
                "{field}: {err:?}"
            );
        }
        let err = Catalog::parse(&file_with(serde_json::json!([])), "x.json").unwrap_err();
        assert!(matches!(err, CatalogError::Invalid { .. }), "{err:?}");
    }

    #[test]
    fn load_reads_a_file_and_reports_io_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog-2027.json");
        let mut fee = item_json("D-ORG-FEE-ARREARS");
        fee["applies_to"] = serde_json::json!(["organization", "natural_person"]);
        std::fs::write(&path, file_with(serde_json::json!([fee]))).unwrap();
        let catalog = Catalog::load(&path).unwrap();
        assert_eq!(catalog.version(), "test");
        assert!(catalog
            .check_entry(&facts("D-ORG-FEE-ARREARS", SubjectKind::NaturalPerson))
            .is_ok());
        let err = Catalog::load(&dir.path().join("missing.json")).unwrap_err();
        assert!(matches!(err, CatalogError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("missing.json"), "{err}");
    }
}

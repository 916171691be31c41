//! Retention (Art. 27 ¶1): the due-date index, the archive, and the sweep that moves every record
//! past its query period out of the query interface.
//!
//! ```text
//! 'e' ++ month[u32 BE] ++ seq[u64 BE]        -> Vec<DueEntry>        (codec v1)
//! 'x' ++ sweep_id[u64 BE] ++ part[u32 BE]    -> Vec<ArchivedRecord>  (codec v1)
//! 'y' ++ sweep_id[u64 BE]                    -> SweepEntry           (codec v1)
//! 0x00 ++ "retention"                         -> RetentionState       (codec v1)
//! ```
//!
//! **The due-date index** (`'e'`) holds, for every record whose catalog item has a query period,
//! the first day it is no longer queryable (`CatalogItem::query_period_end` of its current
//! version), bucketed by that day's month and by the change sequence of the batch that wrote it.
//! A batch that stores a record writes a *due* entry; a batch that gives a record a new version
//! with another end of period (a correction), or removes it (deletion on request), writes a
//! *cancel* entry for the old end of period into the old month. The entries of one month, netted
//! per `(record, end of period, item)`, are exactly the records falling due that month. The
//! index is written in the same batch as the subjects it describes, so it is never out of step.
//!
//! **The sweep** as of a day reads only the months up to that day's (in parallel, one range per
//! month), and in **one atomic batch** writes the archive entries (`'x'`, with the reason and
//! the end of period; the time is in the sweep's log entry `'y'`), removes the processed index
//! entries, and puts back the not-yet-due remainder of the last month. A crash leaves the state
//! before or after the batch; a re-run as of the same day finds nothing due and writes nothing,
//! so an interrupted sweep re-run ends in exactly the state of an uninterrupted one.
//!
//! **The archive is final and logical**: an archived record keeps its bytes in its subject's
//! column (records are never overwritten, FORMAT.md invariant 1), and the query layer withholds
//! every archived record (the set is held in memory, one bit per record id, swapped whole when a
//! sweep lands, so a query sees a subject wholly before or wholly after a sweep). A later version
//! of an archived record does not bring it back.

use super::keys;
use super::kv;
use crate::codec;
use crate::domain::catalog::Catalog;
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::record::RecordContent;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Keyspace tag of the due-date index.
pub const DUE: u8 = b'e';
/// Keyspace tag of the archive.
pub const ARCHIVE: u8 = b'x';
/// Keyspace tag of the sweep log.
pub const SWEEPS: u8 = b'y';

const STATE_KEY: &str = "retention";

/// Records per archive value.
const ARCHIVE_PART: usize = 8192;

/// Why a record was archived. One reason today; an enum so the format can grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveReason {
    /// Its query period passed (Art. 27 ¶1).
    QueryPeriodPassed,
}

impl ArchiveReason {
    /// The words for operators.
    pub fn describe(self) -> &'static str {
        match self {
            ArchiveReason::QueryPeriodPassed => "query period passed (Art. 27 ¶1)",
        }
    }
}

/// A catalog item code held inline (codes are at most 40 ASCII characters, the catalog's rule):
/// index entries and archive records carry one each, and a sweep handles hundreds of thousands,
/// so no allocation per entry. On the wire it is a string, like every item code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Item {
    len: u8,
    bytes: [u8; Item::MAX],
}

impl Item {
    const MAX: usize = 40;

    /// The code, if it fits.
    pub fn new(code: &str) -> Option<Item> {
        let mut bytes = [0u8; Item::MAX];
        bytes
            .get_mut(..code.len())?
            .copy_from_slice(code.as_bytes());
        Some(Item {
            len: code.len() as u8,
            bytes,
        })
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // NOTE: built only from a &str cut at its own length, so always UTF-8.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Item;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a catalog item code of at most 40 bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Item, E> {
                Item::new(v).ok_or_else(|| E::custom("item code longer than 40 bytes"))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// One entry of the due-date index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueEntry {
    /// The record.
    pub record_id: u64,
    /// Its subject.
    pub subject: SubjectCode,
    /// Its catalog item (of the version that set this end of period).
    pub item: Item,
    /// The first day it is no longer queryable.
    pub expires_on: Date,
    /// A cancel entry withdraws an earlier due entry with the same record, day and item.
    pub cancel: bool,
}

/// One archived record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedRecord {
    /// The record.
    pub record_id: u64,
    /// Its subject.
    pub subject: SubjectCode,
    /// Its catalog item.
    pub item: Item,
    /// The first day it was no longer queryable.
    pub expires_on: Date,
    /// Why it was archived.
    pub reason: ArchiveReason,
}

/// The log entry of one sweep that archived something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepEntry {
    /// Its id (from 1).
    pub sweep_id: u64,
    /// The day it swept as of.
    pub as_of: Date,
    /// When it ran (ms since the Unix epoch).
    pub at_unix_ms: i64,
    /// Records archived.
    pub archived: u64,
    /// Records archived per catalog item.
    pub by_item: Vec<(String, u64)>,
    /// Archive values written (`'x' ++ sweep_id ++ 0..parts`).
    pub parts: u32,
}

/// The retention state (meta entry `retention`). Its presence says the due-date index covers
/// every stored record (a store from before the index is indexed once, on open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionState {
    /// The next sweep id (from 1).
    pub next_sweep_id: u64,
    /// The latest day swept as of, if any sweep archived anything.
    pub swept_as_of: Option<Date>,
}

/// `'e' ++ month ++ seq`.
fn due_key(month: u32, seq: u64) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[0] = DUE;
    k[1..5].copy_from_slice(&month.to_be_bytes());
    k[5..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn archive_key(sweep_id: u64, part: u32) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[0] = ARCHIVE;
    k[1..9].copy_from_slice(&sweep_id.to_be_bytes());
    k[9..].copy_from_slice(&part.to_be_bytes());
    k
}

/// The index bucket of a day: months since year 0.
pub fn month_of(day: Date) -> u32 {
    let (y, m, _) = day.ymd();
    // NOTE: Date's range is years 0..=9999, so this is non-negative and small.
    (y.max(0) as u32) * 12 + (m - 1)
}

/// The first day a record version is no longer queryable, if its item has a query period.
pub fn expires_on(catalog: &Catalog, content: &RecordContent) -> Option<Date> {
    catalog
        .get(&content.item)?
        .query_period_end(content.occurred_on, content.ended_on)
}

/// A record version's end of query period with its item, if its item has a query period.
pub fn end_of<'c>(catalog: &Catalog, content: &'c RecordContent) -> Option<(Date, &'c str)> {
    expires_on(catalog, content).map(|day| (day, content.item.as_str()))
}

/// The due-index changes of one write batch.
#[derive(Debug, Default)]
pub struct DueChanges {
    entries: Vec<DueEntry>,
}

impl DueChanges {
    /// Notes that a record's current version went from `before` to `after` (`None`: the record
    /// did not exist / no longer exists).
    pub fn record_changed(
        &mut self,
        catalog: &Catalog,
        subject: SubjectCode,
        record_id: u64,
        before: Option<&RecordContent>,
        after: Option<&RecordContent>,
    ) {
        self.ends_changed(
            subject,
            record_id,
            before.and_then(|c| end_of(catalog, c)),
            after.and_then(|c| end_of(catalog, c)),
        );
    }

    /// Like [`DueChanges::record_changed`], with the ends of period already worked out.
    pub fn ends_changed(
        &mut self,
        subject: SubjectCode,
        record_id: u64,
        old: Option<(Date, &str)>,
        new: Option<(Date, &str)>,
    ) {
        if old == new {
            return;
        }
        for (entry, cancel) in [(old, true), (new, false)] {
            // NOTE: catalog item codes are at most 40 characters (checked on load).
            if let Some((expires_on, Some(item))) = entry.map(|(d, i)| (d, Item::new(i))) {
                self.entries.push(DueEntry {
                    record_id,
                    subject,
                    item,
                    expires_on,
                    cancel,
                });
            }
        }
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds the entries to `batch`, one value per month, under the batch's change sequence.
    pub fn put(self, batch: &mut sled::Batch, seq: u64) {
        let mut by_month: BTreeMap<u32, Vec<DueEntry>> = BTreeMap::new();
        for e in self.entries {
            by_month.entry(month_of(e.expires_on)).or_default().push(e);
        }
        for (month, entries) in by_month {
            batch.insert(&due_key(month, seq), codec::encode(&entries));
        }
    }
}

/// The retention state, if the due-date index exists.
pub fn state(tree: &sled::Tree) -> Result<Option<RetentionState>> {
    kv::get(tree, &keys::meta(STATE_KEY), "meta")
}

/// Puts the retention state into a batch.
pub fn put_state(batch: &mut sled::Batch, state: &RetentionState) {
    batch.insert(keys::meta(STATE_KEY), codec::encode(state));
}

/// The sweep log, oldest first.
pub fn sweeps(tree: &sled::Tree) -> impl Iterator<Item = Result<SweepEntry>> + '_ {
    kv::scan(tree, SWEEPS, "sweeps")
}

/// Every archived record, in sweep order.
pub fn archived(tree: &sled::Tree) -> impl Iterator<Item = Result<Vec<ArchivedRecord>>> + '_ {
    kv::scan(tree, ARCHIVE, "archive")
}

/// The archived record ids, one bit per id: what the query layer withholds.
#[derive(Debug, Clone, Default)]
pub struct ArchivedSet {
    bits: Vec<u64>,
    count: u64,
}

impl ArchivedSet {
    /// Loads the set from the archive keyspace.
    pub fn load(tree: &sled::Tree) -> Result<ArchivedSet> {
        let mut set = ArchivedSet::default();
        for part in archived(tree) {
            for r in part? {
                set.insert(r.record_id);
            }
        }
        Ok(set)
    }

    /// Whether a record is archived.
    pub fn contains(&self, record_id: u64) -> bool {
        let (word, bit) = ((record_id / 64) as usize, record_id % 64);
        self.bits.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    fn insert(&mut self, record_id: u64) {
        let (word, bit) = ((record_id / 64) as usize, record_id % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.count += 1;
        }
    }

    /// Records archived.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether nothing is archived.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// What one month of the index holds as of a sweep day, after netting.
#[derive(Debug, Default)]
struct MonthPlan {
    /// Keys read (all of the month's values).
    keys: Vec<sled::IVec>,
    /// Records due as of the sweep day, not archived yet.
    due: Vec<DueEntry>,
    /// Records due later (only in the sweep day's own month).
    later: Vec<DueEntry>,
    /// Whether writing anything back is needed (anything due, cancelled or superseded).
    changed: bool,
}

/// Reads and nets one month of the due-date index.
fn plan_month(
    tree: &sled::Tree,
    month: u32,
    as_of: Date,
    archived: &ArchivedSet,
) -> Result<MonthPlan> {
    let mut plan = MonthPlan::default();
    let mut values: Vec<Vec<DueEntry>> = Vec::new();
    for item in tree.range(due_key(month, 0)..=due_key(month, u64::MAX)) {
        let (key, value) = item?;
        values.push(codec::decode(&value, "due index", &key)?);
        plan.keys.push(key);
    }
    let entries: usize = values.iter().map(Vec::len).sum();
    let live: Vec<DueEntry> = if values.iter().flatten().any(|e| e.cancel) {
        net(values.into_iter().flatten().collect())
    } else {
        // The common month: no correction moved an end, no record was deleted; every entry is
        // a record (a due entry is only written when a record's end changes).
        let mut all = Vec::with_capacity(entries);
        for mut v in values {
            all.append(&mut v);
        }
        all
    };
    let mut kept = 0usize;
    for entry in live {
        // Archived already: its index entry outlived it only if the record's end moved back
        // into an archived month (archiving is final).
        if archived.contains(entry.record_id) {
            continue;
        }
        kept += 1;
        if entry.expires_on <= as_of {
            plan.due.push(entry);
        } else {
            plan.later.push(entry);
        }
    }
    plan.changed = !plan.due.is_empty() || kept != entries || plan.keys.len() > 1;
    Ok(plan)
}

/// Nets a month's entries per `(record, day, item)`: due +1, cancel -1; what remains at 1 is a
/// record whose period ends that month. Below 1: a record whose end moved or that was deleted
/// (a cancel may outlive a due entry already archived). In record order.
fn net(all: Vec<DueEntry>) -> Vec<DueEntry> {
    let mut net: HashMap<(u64, Date, Item), (i64, Option<DueEntry>)> = HashMap::new();
    for e in all {
        let slot = net
            .entry((e.record_id, e.expires_on, e.item))
            .or_insert((0, None));
        if e.cancel {
            slot.0 -= 1;
        } else {
            slot.0 += 1;
            slot.1 = Some(e);
        }
    }
    let mut live: Vec<DueEntry> = net
        .into_values()
        .filter_map(|(count, entry)| entry.filter(|_| count >= 1))
        .collect();
    live.sort_by_key(|e| e.record_id);
    live
}

/// A sweep's options.
#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// Archive every record no longer queryable on this day.
    pub as_of: Date,
    /// Count only; write nothing.
    pub dry_run: bool,
}

/// What a sweep did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// The day swept as of.
    pub as_of: Date,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The sweep's id, when it archived something.
    pub sweep_id: Option<u64>,
    /// Records archived (or due, dry).
    pub archived: u64,
    /// The same, per catalog item.
    pub by_item: BTreeMap<String, u64>,
    /// Index months read.
    pub months: u64,
}

/// What a verification sweep found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionCheck {
    /// The day the archive is checked against (the latest sweep's), if any sweep archived.
    pub swept_as_of: Option<Date>,
    /// Subjects read.
    pub subjects: u64,
    /// Records decoded (every version of each).
    pub records: u64,
    /// Records whose item has a query period.
    pub with_period: u64,
    /// Records archived.
    pub archived: u64,
    /// Records due as of the latest sweep but not archived (must be 0).
    pub due_not_archived: u64,
    /// Archived records whose current version is not due (a correction after archiving: the
    /// archive is final; reported, not an error).
    pub archived_not_due: u64,
    /// Records due as of `as_of` (when given) and not archived: what the next sweep would take.
    pub due_on_given_day: u64,
    /// The 10 lowest record ids of `due_not_archived` (fewer if there are fewer), for the
    /// operator.
    pub examples: Vec<u64>,
}

impl RetentionCheck {
    /// Whether the archive agrees with the retention rule.
    pub fn is_ok(&self) -> bool {
        self.due_not_archived == 0
    }

    /// Keeps `record_id` if it is among the 10 lowest seen (the scan visits subjects in no
    /// particular order, so the lowest, not the first, make the answer the same on every run).
    fn add_example(&mut self, record_id: u64) {
        self.examples.push(record_id);
        if self.examples.len() > 20 {
            self.examples.sort_unstable();
            self.examples.truncate(10);
        }
    }

    fn merge(mut self, other: RetentionCheck) -> RetentionCheck {
        self.subjects += other.subjects;
        self.records += other.records;
        self.with_period += other.with_period;
        self.archived += other.archived;
        self.due_not_archived += other.due_not_archived;
        self.archived_not_due += other.archived_not_due;
        self.due_on_given_day += other.due_on_given_day;
        self.examples.extend(other.examples);
        self.examples.sort_unstable();
        self.examples.truncate(10);
        self
    }
}

impl crate::Store {
    /// Moves every record no longer queryable on `options.as_of` into the archive (Art. 27 ¶1),
    /// in one atomic batch, flushed before it returns; queries withhold them from then on.
    /// Idempotent: a second sweep as of the same day finds nothing and writes nothing. Runs
    /// while queries go on; other writers wait for it.
    pub fn sweep(&self, options: &SweepOptions) -> Result<SweepReport> {
        use rayon::prelude::*;
        let _writer = self.writer();
        let mut state = state(&self.tree)?.unwrap_or_default();
        let archived = self.archived_set();
        let last = month_of(options.as_of);
        let first = match self.tree.scan_prefix([DUE]).next() {
            Some(item) => {
                let (key, _) = item?;
                let month: [u8; 4] =
                    key.get(1..5)
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| crate::Error::Corrupt {
                            tree: "due index",
                            key: keys::describe(&key),
                            reason: "a key shorter than month ++ seq".to_string(),
                        })?;
                u32::from_be_bytes(month)
            }
            None => last + 1,
        };
        let plans: Vec<(u32, MonthPlan)> = (first..=last)
            .into_par_iter()
            .map(|month| {
                Ok((
                    month,
                    plan_month(&self.tree, month, options.as_of, &archived)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let months = plans.iter().filter(|(_, p)| !p.keys.is_empty()).count() as u64;
        let changed = plans.iter().any(|(_, p)| p.changed);
        let mut by_item: HashMap<Item, u64> = HashMap::new();
        for (_, plan) in &plans {
            for e in &plan.due {
                *by_item.entry(e.item).or_default() += 1;
            }
        }
        let mut report = SweepReport {
            as_of: options.as_of,
            dry_run: options.dry_run,
            sweep_id: None,
            archived: by_item.values().sum(),
            by_item: by_item
                .into_iter()
                .map(|(k, v)| (k.as_str().to_string(), v))
                .collect(),
            months,
        };
        if options.dry_run || !changed {
            return Ok(report);
        }
        let mut batch = sled::Batch::default();
        let mut due: Vec<DueEntry> = Vec::with_capacity(report.archived as usize);
        for (month, plan) in plans.into_iter().filter(|(_, p)| p.changed) {
            for key in &plan.keys {
                batch.remove(key);
            }
            if let (false, Some(last_key)) = (plan.later.is_empty(), plan.keys.last()) {
                // NOTE: every key read by `plan_month` lies in `due_key(month, 0..=MAX)`, 13 bytes.
                let seq = last_key
                    .get(5..13)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map_or(u64::MAX, u64::from_be_bytes);
                batch.insert(&due_key(month, seq), codec::encode(&plan.later));
            }
            due.extend(plan.due);
        }
        let mut next = archived.as_ref().clone();
        if !due.is_empty() {
            let sweep_id = state.next_sweep_id.max(1);
            let mut parts = 0u32;
            for e in &due {
                next.insert(e.record_id);
            }
            let records: Vec<ArchivedRecord> = due
                .into_iter()
                .map(|e| ArchivedRecord {
                    record_id: e.record_id,
                    subject: e.subject,
                    item: e.item,
                    expires_on: e.expires_on,
                    reason: ArchiveReason::QueryPeriodPassed,
                })
                .collect();
            let values: Vec<Vec<u8>> = records
                .par_chunks(ARCHIVE_PART)
                .map(|chunk| codec::encode_sized(&chunk, chunk.len() * 64))
                .collect();
            for value in values {
                batch.insert(&archive_key(sweep_id, parts), value);
                parts += 1;
            }
            let entry = SweepEntry {
                sweep_id,
                as_of: options.as_of,
                at_unix_ms: crate::ingest::now_unix_ms(),
                archived: report.archived,
                by_item: report
                    .by_item
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                parts,
            };
            batch.insert(&keys::sequenced(SWEEPS, sweep_id), codec::encode(&entry));
            state.next_sweep_id = sweep_id + 1;
            state.swept_as_of = Some(
                state
                    .swept_as_of
                    .map_or(options.as_of, |d| d.max(options.as_of)),
            );
            report.sweep_id = Some(sweep_id);
        }
        put_state(&mut batch, &state);
        self.tree.apply_batch(batch)?;
        self.flush()?;
        self.install_archived(next);
        Ok(report)
    }

    /// The verification sweep: decodes every record of every subject (in parallel, on the
    /// current rayon pool) and re-checks its retention rule against the archive: every record
    /// due as of the latest sweep must be archived. With `as_of`, also counts what a sweep as
    /// of that day would take.
    pub fn verify_retention(&self, as_of: Option<Date>) -> Result<RetentionCheck> {
        let swept = state(&self.tree)?.and_then(|s| s.swept_as_of);
        let archived = self.archived_set();
        let catalog = self.catalog();
        let check = super::subjects::par_scan_views(
            &self.tree,
            &self.dicts,
            RetentionCheck::default,
            |check, _, records| {
                check.subjects += 1;
                for r in records {
                    check.records += 1;
                    let Some(current) = r.versions.last() else {
                        continue;
                    };
                    let c = &current.content;
                    let end = catalog
                        .get(c.item)
                        .and_then(|i| i.query_period_end(c.occurred_on, c.ended_on));
                    let is_archived = archived.contains(r.record_id);
                    check.with_period += u64::from(end.is_some());
                    check.archived += u64::from(is_archived);
                    let due_by = |day: Option<Date>| end.zip(day).is_some_and(|(e, d)| e <= d);
                    if due_by(swept) && !is_archived {
                        check.due_not_archived += 1;
                        check.add_example(r.record_id);
                    }
                    if is_archived && !due_by(swept) {
                        check.archived_not_due += 1;
                    }
                    if due_by(as_of) && !is_archived {
                        check.due_on_given_day += 1;
                    }
                }
            },
            RetentionCheck::merge,
        )?;
        // NOTE: merging trims the examples, but a scan folded into one state is not merged.
        let mut check = check.merge(RetentionCheck::default());
        check.swept_as_of = swept;
        Ok(check)
    }

    /// The sweep log, oldest first.
    pub fn sweeps(&self) -> Result<Vec<SweepEntry>> {
        sweeps(&self.tree).collect()
    }

    /// The current set of archived records (a snapshot: a sweep that lands later swaps in a new
    /// set and leaves this one as it is).
    pub fn archived_set(&self) -> Arc<ArchivedSet> {
        self.archived
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn install_archived(&self, set: ArchivedSet) {
        *self.archived.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
    }

    /// Builds the due-date index of a store written before it existed (one scan, on open).
    pub(crate) fn build_due_index(&self) -> Result<()> {
        let _writer = self.writer();
        if state(&self.tree)?.is_some() {
            return Ok(());
        }
        let mut changes = DueChanges::default();
        for entry in super::subjects::scan(&self.tree, &self.dicts) {
            let entry = entry?;
            for record in entry.columns.iter().flatten() {
                changes.record_changed(
                    &self.catalog,
                    entry.subject.code,
                    record.record_id.0,
                    None,
                    Some(&record.current().content),
                );
            }
        }
        let mut batch = sled::Batch::default();
        // NOTE: sequence 0 sorts before every batch written later, under any change seq.
        changes.put(&mut batch, 0);
        put_state(&mut batch, &RetentionState::default());
        self.tree.apply_batch(batch)?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples are the lowest ids whatever order the scan met them in and however its
    /// work was split.
    #[test]
    fn examples_are_the_lowest_ids_in_any_order_and_split() {
        let ids: Vec<u64> = (0..100).map(|i| (i * 37) % 101).collect();
        let mut whole = RetentionCheck::default();
        ids.iter().for_each(|&id| whole.add_example(id));
        let whole = whole.merge(RetentionCheck::default());
        let (mut a, mut b) = (RetentionCheck::default(), RetentionCheck::default());
        ids.iter().rev().enumerate().for_each(|(i, &id)| {
            if i % 3 == 0 {
                a.add_example(id)
            } else {
                b.add_example(id)
            }
        });
        let lowest: Vec<u64> = {
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.truncate(10);
            sorted
        };
        assert_eq!(whole.examples, lowest);
        assert_eq!(b.merge(a).examples, lowest);
    }
}

//! The SQLite baseline, written with the care credstore gets: WAL, `synchronous=NORMAL`, a
//! 256 MiB page cache (credstore's sled cache), prepared statements, the load written in key
//! order (an external sort first, as credstore's bulk load does) in transactions of 10,000
//! lines, secondary indexes and the full-text index built once after the load.
//!
//! Schema (SQLite 3.54.1, bundled):
//! - `subjects(code PK, kind, name, former, first_collected_on)` WITHOUT ROWID: `former` is a
//!   JSON array of earlier names, oldest first; `kind` 0 person, 1 organisation.
//! - `records(code, record_id, item, expires_on, value)` WITHOUT ROWID, PRIMARY KEY (code,
//!   record_id): `value` is the crate's own value encoding of the whole [`Record`] (a version
//!   byte, then bincode 2.0.1; every version; `credstore::codec`), uncompressed, decoded into the
//!   same `Record` type credstore returns; `item` the catalog item's position in the catalog;
//!   `expires_on` the day number of [`CatalogItem::query_period_end`] (NULL: no query period).
//! - `archive`: the same shape; the sweep moves due records there.
//! - `provider_index(provider, provider_record_id) → (code, record_id)` WITHOUT ROWID: what
//!   makes a re-submitted line a duplicate or a new version, as credstore's provider index does.
//! - After the load: `records_due ON records(expires_on, item) WHERE expires_on IS NOT NULL`
//!   (the sweep's index, covering its counts by item); `subjects_region` and `subjects_org`,
//!   expression indexes on a USCC's region part (`substr(code, 3)`) and organisation code
//!   (`substr(code, 9, 9)`), so code prefixes mean what they mean in credstore's search; and
//!   `names_fts`, FTS5 with the `trigram` tokenizer over every name (current and former) with the
//!   code beside it (UNINDEXED), merged into one segment (`optimize`). Queries under 3
//!   characters, which trigrams cannot index, scan `subjects` with LIKE instead.
//!
//! Codes are searched in the B-trees (the primary key and the two expression indexes), not in
//! the trigram index: an exact code or a prefix is one range scan there, while a trigram match
//! would also find the text anywhere inside a code and cost the index its size.
//!
//! [`CatalogItem::query_period_end`]: credstore::domain::catalog::CatalogItem::query_period_end

mod lookup;

use crate::data;
use crate::measure::{self, EngineResult, SearchResult, SweepResult};
use crate::workload::{item_index, Workload, LIMIT};
use anyhow::{Context, Result};
use credstore::codec;
use credstore::domain::catalog::Catalog;
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::record::{Record, Submission, Version};
use credstore::domain::SubjectKind;
use credstore::ingest::runs::Sorter;
use rusqlite::{params, Connection, OptionalExtension, Statement};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE subjects(
    code TEXT PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL,
    former TEXT NOT NULL DEFAULT '[]', first_collected_on INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE records(
    code TEXT NOT NULL, record_id INTEGER NOT NULL, item INTEGER NOT NULL,
    expires_on INTEGER, value BLOB NOT NULL, PRIMARY KEY (code, record_id)
) WITHOUT ROWID;
CREATE TABLE archive(
    code TEXT NOT NULL, record_id INTEGER NOT NULL, item INTEGER NOT NULL,
    expires_on INTEGER, value BLOB NOT NULL, PRIMARY KEY (code, record_id)
) WITHOUT ROWID;
CREATE TABLE provider_index(
    provider TEXT NOT NULL, provider_record_id TEXT NOT NULL,
    code TEXT NOT NULL, record_id INTEGER NOT NULL,
    PRIMARY KEY (provider, provider_record_id)
) WITHOUT ROWID;
";

/// Built once after the rows are in (faster than maintaining them row by row).
const AFTER_LOAD: &str = "
BEGIN;
CREATE INDEX records_due ON records(expires_on, item) WHERE expires_on IS NOT NULL;
CREATE INDEX subjects_region ON subjects(substr(code, 3)) WHERE kind = 1;
CREATE INDEX subjects_org ON subjects(substr(code, 9, 9)) WHERE kind = 1;
CREATE VIRTUAL TABLE names_fts USING fts5(name, code UNINDEXED, tokenize = 'trigram');
INSERT INTO names_fts(name, code) SELECT name, code FROM subjects;
INSERT INTO names_fts(name, code) SELECT j.value, s.code FROM subjects AS s, json_each(s.former) AS j;
INSERT INTO names_fts(names_fts) VALUES ('optimize');
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
";

/// A new subject, or a known one under a new name: the old name joins `former` (the new one
/// leaves it), as credstore's writer keeps names.
const UPSERT_SUBJECT: &str = "
INSERT INTO subjects(code, kind, name, first_collected_on) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT(code) DO UPDATE SET
    name = excluded.name,
    former = (SELECT json_insert(json_group_array(value), '$[#]', subjects.name)
              FROM json_each(subjects.former) WHERE value <> excluded.name)
WHERE subjects.name <> excluded.name";

/// Opens (or creates) the database with the baseline's settings.
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;",
    )?;
    Ok(conn)
}

/// Runs the SQLite phase (load, lookups, searches, sweep): the database in `work/sqlite`,
/// answers beside it in `work`.
pub fn run(w: &Workload, work: &Path) -> Result<EngineResult> {
    let dir = work.join("sqlite");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("credbench.db");
    let mut conn = open(&path)?;
    conn.execute_batch(SCHEMA)?;
    let (records, load_secs) = measure::timed(|| load(&mut conn, w, &dir));
    let records = records?;
    let disk_bytes = file_len(&path) + file_len(&path.with_extension("db-wal"));
    let mut result = EngineResult {
        engine: "sqlite".into(),
        records,
        load_secs,
        disk_bytes,
        ..EngineResult::default()
    };
    lookup::run(&path, w, work, &mut result)?;
    for class in &w.classes {
        result.searches.push(search_class(&conn, &class.queries)?);
    }
    result.sweep = Some(sweep(&mut conn, w.sweep_as_of())?);
    result.peak_rss_bytes = measure::peak_rss_bytes()?;
    Ok(result)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Lines per write transaction.
const TRANSACTION_LINES: usize = 10_000;
/// Lines held in memory per sorted run (credstore's bulk load holds 200,000).
const RUN_ITEMS: usize = 200_000;

/// A validated line waiting in the sort, numbered in input order.
#[derive(Serialize, Deserialize)]
struct Staged {
    seq: u64,
    sub: Submission,
}

type StagedKey = (SubjectCode, u64);

fn staged_key(s: &Staged) -> StagedKey {
    (s.sub.subject, s.seq)
}

/// Loads every generated file, as credstore's bulk load does: read and validate every line,
/// stage it in an external sort by subject (and input order), then write in key order, so the
/// B-trees of `subjects` and `records` grow at their ends instead of at random places, the
/// sorted runs read on a second thread. Returns the records stored.
fn load(conn: &mut Connection, w: &Workload, dir: &Path) -> Result<u64> {
    let today = w.today();
    let tmp = dir.join("tmp");
    let mut sorter = Sorter::new(
        tmp.clone(),
        "subjects",
        RUN_ITEMS,
        staged_key as fn(&Staged) -> StagedKey,
    )?;
    let mut seq = 0;
    data::for_each_chunk(&data::sources(&w.data_dir)?, today, |chunk| {
        for sub in chunk.lines.into_iter().flatten() {
            sorter.push(Staged { seq, sub })?;
            seq += 1;
        }
        Ok(())
    })?;
    let sorted = sorter.into_sorted()?;
    let mut writer = Writer {
        today,
        next_record: 1,
        stored: 0,
    };
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<Submission>>>(2);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(TRANSACTION_LINES);
            for staged in sorted {
                match staged {
                    Ok(s) => chunk.push(s.sub),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                if chunk.len() >= TRANSACTION_LINES
                    && tx.send(Ok(std::mem::take(&mut chunk))).is_err()
                {
                    return;
                }
            }
            let _ = tx.send(Ok(chunk));
        });
        for chunk in rx {
            let txn = conn.transaction()?;
            for sub in chunk? {
                writer.apply(&txn, sub)?;
            }
            txn.commit()?;
        }
        Ok(())
    })?;
    std::fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    conn.execute_batch(AFTER_LOAD)?;
    Ok(writer.stored)
}

/// The load's state between chunks.
struct Writer {
    today: Date,
    next_record: i64,
    stored: u64,
}

impl Writer {
    /// Stores one validated line: a new record, a new version, or nothing (a duplicate).
    fn apply(&mut self, tx: &Connection, sub: Submission) -> Result<()> {
        let code = sub.subject.as_str();
        let added = tx
            .prepare_cached(
                "INSERT INTO provider_index(provider, provider_record_id, code, record_id)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                sub.provider,
                sub.provider_record_id,
                code,
                self.next_record
            ])?;
        if added == 0 {
            return self.resubmitted(tx, sub);
        }
        self.upsert_subject(tx, &sub)?;
        let (item, expires_on) = due(&sub.content);
        let record = Record {
            record_id: credstore::domain::record::RecordId(self.next_record as u64),
            category: sub.category,
            provider: sub.provider,
            provider_record_id: sub.provider_record_id,
            versions: vec![Version {
                version: 1,
                collected_on: self.today,
                collection_seq: 0,
                content: sub.content,
            }],
        };
        tx.prepare_cached(
            "INSERT INTO records(code, record_id, item, expires_on, value) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![code, self.next_record, item, expires_on, codec::encode(&record)])?;
        self.next_record += 1;
        self.stored += 1;
        Ok(())
    }

    fn upsert_subject(&self, tx: &Connection, sub: &Submission) -> Result<()> {
        let kind = i64::from(sub.kind == SubjectKind::Organization);
        tx.prepare_cached(UPSERT_SUBJECT)?.execute(params![
            sub.subject.as_str(),
            kind,
            sub.content.subject_name,
            self.today.to_days()
        ])?;
        Ok(())
    }

    /// A line whose provider id is already stored: a duplicate if equal to any stored version,
    /// else a new version; refused if it names another subject or category.
    fn resubmitted(&mut self, tx: &Connection, sub: Submission) -> Result<()> {
        let (code, record_id): (String, i64) = tx
            .prepare_cached(
                "SELECT code, record_id FROM provider_index WHERE provider = ?1 AND provider_record_id = ?2",
            )?
            .query_row(params![sub.provider, sub.provider_record_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let value: Option<Vec<u8>> = tx
            .prepare_cached("SELECT value FROM records WHERE code = ?1 AND record_id = ?2")?
            .query_row(params![code, record_id], |r| r.get(0))
            .optional()?;
        let Some(value) = value.filter(|_| code == sub.subject.as_str()) else {
            return Ok(());
        };
        let mut record: Record = codec::decode(&value, "records", code.as_bytes())?;
        if record.category != sub.category
            || record.versions.iter().any(|v| v.content == sub.content)
        {
            return Ok(());
        }
        self.upsert_subject(tx, &sub)?;
        let (item, expires_on) = due(&sub.content);
        let version = record.current().version + 1;
        record.versions.push(Version {
            version,
            collected_on: self.today,
            collection_seq: 0,
            content: sub.content,
        });
        tx.prepare_cached(
            "UPDATE records SET item = ?3, expires_on = ?4, value = ?5 WHERE code = ?1 AND record_id = ?2",
        )?
        .execute(params![code, record_id, item, expires_on, codec::encode(&record)])?;
        Ok(())
    }
}

/// The catalog item's number and the record's due day (NULL when the item has no query period).
fn due(content: &credstore::domain::record::RecordContent) -> (Option<u16>, Option<i32>) {
    let catalog = Catalog::builtin();
    let end = catalog
        .get(&content.item)
        .and_then(|i| i.query_period_end(content.occurred_on, content.ended_on));
    (item_index(catalog, &content.item), end.map(Date::to_days))
}

/// One class's queries: an answer pass (also the warm-up), then the timed passes
/// ([`measure::search_latencies`]).
fn search_class(conn: &Connection, queries: &[String]) -> Result<SearchResult> {
    let mut searcher = Searcher::new(conn)?;
    let mut out = SearchResult::default();
    for q in queries {
        out.answers.push(searcher.search(q, LIMIT)?);
    }
    out.latencies_us = measure::search_latencies(queries, |q| searcher.search(q, LIMIT))?;
    Ok(out)
}

/// The search statements, prepared once (see the NOTE on `prepare_cached` in `lookup::in_read`).
pub struct Searcher<'c> {
    exact: Statement<'c>,
    prefix: Statement<'c>,
    region: Statement<'c>,
    org: Statement<'c>,
    trigram: Statement<'c>,
    like: Statement<'c>,
}

impl<'c> Searcher<'c> {
    /// Prepares the statements on `conn`.
    pub fn new(conn: &'c Connection) -> Result<Searcher<'c>> {
        Ok(Searcher {
            exact: conn.prepare("SELECT code FROM subjects WHERE code = ?1")?,
            prefix: conn.prepare("SELECT code FROM subjects WHERE code >= ?1 AND code < ?2")?,
            region: conn.prepare(
                "SELECT code FROM subjects
                 WHERE kind = 1 AND substr(code, 3) >= ?1 AND substr(code, 3) < ?2",
            )?,
            org: conn.prepare(
                "SELECT code FROM subjects
                 WHERE kind = 1 AND substr(code, 9, 9) >= ?1 AND substr(code, 9, 9) < ?2",
            )?,
            trigram: conn.prepare("SELECT code FROM names_fts WHERE names_fts MATCH ?1")?,
            // NOTE: a scan of `subjects`, not of `names_fts` (FTS5 supports LIKE on its column
            // but, under 3 characters, scans its own tables about 3 times slower).
            like: conn.prepare(
                "SELECT code FROM subjects WHERE name LIKE ?1 ESCAPE '\\'
                 OR (former <> '[]'
                     AND EXISTS (SELECT 1 FROM json_each(former) WHERE value LIKE ?1 ESCAPE '\\'))",
            )?,
        })
    }

    /// The first `limit` subjects matching `text`, unranked: a whole code, a code prefix (from
    /// the start, of a USCC's region part, or of its organisation code), or a name containing
    /// the text (FTS5 trigram from 3 characters; under 3, which trigrams cannot index, a LIKE
    /// scan of the subjects' names).
    pub fn search(&mut self, text: &str, limit: usize) -> Result<Vec<String>> {
        let code = text.trim().to_ascii_uppercase();
        let code_like = code.len() >= 6 && code.bytes().all(|b| b.is_ascii_alphanumeric());
        let mut hits = Hits::new(limit);
        if code_like && code.len() == 18 {
            hits.run(&mut self.exact, &[&code])?;
        } else if code_like {
            let end = format!("{code}~");
            hits.run(&mut self.prefix, &[&code, &end])?;
            hits.run(&mut self.region, &[&code, &end])?;
            if code.len() <= 9 {
                hits.run(&mut self.org, &[&code, &end])?;
            }
        } else if text.chars().count() >= 3 {
            let phrase = format!("\"{}\"", text.replace('"', "\"\""));
            hits.run(&mut self.trigram, &[&phrase])?;
        } else {
            let escaped: String = text
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            hits.run(&mut self.like, &[&format!("%{escaped}%")])?;
        }
        Ok(hits.codes)
    }
}

/// Distinct codes, in the order found, up to a limit.
struct Hits {
    limit: usize,
    seen: HashSet<String>,
    codes: Vec<String>,
}

impl Hits {
    fn new(limit: usize) -> Hits {
        Hits {
            limit,
            seen: HashSet::new(),
            codes: Vec::new(),
        }
    }

    /// Steps through `stmt`'s rows only until the limit is reached.
    fn run(&mut self, stmt: &mut Statement<'_>, args: &[&dyn rusqlite::ToSql]) -> Result<()> {
        let mut rows = stmt.query(args)?;
        while self.codes.len() < self.limit {
            let Some(row) = rows.next()? else { break };
            let code: String = row.get(0)?;
            if self.seen.insert(code.clone()) {
                self.codes.push(code);
            }
        }
        Ok(())
    }
}

/// The retention sweep: in one transaction, count the due records by item, copy them into
/// `archive` and delete them from `records`. (A moved record leaves the live table, as
/// credstore's sweep moves it; an `archived` flag would leave it there for every read to skip.)
fn sweep(conn: &mut Connection, as_of: Date) -> Result<SweepResult> {
    let day = as_of.to_days();
    let (outcome, secs) = measure::timed(|| -> Result<_> {
        let tx = conn.transaction()?;
        let mut by_item = BTreeMap::new();
        {
            let mut stmt = tx.prepare(
                "SELECT item, count(*) FROM records WHERE expires_on <= ?1 GROUP BY item",
            )?;
            let mut rows = stmt.query([day])?;
            let items = Catalog::builtin().items();
            while let Some(row) = rows.next()? {
                let item: i64 = row.get(0)?;
                let code = usize::try_from(item)
                    .ok()
                    .and_then(|i| items.get(i))
                    .map_or_else(|| format!("#{item}"), |i| i.code.clone());
                by_item.insert(code, row.get::<_, i64>(1)? as u64);
            }
        }
        let copied = tx.execute(
            "INSERT INTO archive SELECT code, record_id, item, expires_on, value
             FROM records WHERE expires_on <= ?1",
            [day],
        )?;
        let deleted = tx.execute("DELETE FROM records WHERE expires_on <= ?1", [day])?;
        anyhow::ensure!(
            copied == deleted,
            "the sweep copied {copied} records but deleted {deleted}"
        );
        tx.commit()?;
        Ok((by_item, deleted as u64))
    });
    let (by_item, archived) = outcome?;
    Ok(SweepResult {
        secs,
        archived,
        by_item,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_name_moves_the_old_one_to_former_names() -> Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        let upsert = |name: &str| conn.execute(UPSERT_SUBJECT, params!["X", 1, name, 0]);
        upsert("A")?;
        upsert("A")?;
        upsert("B")?;
        upsert("C")?;
        upsert("A")?;
        let (name, former): (String, String) = conn.query_row(
            "SELECT name, former FROM subjects WHERE code = 'X'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        assert_eq!(name, "A");
        assert_eq!(serde_json::from_str::<Vec<String>>(&former)?, ["B", "C"]);
        Ok(())
    }

    #[test]
    fn prefixes_and_the_sweep_use_the_indexes() -> Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(&AFTER_LOAD.replace("PRAGMA wal_checkpoint(TRUNCATE);", ""))?;
        for (sql, index) in [
            ("SELECT code FROM subjects WHERE kind = 1 AND substr(code, 3) >= ?1 AND substr(code, 3) < ?2", "subjects_region"),
            ("SELECT code FROM subjects WHERE kind = 1 AND substr(code, 9, 9) >= ?1 AND substr(code, 9, 9) < ?2", "subjects_org"),
            ("SELECT item, count(*) FROM records WHERE expires_on <= ?1 GROUP BY item", "records_due"),
        ] {
            let args = ["a", "b"].into_iter().take(sql.matches('?').count());
            let plan: String = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
                .query_row(rusqlite::params_from_iter(args), |r| r.get(3))?;
            assert!(plan.contains(index), "{sql}: {plan}");
        }
        Ok(())
    }
}

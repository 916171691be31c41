//! The SQLite side of the lookup batch: the answer pass, the timed runs, and where their time
//! goes — the same reads with no record decoded, and the batch's records decoded from memory
//! with no database at all (the report's *lookup bound*).
//!
//! Each run is on a rayon pool of 2 threads with one read-only connection per thread, in chunks
//! of [`measure::CHUNK`] codes: per chunk one read transaction (in WAL mode each takes and
//! releases a read lock in the shared-memory index) and one prepared statement.

use crate::measure::{self, EngineResult};
use crate::workload::Workload;
use anyhow::{Context, Result};
use credstore::codec;
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::domain::record::{Record, Subject, SubjectRecords};
use credstore::domain::SubjectKind;
use rayon::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row, Statement};
use std::path::Path;
use std::sync::Mutex;

/// A subject's row and its records' rows, in one statement.
const LOOKUP: &str = "
SELECT s.kind, s.name, s.former, s.first_collected_on, r.value
FROM subjects AS s LEFT JOIN records AS r ON r.code = s.code
WHERE s.code = ?1";

/// Runs the lookups of the workload's batch on the database at `path`: the answer pass (saved
/// for the parent), the timed runs, the reads-only runs and the decoding-only runs.
pub fn run(path: &Path, w: &Workload, dir: &Path, result: &mut EngineResult) -> Result<()> {
    let codes = crate::credstore_engine::parse_codes(&w.lookup_codes)?;
    let pool = measure::pool(2)?;
    let conns = (0..2)
        .map(|_| {
            // rusqlite's own default flags (no per-connection mutex: each connection is used
            // by one thread at a time), read-only.
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI;
            let conn = Connection::open_with_flags(path, flags)?;
            conn.execute_batch("PRAGMA cache_size = -262144;")?;
            Ok(Mutex::new(conn))
        })
        .collect::<Result<Vec<_>>>()?;
    let conns = conns.as_slice();
    let answers = read_all(&pool, conns, &codes, get)?;
    measure::note_lookups(result, &w.lookup_codes, answers, dir, "sqlite")?;
    // Per chunk, the subjects found and their records.
    // Timed runs of a reader that returns each found subject's record count; each run must
    // find the answer pass's subjects and records.
    type Reader = fn(&mut Statement<'_>, &SubjectCode) -> Result<Option<u64>>;
    let counted = |reader: Reader, what: &str| -> Result<Vec<f64>> {
        let (n, times) = measure::timed_chunk_runs(
            &pool,
            w.runs,
            &codes,
            |chunk| {
                let read = in_read(conns, chunk, reader)?;
                Ok(read
                    .iter()
                    .flatten()
                    .fold((0, 0), |(s, r), &records| (s + 1, r + records)))
            },
            |a: (u64, u64), b| (a.0 + b.0, a.1 + b.1),
        )?;
        anyhow::ensure!(
            n == (result.lookup_found, result.lookup_records),
            "a {what} run read other records"
        );
        Ok(times)
    };
    result.lookup_ms = counted(
        |l, c| Ok(get(l, c)?.map(|s| s.records.len() as u64)),
        "timed",
    )?;
    result.reads_only_ms = counted(read_only, "reads-only")?;
    let copied: Vec<Vec<Vec<u8>>> = read_all(&pool, conns, &codes, values)?;
    result.decode_only_ms = Some(decode_only(&pool, &copied, w.runs, result.lookup_records)?);
    Ok(())
}

/// The decoding-only runs: the copied values decoded into `Record`s as [`get`] decodes them, on
/// `pool`, in the lookups' chunks; each run must decode `records` records. Times in ms.
fn decode_only(
    pool: &rayon::ThreadPool,
    copied: &[Vec<Vec<u8>>],
    runs: usize,
    records: u64,
) -> Result<Vec<f64>> {
    let (n, times) = measure::timed_chunk_runs(
        pool,
        runs,
        copied,
        |chunk| {
            chunk.iter().flatten().try_fold(0u64, |n, v| {
                let record: Record = codec::decode(v, "records", b"")?;
                std::hint::black_box(record);
                Ok(n + 1)
            })
        },
        |a, b| a + b,
    )?;
    anyhow::ensure!(n == records, "a decoding run decoded other records");
    Ok(times)
}

/// `f` on every code of `codes`, in order, on `pool`, in the lookups' chunks.
fn read_all<T: Send>(
    pool: &rayon::ThreadPool,
    conns: &[Mutex<Connection>],
    codes: &[SubjectCode],
    f: impl Fn(&mut Statement<'_>, &SubjectCode) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let chunks = pool.install(|| {
        codes
            .par_chunks(measure::CHUNK)
            .map(|chunk| in_read(conns, chunk, &f))
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(chunks.into_iter().flatten().collect())
}

/// Runs `f` on each code of `chunk` in one read transaction of this thread's connection, with
/// the lookup statement prepared once.
// NOTE: not `prepare_cached`: rusqlite clears a cached statement's bindings when it is returned,
// and SQLite expires a statement whose plan may depend on a bound value (here because the tables
// have partial indexes), so every reuse was a full re-prepare (a third of the lookup time in a
// profile).
fn in_read<T>(
    conns: &[Mutex<Connection>],
    chunk: &[SubjectCode],
    f: impl Fn(&mut Statement<'_>, &SubjectCode) -> Result<T>,
) -> Result<Vec<T>> {
    let slot = rayon::current_thread_index().unwrap_or(0) % conns.len();
    let conn = conns[slot].lock().unwrap_or_else(|p| p.into_inner());
    let mut lookup = conn.prepare(LOOKUP)?;
    conn.execute_batch("BEGIN")?;
    let out = chunk.iter().map(|c| f(&mut lookup, c)).collect();
    conn.execute_batch("COMMIT")?;
    out
}

/// A subject and its records, decoded into the types credstore returns.
fn get(lookup: &mut Statement<'_>, code: &SubjectCode) -> Result<Option<SubjectRecords>> {
    let mut rows = lookup.query([code.as_str()])?;
    let mut subject: Option<Subject> = None;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        if subject.is_none() {
            subject = Some(subject_of(row, code)?);
        }
        if let ValueRef::Blob(bytes) = row.get_ref(4)? {
            records.push(codec::decode(bytes, "records", code.as_bytes())?);
        }
    }
    Ok(subject.map(|subject| SubjectRecords { subject, records }))
}

/// What [`get`] reads with no record decoded, as credstore's `Store::subject_header` reads: the
/// subject built, each record's value touched (its length). The number of records, if found.
fn read_only(lookup: &mut Statement<'_>, code: &SubjectCode) -> Result<Option<u64>> {
    let mut rows = lookup.query([code.as_str()])?;
    let mut subject: Option<Subject> = None;
    let (mut records, mut bytes) = (0, 0);
    while let Some(row) = rows.next()? {
        if subject.is_none() {
            subject = Some(subject_of(row, code)?);
        }
        if let ValueRef::Blob(value) = row.get_ref(4)? {
            records += 1;
            bytes += value.len();
        }
    }
    std::hint::black_box((&subject, bytes));
    Ok(subject.map(|_| records))
}

/// A code's record values, copied out undecoded (for the decoding-only runs).
fn values(lookup: &mut Statement<'_>, code: &SubjectCode) -> Result<Vec<Vec<u8>>> {
    let mut rows = lookup.query([code.as_str()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        if let ValueRef::Blob(value) = row.get_ref(4)? {
            out.push(value.to_vec());
        }
    }
    Ok(out)
}

/// The subject of a [`LOOKUP`] row.
fn subject_of(row: &Row<'_>, code: &SubjectCode) -> Result<Subject> {
    let first: i32 = row.get(3)?;
    Ok(Subject {
        code: *code,
        kind: match row.get::<_, i64>(0)? {
            0 => SubjectKind::NaturalPerson,
            _ => SubjectKind::Organization,
        },
        name: row.get(1)?,
        former_names: serde_json::from_str(row.get_ref(2)?.as_str()?)?,
        subject_id: 0,
        first_collected_on: Date::from_days(first).context("a stored day number")?,
    })
}

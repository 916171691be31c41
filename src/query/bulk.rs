//! Bulk lookups for credit service agencies (Art. 20 ¶3): thousands to millions of codes in one
//! request, answered line for line in input order.
//!
//! A streaming pipeline, so memory stays bounded whatever the input size: a reader thread cuts
//! the input into chunks of [`CHUNK_LINES`] lines and sends them down a bounded crossbeam channel;
//! the calling thread looks each chunk up in parallel on rayon's pool (parse, read, apply the
//! visibility rule, and the caller's `map`, e.g. JSON encoding); a writer thread receives the
//! finished chunks, in order, through a second bounded channel and hands each line to the
//! caller's `sink`. Invalid lines are answered as such and never stop the batch. The request
//! is logged with every valid code asked, in input order, and the records returned: one
//! query-log entry for up to [`LOG_BLOCK_LINES`] lines, and for a longer input one more entry
//! (kind [`QueryKind::BulkPart`]) per further block, so the log's memory does not grow with the
//! input either. A block's answers reach the `sink` only after its entry is durable: an answer
//! given is an answer logged.

use super::model::Refusal;
use super::{
    Asker, QueryOptions, Registered, Resolved, RoleName, ShownRecord, Status, SubjectSummary,
    WithheldCount,
};
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::error::{Error, Result};
use crate::ingest::input::{Line, LineReader};
use crate::store::query_log::{BulkCounts, Outcome, QueryKind, QueryLogEntry};
use crate::store::retention::ArchivedSet;
use crate::Store;
use serde::Serialize;
use std::io::BufRead;

/// Lines per chunk: enough work per chunk to keep both cores busy, little enough memory.
pub const CHUNK_LINES: usize = 2048;

/// Input lines per query-log entry of a bulk request (see the module docs): five chunks.
pub const LOG_BLOCK_LINES: u64 = 5 * CHUNK_LINES as u64;

/// Longest input line accepted (a code, or a short CSV row); longer lines are invalid.
const MAX_LINE: usize = 4096;

/// How the input is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkInput {
    /// One code per line; blank lines are skipped (and not counted).
    Lines,
    /// A CSV file with a header row: the code in column `code`, optionally an authorisation id
    /// per row in column `authorisation`. Fields are plain (no embedded commas): codes and ids
    /// never need quoting.
    Csv {
        /// The header of the code column.
        code: String,
        /// The header of the authorisation column, if any.
        authorisation: Option<String>,
    },
}

/// A bulk request.
#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// The agency's registered id.
    pub agency: String,
    /// The operator's name (Art. 19).
    pub operator: String,
    /// The purpose.
    pub purpose: String,
    /// The day the request is judged as of.
    pub today: Date,
    /// The input's layout.
    pub input: BulkInput,
}

impl BulkRequest {
    /// The agency as an asker, presenting `authorisation` if any.
    fn asker(&self, authorisation: Option<u64>) -> Asker {
        Asker::Registered(Registered {
            requester: self.agency.clone(),
            role: RoleName::Agency,
            operator: self.operator.clone(),
            purpose: self.purpose.clone(),
            matter: None,
            authorisation,
        })
    }
}

/// One input line's answer.
#[derive(Clone, PartialEq, Serialize)]
pub struct BulkLine {
    /// The input line number (1-based, the header included for CSV).
    pub line: u64,
    /// `found`, `not_found`, `invalid_code` or `refused`.
    pub status: BulkStatus,
    /// The normalised code (as the agency gave it: agencies submit full codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Why the code is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the line was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// The subject, when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectSummary>,
    /// The visible records.
    pub records: Vec<ShownRecord>,
    /// What was withheld, by reason.
    pub withheld: Vec<WithheldCount>,
}

// NOTE: by hand: the code is the agency's input in full; debug output shows the shape only.
impl std::fmt::Debug for BulkLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkLine")
            .field("line", &self.line)
            .field("status", &self.status)
            .field("refusal", &self.refusal)
            .field(
                "records",
                &self.records.iter().map(|r| r.record_id).collect::<Vec<_>>(),
            )
            .field("withheld", &self.withheld)
            .finish_non_exhaustive()
    }
}

/// A line's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkStatus {
    /// The subject is in the store.
    Found,
    /// A valid code with no subject.
    NotFound,
    /// Not a valid code.
    InvalidCode,
    /// The line's authorisation was refused.
    Refused,
}

/// What a finished request reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BulkSummary {
    /// The request's (first) query-log entry.
    pub query_seq: u64,
    /// How many query-log entries the request was logged in (one per [`LOG_BLOCK_LINES`]
    /// lines; the later ones are of kind [`QueryKind::BulkPart`] and name `query_seq`).
    pub log_entries: u32,
    /// Line counts.
    pub counts: BulkCounts,
}

/// Counts a line.
fn count(counts: &mut BulkCounts, status: BulkStatus) {
    counts.asked += 1;
    match status {
        BulkStatus::Found => counts.found += 1,
        BulkStatus::NotFound => counts.not_found += 1,
        BulkStatus::InvalidCode => counts.invalid += 1,
        BulkStatus::Refused => counts.refused += 1,
    }
}

/// The log of one request, written a block of lines at a time.
struct RequestLog {
    /// The request's entry without codes, records or counts.
    template: QueryLogEntry,
    /// The block being filled.
    block: QueryLogEntry,
    lines: u64,
    /// The first entry's seq, once written.
    first: Option<u64>,
    /// Entries written.
    written: u32,
}

impl RequestLog {
    fn new(template: QueryLogEntry) -> Self {
        RequestLog {
            block: template.clone(),
            template,
            lines: 0,
            first: None,
            written: 0,
        }
    }

    /// Adds an answered line.
    fn add(&mut self, line: LineLog) {
        count(
            self.block.counts.get_or_insert_with(BulkCounts::default),
            line.status,
        );
        self.block.subjects.extend(line.code);
        self.block.returned.extend(line.returned);
        self.lines += 1;
    }

    /// At the end of a chunk: writes the block and makes it durable when it is full; says
    /// whether it did.
    fn end_of_chunk(&mut self, store: &Store) -> Result<bool> {
        if self.lines < LOG_BLOCK_LINES {
            return Ok(false);
        }
        self.write(store)?;
        store.sync_log()?;
        Ok(true)
    }

    fn write(&mut self, store: &Store) -> Result<()> {
        let block = std::mem::replace(&mut self.block, self.template.clone());
        let seq = store.log_query_unsynced(block)?;
        let request = *self.first.get_or_insert(seq);
        self.written += 1;
        self.lines = 0;
        self.block.kind = QueryKind::BulkPart {
            request,
            part: self.written,
        };
        Ok(())
    }

    /// Writes what is left (an empty request still leaves its one entry) and makes every entry
    /// durable; returns the first entry's seq and the number of entries.
    fn finish(&mut self, store: &Store) -> Result<(u64, u32)> {
        if self.lines > 0 || self.first.is_none() {
            self.block.counts.get_or_insert_with(BulkCounts::default);
            self.write(store)?;
        }
        store.sync_log()?;
        // NOTE: `write` above ran at least once, so `first` is set.
        Ok((self.first.unwrap_or_default(), self.written))
    }
}

/// A line as read: number, code text, authorisation text.
struct InputLine {
    line: u64,
    code: String,
    authorisation: Option<String>,
    problem: Option<String>,
}

/// What the log needs from a line.
struct LineLog {
    code: Option<SubjectCode>,
    status: BulkStatus,
    returned: Vec<u64>,
}

impl Store {
    /// Runs a bulk lookup: reads `input`, answers each line through `map` (run in parallel) and
    /// `sink` (called once per line, in input order, on another thread), and logs the request.
    /// A request refused as a whole (unknown agency, no bulk access, ...) is logged and returned
    /// as `Ok(Err((log seq, refusal)))` before any input is read.
    pub fn bulk_query<R, T, M, S>(
        &self,
        request: &BulkRequest,
        input: R,
        map: M,
        mut sink: S,
    ) -> Result<std::result::Result<BulkSummary, (u64, Refusal)>>
    where
        R: BufRead + Send,
        T: Send,
        M: Fn(BulkLine) -> T + Sync,
        S: FnMut(T) -> std::io::Result<()> + Send,
    {
        use rayon::prelude::*;
        let asker = request.asker(None);
        let options = QueryOptions::new(request.today);
        let mut entry = super::log_entry(&asker, QueryKind::Bulk, request.today);
        let base = match self.resolve(&asker, None, &options)? {
            Ok(r) => match self
                .requester(&request.agency)?
                .map(|r| super::bulk_access(&r.role))
            {
                Some(Ok(())) => Ok(r),
                Some(Err(refusal)) => Err(refusal),
                None => Err(Refusal::UnknownRequester),
            },
            Err(refusal) => Err(refusal),
        };
        let base = match base {
            Ok(r) => r,
            Err(refusal) => {
                entry.outcome = Outcome::Refused(refusal);
                return Ok(Err((self.log_query(entry)?, refusal)));
            }
        };

        // One snapshot of the archive for the whole request: a sweep landing meanwhile is seen by
        // every line or by none.
        let archived = self.archived_set();
        let (chunks_tx, chunks_rx) = crossbeam_channel::bounded::<Vec<InputLine>>(4);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<Vec<T>>(4);
        let mut counts = BulkCounts::default();
        let mut log = RequestLog::new(entry);
        let mut logged: Option<(u64, u32)> = None;
        let mut failure: Option<Error> = None;
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| read_input(input, &request.input, chunks_tx));
            let writer = scope.spawn(move || -> std::io::Result<()> {
                for chunk in done_rx {
                    for item in chunk {
                        sink(item)?;
                    }
                }
                Ok(())
            });
            // Answers reach the writer only once the log entries covering them are durable (an
            // answer given is an answer logged): held back a block of lines at a time.
            let mut held: Vec<Vec<T>> = Vec::new();
            let release = |held: &mut Vec<Vec<T>>| held.drain(..).all(|c| done_tx.send(c).is_ok());
            for chunk in chunks_rx.iter() {
                // Looked up in key order (neighbouring lookups share sled's upper tree nodes in
                // the CPU caches), answered in input order.
                let mut sorted: Vec<(usize, InputLine)> = chunk.into_iter().enumerate().collect();
                sorted.sort_unstable_by(|a, b| a.1.code.cmp(&b.1.code));
                let answered: Result<Vec<(usize, T, LineLog)>> = sorted
                    .into_par_iter()
                    .map(|(i, line)| {
                        let (answer, log) = self.bulk_line(line, &base, &archived, request)?;
                        Ok((i, map(answer), log))
                    })
                    .collect();
                let answered = answered.map(|mut a| {
                    a.sort_unstable_by_key(|(i, _, _)| *i);
                    a.into_iter()
                        .map(|(_, t, log)| (t, log))
                        .collect::<Vec<_>>()
                });
                let answered = match answered {
                    Ok(a) => a,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                let mut out = Vec::with_capacity(answered.len());
                for (item, line) in answered {
                    count(&mut counts, line.status);
                    log.add(line);
                    out.push(item);
                }
                held.push(out);
                match log.end_of_chunk(self) {
                    Ok(false) => {}
                    Ok(true) => {
                        if !release(&mut held) {
                            // The writer stopped (its sink failed); its error is reported below.
                            break;
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            // The request is logged even when it failed part-way: what was answered was seen
            // (or would have been).
            match log.finish(self) {
                Ok(done) => logged = Some(done),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
            if failure.is_none() {
                release(&mut held);
            }
            drop(done_tx);
            // NOTE: dropping the receiver makes a reader blocked on a full channel return.
            drop(chunks_rx);
            let read = reader.join();
            let written = writer.join();
            if failure.is_none() {
                failure = match (read, written) {
                    (Ok(Err(e)), _) => Some(e),
                    (_, Ok(Err(e))) => Some(Error::Io {
                        path: "bulk-query output".into(),
                        source: e,
                    }),
                    (Err(_), _) | (_, Err(_)) => {
                        Some(Error::Invalid("a bulk-query thread panicked".to_string()))
                    }
                    _ => None,
                };
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let (seq, log_entries) = logged.ok_or_else(|| {
            Error::Invalid("a bulk request ended without its log entry".to_string())
        })?;
        Ok(Ok(BulkSummary {
            query_seq: seq,
            log_entries,
            counts,
        }))
    }

    fn bulk_line(
        &self,
        line: InputLine,
        base: &Resolved,
        archived: &ArchivedSet,
        request: &BulkRequest,
    ) -> Result<(BulkLine, LineLog)> {
        let mut out = BulkLine {
            line: line.line,
            status: BulkStatus::InvalidCode,
            code: None,
            error: None,
            refusal: None,
            subject: None,
            records: Vec::new(),
            withheld: Vec::new(),
        };
        let mut log = LineLog {
            code: None,
            status: BulkStatus::InvalidCode,
            returned: Vec::new(),
        };
        if let Some(problem) = line.problem {
            out.error = Some(problem);
            return Ok((out, log));
        }
        let code = match SubjectCode::parse(&line.code, request.today) {
            Ok(p) => p.code,
            Err(e) => {
                out.error = Some(e.to_string());
                return Ok((out, log));
            }
        };
        out.code = Some(code.as_str().to_string());
        log.code = Some(code);
        // A line with an authorisation is checked as a single agency query with it would be.
        let owned;
        let resolved = match line
            .authorisation
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            None => base,
            Some(text) => {
                let refusal = match text.parse::<u64>() {
                    Err(_) => Err(Refusal::UnknownAuthorisation),
                    Ok(id) => self.resolve(
                        &request.asker(Some(id)),
                        Some(&code),
                        &QueryOptions::new(request.today),
                    )?,
                };
                match refusal {
                    Ok(r) => {
                        owned = r;
                        &owned
                    }
                    Err(refusal) => {
                        out.status = BulkStatus::Refused;
                        out.refusal = Some(refusal);
                        log.status = BulkStatus::Refused;
                        return Ok((out, log));
                    }
                }
            }
        };
        let answer = self.answer(&code, resolved, archived, request.today)?;
        out.status = match answer.status {
            Status::Found => BulkStatus::Found,
            _ => BulkStatus::NotFound,
        };
        log.status = out.status;
        log.returned = answer.records.iter().map(|r| r.record_id).collect();
        out.subject = answer.subject;
        out.records = answer.records;
        out.withheld = answer.withheld;
        Ok((out, log))
    }
}

/// The reader thread: cuts the input into chunks.
fn read_input<R: BufRead>(
    input: R,
    layout: &BulkInput,
    chunks: crossbeam_channel::Sender<Vec<InputLine>>,
) -> Result<()> {
    let io = |source| Error::Io {
        path: "bulk-query input".into(),
        source,
    };
    let mut lines = LineReader::new(input, MAX_LINE);
    let mut buf = Vec::new();
    let mut columns: Option<(usize, Option<usize>)> = None;
    if let BulkInput::Csv {
        code,
        authorisation,
    } = layout
    {
        let Some((_, Line::Text)) = lines.next_line(&mut buf).map_err(io)? else {
            return Err(Error::Invalid(
                "the CSV input has no header row".to_string(),
            ));
        };
        let header: Vec<String> = String::from_utf8_lossy(&buf)
            .split(',')
            .map(|h| h.trim().trim_matches('"').to_string())
            .collect();
        let find = |name: &str| header.iter().position(|h| h == name);
        let Some(code_at) = find(code) else {
            return Err(Error::Invalid(format!(
                "the CSV header has no column {code:?}"
            )));
        };
        let auth_at =
            match authorisation {
                None => None,
                Some(name) => Some(find(name).ok_or_else(|| {
                    Error::Invalid(format!("the CSV header has no column {name:?}"))
                })?),
            };
        columns = Some((code_at, auth_at));
    }
    let mut chunk = Vec::with_capacity(CHUNK_LINES);
    while let Some((line, kind)) = lines.next_line(&mut buf).map_err(io)? {
        let mut item = InputLine {
            line,
            code: String::new(),
            authorisation: None,
            problem: None,
        };
        match kind {
            Line::TooLong => item.problem = Some(format!("line longer than {MAX_LINE} bytes")),
            Line::Text => match std::str::from_utf8(&buf) {
                Err(_) => item.problem = Some("not UTF-8".to_string()),
                Ok(text) => match columns {
                    None => {
                        if text.trim().is_empty() {
                            continue;
                        }
                        item.code = text.to_string();
                    }
                    Some((code_at, auth_at)) => {
                        if text.trim().is_empty() {
                            continue;
                        }
                        let fields: Vec<&str> = text
                            .split(',')
                            .map(|f| f.trim().trim_matches('"'))
                            .collect();
                        match fields.get(code_at) {
                            Some(code) => item.code = code.to_string(),
                            None => item.problem = Some("the row has no code column".to_string()),
                        }
                        item.authorisation =
                            auth_at.and_then(|i| fields.get(i)).map(|s| s.to_string());
                    }
                },
            },
        }
        chunk.push(item);
        if chunk.len() == CHUNK_LINES
            && chunks
                .send(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK_LINES),
                ))
                .is_err()
        {
            return Ok(());
        }
    }
    if !chunk.is_empty() {
        let _ = chunks.send(chunk);
    }
    Ok(())
}

//! Ingestion: provider files (JSON Lines, CSV) into the store, line by line, in atomic chunks.
//!
//! The pipeline per file: read a chunk of lines (bounded length) → parse and validate them in
//! parallel (rayon) → apply them in input order in one writer → one atomic sled batch per chunk,
//! with its collection-log and change-log entries → after the last file, `flush`, and only then
//! report success. Each line stands alone: a bad line is reported with file, line and reason and
//! the lines around it are kept. Ingesting the same file again changes nothing.

pub mod bulk;
pub mod csv;
pub mod fields;
pub mod input;
pub mod jsonl;
pub mod runs;
pub mod validate;

use crate::domain::date::Date;
use crate::domain::prohibited::ProhibitedKind;
use crate::domain::record::Submission;
use crate::error::{Error, Result};
use crate::store::provider_index;
use crate::store::writer::{ChunkInfo, ChunkWriter, Outcome};
use crate::store::Store;
use input::{InputEncoding, Line, LineReader};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::Path;

/// Why one input line was refused. Messages name the field and the rule, never a submitted value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is not well-formed JSON or CSV.
    #[error("{0}")]
    Syntax(String),
    /// The line is not valid text in the file's encoding.
    #[error("{0}")]
    Encoding(String),
    /// The line is longer than the limit.
    #[error("line longer than {limit} bytes")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The line carries data the law forbids collecting; the value was not stored anywhere.
    #[error("field {field:?}: {what} must not be collected; the line was refused and its value not stored")]
    Prohibited {
        /// The field's name.
        field: String,
        /// What kind of prohibited data it is.
        what: ProhibitedKind,
    },
    /// A field is missing, malformed or out of range.
    #[error("field {field:?}: {reason}")]
    Field {
        /// The field's name.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The catalog's entry rules or the store's state refuse the record.
    #[error("{0}")]
    Refused(String),
}

/// The format of a provider file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// One JSON object per line (`.jsonl`, `.ndjson`, `.json`).
    JsonLines,
    /// A header row, then one record per row (`.csv`).
    Csv,
}

impl FileFormat {
    /// The format a file name's extension implies.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Some(FileFormat::JsonLines),
            "csv" => Some(FileFormat::Csv),
            _ => None,
        }
    }
}

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The collection date: every date rule is judged as of this day.
    pub today: Date,
    /// The files' text encoding.
    pub encoding: InputEncoding,
    /// Lines per atomic chunk, at most.
    pub chunk_lines: usize,
    /// Provider-index entries a file-by-file chunk may read and rewrite, about: a chunk is cut
    /// short of `chunk_lines` when its lines' buckets would hold more (each new line rewrites its
    /// bucket, and a bucket grows with its provider). Bounds an ingest's memory whatever the
    /// provider's size; the bulk load, which visits each bucket once, ignores it.
    pub max_index_entries: usize,
    /// How many rejects the report lists (all are counted).
    pub max_rejects_kept: usize,
    /// Leave the search index behind: the store is flushed as always, but the new subjects are
    /// searchable only after the next write or the next open (which catch the index up). For a
    /// series of ingests followed by one `reindex`, and for crash tests.
    pub defer_search_index: bool,
}

impl IngestOptions {
    /// Defaults, as of `today`.
    pub fn new(today: Date) -> Self {
        IngestOptions {
            today,
            encoding: InputEncoding::Utf8,
            chunk_lines: 10_000,
            max_index_entries: 500_000,
            max_rejects_kept: 100_000,
            defer_search_index: false,
        }
    }
}

/// A refused line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    /// The file, as given.
    pub file: String,
    /// The 1-based line number (for CSV, the line the row starts on).
    pub line: u64,
    /// A stable word for the kind of problem: `syntax`, `encoding`, `too_long`, `prohibited`,
    /// `field`, `refused` (the catalog's or the law's rules) or `conflict` (what is stored).
    pub kind: &'static str,
    /// Why, for a person.
    pub reason: String,
}

impl LineError {
    /// The stable kind word used in [`Reject::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            LineError::Syntax(_) => "syntax",
            LineError::Encoding(_) => "encoding",
            LineError::TooLong { .. } => "too_long",
            LineError::Prohibited { .. } => "prohibited",
            LineError::Field { .. } => "field",
            LineError::Refused(_) => "refused",
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    /// Files read.
    pub files: u64,
    /// Non-blank lines (CSV: data rows) read.
    pub lines: u64,
    /// New records stored.
    pub accepted: u64,
    /// Lines identical to a stored record's current version.
    pub duplicates: u64,
    /// New versions of stored records.
    pub new_versions: u64,
    /// Lines refused.
    pub rejected: u64,
    /// The refused lines (the first `max_rejects_kept`).
    pub rejects: Vec<Reject>,
    /// Lines accepted with a warning.
    pub warned: u64,
    /// The warnings (the first `max_rejects_kept`), with `kind` "warning".
    pub warnings: Vec<Reject>,
}

impl IngestReport {
    /// Adds another report's counts, rejects and warnings to this one (several ingests as one).
    pub fn absorb(&mut self, other: IngestReport) {
        self.files += other.files;
        self.lines += other.lines;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.new_versions += other.new_versions;
        self.rejected += other.rejected;
        self.rejects.extend(other.rejects);
        self.warned += other.warned;
        self.warnings.extend(other.warnings);
    }

    /// Records a warning about an accepted line.
    pub(crate) fn warn(&mut self, max: usize, file: &str, line: u64, message: &str) {
        self.warned += 1;
        if self.warnings.len() < max {
            self.warnings.push(Reject {
                file: file.to_string(),
                line,
                kind: "warning",
                reason: message.to_string(),
            });
        }
    }

    fn reject(&mut self, max: usize, file: &str, line: u64, kind: &'static str, reason: String) {
        if self.rejects.len() < max {
            self.rejects.push(Reject {
                file: file.to_string(),
                line,
                kind,
                reason,
            });
        }
    }
}

/// Checks a provider code: 1-32 characters of `A-Z 0-9 - _`.
pub fn check_provider(provider: &str) -> Result<()> {
    let bad = |reason| Error::InvalidProvider {
        provider: provider.chars().take(40).collect(),
        reason,
    };
    if provider.is_empty() || provider.len() > 32 {
        return Err(bad("it must have 1 to 32 characters"));
    }
    if !provider
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(bad("it may use only A-Z, 0-9, '-' and '_'"));
    }
    Ok(())
}

/// A chunk of lines waiting for the writer: each already validated, or refused.
pub(crate) type Chunk = Vec<(u64, std::result::Result<Submission, LineError>)>;

impl Store {
    /// Ingests provider files in order, then flushes. Returns only when every accepted line is
    /// durable. A file that cannot be read at all stops the ingest with an error; the chunks
    /// already written stay (a re-run skips them as duplicates).
    pub fn ingest_files<P: AsRef<Path>>(
        &self,
        provider: &str,
        paths: &[P],
        options: &IngestOptions,
    ) -> Result<IngestReport> {
        check_provider(provider)?;
        let mut report = IngestReport::default();
        // Every file is checked (known type, readable) before any is ingested.
        let mut opened = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            let format = FileFormat::from_path(path).ok_or_else(|| Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "unknown file type: expected .jsonl, .ndjson, .json or .csv",
                ),
            })?;
            let file = std::fs::File::open(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            opened.push((path.display().to_string(), format, file));
        }
        for (name, format, file) in opened {
            if let Err(e) = self.ingest_stream(provider, &name, format, file, options, &mut report)
            {
                // The files before this one are stored: make them durable before giving up, so
                // a re-run (which skips them as duplicates) starts from a known state.
                self.publish(options)?;
                return Err(e);
            }
        }
        self.publish(options)?;
        Ok(report)
    }

    /// Ingests one stream (a file's content) named `name`, then flushes.
    pub fn ingest_reader<R: Read>(
        &self,
        provider: &str,
        name: &str,
        format: FileFormat,
        reader: R,
        options: &IngestOptions,
    ) -> Result<IngestReport> {
        check_provider(provider)?;
        let mut report = IngestReport::default();
        self.ingest_stream(provider, name, format, reader, options, &mut report)?;
        self.publish(options)?;
        Ok(report)
    }

    fn ingest_stream<R: Read>(
        &self,
        provider: &str,
        name: &str,
        format: FileFormat,
        reader: R,
        options: &IngestOptions,
        report: &mut IngestReport,
    ) -> Result<()> {
        report.files += 1;
        let cx = validate::Context {
            provider,
            catalog: self.catalog(),
            collected_on: options.today,
        };
        let mut sink = ChunkSink {
            store: self,
            provider,
            name,
            options,
            report,
            mean_bucket_len: provider_index::mean_bucket_len(self.tree(), provider)?,
        };
        read_file(reader, format, &cx, options, &mut sink)
    }
}

/// Where validated chunks go: straight into the store, or into a bulk load's sorted runs.
pub(crate) trait Consumer: Send {
    /// The file being read, as given.
    fn name(&self) -> &str;
    /// How many lines the next chunk may have.
    fn chunk_lines(&self) -> usize;
    /// Whether [`chunk_lines`](Consumer::chunk_lines) never changes: the file is then read on
    /// one thread while its chunks are parsed and consumed on others (see [`with_chunks`]).
    /// A consumer whose chunk size follows what it consumed says no.
    fn fixed_chunks(&self) -> bool {
        false
    }
    /// Takes one chunk (lines in input order), the SHA-256 of its input, and on the file's last
    /// chunk the file's SHA-256.
    fn consume(&mut self, chunk: Chunk, sha: [u8; 32], file_sha256: Option<[u8; 32]>)
        -> Result<()>;
}

/// Reads one file (after checking its encoding) and hands its validated chunks to `consumer`.
pub(crate) fn read_file<R: Read, C: Consumer>(
    reader: R,
    format: FileFormat,
    cx: &validate::Context<'_>,
    options: &IngestOptions,
    consumer: &mut C,
) -> Result<()> {
    let name = consumer.name().to_string();
    let (prefix, reader) = input::peek(reader).map_err(|source| io_error(&name, source))?;
    if options.encoding == InputEncoding::Utf8 {
        if let Some(encoding) = input::sniff(&prefix) {
            return Err(Error::Encoding {
                path: name.into(),
                encoding,
            });
        }
    }
    let mut hashing = input::HashingReader::new(reader);
    match format {
        FileFormat::JsonLines => read_jsonl(&mut hashing, cx, options, consumer),
        FileFormat::Csv => read_csv(&mut hashing, cx, options, consumer),
    }
}

/// Receives validated chunks and commits each as one batch.
struct ChunkSink<'a> {
    store: &'a Store,
    provider: &'a str,
    name: &'a str,
    options: &'a IngestOptions,
    report: &'a mut IngestReport,
    /// The provider's mean bucket length, as last estimated (sampled when the file starts, then
    /// measured on the buckets each chunk read; a provider only grows during an ingest).
    mean_bucket_len: f64,
}

impl Consumer for ChunkSink<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn chunk_lines(&self) -> usize {
        // A line reads and rewrites at most one bucket; count at least one entry a line, so the
        // first chunks of a new provider stay within the budget too.
        let per_line = self.mean_bucket_len.max(1.0);
        let by_index = (self.options.max_index_entries as f64 / per_line) as usize;
        self.options.chunk_lines.min(by_index).max(1)
    }

    fn consume(
        &mut self,
        chunk: Chunk,
        sha: [u8; 32],
        file_sha256: Option<[u8; 32]>,
    ) -> Result<()> {
        let lines = (
            chunk.first().map_or(0, |c| c.0),
            chunk.last().map_or(0, |c| c.0),
        );
        let mut counters = self.store.writer();
        let mut writer = ChunkWriter::new(
            self.store.tree(),
            self.store.dicts(),
            counters.clone(),
            self.options.today,
            self.store.catalog(),
        )
        .with_tombstoned(self.store.tombstoned_subjects());
        let mut rejected_before = 0;
        self.report.lines += chunk.len() as u64;
        writer.prefetch(chunk.iter().filter_map(|(_, item)| item.as_ref().ok()))?;
        for (line, item) in chunk {
            let refused = match item {
                Ok(mut sub) => {
                    if let Some(w) = sub.warning.take() {
                        let max = self.options.max_rejects_kept;
                        self.report.warn(max, self.name, line, &w);
                    }
                    match writer.apply(sub)? {
                        Outcome::Refused(reason) => Some(("conflict", reason)),
                        _ => None,
                    }
                }
                Err(e) => {
                    rejected_before += 1;
                    Some((e.kind(), e.to_string()))
                }
            };
            if let Some((kind, reason)) = refused {
                let max = self.options.max_rejects_kept;
                self.report.reject(max, self.name, line, kind, reason);
            }
        }
        let (buckets, entries) = writer.buckets_read();
        // NOTE: enough buckets for a fair sample of a uniform hash; fewer say little.
        if buckets >= usize::from(provider_index::SAMPLE_BUCKETS) {
            let measured = entries as f64 / buckets as f64;
            self.mean_bucket_len = self.mean_bucket_len.max(measured);
        }
        let info = ChunkInfo {
            provider: self.provider.to_string(),
            file: self.name.to_string(),
            lines,
            chunk_sha256: sha,
            rejected_before,
            file_sha256,
        };
        let (new_counters, counts) = writer.commit(info, now_unix_ms())?;
        *counters = new_counters;
        self.report.accepted += counts.accepted;
        self.report.duplicates += counts.duplicates;
        self.report.new_versions += counts.new_versions;
        self.report.rejected += counts.rejected;
        Ok(())
    }
}

/// Overlaps parsing and validating chunk N+1 (on the rayon pool) with committing chunk N, so
/// the single writer is never idle waiting for the parser.
#[derive(Default)]
struct Pipeline {
    pending: Option<(Chunk, [u8; 32], Option<[u8; 32]>)>,
}

impl Pipeline {
    fn push<T: Send, C: Consumer>(
        &mut self,
        sink: &mut C,
        raw: Vec<(u64, T)>,
        parse: impl Fn(T) -> std::result::Result<Submission, LineError> + Sync,
        sha: [u8; 32],
        file_sha: Option<[u8; 32]>,
    ) -> Result<()> {
        let previous = self.pending.take();
        let (parsed, committed) = rayon::join(
            || -> Chunk {
                raw.into_par_iter()
                    .map(|(line_no, item)| (line_no, parse(item)))
                    .collect()
            },
            || {
                previous.map_or(Ok(()), |(chunk, sha, file_sha)| {
                    sink.consume(chunk, sha, file_sha)
                })
            },
        );
        committed?;
        self.pending = Some((parsed, sha, file_sha));
        Ok(())
    }

    fn finish<C: Consumer>(&mut self, sink: &mut C) -> Result<()> {
        match self.pending.take() {
            Some((chunk, sha, file_sha)) => sink.consume(chunk, sha, file_sha),
            None => Ok(()),
        }
    }
}

/// Where a file's raw chunks go, as its reader finds them.
trait Chunks<T> {
    /// How many lines the next chunk may have.
    fn chunk_lines(&self) -> usize;
    /// Takes a chunk (the file's last one with the whole file's hash).
    fn push(&mut self, chunk: RawChunk<T>) -> Result<()>;
    /// After the last chunk.
    fn finish(&mut self) -> Result<()>;
}

/// Chunks parsed and consumed in step with the reading (the reader waits for each).
struct InStep<'s, C, P> {
    sink: &'s mut C,
    parse: P,
    pipeline: Pipeline,
}

impl<T, C, P> Chunks<T> for InStep<'_, C, P>
where
    T: Send,
    C: Consumer,
    P: Fn(T) -> std::result::Result<Submission, LineError> + Sync,
{
    fn chunk_lines(&self) -> usize {
        self.sink.chunk_lines()
    }

    fn push(&mut self, (raw, sha, file_sha): RawChunk<T>) -> Result<()> {
        self.pipeline
            .push(self.sink, raw, &self.parse, sha, file_sha)
    }

    fn finish(&mut self) -> Result<()> {
        self.pipeline.finish(self.sink)
    }
}

/// A raw chunk, its SHA-256, and on a file's last chunk the file's.
type RawChunk<T> = (Vec<(u64, T)>, [u8; 32], Option<[u8; 32]>);

/// Chunks sent to the thread that parses and consumes them (see [`with_chunks`]).
struct Ahead<'n, T> {
    name: &'n str,
    lines: usize,
    tx: std::sync::mpsc::SyncSender<RawChunk<T>>,
}

impl<T> Chunks<T> for Ahead<'_, T> {
    fn chunk_lines(&self) -> usize {
        self.lines
    }

    fn push(&mut self, chunk: RawChunk<T>) -> Result<()> {
        // Closed: the other thread failed, and its error is the one returned.
        self.tx.send(chunk).map_err(|_| {
            io_error(
                self.name,
                std::io::Error::other("the chunk consumer stopped"),
            )
        })
    }

    fn finish(&mut self) -> Result<()> {
        // The other thread finishes once the last chunk (the one with the file's hash) is in.
        Ok(())
    }
}

/// Runs `read`, which reads a file and hands its raw chunks to the [`Chunks`] it is given,
/// parsed by `parse` and consumed by `sink`.
///
/// Where the sink's chunks have a fixed size (a bulk load's staging), the reading (lines,
/// hashes) goes on while another thread has the chunks parsed and consumed: a bulk load's
/// reading thread was otherwise idle for a fifth of the staging (`perf`, 1,000,000 subjects).
/// Otherwise each chunk's size may depend on what the sink consumed before, and the reading
/// waits for it.
fn with_chunks<T, C, P>(
    sink: &mut C,
    parse: P,
    read: impl FnOnce(&mut dyn Chunks<T>) -> Result<()>,
) -> Result<()>
where
    T: Send,
    C: Consumer,
    P: Fn(T) -> std::result::Result<Submission, LineError> + Sync,
{
    if !sink.fixed_chunks() {
        return read(&mut InStep {
            sink,
            parse,
            pipeline: Pipeline::default(),
        });
    }
    let name = sink.name().to_string();
    let lines = sink.chunk_lines();
    let parse = &parse;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RawChunk<T>>(1);
        let consuming = scope.spawn(move || -> Result<()> {
            let mut chunks = InStep {
                sink,
                parse,
                pipeline: Pipeline::default(),
            };
            let mut complete = false;
            for chunk in rx {
                // Only the file's last chunk carries the file's hash.
                complete = chunk.2.is_some();
                chunks.push(chunk)?;
            }
            // A reading that stopped early (an I/O error, returned by the reader) leaves its
            // last parsed chunk unconsumed, as when reading in step.
            match complete {
                true => chunks.finish(),
                false => Ok(()),
            }
        });
        let read = read(&mut Ahead {
            name: &name,
            lines,
            tx,
        });
        let consumed = consuming
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        consumed.and(read)
    })
}

fn read_jsonl<R: Read, C: Consumer>(
    reader: &mut input::HashingReader<R>,
    cx: &validate::Context<'_>,
    options: &IngestOptions,
    sink: &mut C,
) -> Result<()> {
    let name = sink.name().to_string();
    let mut lines = LineReader::new(
        BufReader::with_capacity(1 << 16, reader),
        input::MAX_LINE_BYTES,
    );
    let parse = |bytes: std::result::Result<Vec<u8>, LineError>| {
        bytes.and_then(|b| jsonl_line(&b, cx, options.encoding))
    };
    with_chunks(sink, parse, |chunks| {
        let mut raw: Vec<(u64, std::result::Result<Vec<u8>, LineError>)> = Vec::new();
        let mut buf = Vec::new();
        let mut hasher = Sha256::new();
        loop {
            let next = lines.next_line(&mut buf).map_err(|e| io_error(&name, e))?;
            let at_end = next.is_none();
            match next {
                Some((line_no, Line::TooLong)) => {
                    let limit = input::MAX_LINE_BYTES;
                    raw.push((line_no, Err(LineError::TooLong { limit })));
                }
                Some((_, Line::Text)) if buf.iter().all(u8::is_ascii_whitespace) => {}
                Some((line_no, Line::Text)) => {
                    hasher.update(&buf);
                    hasher.update(b"\n");
                    raw.push((line_no, Ok(std::mem::take(&mut buf))));
                }
                None => {}
            }
            // The last chunk of a file is committed even when empty: its collection-log entry
            // carries the whole file's hash.
            if raw.len() >= chunks.chunk_lines() || at_end {
                let sha = std::mem::take(&mut hasher).finalize().into();
                let file_sha = at_end.then(|| lines.get_ref().get_ref().digest());
                chunks.push((std::mem::take(&mut raw), sha, file_sha))?;
            }
            if at_end {
                return chunks.finish();
            }
        }
    })
}

fn jsonl_line(
    bytes: &[u8],
    cx: &validate::Context<'_>,
    encoding: InputEncoding,
) -> std::result::Result<Submission, LineError> {
    let text = input::decode(bytes, encoding).ok_or_else(|| {
        LineError::Encoding("the line is not valid text in the file's encoding".into())
    })?;
    validate::validate(jsonl::parse_line(&text)?, cx)
}

fn read_csv<R: Read, C: Consumer>(
    reader: &mut input::HashingReader<R>,
    cx: &validate::Context<'_>,
    options: &IngestOptions,
    sink: &mut C,
) -> Result<()> {
    let name = sink.name().to_string();
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input::RowBound::new(reader, input::MAX_CSV_ROW_READ));
    let limit = input::MAX_LINE_BYTES;
    let mut record = ::csv::ByteRecord::new();
    // The first row is the header (none in an empty file).
    let more = rdr
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(&name, e))?;
    let header = match more {
        false => None,
        true => {
            let too_long =
                rdr.get_mut().take_overflow() || record.as_slice().len() + record.len() > limit;
            let parsed = match too_long {
                true => Err(LineError::TooLong { limit }),
                false => csv::Header::parse(&record, options.encoding),
            };
            match parsed {
                Ok(h) => Some(h),
                Err(e) => {
                    // A bad header refuses the file: one reject at line 1, no row read as data.
                    let mut rest = rdr.into_inner().into_inner();
                    std::io::copy(&mut rest, &mut std::io::sink())
                        .map_err(|e| io_error(&name, e))?;
                    let chunk = vec![(1, Err(LineError::Syntax(format!("header: {e}"))))];
                    return sink.consume(chunk, [0; 32], Some(rest.digest()));
                }
            }
        }
    };
    let h = header.as_ref();
    // `None`: the row was longer than the limit (its bytes were skipped, not kept).
    let parse = |row: Option<::csv::ByteRecord>| match (h, row) {
        (_, None) => Err(LineError::TooLong { limit }),
        (Some(h), Some(row)) => h
            .row(&row, options.encoding)
            .and_then(|raw| validate::validate(raw, cx)),
        (None, Some(_)) => Err(LineError::Syntax("no header row".into())),
    };
    with_chunks(sink, parse, |chunks| {
        let mut rows: Vec<(u64, Option<::csv::ByteRecord>)> = Vec::new();
        let mut hasher = Sha256::new();
        let mut more = more;
        loop {
            more = more
                && rdr
                    .read_byte_record(&mut record)
                    .map_err(|e| csv_error(&name, e))?;
            if more {
                let line_no = record.position().map_or(0, |p| p.line());
                let too_long =
                    rdr.get_mut().take_overflow() || record.as_slice().len() + record.len() > limit;
                if too_long {
                    rows.push((line_no, None));
                } else if !record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                    for cell in record.iter() {
                        hasher.update(cell);
                        hasher.update([0x1F]);
                    }
                    hasher.update([0x1E]);
                    rows.push((line_no, Some(std::mem::take(&mut record))));
                }
            }
            if rows.len() >= chunks.chunk_lines() || !more {
                let sha = std::mem::take(&mut hasher).finalize().into();
                let file_sha = (!more).then(|| rdr.get_ref().get_ref().digest());
                chunks.push((std::mem::take(&mut rows), sha, file_sha))?;
            }
            if !more {
                return chunks.finish();
            }
        }
    })
}

pub(crate) fn io_error(name: &str, source: std::io::Error) -> Error {
    Error::Io {
        path: name.into(),
        source,
    }
}

fn csv_error(name: &str, e: ::csv::Error) -> Error {
    let source = match e.into_kind() {
        ::csv::ErrorKind::Io(io) => io,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
    };
    io_error(name, source)
}

pub(crate) fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

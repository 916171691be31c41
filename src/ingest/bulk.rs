//! Bulk loads: many files from many providers as one operation, written in key order.
//!
//! Ingesting provider files one by one costs several sled operations per record, because each
//! file visits subjects in its own order (see BENCHMARKS.md). A bulk load instead:
//! 1. reads and validates every file (in parallel, as `ingest_files` does), numbering the valid
//!    lines in input order and spilling them into two external sorts: by provider-index bucket,
//!    and by subject;
//! 2. walks the buckets in order, deciding each line's record id once per bucket
//!    ([`IndexPass`]);
//! 3. walks the subjects in order, applying each subject's lines in input order through the
//!    ordinary writer, one atomic batch per chunk of subjects;
//! 4. appends one collection-log summary per file, flushes, and only then reports success.
//!
//! The outcome equals ingesting the same files one after another in the same order (record and
//! subject ids aside: they are assigned in key order), which `tests/bulk_load.rs` checks.

use super::runs::Sorter;
use super::{check_provider, io_error, read_file, validate, Chunk, Consumer, FileFormat};
use super::{IngestOptions, IngestReport};
use crate::domain::code::SubjectCode;
use crate::domain::record::{RecordId, Submission};
use crate::domain::Category;
use crate::error::{Error, Result};
use crate::store::bulk::{append_file_summaries, Decision, FileSummary, IndexLine, IndexPass};
use crate::store::provider_index::bucket_of;
use crate::store::writer::{ChunkInfo, ChunkWriter, Outcome, Spent};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One input of a bulk load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The provider's registered code.
    pub provider: String,
    /// The file (`.jsonl`, `.ndjson`, `.json` or `.csv`).
    pub path: PathBuf,
}

/// The files of a provider tree — `dir/<PROVIDER>/*.{jsonl,ndjson,json,csv}`, the layout of
/// `data-samples/providers` and of `credstore generate` — as sources, providers and files in
/// name order.
pub fn provider_tree(dir: &std::path::Path) -> std::io::Result<Vec<Source>> {
    let mut providers: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    providers.sort();
    let mut sources = Vec::new();
    for dir in providers {
        let provider = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| FileFormat::from_path(f).is_some())
            .collect();
        files.sort();
        sources.extend(files.into_iter().map(|path| Source {
            provider: provider.clone(),
            path,
        }));
    }
    Ok(sources)
}

/// Items held in memory per sort before a run is written.
const SUBJECT_RUN_ITEMS: usize = 200_000;
const INDEX_RUN_ITEMS: usize = 1_000_000;
/// Lines per batch in the subject pass, at least: the pass writes subjects in key order, so
/// bigger batches cost no extra reads, and each batch has a fixed cost in sled.
const BULK_CHUNK_LINES: usize = 50_000;
/// Marks a line refused by the index pass.
const REFUSED: u64 = u64::MAX;

#[derive(Debug, Serialize, Deserialize)]
struct Staged {
    seq: u64,
    file: u32,
    line: u64,
    sub: Submission,
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexItem {
    provider: String,
    bucket: u16,
    provider_record_id: String,
    seq: u64,
    file: u32,
    line: u64,
    subject: SubjectCode,
    category: Category,
}

type SubjectKey = (SubjectCode, u64);
type IndexKey = (String, u16, String, u64);

fn subject_key(s: &Staged) -> SubjectKey {
    (s.sub.subject, s.seq)
}

fn index_key(i: &IndexItem) -> IndexKey {
    (
        i.provider.clone(),
        i.bucket,
        i.provider_record_id.clone(),
        i.seq,
    )
}

/// Phase 1's consumer: numbers valid lines and stages them in both sorts.
struct Stager<'a> {
    name: String,
    file: u32,
    next_seq: &'a mut u64,
    subjects: &'a mut Sorter<Staged, SubjectKey, fn(&Staged) -> SubjectKey>,
    index: &'a mut Sorter<IndexItem, IndexKey, fn(&IndexItem) -> IndexKey>,
    summary: &'a mut FileSummary,
    report: &'a mut IngestReport,
    max_rejects: usize,
    /// Lines per chunk read (the staging holds them in its sorts, not in one batch).
    chunk_lines: usize,
}

impl Consumer for Stager<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn chunk_lines(&self) -> usize {
        self.chunk_lines
    }

    fn fixed_chunks(&self) -> bool {
        true
    }

    fn consume(
        &mut self,
        chunk: Chunk,
        _sha: [u8; 32],
        file_sha256: Option<[u8; 32]>,
    ) -> Result<()> {
        let io = |e: std::io::Error| io_error(&self.name, e);
        self.report.lines += chunk.len() as u64;
        self.summary.lines += chunk.len() as u64;
        for (line, item) in chunk {
            match item {
                Ok(mut sub) => {
                    if let Some(w) = sub.warning.take() {
                        self.report.warn(self.max_rejects, &self.name, line, &w);
                    }
                    let seq = *self.next_seq;
                    *self.next_seq += 1;
                    let index_item = IndexItem {
                        provider: sub.provider.clone(),
                        bucket: bucket_of(&sub.provider_record_id),
                        provider_record_id: sub.provider_record_id.clone(),
                        seq,
                        file: self.file,
                        line,
                        subject: sub.subject,
                        category: sub.category,
                    };
                    self.index.push(index_item).map_err(io)?;
                    let staged = Staged {
                        seq,
                        file: self.file,
                        line,
                        sub,
                    };
                    self.subjects.push(staged).map_err(io)?;
                }
                Err(e) => refuse(
                    self.summary,
                    self.report,
                    self.max_rejects,
                    line,
                    e.kind(),
                    e.to_string(),
                ),
            }
        }
        if let Some(sha) = file_sha256 {
            self.summary.sha256 = sha;
        }
        Ok(())
    }
}

impl Store {
    /// Loads many providers' files as one operation, visiting the store in key order (see the
    /// module documentation). Same outcome as [`ingest_files`](Store::ingest_files) on each
    /// source in turn; much faster for large inputs. Returns only when everything accepted is
    /// durable. Other writers wait while the index and subject passes run.
    pub fn ingest_bulk(&self, sources: &[Source], options: &IngestOptions) -> Result<IngestReport> {
        let mut opened = Vec::with_capacity(sources.len());
        for source in sources {
            check_provider(&source.provider)?;
            let format = FileFormat::from_path(&source.path).ok_or_else(|| Error::Io {
                path: source.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "unknown file type: expected .jsonl, .ndjson, .json or .csv",
                ),
            })?;
            let file = std::fs::File::open(&source.path).map_err(|e| Error::Io {
                path: source.path.clone(),
                source: e,
            })?;
            opened.push((source, format, file));
        }
        let tmp = self.path().join("tmp").join(format!(
            "bulk-{}-{}",
            std::process::id(),
            super::now_unix_ms()
        ));
        let result = self.bulk_phases(opened, options, &tmp);
        let _ = std::fs::remove_dir_all(&tmp);
        result
    }

    fn bulk_phases(
        &self,
        opened: Vec<(&Source, FileFormat, std::fs::File)>,
        options: &IngestOptions,
        tmp: &std::path::Path,
    ) -> Result<IngestReport> {
        let io = |e: std::io::Error| io_error(&tmp.display().to_string(), e);
        let mut report = IngestReport::default();
        let mut subjects: Sorter<Staged, SubjectKey, fn(&Staged) -> SubjectKey> = Sorter::new(
            tmp.to_path_buf(),
            "subjects",
            SUBJECT_RUN_ITEMS,
            subject_key as fn(&Staged) -> SubjectKey,
        )
        .map_err(io)?;
        let mut index: Sorter<IndexItem, IndexKey, fn(&IndexItem) -> IndexKey> = Sorter::new(
            tmp.to_path_buf(),
            "index",
            INDEX_RUN_ITEMS,
            index_key as fn(&IndexItem) -> IndexKey,
        )
        .map_err(io)?;
        let mut summaries = Vec::with_capacity(opened.len());
        let mut next_seq = 0u64;
        // Phase 1: read, validate, stage.
        for (i, (source, format, file)) in opened.into_iter().enumerate() {
            let name = source.path.display().to_string();
            let mut summary = FileSummary {
                provider: source.provider.clone(),
                file: name.clone(),
                ..FileSummary::default()
            };
            let cx = validate::Context {
                provider: &source.provider,
                catalog: self.catalog(),
                collected_on: options.today,
            };
            let mut stager = Stager {
                name,
                file: i as u32,
                next_seq: &mut next_seq,
                subjects: &mut subjects,
                index: &mut index,
                summary: &mut summary,
                report: &mut report,
                max_rejects: options.max_rejects_kept,
                chunk_lines: options.chunk_lines,
            };
            read_file(file, format, &cx, options, &mut stager)?;
            report.files += 1;
            summaries.push(summary);
        }
        let mut counters = self.writer();
        // Phase 2: decide record ids, bucket by bucket.
        let mut decisions = vec![REFUSED; next_seq as usize];
        let mut pass = IndexPass::new(self.tree(), counters.clone());
        let mut decide = |group: &mut Vec<IndexItem>, report: &mut IngestReport| -> Result<()> {
            let Some(first) = group.first() else {
                return Ok(());
            };
            let (provider, bucket) = (first.provider.clone(), first.bucket);
            let lines: Vec<IndexLine> = group
                .iter()
                .map(|g| IndexLine {
                    seq: g.seq,
                    provider_record_id: g.provider_record_id.clone(),
                    subject: g.subject,
                    category: g.category,
                })
                .collect();
            for (item, decision) in group.drain(..).zip(pass.bucket(&provider, bucket, &lines)?) {
                match decision {
                    Decision::Record(id) => decisions[item.seq as usize] = id.0,
                    Decision::Conflict(reason) => refuse(
                        &mut summaries[item.file as usize],
                        report,
                        options.max_rejects_kept,
                        item.line,
                        "conflict",
                        reason,
                    ),
                }
            }
            Ok(())
        };
        // A second thread merges the sorted runs into buckets' groups while this one decides.
        let sorted = index.into_sorted().map_err(io)?;
        std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<IndexItem>>>(64);
            scope.spawn(move || {
                send_batches(sorted, &tx, |group: &[IndexItem], item| {
                    (group[0].provider.as_str(), group[0].bucket)
                        != (item.provider.as_str(), item.bucket)
                })
            });
            for group in rx {
                decide(&mut group.map_err(io)?, &mut report)?;
            }
            Ok(())
        })?;
        *counters = pass.finish()?;
        // Phase 3: apply, subject by subject, in chunks that never split a subject. A second
        // thread reads and decodes the sorted runs into chunks while this one applies and
        // writes the previous chunk.
        //
        // Into an empty index, a third thread indexes each chunk's subjects as they are written
        // (`LoadIndexer`): no catch-up reading them back after the load, and one segment.
        let merged = subjects.into_sorted().map_err(io)?;
        let chunk_lines = options.chunk_lines.max(BULK_CHUNK_LINES);
        let indexer = match options.defer_search_index {
            true => None,
            false => self.search_index().load_indexer(counters.next_change_seq)?,
        };
        std::thread::scope(|scope| -> Result<()> {
            // Each committed chunk's subjects go to this thread, which indexes them (into an
            // empty index) and frees them, off the writer's thread.
            let (spent_tx, spent_rx) = std::sync::mpsc::sync_channel::<Spent>(2);
            let indexer = indexer.as_ref();
            let spent_thread = scope.spawn(move || -> Result<()> {
                for spent in spent_rx {
                    if let Some(indexer) = indexer {
                        indexer.add(spent.touched_subjects())?;
                    }
                }
                Ok(())
            });
            let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<Staged>>>(2);
            // Chunks of at least `chunk_lines`, never splitting a subject.
            scope.spawn(move || {
                send_batches(merged, &tx, |chunk: &[Staged], staged| {
                    chunk.len() >= chunk_lines
                        && chunk[chunk.len() - 1].sub.subject != staged.sub.subject
                })
            });
            for chunk in rx {
                let (next, spent) = self.apply_bulk_chunk(
                    chunk.map_err(io)?,
                    &decisions,
                    &mut summaries,
                    &mut report,
                    counters.clone(),
                    options,
                )?;
                *counters = next;
                // Closed: the indexing failed. Stop here; its error is returned when the thread
                // is joined, and the chunks written so far are indexed by the catch-up.
                if spent_tx.send(spent).is_err() {
                    break;
                }
            }
            drop(spent_tx);
            match spent_thread.join() {
                Ok(indexed) => indexed,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        // Phase 4: per-file summaries, then durability.
        *counters = append_file_summaries(
            self.tree(),
            counters.clone(),
            options.today,
            super::now_unix_ms(),
            &summaries,
        )?;
        for s in &summaries {
            report.accepted += s.accepted;
            report.duplicates += s.duplicates;
            report.new_versions += s.new_versions;
        }
        if let Some(indexer) = indexer {
            // After the store's flush: the commit records the changes it has applied.
            self.flush()?;
            indexer.finish(counters.next_change_seq)?;
        }
        self.publish(options)?;
        Ok(report)
    }

    fn apply_bulk_chunk(
        &self,
        chunk: Vec<Staged>,
        decisions: &[u64],
        summaries: &mut [FileSummary],
        report: &mut IngestReport,
        counters: crate::store::meta::Counters,
        options: &IngestOptions,
    ) -> Result<(crate::store::meta::Counters, Spent)> {
        let seqs = (
            chunk.iter().map(|s| s.seq).min().unwrap_or(0),
            chunk.iter().map(|s| s.seq).max().unwrap_or(0),
        );
        let mut writer = ChunkWriter::new(
            self.tree(),
            self.dicts(),
            counters,
            options.today,
            self.catalog(),
        )
        .with_tombstoned(self.tombstoned_subjects());
        writer.prefetch_subjects(chunk.iter().map(|s| &s.sub))?;
        for staged in chunk {
            let record_id = decisions[staged.seq as usize];
            if record_id == REFUSED {
                continue;
            }
            let summary = &mut summaries[staged.file as usize];
            match writer.apply_decided(staged.sub, RecordId(record_id))? {
                Outcome::Accepted => summary.accepted += 1,
                Outcome::Duplicate => summary.duplicates += 1,
                Outcome::NewVersion => summary.new_versions += 1,
                // A resubmission of a record deleted on request (the tombstone check): refused
                // because of what is stored, a `conflict` as in a file-by-file ingest (found by
                // tests/model.rs).
                Outcome::Refused(reason) => refuse(
                    summary,
                    report,
                    options.max_rejects_kept,
                    staged.line,
                    "conflict",
                    reason,
                ),
            }
        }
        let info = ChunkInfo {
            provider: "*".to_string(),
            file: format!("bulk load, input lines {}-{}", seqs.0, seqs.1),
            lines: seqs,
            chunk_sha256: [0; 32],
            rejected_before: 0,
            file_sha256: None,
        };
        let (counters, _, spent) = writer.commit_spent(info, super::now_unix_ms())?;
        Ok((counters, spent))
    }
}

/// Cuts a sorted stream into batches and sends each (or the first error) through `tx`, until
/// the stream ends or the receiver is gone: a batch ends before `item` when `ends(batch, item)`.
/// Run on a second thread, so that reading and decoding the sorted runs overlaps the work on
/// the batches.
fn send_batches<T>(
    items: impl Iterator<Item = std::io::Result<T>>,
    tx: &std::sync::mpsc::SyncSender<std::io::Result<Vec<T>>>,
    ends: impl Fn(&[T], &T) -> bool,
) {
    let mut batch = Vec::new();
    for item in items {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        if !batch.is_empty()
            && ends(&batch, &item)
            && tx.send(Ok(std::mem::take(&mut batch))).is_err()
        {
            return;
        }
        batch.push(item);
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
}

/// Counts a refused line in its file's summary and in the report, and keeps its reject.
fn refuse(
    summary: &mut FileSummary,
    report: &mut IngestReport,
    max_rejects: usize,
    line: u64,
    kind: &'static str,
    reason: String,
) {
    summary.rejected += 1;
    report.rejected += 1;
    report.reject(max_rejects, &summary.file, line, kind, reason);
}

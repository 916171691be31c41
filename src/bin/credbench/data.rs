//! The data both engines load: the crate's own generator (seed 1, no bad lines, the files the
//! benches use and cache), and a reader that turns those provider files into validated
//! [`Submission`]s with the crate's own parsers and validator — what credstore's ingest does
//! before it writes anything, so the SQLite loader does the same work per line.
//!
//! Reading runs on its own thread and parses each chunk of lines in parallel (rayon), handing
//! finished chunks through a bounded channel, so the consumer (the SQLite writer) overlaps with
//! the parsing as credstore's ingest pipeline does.

use anyhow::{anyhow, Context, Result};
use credstore::domain::catalog::Catalog;
use credstore::domain::date::Date;
use credstore::domain::record::Submission;
use credstore::generate::{generate, GenerateConfig};
use credstore::ingest::bulk::{provider_tree, Source};
use credstore::ingest::input::{decode, InputEncoding};
use credstore::ingest::{csv as csv_rows, jsonl, validate, FileFormat, LineError};
use rayon::prelude::*;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The collection date of every load (the benches' date).
pub fn today() -> Date {
    Date::from_ymd(2026, 11, 1).expect("a valid date")
}

/// Lines parsed per chunk (credstore's ingest chunk).
const CHUNK_LINES: usize = 10_000;

/// The generated provider files for `subjects` (seed 1, no bad lines): generated once into
/// `<target>/bench-data/s<N>-seed1-v1`, the cache `benches/common` uses, and reused after.
pub fn dataset(subjects: u64) -> Result<PathBuf> {
    let dir = crate::args::target_dir()
        .join("bench-data")
        .join(format!("s{subjects}-seed1-v1"));
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "credbench: generating {subjects} subjects into {}",
            dir.display()
        );
        let config = GenerateConfig {
            subjects,
            seed: 1,
            bad_share: 0.0,
            today: today(),
        };
        generate(&config, &dir).with_context(|| format!("generating into {}", dir.display()))?;
        std::fs::write(&done, b"").context("marking the generated data complete")?;
    }
    Ok(dir)
}

/// The provider files of a dataset, in the order credstore's bulk load reads them.
pub fn sources(dir: &Path) -> Result<Vec<Source>> {
    provider_tree(dir).with_context(|| format!("listing {}", dir.display()))
}

/// One chunk of validated lines of one provider's file, in file order.
pub struct Chunk {
    /// Each line's outcome.
    pub lines: Vec<std::result::Result<Submission, LineError>>,
}

/// Reads every file of `sources` in order, validating each line as of `today`, and calls `f`
/// with each chunk (on the calling thread; reading and parsing run on others).
pub fn for_each_chunk(
    sources: &[Source],
    today: Date,
    mut f: impl FnMut(Chunk) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Chunk>>(2);
        scope.spawn(move || {
            for source in sources {
                if let Err(e) = read_source(source, today, &tx) {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        });
        for chunk in rx {
            f(chunk?)?;
        }
        Ok(())
    })
}

/// A raw line waiting to be parsed.
enum Raw {
    Json(Vec<u8>),
    Csv(csv::ByteRecord),
}

fn read_source(
    source: &Source,
    today: Date,
    tx: &std::sync::mpsc::SyncSender<Result<Chunk>>,
) -> Result<()> {
    let file = std::fs::File::open(&source.path)
        .with_context(|| format!("opening {}", source.path.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let cx = validate::Context {
        provider: &source.provider,
        catalog: Catalog::builtin(),
        collected_on: today,
    };
    let format = FileFormat::from_path(&source.path)
        .ok_or_else(|| anyhow!("{}: not a provider file", source.path.display()))?;
    let mut header: Option<csv_rows::Header> = None;
    let send = |raw: Vec<Raw>, header: Option<&csv_rows::Header>| -> Result<()> {
        let lines = raw.into_par_iter().map(|r| parse(r, header, &cx)).collect();
        tx.send(Ok(Chunk { lines }))
            .map_err(|_| anyhow!("the consumer stopped"))
    };
    let mut raw = Vec::with_capacity(CHUNK_LINES);
    match format {
        FileFormat::JsonLines => {
            let mut reader = reader;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                if reader.read_until(b'\n', &mut buf)? == 0 {
                    break;
                }
                if !buf.iter().all(u8::is_ascii_whitespace) {
                    raw.push(Raw::Json(std::mem::take(&mut buf)));
                }
                if raw.len() >= CHUNK_LINES {
                    send(std::mem::take(&mut raw), None)?;
                }
            }
        }
        FileFormat::Csv => {
            let mut rows = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(reader);
            let mut record = csv::ByteRecord::new();
            while rows.read_byte_record(&mut record)? {
                if header.is_none() {
                    header = Some(
                        csv_rows::Header::parse(&record, InputEncoding::Utf8)
                            .map_err(|e| anyhow!("{}: header: {e}", source.path.display()))?,
                    );
                    continue;
                }
                raw.push(Raw::Csv(std::mem::take(&mut record)));
                if raw.len() >= CHUNK_LINES {
                    send(std::mem::take(&mut raw), header.as_ref())?;
                }
            }
        }
    }
    if !raw.is_empty() {
        send(raw, header.as_ref())?;
    }
    Ok(())
}

fn parse(
    raw: Raw,
    header: Option<&csv_rows::Header>,
    cx: &validate::Context<'_>,
) -> std::result::Result<Submission, LineError> {
    let line = match raw {
        Raw::Json(bytes) => {
            let text = decode(&bytes, InputEncoding::Utf8)
                .ok_or_else(|| LineError::Encoding("not UTF-8".into()))?;
            jsonl::parse_line(text.trim_end())?
        }
        Raw::Csv(row) => header
            .ok_or_else(|| LineError::Syntax("no header row".into()))?
            .row(&row, InputEncoding::Utf8)?,
    };
    validate::validate(line, cx)
}

//! `credstore ingest --provider CODE FILE...`.

use super::args::EncodingArg;
use anyhow::Context;
use credstore::domain::date::Date;
use credstore::ingest::input::InputEncoding;
use credstore::ingest::{IngestOptions, IngestReport};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(
    data_dir: &Path,
    today: Date,
    provider: &str,
    json: bool,
    encoding: EncodingArg,
    rejects: Option<PathBuf>,
    files: &[PathBuf],
) -> anyhow::Result<i32> {
    let store = super::open_store(data_dir)?;
    let mut options = IngestOptions::new(today);
    options.encoding = match encoding {
        EncodingArg::Utf8 => InputEncoding::Utf8,
        EncodingArg::Gb18030 => InputEncoding::Gb18030,
    };
    let report = store.ingest_files(provider, files, &options)?;
    let rejects_path = write_rejects(data_dir, provider, rejects, &report)?;
    print_report(&report, json, rejects_path.as_deref())
}

/// `credstore load DIR`: every provider folder's files as one bulk load.
pub fn load(
    data_dir: &Path,
    today: Date,
    dir: &Path,
    json: bool,
    encoding: EncodingArg,
) -> anyhow::Result<i32> {
    let sources = credstore::ingest::bulk::provider_tree(dir)
        .with_context(|| format!("reading {}", dir.display()))?;
    let store = super::open_store(data_dir)?;
    let mut options = IngestOptions::new(today);
    options.encoding = match encoding {
        EncodingArg::Utf8 => InputEncoding::Utf8,
        EncodingArg::Gb18030 => InputEncoding::Gb18030,
    };
    let report = store.ingest_bulk(&sources, &options)?;
    let rejects_path = write_rejects(data_dir, "load", None, &report)?;
    print_report(&report, json, rejects_path.as_deref())
}

fn print_report(
    report: &IngestReport,
    json: bool,
    rejects_path: Option<&Path>,
) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_summary(&mut out, report, rejects_path)?;
    }
    Ok(0)
}

/// Writes the rejects as JSON Lines; returns where, if there were any.
fn write_rejects(
    data_dir: &Path,
    provider: &str,
    requested: Option<PathBuf>,
    report: &IngestReport,
) -> anyhow::Result<Option<PathBuf>> {
    if report.rejects.is_empty() && requested.is_none() {
        return Ok(None);
    }
    let path = match requested {
        Some(p) => p,
        None => {
            let dir = data_dir.join("rejects");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            dir.join(format!("{provider}-{stamp}.jsonl"))
        }
    };
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    for r in &report.rejects {
        serde_json::to_writer(&mut w, r)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(Some(path))
}

pub fn print_summary(
    out: &mut dyn Write,
    r: &IngestReport,
    rejects: Option<&Path>,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{} files, {} lines: {} accepted, {} duplicates, {} new versions, {} rejected",
        r.files, r.lines, r.accepted, r.duplicates, r.new_versions, r.rejected
    )?;
    for reject in r.rejects.iter().take(20) {
        writeln!(out, "  {}:{}: {}", reject.file, reject.line, reject.reason)?;
    }
    if r.rejects.len() > 20 {
        writeln!(out, "  ... and {} more", r.rejects.len() - 20)?;
    }
    if r.warned > 0 {
        writeln!(out, "{} lines accepted with a warning:", r.warned)?;
        for w in r.warnings.iter().take(5) {
            writeln!(out, "  {}:{}: {}", w.file, w.line, w.reason)?;
        }
    }
    if let Some(p) = rejects {
        writeln!(out, "rejects written to {}", p.display())?;
    }
    Ok(())
}

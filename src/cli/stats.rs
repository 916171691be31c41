//! `credstore stats`: counts by kind, category, item and provider.

use std::io::Write;
use std::path::Path;

pub fn run(data_dir: &Path, json: bool) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    let stats = store.stats()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &stats)?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(out, "subjects: {}", stats.subjects)?;
    for (kind, n) in &stats.subjects_by_kind {
        writeln!(out, "  {:<16} {n}", kind.as_str())?;
    }
    writeln!(
        out,
        "records: {} ({} versions)",
        stats.records, stats.versions
    )?;
    writeln!(out, "by category:")?;
    for (category, n) in &stats.by_category {
        writeln!(out, "  {:<16} {n}", category.as_str())?;
    }
    writeln!(out, "by item:")?;
    for (item, n) in &stats.by_item {
        writeln!(out, "  {item:<28} {n}")?;
    }
    writeln!(out, "by provider:")?;
    for (provider, n) in &stats.by_provider {
        writeln!(out, "  {provider:<28} {n}")?;
    }
    Ok(0)
}

//! `credstore search TEXT` and `credstore reindex`.

use super::args::AskerArgs;
use credstore::domain::date::Date;
use credstore::search::Hit;
use std::io::Write;
use std::path::Path;

pub fn run(
    data_dir: &Path,
    today: Date,
    text: &str,
    limit: usize,
    json: bool,
    args: &AskerArgs,
) -> anyhow::Result<i32> {
    let (asker, options) = super::query::asker(args, today)?;
    let store = super::open_existing_store(data_dir)?;
    let answer = store.search_as(&asker, text, limit, &options)?;
    if let Some(refusal) = answer.refusal {
        eprintln!("credstore: search refused: {refusal}");
        return Ok(1);
    }
    let hits = answer.hits;
    let mut out = std::io::stdout().lock();
    if json {
        for hit in &hits {
            serde_json::to_writer(&mut out, hit)?;
            writeln!(out)?;
        }
    } else {
        print_hits(&mut out, &hits)?;
    }
    Ok(0)
}

/// One line per hit: score, code, kind, name, what matched.
pub fn print_hits(out: &mut dyn Write, hits: &[Hit]) -> std::io::Result<()> {
    if hits.is_empty() {
        writeln!(out, "  (no match)")?;
    }
    for h in hits {
        writeln!(
            out,
            "  {:.2}  {}  {:<14}  {}  ({})",
            h.score,
            h.code,
            h.kind,
            h.name,
            serde_json::to_value(h.matched)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

pub fn reindex(data_dir: &Path) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    let started = std::time::Instant::now();
    let n = store.reindex()?;
    println!(
        "reindexed {n} subjects in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

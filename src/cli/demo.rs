//! `credstore demo`: the README's first command. Builds a store in the data directory from the
//! bundled `data-samples/`, prints what it did, and shows a few subjects. Running it again
//! stores nothing new (every line is a duplicate) and says so.

use anyhow::Context;
use credstore::domain::date::Date;
use credstore::ingest::{IngestOptions, IngestReport};
use credstore::query::{Asker, QueryOptions, Status};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The collection date the bundled samples were generated for; used unless `--today` is given,
/// so the demo's answers do not drift with the clock.
const SAMPLES_COLLECTED_ON: &str = "2026-11-01";

pub fn run(data_dir: &Path, today: Option<Date>) -> anyhow::Result<i32> {
    let samples = samples_dir()?;
    let today = match today {
        Some(d) => d,
        None => Date::parse(SAMPLES_COLLECTED_ON).context("the samples' date")?,
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "credstore demo: data-samples {} -> store {} (collection date {today})",
        samples.display(),
        data_dir.display()
    )?;
    let store = super::open_store(data_dir)?;
    let providers_dir = samples.join("providers");
    let sources = credstore::ingest::bulk::provider_tree(&providers_dir)
        .with_context(|| format!("reading {}", providers_dir.display()))?;
    let options = IngestOptions::new(today);
    let mut total = IngestReport::default();
    // File by file, one provider at a time, as monthly deliveries arrive (`credstore load`
    // does the same in one bulk operation).
    for group in sources.chunk_by(|a, b| a.provider == b.provider) {
        let provider = group[0].provider.as_str();
        let files: Vec<&Path> = group.iter().map(|s| s.path.as_path()).collect();
        let report = store.ingest_files(provider, &files, &options)?;
        writeln!(
            out,
            "  {provider:<14} {:>5} lines: {:>5} accepted, {:>5} duplicates, {:>3} new versions, {:>3} rejected",
            report.lines, report.accepted, report.duplicates, report.new_versions, report.rejected
        )?;
        total.absorb(report);
    }
    writeln!(
        out,
        "ingested {} lines: {} accepted, {} duplicates, {} new versions, {} rejected",
        total.lines, total.accepted, total.duplicates, total.new_versions, total.rejected
    )?;
    if total.accepted == 0 && total.new_versions == 0 && total.duplicates > 0 {
        writeln!(
            out,
            "(the store already held every sample record: nothing changed)"
        )?;
    }
    writeln!(
        out,
        "rejected lines (the samples' deliberately bad lines, see data-samples/README.md):"
    )?;
    for r in total.rejects.iter().take(12) {
        writeln!(out, "  {}:{}: {}", r.file, r.line, r.reason)?;
    }
    if total.rejects.len() > 12 {
        writeln!(out, "  ... and {} more", total.rejects.len() - 12)?;
    }
    let stats = store.stats()?;
    writeln!(
        out,
        "store: {} subjects, {} records ({} versions)",
        stats.subjects, stats.records, stats.versions
    )?;
    for (category, n) in &stats.by_category {
        writeln!(out, "  {:<11} {n}", category.as_str())?;
    }
    show_examples(&store, &mut out)?;
    show_searches(&store, &mut out)?;
    writeln!(
        out,
        "next: `credstore get CODE`, `credstore stats`, `credstore ingest --provider CODE FILE`"
    )?;
    Ok(0)
}

/// Prints one organisation with its records, as `credstore get` would.
fn show_examples(store: &credstore::Store, out: &mut dyn Write) -> anyhow::Result<()> {
    let catalog_items = store.catalog().items().len();
    writeln!(
        out,
        "catalog {}: {catalog_items} items",
        store.catalog().version()
    )?;
    let first_org = store
        .changes_since(0)
        .filter_map(Result::ok)
        .flat_map(|c| c.subjects)
        .find(|c| c.kind() == credstore::domain::SubjectKind::Organization);
    if let Some(code) = first_org {
        let today = store
            .collection_log()
            .filter_map(Result::ok)
            .last()
            .map_or_else(credstore::domain::date::Date::today, |e| e.collected_on);
        let options = QueryOptions::new(today);
        let answer = store.query(&Asker::Public, &code, &options)?;
        if answer.status == Status::Found {
            writeln!(
                out,
                "example: credstore get {} (as the public; every query is logged)",
                code.as_str()
            )?;
            if let Some(subject) = &answer.subject {
                writeln!(out, "  {} {} ({})", answer.code, subject.name, subject.kind)?;
            }
            for r in &answer.records {
                writeln!(
                    out,
                    "  record {:>5}  {:<10}  {:<20}  {:<10}  occurred {}{}",
                    r.record_id,
                    r.category,
                    r.content.item,
                    r.content.disclosure.as_str(),
                    r.content.occurred_on,
                    if r.objection_mark {
                        "  [objection]"
                    } else {
                        ""
                    }
                )?;
            }
            for w in &answer.withheld {
                writeln!(out, "  ({})", w.message)?;
            }
            let own = store.query(
                &Asker::Subject {
                    identity_proof: "demo: identity checked at the counter".to_string(),
                },
                &code,
                &options,
            )?;
            writeln!(
                out,
                "the same subject asking about itself (--as subject --proof REF): {} records shown, {} withheld",
                own.records.len(),
                own.withheld.iter().map(|w| w.count).sum::<u64>()
            )?;
        }
    }
    let report = store.audit_verify()?;
    writeln!(
        out,
        "audit verify: collection log {} entries, query log {} entries, {}",
        report.collection.entries,
        report.query.entries,
        if report.ok() {
            "both chains intact"
        } else {
            "BROKEN"
        }
    )?;
    Ok(())
}

/// A few searches, as the public sees them (persons' codes masked).
fn show_searches(store: &credstore::Store, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(first) = store.subject_codes().next().transpose()? else {
        return Ok(());
    };
    let Some(subject) = store.subject_header(&first)? else {
        return Ok(());
    };
    let name: String = subject.name.chars().collect();
    let fragment: String = name.chars().skip(2).take(3).collect();
    let surname: String = name.chars().take(2).collect();
    for text in [
        first.as_str(),
        &first.as_str()[..8],
        name.as_str(),
        fragment.as_str(),
        surname.as_str(),
        "科技",
    ] {
        writeln!(out, "search {text:?}:")?;
        let answer = store.search_as(&Asker::Public, text, 3, &QueryOptions::new(Date::today()))?;
        super::search::print_hits(out, &answer.hits)?;
    }
    Ok(())
}

/// `./data-samples` when run from a checkout, else the one beside the crate's manifest.
fn samples_dir() -> anyhow::Result<PathBuf> {
    let here = PathBuf::from("data-samples");
    if here.join("providers").is_dir() {
        return Ok(here);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    if built.join("providers").is_dir() {
        return Ok(built);
    }
    anyhow::bail!("cannot find data-samples/providers (run from the repository root)")
}

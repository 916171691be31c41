//! Correctness before timing: no figure is printed unless both engines gave the same answers on
//! the same inputs. A baseline that answers differently is a bug in the bench, so every
//! difference stops the run with the input that shows it.
//!
//! - Load: both stored every record of the generated data.
//! - Lookups: the same subject and records for every code (store-assigned numbers aside, see
//!   [`crate::measure::normalised_line`]); the agency path found the same codes.
//! - Searches (limit 20): when either engine returned fewer than 20 matches, both returned the
//!   same set of codes (the complete answer); when both returned 20, every hit of either engine
//!   really matches the query in the generated data (they may rank differently: credstore
//!   shorter names first, SQLite in its own order).
//! - Sweep: the records each engine moved, by catalog item, are those due in the data.

use crate::measure::EngineResult;
use crate::workload::{ClassKind, Truth, Workload, LIMIT};
use anyhow::{bail, Context, Result};
use credstore::domain::code::SubjectCode;
use credstore::domain::SubjectKind;
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

/// What the checks compared, for the line above the table.
#[derive(Debug, Default)]
pub struct Checked {
    /// Search queries whose answers were compared as whole sets.
    pub as_sets: usize,
    /// Search queries where both returned the limit and every hit was verified.
    pub by_containment: usize,
}

/// Runs every check; the first failure is the error.
pub fn all(
    w: &Workload,
    truth: &Truth,
    cs: &EngineResult,
    sq: &EngineResult,
    dir: &Path,
) -> Result<Checked> {
    for r in [cs, sq] {
        if r.records != truth.records {
            bail!(
                "{} stored {} records; the generated data has {} valid lines",
                r.engine,
                r.records,
                truth.records
            );
        }
    }
    lookups(dir, cs, sq)?;
    if cs.bulk_query_found != Some(cs.lookup_found) {
        bail!(
            "Store::bulk_query found {:?} of the codes, Store::subject {}",
            cs.bulk_query_found,
            cs.lookup_found
        );
    }
    let mut checked = Checked::default();
    for (i, class) in w.classes.iter().enumerate() {
        let (a, b) = (&cs.searches[i].answers, &sq.searches[i].answers);
        for (q, (c, s)) in class.queries.iter().zip(a.iter().zip(b)) {
            search(truth, class.kind, q, c, s, &mut checked)
                .with_context(|| format!("{} query {q:?}", class.kind.label()))?;
        }
    }
    for r in [cs, sq] {
        if let Some(sweep) = &r.sweep {
            if sweep.by_item != truth.due_by_item {
                bail!(
                    "{}'s sweep moved {:?} by item; the data has {:?} due",
                    r.engine,
                    sweep.by_item,
                    truth.due_by_item
                );
            }
        }
    }
    Ok(checked)
}

/// The two lookup answer files, line by line.
fn lookups(dir: &Path, cs: &EngineResult, sq: &EngineResult) -> Result<()> {
    let open = |engine: &str| -> Result<Vec<String>> {
        let path = dir.join(format!("{engine}-lookups.jsonl"));
        let file =
            std::fs::File::open(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(std::io::BufReader::new(file)
            .lines()
            .collect::<std::io::Result<_>>()?)
    };
    let (a, b) = (open(&cs.engine)?, open(&sq.engine)?);
    if a.len() != b.len() {
        bail!(
            "lookups: {} answers from credstore, {} from SQLite",
            a.len(),
            b.len()
        );
    }
    if let Some((x, y)) = a.iter().zip(&b).find(|(x, y)| x != y) {
        bail!("lookups differ:\n  credstore: {x}\n  SQLite:    {y}");
    }
    if cs.lookup_found != sq.lookup_found || cs.lookup_records != sq.lookup_records {
        bail!("lookups: the engines found different numbers of subjects or records");
    }
    Ok(())
}

fn search(
    truth: &Truth,
    kind: ClassKind,
    q: &str,
    c: &[String],
    s: &[String],
    checked: &mut Checked,
) -> Result<()> {
    let (cset, sset): (BTreeSet<&String>, BTreeSet<&String>) =
        (c.iter().collect(), s.iter().collect());
    if cset.len() != c.len() || sset.len() != s.len() {
        bail!("a subject appears twice in one engine's hits");
    }
    if c.len() < LIMIT || s.len() < LIMIT {
        if cset != sset {
            bail!(
                "credstore found {} matches, SQLite {}; only credstore: {:?}; only SQLite: {:?}",
                c.len(),
                s.len(),
                cset.difference(&sset).collect::<Vec<_>>(),
                sset.difference(&cset).collect::<Vec<_>>()
            );
        }
        checked.as_sets += 1;
        return Ok(());
    }
    for (engine, hits) in [("credstore", c), ("SQLite", s)] {
        if let Some(bad) = hits.iter().find(|code| !matches(truth, kind, q, code)) {
            bail!("{engine} returned {bad}, which does not match");
        }
    }
    checked.by_containment += 1;
    Ok(())
}

/// Whether subject `code` matches query `q` of class `kind` in the generated data.
fn matches(truth: &Truth, kind: ClassKind, q: &str, code: &str) -> bool {
    if kind.is_name() {
        return truth.name_contains(code, q);
    }
    if !truth.has(code) {
        return false;
    }
    let org = SubjectCode::from_stored(code.as_bytes())
        .is_some_and(|c| c.kind() == SubjectKind::Organization);
    match kind {
        ClassKind::Code => code == q,
        _ => {
            code.starts_with(q)
                || (org && code[2..].starts_with(q))
                || (org && q.len() <= 9 && code[8..17].starts_with(q))
        }
    }
}

//! `credstore audit verify` and `credstore audit who-queried CODE`.

use super::args::AskerArgs;
use credstore::domain::date::Date;
use credstore::store::query_log::{Outcome, QueryKind};
use std::io::Write;
use std::path::Path;

pub fn verify(data_dir: &Path, json: bool) -> anyhow::Result<i32> {
    let store = super::open_existing_store(data_dir)?;
    let started = std::time::Instant::now();
    let report = store.audit_verify()?;
    let secs = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for chain in [&report.collection, &report.query] {
            match &chain.broken {
                None => writeln!(
                    out,
                    "{} log: {} entries, chain intact, head {}",
                    chain.log, chain.entries, chain.head
                )?,
                Some(b) => writeln!(
                    out,
                    "{} log: BROKEN at entry {}: {}",
                    chain.log, b.seq, b.problem
                )?,
            }
        }
        writeln!(out, "verified in {secs:.2} s")?;
    }
    Ok(if report.ok() { 0 } else { 1 })
}

pub fn who_queried(
    data_dir: &Path,
    today: Date,
    code: &str,
    args: &AskerArgs,
) -> anyhow::Result<i32> {
    let (asker, _) = super::query::asker(args, today)?;
    let Some(code) = super::query::parse_code(code, today) else {
        return Ok(1);
    };
    let store = super::open_existing_store(data_dir)?;
    match store.who_queried(&asker, &code, today)? {
        Err(refusal) => {
            eprintln!("credstore: refused: {refusal}");
            Ok(1)
        }
        Ok(entries) => {
            let mut out = std::io::stdout().lock();
            for e in entries {
                let v = serde_json::json!({
                    "seq": e.seq,
                    "at_unix_ms": e.at_unix_ms,
                    "on": e.on,
                    "kind": e.kind.as_str(),
                    "request": match e.kind {
                        QueryKind::BulkPart { request, .. } => Some(request),
                        _ => None,
                    },
                    "role": e.role,
                    "requester": e.requester,
                    "operator": e.operator,
                    "purpose": e.purpose,
                    "outcome": match e.outcome {
                        Outcome::Answered => "answered".to_string(),
                        Outcome::Refused(r) => format!("refused: {}", r.as_str()),
                    },
                });
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            }
            Ok(0)
        }
    }
}

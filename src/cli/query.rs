//! `credstore get`, `credstore bulk-query` and the `--as` options they share with `search` and
//! `audit who-queried`.

use super::args::{AsRole, AskerArgs};
use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::query::bulk::{BulkInput, BulkRequest};
use credstore::query::model::Scope;
use credstore::query::{Asker, QueryOptions, Registered, RoleName, Status};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// The asker and options the `--as` flags describe.
pub fn asker(args: &AskerArgs, today: Date) -> anyhow::Result<(Asker, QueryOptions)> {
    let scope = match &args.scope {
        Some(text) => Some(Scope::parse(text).map_err(|e| anyhow::anyhow!("--scope: {e}"))?),
        None => None,
    };
    let options = QueryOptions { today, scope };
    let role = match args.role {
        AsRole::Public => return Ok((Asker::Public, options)),
        AsRole::Subject => {
            return Ok((
                Asker::Subject {
                    identity_proof: args.proof.clone().unwrap_or_default(),
                },
                options,
            ))
        }
        AsRole::Grantee => RoleName::Grantee,
        AsRole::Government => RoleName::Government,
        AsRole::Agency => RoleName::Agency,
        AsRole::Staff => RoleName::Staff,
    };
    let Some(requester) = args.requester.clone() else {
        anyhow::bail!("--as {} needs --requester ID", role.as_str());
    };
    Ok((
        Asker::Registered(Registered {
            requester,
            role,
            operator: args.operator.clone().unwrap_or_default(),
            purpose: args.purpose.clone().unwrap_or_default(),
            matter: args.matter.clone(),
            authorisation: args.authorisation,
        }),
        options,
    ))
}

/// Parses a code for a command, printing why it is not one (exit 1).
pub fn parse_code(text: &str, today: Date) -> Option<SubjectCode> {
    match SubjectCode::parse(text, today) {
        Ok(p) => Some(p.code),
        Err(e) => {
            eprintln!("credstore: not a valid code: {e}");
            None
        }
    }
}

pub fn get(data_dir: &Path, today: Date, code: &str, args: &AskerArgs) -> anyhow::Result<i32> {
    let (asker, options) = asker(args, today)?;
    let Some(code) = parse_code(code, today) else {
        return Ok(1);
    };
    let store = super::open_existing_store(data_dir)?;
    let answer = store.query(&asker, &code, &options)?;
    match answer.status {
        Status::NotFound => {
            eprintln!("credstore: no subject {} in the store", code.masked());
            Ok(1)
        }
        Status::Refused => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &answer)?;
            writeln!(out)?;
            eprintln!(
                "credstore: query refused: {}",
                answer.refusal.map(|r| r.to_string()).unwrap_or_default()
            );
            Ok(1)
        }
        Status::Found => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &answer)?;
            writeln!(out)?;
            for w in &answer.withheld {
                eprintln!("credstore: {}", w.message);
            }
            Ok(0)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn bulk(
    data_dir: &Path,
    today: Date,
    agency: &str,
    operator: &str,
    purpose: &str,
    column: Option<String>,
    authorisation_column: Option<String>,
    input: &Path,
    output: Option<&Path>,
) -> anyhow::Result<i32> {
    use anyhow::Context;
    let store = super::open_existing_store(data_dir)?;
    let request = BulkRequest {
        agency: agency.to_string(),
        operator: operator.to_string(),
        purpose: purpose.to_string(),
        today,
        input: match column {
            None => BulkInput::Lines,
            Some(code) => BulkInput::Csv {
                code,
                authorisation: authorisation_column,
            },
        },
    };
    let reader: Box<dyn BufRead + Send> = if input == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file =
            std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 16, file))
    };
    let size = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    let out: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        )),
    };
    // A progress line on a terminal for inputs of more than about 10,000 codes.
    let progress = std::io::stderr().is_terminal() && size > 200_000;
    let started = std::time::Instant::now();
    let mut out = out;
    let mut done = 0u64;
    let sink_out = &mut out;
    let outcome = store.bulk_query(
        &request,
        reader,
        |line| {
            let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
            bytes.push(b'\n');
            bytes
        },
        |bytes: Vec<u8>| {
            sink_out.write_all(&bytes)?;
            done += 1;
            if progress && done.is_multiple_of(10_000) {
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
                eprint!("\r  {done} codes answered, {rate:.0}/s");
            }
            Ok(())
        },
    )?;
    out.flush()?;
    if progress {
        eprintln!();
    }
    match outcome {
        Err((seq, refusal)) => {
            eprintln!("credstore: bulk query refused: {refusal} (query log entry {seq})");
            Ok(1)
        }
        Ok(summary) => {
            let c = summary.counts;
            let logged = match summary.log_entries {
                1 => format!("query log entry {}", summary.query_seq),
                n => format!(
                    "query log entry {} and {} more parts",
                    summary.query_seq,
                    n - 1
                ),
            };
            eprintln!(
                "credstore: {} lines: {} found, {} not found, {} invalid, {} refused ({logged}) in {:.2} s",
                c.asked,
                c.found,
                c.not_found,
                c.invalid,
                c.refused,
                started.elapsed().as_secs_f64()
            );
            Ok(0)
        }
    }
}

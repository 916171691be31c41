//! Command dispatch and exit codes: 0 success, 1 failure (or, for `validate-code`, an invalid
//! input), 2 usage error. A closed output pipe ends the command quietly with success.

mod args;
mod audit;
mod demo;
mod generate;
mod ingest;
mod lifecycle;
mod query;
mod registry;
mod search;
mod stats;
mod validate_code;
mod workdays;

use args::{Cli, Command};
use clap::Parser;
use credstore::domain::date::Date;
use std::io::{self, Write};

/// Parses the command line and runs the command; returns the exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let today = cli.today.unwrap_or_else(Date::today);
    let outcome = match cli.command {
        Command::Demo => demo::run(&cli.data_dir, cli.today),
        Command::Ingest {
            provider,
            json,
            encoding,
            rejects,
            files,
        } => ingest::run(
            &cli.data_dir,
            today,
            &provider,
            json,
            encoding,
            rejects,
            &files,
        ),
        Command::Load {
            dir,
            json,
            encoding,
        } => ingest::load(&cli.data_dir, today, &dir, json, encoding),
        Command::Search {
            text,
            limit,
            json,
            asker,
        } => search::run(&cli.data_dir, today, &text, limit, json, &asker),
        Command::Reindex => search::reindex(&cli.data_dir),
        Command::Get { code, asker } => query::get(&cli.data_dir, today, &code, &asker),
        Command::BulkQuery {
            agency,
            operator,
            purpose,
            column,
            authorisation_column,
            output,
            input,
        } => query::bulk(
            &cli.data_dir,
            today,
            &agency,
            &operator,
            &purpose,
            column,
            authorisation_column,
            &input,
            output.as_deref(),
        ),
        Command::Requester { action } => registry::requester(&cli.data_dir, today, action),
        Command::Authorisation { action } => registry::authorisation(&cli.data_dir, today, action),
        Command::Objection { action } => lifecycle::objection(&cli.data_dir, today, action),
        Command::Deletion { action } => lifecycle::deletion(&cli.data_dir, today, action),
        Command::Notifications { action } => lifecycle::notifications(&cli.data_dir, today, action),
        Command::ProcessDue { sweep } => lifecycle::process_due(&cli.data_dir, today, sweep),
        Command::Sweep {
            dry_run,
            verify,
            json,
        } => lifecycle::sweep(&cli.data_dir, today, dry_run, verify, json),
        Command::Audit { action } => match action {
            args::AuditAction::Verify { json } => audit::verify(&cli.data_dir, json),
            args::AuditAction::WhoQueried { code, asker } => {
                audit::who_queried(&cli.data_dir, today, &code, &asker)
            }
        },
        Command::ValidateCode { codes } => validate_code::run(today, codes),
        Command::Generate {
            subjects,
            seed,
            out,
            bad_share,
        } => generate::run(subjects, seed, &out, bad_share, today),
        Command::Stats { json } => stats::run(&cli.data_dir, json),
        Command::Workdays { calendar, action } => workdays::run(calendar.as_deref(), action),
    };
    match outcome {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            let _ = writeln!(io::stderr(), "credstore: {e:#}");
            1
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Opens (or creates) the store in `dir`, naming the directory in the error.
pub fn open_store(dir: &std::path::Path) -> anyhow::Result<credstore::Store> {
    use anyhow::Context;
    credstore::Store::open(dir).with_context(|| format!("opening the store in {}", dir.display()))
}

/// Opens an existing store for a command that only reads: a mistyped `--data-dir` is an error,
/// not a new empty store.
pub fn open_existing_store(dir: &std::path::Path) -> anyhow::Result<credstore::Store> {
    if !dir.join("sled").is_dir() {
        anyhow::bail!(
            "no store in {} (create one with `credstore ingest` or `credstore demo`)",
            dir.display()
        );
    }
    open_store(dir)
}

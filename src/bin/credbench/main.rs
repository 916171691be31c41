//! credbench: credstore against a SQLite baseline on the same generated data (issue 6).
//!
//! `cargo run --release --bin credbench -- --subjects N` generates the data (cached), draws the
//! workload, runs each engine's phase in its own child process (this binary again, with the
//! hidden `--engine` flag: its peak memory is its own), checks that both engines gave the same
//! answers, and prints one table. See BENCHMARKS.md for the figures and what they mean.

mod args;
mod check;
mod credstore_engine;
mod data;
mod measure;
mod report;
mod sqlite;
mod workload;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{bail, Context, Result};
use args::{EngineName, Flags};
use clap::Parser;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Flags::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("credbench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(flags: Flags) -> Result<()> {
    if let Some(engine) = flags.engine {
        let dir = flags.work_dir.context("--engine needs --work-dir")?;
        return child(engine, &dir);
    }
    let config = flags.config()?;
    let data_dir = data::dataset(config.subjects)?;
    let work = &config.work_dir;
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    eprintln!("credbench: reading the generated data and drawing the workload");
    let (workload, truth) =
        workload::build(&data_dir, config.subjects, config.queries, config.runs)?;
    workload.save(work)?;
    for engine in [EngineName::Credstore, EngineName::Sqlite] {
        eprintln!("credbench: running the {} phase", engine.as_str());
        let status = std::process::Command::new(std::env::current_exe()?)
            .args(["--engine", engine.as_str(), "--work-dir"])
            .arg(work)
            .status()
            .context("starting a child")?;
        if !status.success() {
            bail!("the {} phase failed ({status})", engine.as_str());
        }
    }
    let cs = measure::EngineResult::load(work, "credstore")?;
    let sq = measure::EngineResult::load(work, "sqlite")?;
    let checked = check::all(&workload, &truth, &cs, &sq, work)
        .context("the engines answered differently: no figure is reported")?;
    let printed = report::print(
        &mut std::io::stdout().lock(),
        &config,
        &workload,
        &truth,
        &checked,
        &cs,
        &sq,
    );
    if !config.keep {
        for engine in [EngineName::Credstore, EngineName::Sqlite] {
            let _ = std::fs::remove_dir_all(work.join(engine.as_str()));
        }
    }
    match printed {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One engine's phase, in its own process: reads the workload, writes its result.
fn child(engine: EngineName, dir: &Path) -> Result<()> {
    let w = workload::Workload::load(dir)?;
    let load_before = measure::load_average();
    let mut result = match engine {
        EngineName::Credstore => credstore_engine::run(&w, dir)?,
        EngineName::Sqlite => sqlite::run(&w, dir)?,
    };
    result.load_average = (load_before, measure::load_average());
    result.save(dir)
}

//! The command line: raw flags (clap), then a validated [`Config`].
//!
//! `--engine` is hidden: the parent re-executes this binary with it so that each engine runs in
//! its own process and its peak memory is its own.

use anyhow::{bail, Result};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// The raw flags.
#[derive(Debug, Parser)]
#[command(
    name = "credbench",
    about = "credstore against a SQLite baseline on the same generated data (one table)"
)]
pub struct Flags {
    /// Subjects to generate (~5 records each). Default 100,000; 2,000 with --quick.
    #[arg(long)]
    pub subjects: Option<u64>,
    /// A smoke run (CI): 2,000 subjects unless --subjects is given, 200 queries per search
    /// class, 3 timed runs per lookup batch.
    #[arg(long)]
    pub quick: bool,
    /// Queries per search class (default 1,000).
    #[arg(long)]
    pub queries: Option<usize>,
    /// Timed runs of each lookup batch; the median is reported (default 7).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Where the stores, the workload and the results go (default
    /// `$CARGO_TARGET_DIR/credbench/s<N>`, else `target/credbench/s<N>`). Emptied first.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep both stores after the run (default: deleted once the table is printed).
    #[arg(long)]
    pub keep: bool,
    /// Internal: run one engine's phase in this process (the parent passes it).
    #[arg(long, hide = true, value_enum)]
    pub engine: Option<EngineName>,
}

/// The two engines measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineName {
    /// credstore (sled + tantivy).
    Credstore,
    /// The SQLite baseline.
    Sqlite,
}

impl EngineName {
    /// The flag value and file-name stem.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineName::Credstore => "credstore",
            EngineName::Sqlite => "sqlite",
        }
    }
}

/// What a parent run measures.
#[derive(Debug, Clone)]
pub struct Config {
    /// Subjects generated.
    pub subjects: u64,
    /// Queries per search class.
    pub queries: usize,
    /// Timed runs per lookup batch.
    pub runs: usize,
    /// The work directory.
    pub work_dir: PathBuf,
    /// Keep the stores afterwards.
    pub keep: bool,
}

impl Flags {
    /// Checks the flags and fills in the defaults.
    pub fn config(&self) -> Result<Config> {
        let subjects = self
            .subjects
            .unwrap_or(if self.quick { 2_000 } else { 100_000 });
        if subjects < 100 {
            bail!("--subjects must be at least 100 (got {subjects})");
        }
        let queries = self.queries.unwrap_or(if self.quick { 200 } else { 1_000 });
        let runs = self.runs.unwrap_or(if self.quick { 3 } else { 7 });
        if queries == 0 || runs == 0 {
            bail!("--queries and --runs must be at least 1");
        }
        let work_dir = match &self.work_dir {
            Some(dir) => dir.clone(),
            None => target_dir().join("credbench").join(format!("s{subjects}")),
        };
        Ok(Config {
            subjects,
            queries,
            runs,
            work_dir,
            keep: self.keep,
        })
    }
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else `target/` beside Cargo.toml (where the
/// benches cache their generated data too).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

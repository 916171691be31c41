//! The command line, as clap sees it. Turned into validated values by each command.

use clap::{Parser, Subcommand, ValueEnum};
use credstore::domain::date::Date;
use std::path::PathBuf;

/// Storage engine for Shanghai public credit information.
#[derive(Debug, Parser)]
#[command(name = "credstore", version, about)]
pub struct Cli {
    /// The store's directory.
    #[arg(
        long,
        global = true,
        default_value = "credstore-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// Judge every date rule as of this day instead of the clock (YYYY-MM-DD).
    #[arg(long, global = true, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub today: Option<Date>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Builds a store in the data directory from data-samples/ and shows what it holds.
    Demo,
    /// Ingests provider files (JSON Lines or CSV).
    Ingest {
        /// The provider's registered code.
        #[arg(long, value_name = "CODE")]
        provider: String,
        /// Print one JSON summary object instead of text.
        #[arg(long)]
        json: bool,
        /// The files' text encoding.
        #[arg(long, value_enum, default_value_t = EncodingArg::Utf8)]
        encoding: EncodingArg,
        /// Where to write the rejected lines as JSON Lines (default: DIR/rejects/...).
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
        /// The files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Bulk-loads a tree of provider folders (DIR/<PROVIDER>/*.jsonl|csv) as one operation.
    Load {
        /// The folder holding one subfolder per provider.
        dir: PathBuf,
        /// Print one JSON summary object instead of text.
        #[arg(long)]
        json: bool,
        /// The files' text encoding.
        #[arg(long, value_enum, default_value_t = EncodingArg::Utf8)]
        encoding: EncodingArg,
    },
    /// Searches subjects by code, code prefix (6+ characters), name or name fragment.
    Search {
        /// What to look for.
        text: String,
        /// At most this many hits.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// One JSON object per hit per line, in rank order.
        #[arg(long)]
        json: bool,
        /// Show natural persons' codes in full (the centre's staff; the query layer will check
        /// who may). Without it, codes of persons are masked as for the public.
        #[arg(long)]
        entitled: bool,
    },
    /// Rebuilds the search index from the store.
    Reindex,
    /// Prints a subject and its records (every version) as JSON.
    Get {
        /// The subject's code (any case, spaces and full-width characters allowed).
        code: String,
    },
    /// Validates codes from the arguments, or one per line from stdin.
    ValidateCode {
        /// The codes; none means read stdin.
        codes: Vec<String>,
    },
    /// Writes deterministic synthetic provider files.
    Generate {
        /// How many subjects.
        #[arg(long)]
        subjects: u64,
        /// The seed; equal seeds give equal files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The output directory (one subdirectory per provider).
        #[arg(long)]
        out: PathBuf,
        /// The share of deliberately bad lines (0.0 to 1.0).
        #[arg(long, default_value_t = 0.01)]
        bad_share: f64,
    },
    /// Counts subjects and records by kind, category, item and provider.
    Stats {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `--encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    /// UTF-8 (with or without BOM).
    Utf8,
    /// GB18030 / GBK, transcoded.
    Gb18030,
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).map_err(|e| e.to_string())
}

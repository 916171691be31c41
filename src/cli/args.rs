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
        /// Who asks (persons' codes are shown in full only to government bodies and staff).
        #[command(flatten)]
        asker: AskerArgs,
    },
    /// Rebuilds the search index from the store.
    Reindex,
    /// Queries one subject as a requester: the records it may see (versions in force), with
    /// objection marks, and counts of what was withheld. Every query is logged.
    Get {
        /// The subject's code (any case, spaces and full-width characters allowed).
        code: String,
        /// Who asks.
        #[command(flatten)]
        asker: AskerArgs,
    },
    /// Bulk lookup for a credit service agency: one JSON object per input line, in input order.
    BulkQuery {
        /// The agency's registered id.
        #[arg(long, value_name = "ID")]
        agency: String,
        /// The operator's name (Art. 19).
        #[arg(long, value_name = "NAME")]
        operator: String,
        /// The purpose of the lookup.
        #[arg(long, value_name = "TEXT")]
        purpose: String,
        /// Read a CSV with a header row and take codes from this column (default: one code per
        /// line).
        #[arg(long, value_name = "HEADER")]
        column: Option<String>,
        /// With --column: the column holding an authorisation id per row.
        #[arg(long, value_name = "HEADER", requires = "column")]
        authorisation_column: Option<String>,
        /// Write the answers here instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The input file ("-" for standard input).
        input: PathBuf,
    },
    /// Registers and lists requesters (government bodies, agencies, grantees, staff).
    Requester {
        /// What to do.
        #[command(subcommand)]
        action: RequesterAction,
    },
    /// Records, revokes and lists subjects' written authorisations.
    Authorisation {
        /// What to do.
        #[command(subcommand)]
        action: AuthorisationAction,
    },
    /// Objections to records (Art. 28-30): file, compare, respond, dispute, list, show.
    Objection {
        /// What to do.
        #[command(subcommand)]
        action: ObjectionAction,
    },
    /// Deletion of commendation, volunteer and charity records on the subject's request
    /// (Art. 27 ¶2).
    Deletion {
        /// What to do.
        #[command(subcommand)]
        action: DeletionAction,
    },
    /// The outbox of notifications to subjects and providers.
    Notifications {
        /// What to do.
        #[command(subcommand)]
        action: NotificationAction,
    },
    /// Applies every transition due as of --today (providers' missed deadlines become
    /// suspensions, due deletions are carried out; with --sweep, a retention sweep). Idempotent.
    ProcessDue {
        /// Also run the retention sweep as of --today.
        #[arg(long)]
        sweep: bool,
    },
    /// Retention sweep (Art. 27 ¶1): moves every record past its query period as of --today
    /// into the archive, which no query serves; prints counts by catalog item. Idempotent.
    Sweep {
        /// Count what is due; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Instead of sweeping, decode every record and re-check the archive against the
        /// retention rule (the verification sweep); exit status 1 if a due record is not
        /// archived.
        #[arg(long, conflicts_with = "dry_run")]
        verify: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verifies the logs and lists who queried a subject.
    Audit {
        /// What to do.
        #[command(subcommand)]
        action: AuditAction,
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
    /// Working-day deadlines and days under the statutory holiday tables (2019-2026 built in).
    Workdays {
        /// Use this holiday table (JSON, the format of data-samples/workdays-cn.json) instead of
        /// the built-in one.
        #[arg(long, global = true, value_name = "FILE")]
        calendar: Option<PathBuf>,
        /// What to do.
        #[command(subcommand)]
        action: WorkdaysAction,
    },
}

/// Who asks, for `get`, `search` and `audit who-queried`.
#[derive(Debug, Clone, clap::Args)]
pub struct AskerArgs {
    /// The requester's role.
    #[arg(long = "as", value_enum, default_value_t = AsRole::Public, value_name = "ROLE")]
    pub role: AsRole,
    /// The registered requester's id (grantee, government, agency, staff).
    #[arg(long, value_name = "ID")]
    pub requester: Option<String>,
    /// The operator's name (registered requesters; Art. 19).
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// The purpose of the query (registered requesters; Art. 19).
    #[arg(long, value_name = "TEXT")]
    pub purpose: Option<String>,
    /// A government body's matter type (application catalog code, e.g. procurement).
    #[arg(long, value_name = "MATTER")]
    pub matter: Option<String>,
    /// An authorisation id the grantee or agency presents.
    #[arg(long, value_name = "ID")]
    pub authorisation: Option<u64>,
    /// The subject's reference to the identity proof it showed (--as subject).
    #[arg(long, value_name = "REF")]
    pub proof: Option<String>,
    /// Only these categories / items (e.g. dishonesty,O-UTILITY-ARREARS).
    #[arg(long, value_name = "LIST")]
    pub scope: Option<String>,
}

/// `--as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AsRole {
    /// Anyone, anonymous.
    Public,
    /// The subject itself (needs --proof).
    Subject,
    /// A third party holding authorisations.
    Grantee,
    /// An administrative body (needs --matter).
    Government,
    /// A credit service agency.
    Agency,
    /// The centre's staff.
    Staff,
}

/// `credstore requester ...`.
#[derive(Debug, Subcommand)]
pub enum RequesterAction {
    /// Registers (or updates) a requester.
    Add {
        /// Its id.
        id: String,
        /// Its role.
        #[arg(long = "role", value_enum)]
        role: RegisterRole,
        /// Its name.
        #[arg(long)]
        name: String,
        /// A government body's code.
        #[arg(long, value_name = "CODE")]
        body_code: Option<String>,
        /// A government body's matter types, comma-separated.
        #[arg(long, value_name = "LIST")]
        matters: Option<String>,
        /// An agency: grant bulk-query access.
        #[arg(long)]
        bulk: bool,
        /// Staff permissions, comma-separated: non_public, audit.
        #[arg(long, value_name = "LIST")]
        permissions: Option<String>,
    },
    /// Deactivates a requester (kept for the log; its queries are refused from now on).
    Deactivate {
        /// Its id.
        id: String,
    },
    /// Lists the requesters as JSON Lines.
    List,
}

/// The roles a requester is registered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegisterRole {
    /// A third party holding authorisations.
    Grantee,
    /// An administrative body.
    Government,
    /// A credit service agency.
    Agency,
    /// The centre's staff.
    Staff,
}

/// `credstore authorisation ...`.
#[derive(Debug, Subcommand)]
pub enum AuthorisationAction {
    /// Records a subject's written authorisation; prints its id.
    Add {
        /// The subject's code.
        #[arg(long)]
        subject: String,
        /// The grantee's requester id.
        #[arg(long)]
        grantee: String,
        /// What it covers: categories and item codes, comma-separated.
        #[arg(long)]
        scope: String,
        /// First valid day (default: --today).
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        from: Option<Date>,
        /// Last valid day.
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        until: Date,
        /// The signed document's reference.
        #[arg(long)]
        document: String,
    },
    /// Revokes an authorisation the subject withdrew.
    Revoke {
        /// Its id.
        id: u64,
    },
    /// Records that an authorisation was forged (Art. 34): revokes it and the agency's bulk access.
    Forged {
        /// Its id.
        id: u64,
    },
    /// Lists authorisations as JSON Lines (subjects' codes masked).
    List,
}

/// `credstore objection ...`.
#[derive(Debug, Subcommand)]
pub enum ObjectionAction {
    /// Files an objection of the subject to one of its records; prints the objection.
    File {
        /// The subject's code.
        #[arg(long)]
        subject: String,
        /// The record's id (as `credstore get` shows it).
        #[arg(long)]
        record: u64,
        /// The ground (Art. 28).
        #[arg(long, value_enum)]
        ground: GroundArg,
    },
    /// The centre's comparison with the provider's submission (Art. 29 ¶1).
    Compare {
        /// The objection's id.
        id: u64,
    },
    /// The provider's answer.
    Respond {
        /// The objection's id.
        id: u64,
        /// The provider upheld the objection (its correction arrives as a new version).
        #[arg(
            long,
            conflicts_with = "rejected",
            required_unless_present = "rejected"
        )]
        upheld: bool,
        /// The provider rejected the objection.
        #[arg(long)]
        rejected: bool,
    },
    /// The subject still disagrees after a rejection.
    Dispute {
        /// The objection's id.
        id: u64,
    },
    /// Lists objections as JSON Lines.
    List,
    /// Prints one objection with its history.
    Show {
        /// The objection's id.
        id: u64,
    },
}

/// `--ground`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroundArg {
    /// Art. 28 (1): an error or omission.
    Error,
    /// Art. 28 (2): it infringes a trade secret or privacy.
    Privacy,
    /// Art. 28 (3): dishonesty information past its query period.
    PastPeriod,
}

/// `credstore deletion ...`.
#[derive(Debug, Subcommand)]
pub enum DeletionAction {
    /// Records a subject's request; prints it (with any record refused and why).
    Request {
        /// The subject's code.
        #[arg(long)]
        subject: String,
        /// A record to delete (repeatable); none means every deletable record.
        #[arg(long = "record", value_name = "ID")]
        records: Vec<u64>,
        /// Carry it out now instead of at the next `process-due`.
        #[arg(long)]
        now: bool,
    },
    /// Lists deletion requests as JSON Lines.
    List,
}

/// `credstore notifications ...`.
#[derive(Debug, Subcommand)]
pub enum NotificationAction {
    /// Lists notifications as JSON Lines (all, or only those not yet acknowledged).
    List {
        /// Only those not yet acknowledged.
        #[arg(long)]
        pending: bool,
    },
    /// Marks a notification as sent.
    Ack {
        /// Its sequence number.
        seq: u64,
    },
}

/// `credstore audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Checks the hash chains of the collection log and the query log.
    Verify {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Lists the queries about a subject (as the subject, or staff with the audit permission).
    WhoQueried {
        /// The subject's code.
        code: String,
        /// Who asks.
        #[command(flatten)]
        asker: AskerArgs,
    },
}

/// `credstore workdays ...`.
#[derive(Debug, Subcommand)]
pub enum WorkdaysAction {
    /// Prints the due date N working days after DATE (the day of receipt is not counted); with
    /// no arguments, reads `DATE N` lines from stdin and prints one due date per line.
    Add {
        /// The day of receipt (YYYY-MM-DD).
        #[arg(requires = "n", value_name = "DATE")]
        date: Option<String>,
        /// The number of working days (at least 1).
        #[arg(value_name = "N")]
        n: Option<u32>,
    },
    /// Prints `workday` or `day-off` for DATE.
    Check {
        /// The date (YYYY-MM-DD).
        #[arg(value_name = "DATE")]
        date: String,
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

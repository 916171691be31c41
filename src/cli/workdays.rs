//! `credstore workdays add [DATE N]` and `credstore workdays check DATE`: working-day deadlines
//! under the statutory holiday tables (built in, or `--calendar FILE`).
//!
//! `add` with no arguments answers `DATE N` lines from stdin, one due date per line; a bad line
//! is reported on stderr with its line number, the other lines are still answered, and the exit
//! code is 1 at the end. Blank lines are skipped.

use super::args::WorkdaysAction;
use credstore::domain::calendar::WorkCalendar;
use credstore::domain::date::Date;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

pub fn run(calendar: Option<&Path>, action: WorkdaysAction) -> anyhow::Result<i32> {
    let loaded;
    let calendar = match calendar {
        Some(path) => {
            // The error's text already names the file and the cause; `{e:#}` of a chain would
            // repeat the I/O cause.
            loaded = WorkCalendar::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            &loaded
        }
        None => WorkCalendar::builtin(),
    };
    match action {
        WorkdaysAction::Add {
            date: Some(date),
            n: Some(n),
        } => {
            let due = calendar.add_workdays(parse_date(&date)?, n)?;
            println!("{due}");
            Ok(0)
        }
        WorkdaysAction::Add { .. } => add_from_stdin(calendar),
        WorkdaysAction::Check { date } => {
            let working = calendar.is_workday(parse_date(&date)?)?;
            println!("{}", if working { "workday" } else { "day-off" });
            Ok(0)
        }
    }
}

fn add_from_stdin(calendar: &WorkCalendar) -> anyhow::Result<i32> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut all_ok = true;
    // Bytes, not `lines()`: a line that is not UTF-8 is a bad line, not a fatal error.
    for (i, line) in std::io::stdin().lock().split(b'\n').enumerate() {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match answer(calendar, text) {
            Ok(due) => writeln!(out, "{due}")?,
            Err(e) => {
                all_ok = false;
                // Flush first so stdout and stderr stay in input order on a shared terminal.
                out.flush()?;
                eprintln!("credstore: line {}: {e}", i + 1);
            }
        }
    }
    out.flush()?;
    Ok(if all_ok { 0 } else { 1 })
}

fn answer(calendar: &WorkCalendar, line: &str) -> anyhow::Result<Date> {
    let mut fields = line.split_whitespace();
    let (Some(date), Some(n), None) = (fields.next(), fields.next(), fields.next()) else {
        anyhow::bail!("expected `DATE N` (e.g. `2026-02-13 5`)");
    };
    let n: u32 = n
        .parse()
        .map_err(|_| anyhow::anyhow!("{n:?} is not a number of working days"))?;
    Ok(calendar.add_workdays(parse_date(date)?, n)?)
}

fn parse_date(text: &str) -> anyhow::Result<Date> {
    Date::parse(text).map_err(|e| anyhow::anyhow!("{e}: {text:?}"))
}

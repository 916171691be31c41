//! The working-day calendar through the public API and the real binary.
//!
//! Every holiday and adjusted working day of 2024, 2025 and 2026 is written out below by hand from
//! the State Council notices (国办发明电〔2023〕7号, 国办发明电〔2024〕12号, and the 2026 notice
//! of 2025-11-04), with the days around each block, so a wrong or missing day in
//! `data-samples/workdays-cn.json` fails here. Deadlines were counted by hand on a calendar.

mod common;

use common::*;
use credstore::domain::calendar::{CalendarError, DayKind, WorkCalendar};
use credstore::domain::date::Date;
use std::collections::BTreeSet;

const W: bool = true;
const O: bool = false;

/// One holiday period as the notice gives it.
struct Block {
    name: &'static str,
    /// Every day off, weekend days inside the period included.
    off: &'static [&'static str],
    /// The adjusted working days (调休上班).
    adjusted: &'static [&'static str],
    /// Days next to the period and its adjusted days, with whether each is a working day.
    around: &'static [(&'static str, bool)],
}

#[rustfmt::skip]
const BLOCKS: &[Block] = &[
    // 2024: 国办发明电〔2023〕7号.
    Block { name: "2024 元旦", off: &["2023-12-30", "2023-12-31", "2024-01-01"], adjusted: &[],
        around: &[("2023-12-29", W), ("2024-01-02", W)] },
    Block { name: "2024 春节",
        off: &["2024-02-10", "2024-02-11", "2024-02-12", "2024-02-13", "2024-02-14", "2024-02-15",
               "2024-02-16", "2024-02-17"],
        adjusted: &["2024-02-04", "2024-02-18"],
        // 除夕 (9 February) is a working day: the notice only encourages leave.
        around: &[("2024-02-03", O), ("2024-02-05", W), ("2024-02-09", W), ("2024-02-19", W)] },
    Block { name: "2024 清明节", off: &["2024-04-04", "2024-04-05", "2024-04-06"],
        adjusted: &["2024-04-07"], around: &[("2024-04-03", W), ("2024-04-08", W)] },
    Block { name: "2024 劳动节",
        off: &["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-05"],
        adjusted: &["2024-04-28", "2024-05-11"],
        around: &[("2024-04-27", O), ("2024-04-29", W), ("2024-04-30", W), ("2024-05-06", W),
                  ("2024-05-10", W), ("2024-05-12", O)] },
    Block { name: "2024 端午节", off: &["2024-06-08", "2024-06-09", "2024-06-10"], adjusted: &[],
        around: &[("2024-06-07", W), ("2024-06-11", W)] },
    Block { name: "2024 中秋节", off: &["2024-09-15", "2024-09-16", "2024-09-17"],
        adjusted: &["2024-09-14"], around: &[("2024-09-13", W), ("2024-09-18", W)] },
    Block { name: "2024 国庆节",
        off: &["2024-10-01", "2024-10-02", "2024-10-03", "2024-10-04", "2024-10-05", "2024-10-06",
               "2024-10-07"],
        adjusted: &["2024-09-29", "2024-10-12"],
        around: &[("2024-09-28", O), ("2024-09-30", W), ("2024-10-08", W), ("2024-10-11", W),
                  ("2024-10-13", O)] },
    // 2025: 国办发明电〔2024〕12号 (除夕 and 5月2日 become holidays).
    Block { name: "2025 元旦", off: &["2025-01-01"], adjusted: &[],
        around: &[("2024-12-31", W), ("2025-01-02", W)] },
    Block { name: "2025 春节",
        off: &["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02",
               "2025-02-03", "2025-02-04"],
        adjusted: &["2025-01-26", "2025-02-08"],
        around: &[("2025-01-25", O), ("2025-01-27", W), ("2025-02-05", W), ("2025-02-07", W),
                  ("2025-02-09", O)] },
    Block { name: "2025 清明节", off: &["2025-04-04", "2025-04-05", "2025-04-06"], adjusted: &[],
        around: &[("2025-04-03", W), ("2025-04-07", W)] },
    Block { name: "2025 劳动节",
        off: &["2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05"],
        adjusted: &["2025-04-27"],
        around: &[("2025-04-26", O), ("2025-04-28", W), ("2025-04-30", W), ("2025-05-06", W)] },
    Block { name: "2025 端午节", off: &["2025-05-31", "2025-06-01", "2025-06-02"], adjusted: &[],
        around: &[("2025-05-30", W), ("2025-06-03", W)] },
    Block { name: "2025 国庆节、中秋节",
        off: &["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04", "2025-10-05", "2025-10-06",
               "2025-10-07", "2025-10-08"],
        adjusted: &["2025-09-28", "2025-10-11"],
        around: &[("2025-09-27", O), ("2025-09-29", W), ("2025-09-30", W), ("2025-10-09", W),
                  ("2025-10-10", W), ("2025-10-12", O)] },
    // 2026: the notice of 2025-11-04.
    Block { name: "2026 元旦", off: &["2026-01-01", "2026-01-02", "2026-01-03"],
        adjusted: &["2026-01-04"], around: &[("2025-12-31", W), ("2026-01-05", W)] },
    Block { name: "2026 春节",
        off: &["2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
               "2026-02-21", "2026-02-22", "2026-02-23"],
        adjusted: &["2026-02-14", "2026-02-28"],
        around: &[("2026-02-13", W), ("2026-02-24", W), ("2026-02-27", W), ("2026-03-01", O)] },
    Block { name: "2026 清明节", off: &["2026-04-04", "2026-04-05", "2026-04-06"], adjusted: &[],
        around: &[("2026-04-03", W), ("2026-04-07", W)] },
    Block { name: "2026 劳动节",
        off: &["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"],
        adjusted: &["2026-05-09"],
        around: &[("2026-04-30", W), ("2026-05-06", W), ("2026-05-08", W), ("2026-05-10", O)] },
    Block { name: "2026 端午节", off: &["2026-06-19", "2026-06-20", "2026-06-21"], adjusted: &[],
        around: &[("2026-06-18", W), ("2026-06-22", W)] },
    Block { name: "2026 中秋节", off: &["2026-09-25", "2026-09-26", "2026-09-27"], adjusted: &[],
        around: &[("2026-09-24", W), ("2026-09-28", W)] },
    Block { name: "2026 国庆节",
        off: &["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06",
               "2026-10-07"],
        adjusted: &["2026-09-20", "2026-10-10"],
        around: &[("2026-09-19", O), ("2026-09-21", W), ("2026-09-30", W), ("2026-10-08", W),
                  ("2026-10-09", W), ("2026-10-11", O)] },
];

fn d(s: &str) -> Result<Date, Box<dyn std::error::Error>> {
    Ok(Date::parse(s).map_err(|e| format!("{s}: {e}"))?)
}

fn is_weekend(date: Date) -> bool {
    use chrono::Datelike;
    date.naive().weekday().number_from_monday() >= 6
}

#[test]
fn every_holiday_and_adjusted_day_of_2024_to_2026_with_its_neighbours() -> TestResult {
    let cal = WorkCalendar::builtin();
    for block in BLOCKS {
        for &day in block.off {
            assert_eq!(cal.is_workday(d(day)?), Ok(false), "{}: {day}", block.name);
            let special = cal
                .special_day(d(day)?)
                .ok_or(format!("{day} not listed"))?;
            assert_eq!(special.kind, DayKind::DayOff, "{}: {day}", block.name);
        }
        for &day in block.adjusted {
            assert!(
                is_weekend(d(day)?),
                "{}: {day} is not a weekend",
                block.name
            );
            assert_eq!(cal.is_workday(d(day)?), Ok(true), "{}: {day}", block.name);
            let special = cal
                .special_day(d(day)?)
                .ok_or(format!("{day} not listed"))?;
            assert_eq!(
                special.kind,
                DayKind::AdjustedWorkday,
                "{}: {day}",
                block.name
            );
        }
        for &(day, working) in block.around {
            assert_eq!(
                cal.is_workday(d(day)?),
                Ok(working),
                "{}: {day}",
                block.name
            );
        }
    }
    Ok(())
}

/// The table above is complete: every other day of 2024-2026 follows the plain weekday rule, and
/// the data lists no day the table does not.
#[test]
fn every_other_day_of_2024_to_2026_follows_the_weekday_rule() -> TestResult {
    let cal = WorkCalendar::builtin();
    let mut listed = BTreeSet::new();
    for block in BLOCKS {
        for &day in block.off.iter().chain(block.adjusted) {
            listed.insert(d(day)?);
        }
    }
    let (first, last) = (d("2024-01-01")?, d("2026-12-31")?);
    let mut checked = 0;
    for n in first.to_days()..=last.to_days() {
        let day = Date::from_days(n).ok_or("day number")?;
        if listed.contains(&day) {
            continue;
        }
        assert_eq!(
            cal.special_day(day),
            None,
            "{day} is in the data but not in the test"
        );
        assert_eq!(cal.is_workday(day), Ok(!is_weekend(day)), "{day}");
        checked += 1;
    }
    assert_eq!(checked + listed.len() - 2, 1096, "2024 + 2025 + 2026 days"); // 2 are in 2023
    Ok(())
}

/// (received, N, due), counted by hand.
#[rustfmt::skip]
const DEADLINES: &[(&str, u32, &str)] = &[
    // Spring Festival 2026 (15-23 Feb; 14 and 28 Feb are working Saturdays).
    ("2026-02-13", 1, "2026-02-14"), // the last day before the block: next day is a working Saturday
    ("2026-02-13", 2, "2026-02-24"),
    ("2026-02-13", 5, "2026-02-27"),
    ("2026-02-18", 2, "2026-02-25"), // received inside the block
    ("2026-02-18", 5, "2026-02-28"), // lands on the working Saturday
    ("2026-02-18", 6, "2026-03-02"),
    // Spring Festival 2025 (28 Jan-4 Feb; 26 Jan Sunday and 8 Feb Saturday working).
    ("2025-01-24", 1, "2025-01-26"), // the Friday before a working Sunday
    ("2025-01-24", 2, "2025-01-27"),
    ("2025-01-24", 5, "2025-02-07"),
    ("2025-01-27", 2, "2025-02-06"), // the last day before the block
    ("2025-01-27", 5, "2025-02-10"),
    ("2025-01-30", 2, "2025-02-06"),
    ("2025-01-30", 5, "2025-02-10"),
    // Spring Festival 2024 (10-17 Feb; 4 and 18 Feb Sundays working; 除夕 9 Feb working).
    ("2024-02-02", 1, "2024-02-04"), // the Friday before a working Sunday
    ("2024-02-02", 2, "2024-02-05"),
    ("2024-02-02", 5, "2024-02-08"),
    ("2024-02-09", 2, "2024-02-19"), // 除夕, the last working day before the block
    ("2024-02-09", 5, "2024-02-22"),
    ("2024-02-12", 2, "2024-02-19"),
    ("2024-02-12", 5, "2024-02-22"),
    // National Day 2026 (1-7 Oct; 20 Sep Sunday and 10 Oct Saturday working).
    ("2026-09-18", 1, "2026-09-20"), // the Friday before a working Sunday
    ("2026-09-18", 2, "2026-09-21"),
    ("2026-09-18", 5, "2026-09-24"),
    ("2026-09-30", 2, "2026-10-09"),
    ("2026-09-30", 5, "2026-10-13"),
    ("2026-10-03", 2, "2026-10-09"),
    ("2026-10-03", 5, "2026-10-13"),
    // National Day and Mid-Autumn 2025 (1-8 Oct; 28 Sep Sunday and 11 Oct Saturday working).
    ("2025-09-26", 1, "2025-09-28"),
    ("2025-09-26", 2, "2025-09-29"),
    ("2025-09-26", 5, "2025-10-10"),
    ("2025-09-30", 2, "2025-10-10"),
    ("2025-09-30", 5, "2025-10-14"),
    ("2025-10-05", 2, "2025-10-10"),
    ("2025-10-05", 3, "2025-10-11"),
    // National Day 2024 (1-7 Oct; 29 Sep Sunday and 12 Oct Saturday working).
    ("2024-09-27", 1, "2024-09-29"),
    ("2024-09-27", 2, "2024-09-30"),
    ("2024-09-27", 5, "2024-10-10"),
    ("2024-09-30", 2, "2024-10-09"),
    ("2024-09-30", 5, "2024-10-12"),
    ("2024-10-03", 2, "2024-10-09"),
    // Year ends.
    ("2023-12-29", 2, "2024-01-03"),
    ("2023-12-29", 5, "2024-01-08"),
    ("2024-12-31", 2, "2025-01-03"),
    ("2024-12-31", 5, "2025-01-08"),
    ("2025-12-26", 5, "2026-01-05"),
    ("2025-12-31", 1, "2026-01-04"), // 1-3 Jan off, Sunday 4 Jan working
    ("2025-12-31", 2, "2026-01-05"),
    ("2025-12-31", 5, "2026-01-08"),
    ("2026-01-01", 1, "2026-01-04"),
    // Received on a weekend: counting starts the next day all the same.
    ("2026-03-07", 1, "2026-03-09"),
    ("2026-12-30", 1, "2026-12-31"),
];

#[test]
fn deadlines_across_spring_festival_national_day_and_year_ends() -> TestResult {
    let cal = WorkCalendar::builtin();
    for &(received, n, due) in DEADLINES {
        assert_eq!(
            cal.add_workdays(d(received)?, n),
            Ok(d(due)?),
            "{received} + {n}"
        );
        assert_eq!(
            cal.workdays_between(d(received)?, d(due)?),
            Ok(n),
            "{received}..{due}"
        );
    }
    Ok(())
}

#[test]
fn dates_outside_the_tables_are_errors_not_guesses() -> TestResult {
    let cal = WorkCalendar::builtin();
    assert!(cal.covers(d("2019-01-01")?) && cal.covers(d("2026-12-31")?));
    for outside in ["2018-12-31", "2027-01-01", "2027-01-04"] {
        assert!(!cal.covers(d(outside)?));
        assert!(matches!(
            cal.is_workday(d(outside)?),
            Err(CalendarError::OutOfRange { .. })
        ));
        assert!(matches!(
            cal.add_workdays(d(outside)?, 1),
            Err(CalendarError::OutOfRange { .. })
        ));
    }
    assert!(matches!(
        cal.add_workdays(d("2026-12-30")?, 2),
        Err(CalendarError::BeyondTables { .. })
    ));
    assert!(matches!(
        cal.add_workdays(d("2026-12-31")?, 1),
        Err(CalendarError::BeyondTables { .. })
    ));
    assert_eq!(
        cal.add_workdays(d("2026-02-13")?, 0),
        Err(CalendarError::ZeroWorkdays)
    );
    Ok(())
}

#[test]
fn cli_add_and_check() -> TestResult {
    let run = credstore(&["workdays", "add", "2026-02-13", "5"])?;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "2026-02-27\n"),
        "{}",
        run.stderr
    );
    for (date, answer) in [
        ("2026-02-14", "workday\n"),
        ("2026-02-15", "day-off\n"),
        ("2024-02-09", "workday\n"),
        ("2025-10-08", "day-off\n"),
        ("2026-03-04", "workday\n"),
    ] {
        let run = credstore(&["workdays", "check", date])?;
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, answer),
            "{date}: {}",
            run.stderr
        );
    }
    Ok(())
}

#[test]
fn cli_errors_exit_1_and_usage_errors_exit_2() -> TestResult {
    let run = credstore(&["workdays", "check", "2027-01-01"])?;
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert!(
        run.stderr.contains("outside the working-day tables"),
        "{}",
        run.stderr
    );
    let run = credstore(&["workdays", "add", "2026-02-30", "1"])?;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no such calendar day"),
        "{}",
        run.stderr
    );
    let run = credstore(&["workdays", "add", "2026-12-31", "1"])?;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("past the end"), "{}", run.stderr);
    let run = credstore(&["workdays", "add", "2026-02-13"])?;
    assert_eq!(run.code, 2, "DATE without N is a usage error");
    Ok(())
}

#[test]
fn cli_add_from_stdin_answers_every_good_line() -> TestResult {
    let input = "2026-02-13 2\nnot a line\n2026-09-30 2\n\n2027-01-04 1\n2025-12-31   5\n";
    let run = credstore_stdin(&["workdays", "add"], input.as_bytes())?;
    assert_eq!(run.stdout, "2026-02-24\n2026-10-09\n2026-01-08\n");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("line 2:"), "{}", run.stderr);
    assert!(run.stderr.contains("line 5:"), "{}", run.stderr);
    for good in ["line 1:", "line 3:", "line 4:", "line 6:"] {
        assert!(
            !run.stderr.contains(good),
            "{good} reported: {}",
            run.stderr
        );
    }
    let run = credstore_stdin(&["workdays", "add"], b"2024-02-09 2\r\n2025-01-24 5\n")?;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "2024-02-19\n2025-02-07\n")
    );
    assert_eq!(run.stderr, "");
    Ok(())
}

#[test]
fn cli_loads_another_table_with_calendar() -> TestResult {
    let dir = tempfile::tempdir()?;
    let table = r#"{"format": 1, "version": "2030", "title": "test", "years": [
        {"year": 2030, "notices": [{"number": null, "title": "T"}],
         "blocks": [{"holiday": "元旦", "notice": "T", "days_off": ["2030-01-01"],
                     "working_days": ["2030-01-05"]}]}]}"#;
    let path = write_file(dir.path(), "workdays-2030.json", table)?;
    let file = path.to_str().ok_or("non-UTF-8 temp path")?;
    let run = credstore(&["workdays", "--calendar", file, "check", "2030-01-01"])?;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "day-off\n"),
        "{}",
        run.stderr
    );
    // After the action as well (the option is global to `workdays`).
    let run = credstore(&["workdays", "add", "2030-01-01", "2", "--calendar", file])?;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "2030-01-03\n"),
        "{}",
        run.stderr
    );
    let run = credstore(&["workdays", "--calendar", file, "check", "2026-02-14"])?;
    assert_eq!(run.code, 1, "2026 is not in that table");

    let bad = table.replace("2030-01-05", "2030-01-07");
    let path = write_file(dir.path(), "bad.json", bad)?;
    let bad_file = path.to_str().ok_or("non-UTF-8 temp path")?;
    let run = credstore(&["workdays", "--calendar", bad_file, "check", "2030-01-02"])?;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("bad.json") && run.stderr.contains("not a Saturday or Sunday"),
        "{}",
        run.stderr
    );
    Ok(())
}

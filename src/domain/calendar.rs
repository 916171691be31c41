//! The working-day calendar (工作日): which days count when a deadline is given in working days.
//!
//! Mainland China's working days are not a weekday rule: each year the State Council General
//! Office publishes the statutory holidays and the weekends that become working days to bridge
//! them (调休). Those tables are data, not code, so a new year is a data change: the 2019-2026
//! tables are embedded ([`WorkCalendar::builtin`], `data-samples/workdays-cn.json`) and another
//! file can be loaded ([`WorkCalendar::load`]).
//!
//! The file is `{"format": 1, "version", "title", "notes", "years": [{"year", "notices",
//! "blocks": [{"holiday", "notice", "days_off", "working_days"}]}]}`: one entry per notice year,
//! one block per holiday period listing every day off (weekend days inside it included) and every
//! adjusted working day. A day is a working day if a block lists it in `working_days`, a day off
//! if one lists it in `days_off`, and otherwise exactly when it is Monday to Friday.
//!
//! The tables cover 1 January of the first year to 31 December of the last. A date outside them
//! is an error ([`CalendarError`]), never a guess from the weekday: an unknown year may move any
//! deadline by a week. A file is validated as a whole when loaded ([`CalendarFileError`]): years
//! contiguous, no date listed twice or both as a day off and a working day, every adjusted
//! working day a Saturday or Sunday, every block citing one of its year's notices.
//!
//! Deadlines follow DOMAIN.md: the day of receipt is not counted; counting starts the next day,
//! and the N-th working day after receipt is the due date ([`WorkCalendar::add_workdays`]).

use super::date::Date;
use chrono::{Datelike, Weekday};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A validated working-day calendar over a contiguous run of years.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    version: String,
    title: String,
    notes: Vec<String>,
    first_year: i32,
    last_year: i32,
    /// 1 January of `first_year`.
    first: Date,
    /// 31 December of `last_year`.
    last: Date,
    /// Whether each covered day is a working day; index 0 is `first`.
    workday: Vec<bool>,
    /// Every day a notice lists, including days before `first` (kept for `special_day`).
    special: BTreeMap<Date, SpecialDay>,
}

/// A day a holiday notice names: a day off or an adjusted working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    /// Day off or working day.
    pub kind: DayKind,
    /// The holiday period, e.g. `春节`.
    pub holiday: String,
    /// The notice that decides it: its number (`国办发明电〔2023〕7号`), or its title when the
    /// number is unknown.
    pub notice: String,
}

/// What a notice makes of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// Off: a statutory holiday, a day given in lieu, or a weekend inside a holiday period.
    DayOff,
    /// A Saturday or Sunday that is a working day (调休上班).
    AdjustedWorkday,
}

/// Why a date question could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The date is outside the loaded tables.
    #[error("{date} is outside the working-day tables ({first} to {last})")]
    OutOfRange {
        /// The date asked about.
        date: Date,
        /// The first day the tables cover.
        first: Date,
        /// The last day the tables cover.
        last: Date,
    },
    /// Counting working days ran past the last day of the tables.
    #[error(
        "{workdays} working day{} after {received} run past the end of the working-day tables \
         ({last})",
        if *workdays == 1 { "" } else { "s" }
    )]
    BeyondTables {
        /// The day of receipt.
        received: Date,
        /// The number of working days asked for.
        workdays: u32,
        /// The last day the tables cover.
        last: Date,
    },
    /// A deadline of zero working days: there is no N-th working day for N = 0.
    #[error("a deadline must be at least 1 working day")]
    ZeroWorkdays,
}

/// Why a calendar file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarFileError {
    /// The file could not be read.
    #[error("cannot read working-day calendar {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not JSON of the calendar's shape (a malformed date is reported here).
    #[error("{source_name}:{line}:{column}: not a valid working-day calendar: {message}")]
    Json {
        /// The file name, for the reader.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A `format` this build does not read.
    #[error(
        "{source_name}: calendar format {format} is not supported (this build reads format {})",
        WorkCalendar::FORMAT
    )]
    UnsupportedFormat {
        /// The file name.
        source_name: String,
        /// The format found.
        format: u64,
    },
    /// The years do not follow each other one by one (a gap, a repeat or a wrong order).
    #[error(
        "{source_name}: year {next} follows {previous}; years must be contiguous and ascending"
    )]
    YearsNotContiguous {
        /// The file name.
        source_name: String,
        /// The year before.
        previous: i32,
        /// The year that does not follow it.
        next: i32,
    },
    /// A date is listed twice.
    #[error("{source_name}: {date} is listed twice ({first} and {second})")]
    DuplicateDate {
        /// The file name.
        source_name: String,
        /// The date.
        date: Date,
        /// Where it was first listed (`<year> <holiday>`).
        first: String,
        /// Where it was listed again.
        second: String,
    },
    /// A date is listed both as a day off and as a working day.
    #[error("{source_name}: {date} is listed both as a day off and as a working day")]
    HolidayAndWorkday {
        /// The file name.
        source_name: String,
        /// The date.
        date: Date,
    },
    /// An adjusted working day that is not a Saturday or Sunday (a weekday is a working day
    /// already: listing it is a mistake in the table).
    #[error("{source_name}: adjusted working day {date} is a {weekday}, not a Saturday or Sunday")]
    WorkdayNotWeekend {
        /// The file name.
        source_name: String,
        /// The date.
        date: Date,
        /// Its weekday.
        weekday: Weekday,
    },
    /// A date too far from its notice's year (allowed: that year, December before, January after).
    #[error("{source_name}: year {year} lists {date}, outside December {} to January {}", year - 1, year + 1)]
    DateOutsideYear {
        /// The file name.
        source_name: String,
        /// The notice year.
        year: i32,
        /// The date.
        date: Date,
    },
    /// Well-formed JSON, but not a valid calendar for another reason.
    #[error("{source_name}: {context}: {reason}")]
    Invalid {
        /// The file name.
        source_name: String,
        /// Where (`version`, `years`, `2024`, `2024 春节`).
        context: String,
        /// What is wrong.
        reason: String,
    },
}

const BUILTIN_NAME: &str = "data-samples/workdays-cn.json";
const BUILTIN_TEXT: &str = include_str!("../../data-samples/workdays-cn.json");

#[derive(Deserialize)]
struct Header {
    format: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[allow(dead_code)] // checked through `Header` first
    format: u64,
    version: String,
    title: String,
    #[serde(default)]
    notes: Vec<String>,
    years: Vec<YearFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    notices: Vec<NoticeFile>,
    blocks: Vec<BlockFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeFile {
    number: Option<String>,
    title: String,
    #[allow(dead_code)] // documentation in the file; not needed to answer questions
    #[serde(default)]
    issued: Option<Date>,
    #[allow(dead_code)]
    #[serde(default)]
    sources: Vec<String>,
    #[allow(dead_code)]
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockFile {
    holiday: String,
    notice: String,
    days_off: Vec<Date>,
    #[serde(default)]
    working_days: Vec<Date>,
}

impl WorkCalendar {
    /// The file format this build reads.
    pub const FORMAT: u64 = 1;

    /// The embedded 2019-2026 tables, parsed on first use.
    ///
    /// # Panics
    /// Never in a tested build: a unit test parses the embedded file, which is fixed at compile
    /// time.
    pub fn builtin() -> &'static WorkCalendar {
        static BUILTIN: OnceLock<WorkCalendar> = OnceLock::new();
        BUILTIN.get_or_init(|| match WorkCalendar::parse(BUILTIN_TEXT, BUILTIN_NAME) {
            Ok(calendar) => calendar,
            Err(e) => panic!("the embedded working-day calendar is invalid: {e}"),
        })
    }

    /// Reads, parses and validates a calendar file.
    pub fn load(path: &Path) -> Result<WorkCalendar, CalendarFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalendarFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        WorkCalendar::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a calendar; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<WorkCalendar, CalendarFileError> {
        let json_error = |e: serde_json::Error| {
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = e.to_string();
            CalendarFileError::Json {
                source_name: source.to_owned(),
                line: e.line(),
                column: e.column(),
                message: message.strip_suffix(&suffix).unwrap_or(&message).to_owned(),
            }
        };
        let header: Header = serde_json::from_str(text).map_err(json_error)?;
        if header.format != Self::FORMAT {
            return Err(CalendarFileError::UnsupportedFormat {
                source_name: source.to_owned(),
                format: header.format,
            });
        }
        let file: CalendarFile = serde_json::from_str(text).map_err(json_error)?;
        build(file, source)
    }

    /// The tables' version, e.g. `2019-2026`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The tables' title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The file's notes (sources, conventions).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The first and last year covered.
    pub fn years(&self) -> (i32, i32) {
        (self.first_year, self.last_year)
    }

    /// The first day covered (1 January of the first year).
    pub fn first_day(&self) -> Date {
        self.first
    }

    /// The last day covered (31 December of the last year).
    pub fn last_day(&self) -> Date {
        self.last
    }

    /// Whether the tables cover `date`.
    pub fn covers(&self, date: Date) -> bool {
        self.first <= date && date <= self.last
    }

    /// Whether `date` is a working day; an error outside the tables.
    pub fn is_workday(&self, date: Date) -> Result<bool, CalendarError> {
        let i = self.index(date)?;
        Ok(self.workday[i])
    }

    /// What a notice says about `date`, if it names it (also for listed days before the first
    /// covered year, which `is_workday` refuses).
    pub fn special_day(&self, date: Date) -> Option<&SpecialDay> {
        self.special.get(&date)
    }

    /// The due date of a deadline of `n` working days received on `received`: the day of receipt
    /// is not counted, counting starts the next day, and the `n`-th working day is the due date.
    ///
    /// So a deadline never falls on a day off, and a document received on a day off is counted
    /// from the next day like any other. `n = 0` is an error ([`CalendarError::ZeroWorkdays`]):
    /// "within 0 working days" names no day, and answering `received` would silently make it a
    /// same-day deadline. The day of receipt must be in the tables, and so must every day counted.
    pub fn add_workdays(&self, received: Date, n: u32) -> Result<Date, CalendarError> {
        if n == 0 {
            return Err(CalendarError::ZeroWorkdays);
        }
        let start = self.index(received)?;
        let mut left = n;
        for (i, &working) in self.workday.iter().enumerate().skip(start + 1) {
            if working {
                left -= 1;
                if left == 0 {
                    return Ok(self.date_at(i));
                }
            }
        }
        Err(CalendarError::BeyondTables {
            received,
            workdays: n,
            last: self.last,
        })
    }

    /// The number of working days `d` with `from < d <= to`: how many working days a deadline
    /// received on `from` has used by the end of `to` (so `add_workdays(from, n) == Ok(to)`
    /// implies `workdays_between(from, to) == Ok(n)`). Zero when `to <= from`; both days must be
    /// in the tables.
    pub fn workdays_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        let (a, b) = (self.index(from)?, self.index(to)?);
        if b <= a {
            return Ok(0);
        }
        let count = self.workday[a + 1..=b].iter().filter(|&&w| w).count();
        // At most the number of days in the tables, far below u32::MAX.
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    fn index(&self, date: Date) -> Result<usize, CalendarError> {
        let out = || CalendarError::OutOfRange {
            date,
            first: self.first,
            last: self.last,
        };
        if !self.covers(date) {
            return Err(out());
        }
        usize::try_from(date.to_days() - self.first.to_days()).map_err(|_| out())
    }

    fn date_at(&self, index: usize) -> Date {
        // `index` < workday.len(), a few thousand days: the offset fits and the date exists.
        let offset = i32::try_from(index).unwrap_or(i32::MAX);
        Date::from_days(self.first.to_days().saturating_add(offset)).unwrap_or(self.last)
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.naive().weekday(), Weekday::Sat | Weekday::Sun)
}

fn build(file: CalendarFile, source: &str) -> Result<WorkCalendar, CalendarFileError> {
    let invalid = |context: &str, reason: &str| CalendarFileError::Invalid {
        source_name: source.to_owned(),
        context: context.to_owned(),
        reason: reason.to_owned(),
    };
    if file.version.trim().is_empty() {
        return Err(invalid("version", "the version is empty"));
    }
    let (Some(first_year), Some(last_year)) = (
        file.years.first().map(|y| y.year),
        file.years.last().map(|y| y.year),
    ) else {
        return Err(invalid("years", "the calendar has no years"));
    };
    for pair in file.years.windows(2) {
        if pair[1].year != pair[0].year + 1 {
            return Err(CalendarFileError::YearsNotContiguous {
                source_name: source.to_owned(),
                previous: pair[0].year,
                next: pair[1].year,
            });
        }
    }
    let (Some(first), Some(last)) = (
        Date::from_ymd(first_year, 1, 1),
        Date::from_ymd(last_year, 12, 31),
    ) else {
        return Err(invalid("years", "a year is out of the supported range"));
    };
    let mut special: BTreeMap<Date, (SpecialDay, String)> = BTreeMap::new();
    for year in &file.years {
        check_year(year, source)?;
        for block in &year.blocks {
            let place = format!("{} {}", year.year, block.holiday);
            let days = block.days_off.iter().map(|d| (*d, DayKind::DayOff));
            let working = block
                .working_days
                .iter()
                .map(|d| (*d, DayKind::AdjustedWorkday));
            for (date, kind) in days.chain(working) {
                check_day(year.year, date, kind, source)?;
                let day = SpecialDay {
                    kind,
                    holiday: block.holiday.clone(),
                    notice: block.notice.clone(),
                };
                if let Some((earlier, at)) = special.insert(date, (day, place.clone())) {
                    return Err(if earlier.kind == kind {
                        CalendarFileError::DuplicateDate {
                            source_name: source.to_owned(),
                            date,
                            first: at,
                            second: place,
                        }
                    } else {
                        CalendarFileError::HolidayAndWorkday {
                            source_name: source.to_owned(),
                            date,
                        }
                    });
                }
            }
        }
    }
    let special: BTreeMap<Date, SpecialDay> =
        special.into_iter().map(|(d, (s, _))| (d, s)).collect();
    let workday = (first.to_days()..=last.to_days())
        .filter_map(Date::from_days)
        .map(|d| match special.get(&d).map(|s| s.kind) {
            Some(DayKind::DayOff) => false,
            Some(DayKind::AdjustedWorkday) => true,
            None => !is_weekend(d),
        })
        .collect();
    Ok(WorkCalendar {
        version: file.version,
        title: file.title,
        notes: file.notes,
        first_year,
        last_year,
        first,
        last,
        workday,
        special,
    })
}

fn check_year(year: &YearFile, source: &str) -> Result<(), CalendarFileError> {
    let invalid = |context: String, reason: &str| CalendarFileError::Invalid {
        source_name: source.to_owned(),
        context,
        reason: reason.to_owned(),
    };
    if year.notices.is_empty() {
        return Err(invalid(year.year.to_string(), "no notice is cited"));
    }
    if year.notices.iter().any(|n| n.title.trim().is_empty()) {
        return Err(invalid(year.year.to_string(), "a notice has no title"));
    }
    for block in &year.blocks {
        let place = format!("{} {}", year.year, block.holiday);
        if block.holiday.trim().is_empty() {
            return Err(invalid(
                year.year.to_string(),
                "a block has no holiday name",
            ));
        }
        if block.days_off.is_empty() {
            return Err(invalid(place, "the block lists no day off"));
        }
        let cited = year
            .notices
            .iter()
            .any(|n| n.number.as_deref() == Some(&block.notice) || n.title == block.notice);
        if !cited {
            return Err(invalid(
                place,
                "its notice is not one of the year's notices (by number, or title when unnumbered)",
            ));
        }
    }
    Ok(())
}

fn check_day(year: i32, date: Date, kind: DayKind, source: &str) -> Result<(), CalendarFileError> {
    let (y, m) = (date.naive().year(), date.naive().month());
    let near = y == year || (y == year - 1 && m == 12) || (y == year + 1 && m == 1);
    if !near {
        return Err(CalendarFileError::DateOutsideYear {
            source_name: source.to_owned(),
            year,
            date,
        });
    }
    if kind == DayKind::AdjustedWorkday && !is_weekend(date) {
        return Err(CalendarFileError::WorkdayNotWeekend {
            source_name: source.to_owned(),
            date,
            weekday: date.naive().weekday(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// A one-year calendar with the given blocks JSON for 2026.
    fn calendar(blocks: &str) -> Result<WorkCalendar, CalendarFileError> {
        let text = format!(
            r#"{{"format": 1, "version": "t", "title": "t", "years": [
                {{"year": 2026, "notices": [{{"number": "N1", "title": "T"}}], "blocks": [{blocks}]}}
            ]}}"#
        );
        WorkCalendar::parse(&text, "test.json")
    }

    #[test]
    fn builtin_parses_and_covers_2019_to_2026() {
        let cal = WorkCalendar::builtin();
        assert_eq!(cal.years(), (2019, 2026));
        assert_eq!(cal.first_day(), d("2019-01-01"));
        assert_eq!(cal.last_day(), d("2026-12-31"));
        assert!(cal.covers(d("2024-02-29")));
        assert!(!cal.covers(d("2018-12-31")));
        assert!(!cal.covers(d("2027-01-01")));
    }

    #[test]
    fn weekends_off_holidays_off_adjusted_weekends_on() {
        let cal = calendar(
            r#"{"holiday": "春节", "notice": "N1", "days_off": ["2026-02-16", "2026-02-17"],
                "working_days": ["2026-02-14"]}"#,
        )
        .unwrap();
        assert_eq!(cal.is_workday(d("2026-02-13")), Ok(true)); // Friday
        assert_eq!(cal.is_workday(d("2026-02-14")), Ok(true)); // adjusted Saturday
        assert_eq!(cal.is_workday(d("2026-02-15")), Ok(false)); // Sunday
        assert_eq!(cal.is_workday(d("2026-02-16")), Ok(false)); // holiday Monday
        assert_eq!(cal.is_workday(d("2026-02-18")), Ok(true)); // plain Wednesday
        let day = cal.special_day(d("2026-02-16")).unwrap();
        assert_eq!((day.kind, day.holiday.as_str()), (DayKind::DayOff, "春节"));
    }

    #[test]
    fn receipt_day_is_not_counted() {
        let cal =
            calendar(r#"{"holiday": "h", "notice": "N1", "days_off": ["2026-03-10"]}"#).unwrap();
        // Received Monday 9 March: Tuesday 10 is off, so the first working day is Wednesday 11.
        assert_eq!(cal.add_workdays(d("2026-03-09"), 1), Ok(d("2026-03-11")));
        // Received on a Saturday: Sunday off, Monday is the first.
        assert_eq!(cal.add_workdays(d("2026-03-07"), 1), Ok(d("2026-03-09")));
        assert_eq!(cal.add_workdays(d("2026-03-09"), 4), Ok(d("2026-03-16")));
        assert_eq!(
            cal.workdays_between(d("2026-03-09"), d("2026-03-16")),
            Ok(4)
        );
        assert_eq!(
            cal.workdays_between(d("2026-03-16"), d("2026-03-09")),
            Ok(0)
        );
    }

    #[test]
    fn zero_days_and_out_of_range_are_errors() {
        let cal =
            calendar(r#"{"holiday": "h", "notice": "N1", "days_off": ["2026-03-10"]}"#).unwrap();
        assert_eq!(
            cal.add_workdays(d("2026-03-09"), 0),
            Err(CalendarError::ZeroWorkdays)
        );
        assert!(matches!(
            cal.is_workday(d("2027-01-01")),
            Err(CalendarError::OutOfRange { .. })
        ));
        assert!(matches!(
            cal.add_workdays(d("2025-12-31"), 1),
            Err(CalendarError::OutOfRange { .. })
        ));
        assert!(matches!(
            cal.add_workdays(d("2026-12-31"), 1),
            Err(CalendarError::BeyondTables { .. })
        ));
        assert!(matches!(
            cal.add_workdays(d("2026-12-01"), u32::MAX),
            Err(CalendarError::BeyondTables { .. })
        ));
    }

    #[test]
    fn duplicate_and_conflicting_dates_are_refused() {
        let dup = calendar(
            r#"{"holiday": "a", "notice": "N1", "days_off": ["2026-03-10"]},
               {"holiday": "b", "notice": "N1", "days_off": ["2026-03-10"]}"#,
        );
        assert!(matches!(dup, Err(CalendarFileError::DuplicateDate { .. })));
        let both = calendar(
            r#"{"holiday": "a", "notice": "N1", "days_off": ["2026-03-14"],
                "working_days": ["2026-03-14"]}"#,
        );
        assert!(matches!(
            both,
            Err(CalendarFileError::HolidayAndWorkday { .. })
        ));
    }

    #[test]
    fn adjusted_working_day_must_be_a_weekend() {
        let e = calendar(
            r#"{"holiday": "a", "notice": "N1", "days_off": ["2026-03-10"],
                "working_days": ["2026-03-11"]}"#,
        );
        assert!(matches!(
            e,
            Err(CalendarFileError::WorkdayNotWeekend {
                weekday: Weekday::Wed,
                ..
            })
        ));
    }

    #[test]
    fn years_must_be_contiguous() {
        let text = r#"{"format": 1, "version": "t", "title": "t", "years": [
            {"year": 2024, "notices": [{"number": null, "title": "T"}], "blocks": []},
            {"year": 2026, "notices": [{"number": null, "title": "T"}], "blocks": []}]}"#;
        let e = WorkCalendar::parse(text, "t.json");
        assert!(matches!(
            e,
            Err(CalendarFileError::YearsNotContiguous {
                previous: 2024,
                next: 2026,
                ..
            })
        ));
        let none = r#"{"format": 1, "version": "t", "title": "t", "years": []}"#;
        assert!(matches!(
            WorkCalendar::parse(none, "t.json"),
            Err(CalendarFileError::Invalid { .. })
        ));
    }

    #[test]
    fn other_file_errors() {
        let far = calendar(r#"{"holiday": "a", "notice": "N1", "days_off": ["2024-03-10"]}"#);
        assert!(matches!(
            far,
            Err(CalendarFileError::DateOutsideYear { year: 2026, .. })
        ));
        let uncited = calendar(r#"{"holiday": "a", "notice": "N2", "days_off": ["2026-03-10"]}"#);
        assert!(matches!(uncited, Err(CalendarFileError::Invalid { .. })));
        let bad_date = calendar(r#"{"holiday": "a", "notice": "N1", "days_off": ["2026-02-30"]}"#);
        match bad_date {
            Err(CalendarFileError::Json { message, .. }) => {
                assert!(message.contains("no such calendar day"), "{message}")
            }
            other => panic!("expected a JSON error, got {other:?}"),
        }
        let format = WorkCalendar::parse(r#"{"format": 2}"#, "t.json");
        assert!(matches!(
            format,
            Err(CalendarFileError::UnsupportedFormat { format: 2, .. })
        ));
        let io = WorkCalendar::load(Path::new("/nonexistent/workdays.json"));
        assert!(matches!(io, Err(CalendarFileError::Io { .. })));
    }

    #[test]
    fn days_listed_before_the_first_year_are_kept_but_not_answered() {
        // The 2019 notice lists 2018-12-29 (working) and 2018-12-30/31 (off).
        let cal = WorkCalendar::builtin();
        let day = cal.special_day(d("2018-12-29")).unwrap();
        assert_eq!(day.kind, DayKind::AdjustedWorkday);
        assert!(cal.is_workday(d("2018-12-29")).is_err());
    }
}

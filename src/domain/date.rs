//! Calendar dates as the store keeps them: a day number, not a string.
//!
//! `Date` is an `i32` count of days since 1970-01-01 — in memory as on disk, so decoding a stored
//! date is a range check, not calendar arithmetic (reading a subject decodes a dozen dates, and
//! chrono's day arithmetic was 2% of a bulk lookup's profile). Calendar operations go through
//! `chrono::NaiveDate`. In human-readable formats (JSON) a date is `YYYY-MM-DD`; in binary
//! formats (bincode, the store) it is the `i32`, so it never depends on chrono's serialisation.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A calendar date from 0000-01-01 to 9999-12-31 (days since 1970-01-01; the derived order is
/// the calendar's).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(i32);

/// Day number of 0000-01-01.
const MIN_DAYS: i32 = -719_528;
/// Day number of 9999-12-31.
const MAX_DAYS: i32 = 2_932_896;

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

impl Date {
    /// A date from year, month and day, if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).and_then(Date::from_naive)
    }

    /// The date of a chrono date, if within 0000-01-01..=9999-12-31.
    pub fn from_naive(d: NaiveDate) -> Option<Date> {
        Date::from_days(i32::try_from((d - EPOCH).num_days()).ok()?)
    }

    /// Parses strictly `YYYY-MM-DD` (four-digit year, two-digit month and day, a real date).
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(DateError::Shape);
        }
        let num = |r: std::ops::Range<usize>| -> u32 {
            b[r].iter().fold(0, |acc, c| acc * 10 + u32::from(c - b'0'))
        };
        let (y, m, d) = (num(0..4), num(5..7), num(8..10));
        NaiveDate::from_ymd_opt(y as i32, m, d)
            .and_then(Date::from_naive)
            .ok_or(DateError::NotADate)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i32 {
        self.0
    }

    /// The date `days` days after 1970-01-01, if within 0000-01-01..=9999-12-31.
    pub fn from_days(days: i32) -> Option<Date> {
        (MIN_DAYS..=MAX_DAYS).contains(&days).then_some(Date(days))
    }

    /// Today by the system clock (UTC+8, Shanghai's civil date).
    pub fn today() -> Date {
        let now = chrono::Utc::now() + chrono::Duration::hours(8);
        // NOTE: the clock's year is within 0000-9999 on any machine this runs on.
        Date::from_naive(now.date_naive()).unwrap_or(Date(0))
    }

    /// The wrapped chrono date.
    pub fn naive(self) -> NaiveDate {
        // NOTE: every Date is within chrono's range (checked on construction).
        EPOCH + chrono::Duration::days(i64::from(self.0))
    }

    /// The same day `months` calendar months later, clamped to the month's end (31 Aug + 6
    /// months is 28/29 Feb).
    pub fn add_months(self, months: u32) -> Option<Date> {
        self.naive()
            .checked_add_months(chrono::Months::new(months))
            .and_then(Date::from_naive)
    }

    /// The same day `years` later; 29 Feb becomes 28 Feb in a common year.
    ///
    /// Integer arithmetic on the civil calendar (no chrono): queries compute a query period's
    /// end for every record they show.
    pub fn add_years(self, years: u32) -> Option<Date> {
        let (y, m, d) = civil_from_days(self.0);
        let y = y.checked_add(i32::try_from(years).ok()?)?;
        let d = if m == 2 && d == 29 && !is_leap(y) {
            28
        } else {
            d
        };
        Date::from_days(days_from_civil(y, m, d))
    }

    /// Year, month (1-12) and day (1-31).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Whole years from `self` to `later` (an age on `later` for a birth date `self`).
    pub fn years_until(self, later: Date) -> i32 {
        let (a, b) = (self.naive(), later.naive());
        let mut years = b.year() - a.year();
        if (b.month(), b.day()) < (a.month(), a.day()) {
            years -= 1;
        }
        years
    }
}

fn is_leap(y: i32) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
/// Date Algorithms").
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe as i32 + era * 400 + i32::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.naive().format("%Y-%m-%d"))
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// Why a date did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    #[error("not a date of the form YYYY-MM-DD")]
    Shape,
    /// The right shape, but no such day (e.g. 2023-02-30).
    #[error("no such calendar day")]
    NotADate,
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i32(self.to_days())
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Date::parse(&s).map_err(|e| D::Error::custom(format!("{e}: {s:?}")))
        } else {
            let days = i32::deserialize(d)?;
            Date::from_days(days).ok_or_else(|| D::Error::custom("day number out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_strict() {
        assert!(Date::parse("2024-02-29").is_ok());
        assert_eq!(Date::parse("2023-02-30"), Err(DateError::NotADate));
        assert_eq!(Date::parse("2023-2-3"), Err(DateError::Shape));
        assert_eq!(Date::parse("２０２３-01-01"), Err(DateError::Shape));
        assert_eq!(Date::parse("2023-01-01 "), Err(DateError::Shape));
    }

    #[test]
    fn integer_calendar_agrees_with_chrono() {
        // Every day of 1890-2110, and 400-year steps across the whole range.
        let days = (Date::parse("1890-01-01").unwrap().to_days()
            ..=Date::parse("2110-12-31").unwrap().to_days())
            .chain((MIN_DAYS..=MAX_DAYS).step_by(146_097));
        for n in days {
            let d = Date::from_days(n).unwrap();
            let naive = d.naive();
            assert_eq!(d.ymd(), (naive.year(), naive.month(), naive.day()), "{d}");
            for years in [1, 4, 5, 100] {
                let chrono = naive
                    .checked_add_months(chrono::Months::new(12 * years))
                    .and_then(Date::from_naive);
                assert_eq!(d.add_years(years), chrono, "{d} + {years}");
            }
        }
        assert_eq!(
            Date::parse("2024-02-29").unwrap().add_years(5),
            Date::parse("2029-02-28").ok()
        );
    }

    #[test]
    fn the_range_is_0000_to_9999() {
        assert_eq!(Date::parse("0000-01-01").unwrap().to_days(), MIN_DAYS);
        assert_eq!(Date::parse("9999-12-31").unwrap().to_days(), MAX_DAYS);
        assert!(Date::from_days(MIN_DAYS - 1).is_none());
        assert!(Date::from_days(MAX_DAYS + 1).is_none());
        assert_eq!(Date::parse("9999-12-31").unwrap().add_years(1), None);
        assert_eq!(
            format!("{:?}", Date::parse("2026-11-27").unwrap()),
            "Date(2026-11-27)"
        );
    }

    #[test]
    fn day_numbers_round_trip_and_order() {
        for s in ["1900-01-01", "1970-01-01", "2000-02-29", "2026-11-27"] {
            let d = Date::parse(s).unwrap();
            assert_eq!(Date::from_days(d.to_days()), Some(d));
        }
        let a = Date::parse("1999-12-31").unwrap();
        let b = Date::parse("2000-01-01").unwrap();
        assert_eq!(b.to_days() - a.to_days(), 1);
    }

    #[test]
    fn ages_count_whole_years() {
        let born = Date::parse("2008-11-28").unwrap();
        assert_eq!(born.years_until(Date::parse("2026-11-27").unwrap()), 17);
        assert_eq!(born.years_until(Date::parse("2026-11-28").unwrap()), 18);
    }

    #[test]
    fn months_clamp_to_month_end() {
        let d = Date::parse("2024-08-31").unwrap();
        assert_eq!(d.add_months(6), Date::parse("2025-02-28").ok());
    }
}

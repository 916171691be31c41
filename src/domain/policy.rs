//! Deadlines as policy data (issue 5): every working-day period the rights of Art. 27-30 set,
//! read from a profile file, so a later rule is a configuration change, not a code change.
//!
//! The Measures (2018) are the default profile (`data-samples/policies/measures-2018.json`,
//! built in); `data-samples/policies/social-credit-regulation-2017.json` is the later local
//! regulation's (a 1-working-day objection mark, 3-working-day removals). Query periods are per
//! catalog item and live in the catalog, not here. A deadline is computed with the working-day
//! calendar: [`Policy::due`] = the calendar's `add_workdays(received, n)`, or the day itself
//! for a period of 0 working days ("at once").

use super::calendar::{CalendarError, WorkCalendar};
use super::date::Date;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A deadline the policy sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// Deleting commendation, volunteer and charity records on the subject's request (Art. 27 ¶2).
    DeletionOnRequest,
    /// Putting the objection mark on a record (Art. 30 ¶1).
    ObjectionMark,
    /// The centre comparing its record with the provider's (Art. 29 ¶1).
    ObjectionCompare,
    /// The provider checking a forwarded objection (Art. 29 ¶2).
    ProviderCheck,
    /// Deleting a record whose underlying act was revoked (later regulation only).
    RevokedActDeletion,
    /// Removing a repaired record from the query interface (later regulation only).
    RepairedRecordRemoval,
}

/// What happens to dishonesty information past its query period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PastQueryPeriod {
    /// It leaves the query interface (Art. 27 ¶1), kept in the archive.
    LeaveQueryInterface,
    /// It may not be provided at all (the later regulation).
    NotProvided,
}

/// One deadline as the profile states it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Working days after the day of receipt (0: at once).
    pub workdays: u32,
    /// The provision it comes from.
    pub basis: String,
}

/// A policy profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    format: u32,
    /// The profile's name.
    pub name: String,
    /// What it is.
    pub title: String,
    /// Its deadlines; a deadline it does not set does not apply under it.
    pub deadlines: BTreeMap<Deadline, Period>,
    /// What happens past the query period.
    pub past_query_period: PastQueryPeriod,
    /// Remarks.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Why a profile did not load.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid profile.
    #[error("{source_name}: {reason}")]
    Invalid {
        /// Where the text came from.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
}

const MEASURES_2018: &str = include_str!("../../data-samples/policies/measures-2018.json");

impl Policy {
    /// The Measures (2018), the default profile.
    pub fn measures_2018() -> &'static Policy {
        static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        POLICY.get_or_init(|| {
            // NOTE: the built-in file is checked by a unit test.
            #[allow(clippy::expect_used)]
            Policy::parse(MEASURES_2018, "measures-2018.json")
                .expect("the built-in policy profile is valid")
        })
    }

    /// Parses a profile; the Measures' own deadlines (Art. 27 ¶2, 29, 30) must all be set.
    pub fn parse(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let invalid = |reason: String| PolicyError::Invalid {
            source_name: source_name.to_string(),
            reason,
        };
        let policy: Policy = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if policy.format != 1 {
            return Err(invalid(format!(
                "format {} is not supported",
                policy.format
            )));
        }
        for required in [
            Deadline::DeletionOnRequest,
            Deadline::ObjectionMark,
            Deadline::ObjectionCompare,
            Deadline::ProviderCheck,
        ] {
            if !policy.deadlines.contains_key(&required) {
                return Err(invalid(format!("the deadline {required:?} is not set")));
            }
        }
        if let Some((d, p)) = policy
            .deadlines
            .iter()
            .find(|(_, p)| p.workdays > 60 || p.basis.trim().is_empty())
        {
            return Err(invalid(format!(
                "the deadline {d:?} has {} working days or no basis",
                p.workdays
            )));
        }
        Ok(policy)
    }

    /// Loads a profile file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// The working days a deadline allows, if the profile sets it.
    pub fn workdays(&self, deadline: Deadline) -> Option<u32> {
        self.deadlines.get(&deadline).map(|p| p.workdays)
    }

    /// The due date of `deadline` for something received on `received`; `None` when the
    /// profile does not set that deadline.
    pub fn due(
        &self,
        deadline: Deadline,
        received: Date,
        calendar: &WorkCalendar,
    ) -> Option<Result<Date, CalendarError>> {
        let n = self.workdays(deadline)?;
        Some(if n == 0 {
            Ok(received)
        } else {
            calendar.add_workdays(received, n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn both_shipped_profiles_load() {
        let m = Policy::measures_2018();
        assert_eq!(m.workdays(Deadline::DeletionOnRequest), Some(2));
        assert_eq!(m.workdays(Deadline::ObjectionCompare), Some(2));
        assert_eq!(m.workdays(Deadline::ProviderCheck), Some(5));
        assert_eq!(m.workdays(Deadline::ObjectionMark), Some(0));
        assert_eq!(m.workdays(Deadline::RevokedActDeletion), None);
        let text = include_str!("../../data-samples/policies/social-credit-regulation-2017.json");
        let r = Policy::parse(text, "regulation").unwrap();
        assert_eq!(r.workdays(Deadline::ObjectionMark), Some(1));
        assert_eq!(r.workdays(Deadline::RevokedActDeletion), Some(3));
        assert_eq!(r.past_query_period, PastQueryPeriod::NotProvided);
    }

    #[test]
    fn deadlines_use_the_calendar() {
        let cal = WorkCalendar::builtin();
        let m = Policy::measures_2018();
        // Received Thursday 2025-09-25: two working days are Friday 26 and Sunday 28 September
        // (an adjusted working day before National Day).
        assert_eq!(
            m.due(Deadline::ObjectionCompare, day("2025-09-25"), cal),
            Some(Ok(day("2025-09-28")))
        );
        // Received 2025-09-30: five working days start after the National Day holiday
        // (1-8 October), with Saturday 11 October an adjusted working day: 9, 10, 11, 13, 14.
        assert_eq!(
            m.due(Deadline::ProviderCheck, day("2025-09-30"), cal),
            Some(Ok(day("2025-10-14")))
        );
        // "At once" is the day itself.
        assert_eq!(
            m.due(Deadline::ObjectionMark, day("2025-10-03"), cal),
            Some(Ok(day("2025-10-03")))
        );
        assert_eq!(
            m.due(Deadline::RevokedActDeletion, day("2025-10-03"), cal),
            None
        );
    }

    #[test]
    fn incomplete_profiles_are_refused() {
        let text = r#"{"format":1,"name":"x","title":"x","deadlines":{},"past_query_period":"not_provided"}"#;
        let err = Policy::parse(text, "x.json").unwrap_err().to_string();
        assert!(err.contains("DeletionOnRequest"), "{err}");
        let text = r#"{"format":2,"name":"x","title":"x","deadlines":{},"past_query_period":"not_provided"}"#;
        assert!(Policy::parse(text, "x.json").is_err());
    }
}

//! Objections (Art. 28-30) as an explicit state machine: pure rules, no I/O. The store keeps
//! the objections and applies their effects (record marks, corrections, notifications); this
//! module decides which transition is allowed, when each deadline falls (through the policy
//! profile and the working-day calendar), and what each transition requires to happen.
//!
//! ```text
//!             compare: differs ──▶ Corrected (closed; the record corrected to the provider's
//!            ╱                                  version, the subject notified)
//! Filed ────┤
//!            ╲ compare: agrees ──▶ Forwarded ──respond: upheld──▶ Upheld (closed; correction)
//!                                  │    ▲   ╲──respond: rejected─▶ Rejected ──dispute──▶ Disputed
//!                  provider_due    │    │ respond
//!                  passed (tick)   ▼    │
//!                                Suspended (from social queries, until the provider answers)
//! Filed (ground: past query period) ──settle──▶ Settled (the retention rule removes the record)
//!                                           or ─▶ Rejected (the period has not passed)
//! ```
//! The objection mark shows while the objection is open (Filed, Forwarded, Suspended) and after
//! it closes with the subject still disagreeing (Disputed) (Art. 30 ¶1). A provider that lets
//! its deadline pass has the record suspended from social queries until it answers (Art. 30 ¶2).

use super::calendar::{CalendarError, WorkCalendar};
use super::code::SubjectCode;
use super::date::Date;
use super::policy::{Deadline, Policy};
use serde::{Deserialize, Serialize};

/// The grounds of Art. 28.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// (1) An error or omission in the record.
    ErrorOrOmission,
    /// (2) It infringes a trade secret or privacy.
    TradeSecretOrPrivacy,
    /// (3) Dishonesty information past its query period is still shown.
    PastQueryPeriod,
}

/// Where an objection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Received; the centre compares its record with the provider's (Art. 29 ¶1).
    Filed,
    /// The records agree: forwarded to the provider, who checks (Art. 29 ¶2).
    Forwarded,
    /// The provider missed its deadline: the record is suspended from social queries (Art. 30 ¶2).
    Suspended,
    /// Closed: the platform's record differed and was corrected to the provider's.
    Corrected,
    /// Closed: the provider upheld the objection and corrected the record.
    Upheld,
    /// Closed: the provider rejected the objection (or its ground does not hold).
    Rejected,
    /// Closed, the subject still disagreeing: the mark stays (Art. 30 ¶1).
    Disputed,
    /// Closed: past its query period, the record leaves the query interface (Art. 27 ¶1).
    Settled,
}

impl State {
    /// Whether the objection is still being handled.
    pub fn is_open(self) -> bool {
        matches!(self, State::Filed | State::Forwarded | State::Suspended)
    }

    /// The mark a record under this objection carries: (objection mark, suspended).
    pub fn mark(self) -> (bool, bool) {
        match self {
            State::Filed | State::Forwarded | State::Disputed => (true, false),
            State::Suspended => (true, true),
            State::Corrected | State::Upheld | State::Rejected | State::Settled => (false, false),
        }
    }
}

/// What happens to an objection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The centre compared its record with the provider's original submission.
    Compare {
        /// Whether they differ.
        differs: bool,
    },
    /// The provider answered.
    Respond {
        /// Whether it upheld the objection.
        upheld: bool,
    },
    /// The subject still disagrees with a rejection.
    Dispute,
    /// The scheduler found the provider's deadline passed.
    DeadlinePassed,
    /// The retention rule decided a past-query-period objection.
    Settle {
        /// Whether the record's query period has passed.
        past_period: bool,
    },
}

/// What a transition requires of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Effects {
    /// Store the provider's version as a new version of the record.
    pub correct_record: bool,
    /// Tell the subject (the reason in words).
    pub notify_subject: Option<String>,
    /// Tell the provider (the reason in words).
    pub notify_provider: Option<String>,
    /// The record's mark after the transition: (objection mark, suspended).
    pub mark: (bool, bool),
}

/// One logged transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// When.
    pub on: Date,
    /// From.
    pub from: State,
    /// To.
    pub to: State,
    /// Why.
    pub event: Event,
}

/// An objection to one record.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    /// Its id.
    pub id: u64,
    /// The subject who filed it.
    pub subject: SubjectCode,
    /// The record objected to.
    pub record_id: u64,
    /// The record's provider.
    pub provider: String,
    /// The ground.
    pub ground: Ground,
    /// The day it was received.
    pub filed_on: Date,
    /// Where it stands.
    pub state: State,
    /// The centre's comparison deadline.
    pub compare_due: Date,
    /// The provider's deadline, once forwarded.
    pub provider_due: Option<Date>,
    /// Every transition, oldest first.
    pub history: Vec<Transition>,
}

// NOTE: by hand, so the subject's code is masked.
impl std::fmt::Debug for Objection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objection")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("record_id", &self.record_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A transition that is not allowed, or a deadline the calendar cannot compute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectionError {
    /// The event does not apply in this state.
    #[error("an objection in state {state:?} cannot take {event}")]
    NotAllowed {
        /// The state.
        state: State,
        /// The event, named.
        event: &'static str,
    },
    /// The date is before the objection's last transition.
    #[error("a transition cannot be dated before the previous one")]
    BackInTime,
    /// The calendar does not cover the deadline.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Compare { .. } => "compare",
        Event::Respond { .. } => "respond",
        Event::Dispute => "dispute",
        Event::DeadlinePassed => "deadline_passed",
        Event::Settle { .. } => "settle",
    }
}

impl Objection {
    /// Files an objection received on `filed_on`; the comparison deadline comes from the policy.
    #[allow(clippy::too_many_arguments)]
    pub fn file(
        id: u64,
        subject: SubjectCode,
        record_id: u64,
        provider: String,
        ground: Ground,
        filed_on: Date,
        policy: &Policy,
        calendar: &WorkCalendar,
    ) -> Result<(Objection, Effects), ObjectionError> {
        let compare_due = match policy.due(Deadline::ObjectionCompare, filed_on, calendar) {
            Some(due) => due?,
            None => filed_on,
        };
        let objection = Objection {
            id,
            subject,
            record_id,
            provider,
            ground,
            filed_on,
            state: State::Filed,
            compare_due,
            provider_due: None,
            history: Vec::new(),
        };
        Ok((
            objection,
            Effects {
                mark: State::Filed.mark(),
                ..Effects::default()
            },
        ))
    }

    /// Applies `event` on day `on`, returning what the store must do.
    pub fn apply(
        &mut self,
        event: Event,
        on: Date,
        policy: &Policy,
        calendar: &WorkCalendar,
    ) -> Result<Effects, ObjectionError> {
        let last = self.history.last().map_or(self.filed_on, |t| t.on);
        if on < last {
            return Err(ObjectionError::BackInTime);
        }
        let not_allowed = || ObjectionError::NotAllowed {
            state: self.state,
            event: event_name(&event),
        };
        let mut effects = Effects::default();
        let to = match (&event, self.state, self.ground) {
            (Event::Settle { past_period }, State::Filed, Ground::PastQueryPeriod) => {
                effects.notify_subject = Some(if *past_period {
                    "the record is past its query period and leaves the query interface".into()
                } else {
                    "the record's query period has not passed; the objection does not hold".into()
                });
                if *past_period {
                    State::Settled
                } else {
                    State::Rejected
                }
            }
            (Event::Compare { differs: true }, State::Filed, g) if g != Ground::PastQueryPeriod => {
                effects.correct_record = true;
                effects.notify_subject = Some(
                    "the platform's record differed from the provider's and was corrected".into(),
                );
                State::Corrected
            }
            (Event::Compare { differs: false }, State::Filed, g)
                if g != Ground::PastQueryPeriod =>
            {
                let due = match policy.due(Deadline::ProviderCheck, on, calendar) {
                    Some(due) => due?,
                    None => on,
                };
                self.provider_due = Some(due);
                effects.notify_subject =
                    Some("the record agrees with the provider's; forwarded to the provider".into());
                effects.notify_provider = Some(format!(
                    "objection {} forwarded for checking by {due}",
                    self.id
                ));
                State::Forwarded
            }
            (Event::Respond { upheld }, State::Forwarded | State::Suspended, _) => {
                effects.correct_record = *upheld;
                effects.notify_subject = Some(if *upheld {
                    "the provider upheld the objection; the record was corrected".into()
                } else {
                    "the provider rejected the objection".into()
                });
                if *upheld {
                    State::Upheld
                } else {
                    State::Rejected
                }
            }
            (Event::DeadlinePassed, State::Forwarded, _) => {
                // The deadline day itself is the provider's: suspension starts after it.
                if self.provider_due.is_none_or(|due| on <= due) {
                    return Err(not_allowed());
                }
                effects.notify_provider = Some(format!(
                    "objection {}: the deadline passed; the record is suspended from social queries until you answer",
                    self.id
                ));
                State::Suspended
            }
            (Event::Dispute, State::Rejected, _) => State::Disputed,
            _ => return Err(not_allowed()),
        };
        effects.mark = to.mark();
        self.history.push(Transition {
            on,
            from: self.state,
            to,
            event,
        });
        self.state = to;
        Ok(effects)
    }

    /// The transition the scheduler owes this objection on `today`, if any.
    pub fn due_event(&self, today: Date) -> Option<Event> {
        match (self.state, self.provider_due) {
            (State::Forwarded, Some(due)) if today > due => Some(Event::DeadlinePassed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn filed(ground: Ground, on: &str) -> Objection {
        let subject = SubjectCode::parse("91310115MA1K3BTP2B", day("2026-11-27"))
            .unwrap()
            .code;
        Objection::file(
            1,
            subject,
            42,
            "SAMR-SH".into(),
            ground,
            day(on),
            Policy::measures_2018(),
            WorkCalendar::builtin(),
        )
        .unwrap()
        .0
    }

    fn apply(o: &mut Objection, e: Event, on: &str) -> Result<Effects, ObjectionError> {
        o.apply(e, day(on), Policy::measures_2018(), WorkCalendar::builtin())
    }

    #[test]
    fn agreeing_records_go_to_the_provider_across_spring_festival() {
        // Filed Friday 2026-02-13, before the Spring Festival holiday (15-23 February 2026;
        // Saturday 14 and Saturday 28 February are adjusted working days).
        let mut o = filed(Ground::ErrorOrOmission, "2026-02-13");
        assert_eq!(o.compare_due, day("2026-02-24"));
        assert_eq!(o.state.mark(), (true, false));
        let e = apply(&mut o, Event::Compare { differs: false }, "2026-02-14").unwrap();
        assert_eq!(o.state, State::Forwarded);
        // Five working days after Saturday 14 February: 24, 25, 26, 27, 28 February.
        assert_eq!(o.provider_due, Some(day("2026-02-28")));
        assert!(e.notify_provider.is_some() && e.notify_subject.is_some());
        assert!(!e.correct_record);
        assert_eq!(
            o.due_event(day("2026-02-28")),
            None,
            "the last day is the provider's"
        );
        assert_eq!(o.due_event(day("2026-03-01")), Some(Event::DeadlinePassed));
        let e = apply(&mut o, Event::DeadlinePassed, "2026-03-02").unwrap();
        assert_eq!((o.state, e.mark), (State::Suspended, (true, true)));
        let e = apply(&mut o, Event::Respond { upheld: true }, "2026-03-05").unwrap();
        assert_eq!(
            (o.state, e.mark, e.correct_record),
            (State::Upheld, (false, false), true)
        );
        assert_eq!(o.history.len(), 3);
    }

    #[test]
    fn differing_records_are_corrected_at_once() {
        let mut o = filed(Ground::TradeSecretOrPrivacy, "2025-09-30");
        // Two working days after 30 September 2025 skip National Day (1-8 October).
        assert_eq!(o.compare_due, day("2025-10-10"));
        let e = apply(&mut o, Event::Compare { differs: true }, "2025-10-09").unwrap();
        assert_eq!(
            (o.state, e.correct_record, e.mark),
            (State::Corrected, true, (false, false))
        );
        assert!(apply(&mut o, Event::Dispute, "2025-10-10").is_err());
    }

    #[test]
    fn rejected_then_disputed_keeps_the_mark() {
        let mut o = filed(Ground::ErrorOrOmission, "2024-12-31");
        assert_eq!(o.compare_due, day("2025-01-03"), "1 January is a holiday");
        apply(&mut o, Event::Compare { differs: false }, "2025-01-02").unwrap();
        let e = apply(&mut o, Event::Respond { upheld: false }, "2025-01-06").unwrap();
        assert_eq!((o.state, e.mark), (State::Rejected, (false, false)));
        let e = apply(&mut o, Event::Dispute, "2025-01-07").unwrap();
        assert_eq!((o.state, e.mark), (State::Disputed, (true, false)));
        assert!(!o.state.is_open());
    }

    #[test]
    fn past_period_objections_are_settled_by_the_retention_rule() {
        let mut o = filed(Ground::PastQueryPeriod, "2026-03-02");
        assert!(apply(&mut o, Event::Compare { differs: false }, "2026-03-02").is_err());
        apply(&mut o, Event::Settle { past_period: true }, "2026-03-02").unwrap();
        assert_eq!(o.state, State::Settled);
        let mut o = filed(Ground::PastQueryPeriod, "2026-03-02");
        apply(&mut o, Event::Settle { past_period: false }, "2026-03-02").unwrap();
        assert_eq!(o.state, State::Rejected);
    }

    #[test]
    fn illegal_transitions_and_dates_are_refused() {
        let mut o = filed(Ground::ErrorOrOmission, "2026-03-02");
        assert!(matches!(
            apply(&mut o, Event::Respond { upheld: true }, "2026-03-03"),
            Err(ObjectionError::NotAllowed {
                state: State::Filed,
                ..
            })
        ));
        assert_eq!(
            apply(&mut o, Event::Compare { differs: false }, "2026-03-01"),
            Err(ObjectionError::BackInTime)
        );
        apply(&mut o, Event::Compare { differs: false }, "2026-03-02").unwrap();
        // Not yet past the provider's deadline.
        assert!(apply(&mut o, Event::DeadlinePassed, "2026-03-03").is_err());
        assert_eq!(o.state, State::Forwarded);
    }
}

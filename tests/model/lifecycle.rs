//! The model's objections (Art. 28-30) and deletions on request (Art. 27 ¶2): each as its
//! rule reads in DOMAIN.md and the crate's documentation, on the model's plain maps. Deadlines
//! are counted by `rules::add_workdays` over the calendar's data.

use super::rules::*;
use credstore::domain::calendar::WorkCalendar;
use credstore::domain::objection::{Ground, State};

impl Model {
    /// Files an objection; `None` when refused (no such record).
    pub fn file(
        &mut self,
        calendar: &WorkCalendar,
        subject: usize,
        key: &Key,
        ground: Ground,
    ) -> Option<ObjectionM> {
        let record = self.record(subject, key)?;
        let today = self.today;
        // A past-query-period objection is decided at once by the retention rule, and the
        // subject told.
        let settled = match ground {
            Ground::PastQueryPeriod => Some(
                if period_end(record.current()).is_some_and(|end| today >= end) {
                    State::Settled
                } else {
                    State::Rejected
                },
            ),
            _ => None,
        };
        let id = self.objections.len() as u64 + 1;
        self.objections.push(ObjectionM {
            id,
            subject,
            key: key.clone(),
            ground,
            filed_on: today,
            state: State::Filed,
            compare_due: add_workdays(calendar, today, COMPARE_WORKDAYS),
            provider_due: None,
            history: Vec::new(),
        });
        if let Some(to) = settled {
            self.moved(id, to, (true, false));
        }
        self.objection(id)
    }

    fn objection(&self, id: u64) -> Option<ObjectionM> {
        self.objections.iter().find(|o| o.id == id).cloned()
    }

    /// Moves objection `id` to state `to` today, telling (the subject, the provider).
    fn moved(&mut self, id: u64, to: State, (subject, provider): (bool, bool)) {
        let today = self.today;
        let Some(o) = self.objections.iter_mut().find(|o| o.id == id) else {
            return;
        };
        o.state = to;
        o.history.push((today, to));
        let (s, key) = (o.subject, o.key.clone());
        if subject {
            self.notices
                .push((today, ToM::Subject(s), Some(id), key.clone()));
        }
        if provider {
            self.notices
                .push((today, ToM::Provider(key.0.clone()), Some(id), key));
        }
    }

    /// The centre compares its record with the provider's: the store keeps every submission
    /// verbatim, so they always agree and the objection goes to the provider. Refused unless
    /// filed, or when the record is no longer stored.
    pub fn compare(&mut self, calendar: &WorkCalendar, id: u64) -> Option<ObjectionM> {
        let today = self.today;
        let o = self.objection(id)?;
        self.record(o.subject, &o.key)?;
        if o.state != State::Filed {
            return None;
        }
        let o = self.objections.iter_mut().find(|o| o.id == id)?;
        o.provider_due = Some(add_workdays(calendar, today, PROVIDER_WORKDAYS));
        // Forwarded to the provider; the subject is told (Art. 29).
        self.moved(id, State::Forwarded, (true, true));
        self.objection(id)
    }

    /// The provider answers a forwarded (or, late, a suspended) objection.
    pub fn respond(&mut self, id: u64, upheld: bool) -> Option<ObjectionM> {
        let o = self.objection(id)?;
        if !matches!(o.state, State::Forwarded | State::Suspended) {
            return None;
        }
        let to = if upheld {
            State::Upheld
        } else {
            State::Rejected
        };
        // The subject is told the provider's answer.
        self.moved(id, to, (true, false));
        self.objection(id)
    }

    /// The subject still disagrees with a rejection.
    pub fn dispute(&mut self, id: u64) -> Option<ObjectionM> {
        if self.objection(id)?.state != State::Rejected {
            return None;
        }
        self.moved(id, State::Disputed, (false, false));
        self.objection(id)
    }

    /// The scheduler tick: forwarded objections past the provider's last day are suspended;
    /// every pending deletion request is carried out. Returns (objection ids, request ids).
    /// The retention sweep as of today: every stored record whose query period (of its current
    /// version) has ended by today moves to the archive, for good. Returns how many moved.
    pub fn sweep(&mut self) -> u64 {
        let mut moved = 0;
        for subject in self.subjects.values() {
            for (key, record) in &subject.records {
                let content = &record.versions[record.versions.len() - 1].content;
                let due = super::rules::period_end(content).is_some_and(|end| end <= self.today);
                if due && self.archived.insert(key.clone()) {
                    moved += 1;
                }
            }
        }
        moved
    }

    pub fn process_due(&mut self) -> (Vec<u64>, Vec<u64>) {
        let today = self.today;
        let suspended: Vec<u64> = self
            .objections
            .iter()
            .filter(|o| o.state == State::Forwarded && o.provider_due.is_some_and(|d| today > d))
            .map(|o| o.id)
            .collect();
        for &id in &suspended {
            // The provider is told its deadline passed.
            self.moved(id, State::Suspended, (false, true));
        }
        let pending: Vec<u64> = self
            .deletions
            .iter()
            .filter(|d| d.done_on.is_none())
            .map(|d| d.id)
            .collect();
        for &id in &pending {
            self.carry_out(id);
        }
        (suspended, pending)
    }

    /// A record's marks from its objections: (objection mark, suspended). The mark shows while
    /// an objection is open (filed, forwarded, suspended) or disputed (Art. 30 ¶1); suspension
    /// while the provider is late (Art. 30 ¶2).
    pub fn marks(&self, key: &Key) -> (bool, bool) {
        let mut mark = (false, false);
        for o in self.objections.iter().filter(|o| &o.key == key) {
            mark.0 |= matches!(
                o.state,
                State::Filed | State::Forwarded | State::Suspended | State::Disputed
            );
            mark.1 |= o.state == State::Suspended;
        }
        mark
    }

    // ---- deletion on request (Art. 27 ¶2) ----

    /// A subject's request: `named` lists record ids (empty: every deletable record). Refused
    /// outright when the subject holds no record.
    pub fn request_deletion(
        &mut self,
        calendar: &WorkCalendar,
        subject: usize,
        named: &[Result<Key, u64>],
    ) -> Option<DeletionM> {
        let records = &self.subjects.get(&subject)?.records;
        if records.is_empty() {
            return None;
        }
        let deletable =
            |key: &Key| item_of(&records[key].current().item).is_some_and(|i| i.deletable);
        let mut accepted = Vec::new();
        let mut refused = Vec::new();
        if named.is_empty() {
            accepted.extend(records.keys().filter(|k| deletable(k)).cloned());
        }
        for n in named {
            match n {
                Ok(key) if records.contains_key(key) && deletable(key) => {
                    accepted.push(key.clone())
                }
                Ok(key) if records.contains_key(key) => refused.push(Refused::Record(key.clone())),
                Ok(key) => refused.push(Refused::Record(key.clone())),
                Err(id) => refused.push(Refused::Unknown(*id)),
            }
        }
        accepted.sort();
        accepted.dedup();
        let request = DeletionM {
            id: self.deletions.len() as u64 + 1,
            subject,
            received_on: self.today,
            due_on: add_workdays(calendar, self.today, DELETION_WORKDAYS),
            records: accepted,
            refused,
            done_on: None,
        };
        self.deletions.push(request.clone());
        Some(request)
    }

    /// Carries out a request (once): its records leave the subject for good — those still
    /// commendation, volunteer or charity records. One whose item a new version changed since
    /// the request is no longer deletable on request (Art. 27 ¶2; Art. 31: no unlawful
    /// deletion): it stays, and the request lists it as refused.
    pub fn carry_out(&mut self, id: u64) -> Option<DeletionM> {
        let today = self.today;
        let request = self.deletions.iter_mut().find(|d| d.id == id)?;
        if request.done_on.is_none() {
            request.done_on = Some(today);
            if let Some(s) = self.subjects.get_mut(&request.subject) {
                let mut kept = Vec::new();
                for key in std::mem::take(&mut request.records) {
                    match s.records.get(&key) {
                        Some(r) if !item_of(&r.current().item).is_some_and(|i| i.deletable) => {
                            request.refused.push(Refused::Record(key));
                        }
                        Some(_) => {
                            s.records.remove(&key);
                            // The provider is told (Art. 27 ¶2).
                            let to = ToM::Provider(key.0.clone());
                            self.notices.push((today, to, None, key.clone()));
                            kept.push(key);
                        }
                        // Gone already (another request): nothing to do.
                        None => kept.push(key),
                    }
                }
                request.records = kept;
            }
        }
        Some(request.clone())
    }
}

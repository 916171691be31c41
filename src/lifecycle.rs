//! The life of a record (issue 5): objections (Art. 28-30) driven through their state machine
//! (`domain::objection`), the marks and suspensions they put on records, the notification outbox,
//! and the scheduler tick that applies what is due.
//!
//! Each operation reads the objection, applies one transition (deadlines from the policy profile
//! and the working-day calendar), and writes in **one atomic batch** the objection, the record's
//! new mark and the notifications the transition requires, then flushes. Operations are
//! serialised by the registry lock. The scheduler tick ([`Store::process_due`]) is idempotent:
//! it applies only transitions that are due and not yet applied.

use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::objection::{Effects, Event, Ground, Objection};
use crate::domain::record::Record;
use crate::error::{Error, Result};
use crate::store::lifecycle::{self, DeletionRequest, Notification, Recipient, Tombstone};
use crate::Store;
use serde::Serialize;

/// What a scheduler tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DueReport {
    /// Objections whose provider missed its deadline: their records are now suspended.
    pub suspended: Vec<u64>,
    /// Deletion requests carried out.
    pub deleted: Vec<u64>,
    /// The retention sweep, when asked for.
    pub swept: Option<crate::store::retention::SweepReport>,
}

impl Store {
    /// Files an objection of `subject` to its record `record_id`, received on `today`. A
    /// past-query-period objection is settled at once by the retention rule (Art. 27 ¶1).
    pub fn file_objection(
        &self,
        subject: &SubjectCode,
        record_id: u64,
        ground: Ground,
        today: Date,
    ) -> Result<Objection> {
        let found = self
            .subject(subject)?
            .ok_or_else(|| Error::Invalid("no such subject".to_string()))?;
        let record = found
            .records
            .iter()
            .find(|r| r.record_id.0 == record_id)
            .ok_or_else(|| Error::Invalid(format!("the subject has no record {record_id}")))?;
        let current = record.current();
        let past_period = self
            .catalog()
            .get(&current.content.item)
            .and_then(|i| i.query_period_end(current.content.occurred_on, current.content.ended_on))
            .is_some_and(|end| today >= end);
        let provider = record.provider.clone();
        let _guard = self.registry_lock();
        let mut counters = self.lifecycle_counters()?;
        let id = counters.next_objection_id.max(1);
        counters.next_objection_id = id + 1;
        let (mut objection, mut effects) = Objection::file(
            id,
            *subject,
            record_id,
            provider,
            ground,
            today,
            self.policy(),
            self.calendar(),
        )
        .map_err(objection_error)?;
        let mut all = vec![effects.clone()];
        if ground == Ground::PastQueryPeriod {
            effects = objection
                .apply(
                    Event::Settle { past_period },
                    today,
                    self.policy(),
                    self.calendar(),
                )
                .map_err(objection_error)?;
            all.push(effects);
        }
        self.write_transition(&objection, &all, &mut counters, today)?;
        Ok(objection)
    }

    /// The centre's comparison (Art. 29 ¶1): the platform's record against the provider's
    /// submission as stored at ingest. If they differ the record is corrected to the provider's
    /// version; if they agree the objection goes to the provider with its deadline.
    ///
    /// NOTE: the store keeps every provider submission verbatim as a version and never edits
    /// one, so the platform's record (the newest version) *is* the provider's latest submission
    /// and the comparison agrees; the corrected branch is taken if a record's newest version
    /// ever stops being one the provider submitted (the state machine covers both).
    pub fn compare_objection(&self, id: u64, today: Date) -> Result<Objection> {
        let objection = self.objection_or_err(id)?;
        let records = self.records(&objection.subject)?;
        let record = records
            .iter()
            .find(|r| r.record_id.0 == objection.record_id)
            .ok_or_else(|| Error::Invalid("the record is no longer stored".to_string()))?;
        let provider_latest = record.versions.iter().max_by_key(|v| v.collection_seq);
        let differs = provider_latest.is_some_and(|v| v.content != record.current().content);
        self.transition(id, Event::Compare { differs }, today)
    }

    /// The provider's answer to a forwarded (or, late, a suspended) objection. An upheld
    /// objection's correction arrives from the provider as a new version of the record.
    pub fn respond_objection(&self, id: u64, upheld: bool, today: Date) -> Result<Objection> {
        self.transition(id, Event::Respond { upheld }, today)
    }

    /// The subject still disagrees after a rejection: the record keeps its objection mark.
    pub fn dispute_objection(&self, id: u64, today: Date) -> Result<Objection> {
        self.transition(id, Event::Dispute, today)
    }

    /// The scheduler tick: applies every transition due as of `today` — providers' missed
    /// deadlines become suspensions, pending deletion requests are carried out (at the first
    /// tick after receipt, so always by their due day when the tick runs daily). Idempotent.
    pub fn process_due(&self, today: Date) -> Result<DueReport> {
        self.process_due_with(today, false)
    }

    /// [`Store::process_due`], and with `sweep` the retention sweep as of `today` after the
    /// other transitions.
    pub fn process_due_with(&self, today: Date, sweep: bool) -> Result<DueReport> {
        let mut report = DueReport::default();
        for objection in self.objections()? {
            if let Some(event) = objection.due_event(today) {
                self.transition(objection.id, event, today)?;
                report.suspended.push(objection.id);
            }
        }
        for request in self.deletion_requests()? {
            if request.done_on.is_none() && request.received_on <= today {
                self.carry_out_deletion(request.id, today)?;
                report.deleted.push(request.id);
            }
        }
        if sweep {
            report.swept = Some(self.sweep(&crate::store::retention::SweepOptions {
                as_of: today,
                dry_run: false,
            })?);
        }
        Ok(report)
    }

    /// A subject asks to delete records (Art. 27 ¶2): `records` names them (empty: every record
    /// of the subject that may be deleted on request). Only commendation, volunteer and charity
    /// records may be (the catalog marks them); others are listed in the request as refused, with
    /// the reason. The deletion is due within the policy's working days; `at_once` carries it out
    /// now, otherwise the scheduler tick does.
    pub fn request_deletion(
        &self,
        subject: &SubjectCode,
        records: &[u64],
        today: Date,
        at_once: bool,
    ) -> Result<DeletionRequest> {
        let stored = self.records(subject)?;
        if stored.is_empty() {
            return Err(Error::Invalid("no such subject".to_string()));
        }
        let deletable = |r: &Record| self.deletable_on_request(r);
        let (mut accepted, mut refused) = (Vec::new(), Vec::new());
        if records.is_empty() {
            accepted.extend(
                stored
                    .iter()
                    .filter(|r| deletable(r))
                    .map(|r| r.record_id.0),
            );
        }
        for &id in records {
            match stored.iter().find(|r| r.record_id.0 == id) {
                None => refused.push((id, "the subject has no such record".to_string())),
                Some(r) if deletable(r) => accepted.push(id),
                Some(r) => refused.push((
                    id,
                    format!(
                        "item {} is not a commendation, volunteer or charity record; Art. 27 ¶2 allows deleting only those on request",
                        r.current().content.item
                    ),
                )),
            }
        }
        accepted.sort_unstable();
        accepted.dedup();
        let due_on = match self.policy().due(
            crate::domain::policy::Deadline::DeletionOnRequest,
            today,
            self.calendar(),
        ) {
            Some(due) => due.map_err(|e| Error::Invalid(e.to_string()))?,
            None => today,
        };
        let request = {
            let _guard = self.registry_lock();
            let mut counters = self.lifecycle_counters()?;
            let id = counters.next_deletion_id.max(1);
            counters.next_deletion_id = id + 1;
            let request = DeletionRequest {
                id,
                subject: *subject,
                received_on: today,
                due_on,
                records: accepted,
                refused,
                done_on: None,
            };
            let mut batch = sled::Batch::default();
            lifecycle::put_deletion(&mut batch, &request);
            lifecycle::put_counters(&mut batch, &counters);
            self.tree().apply_batch(batch)?;
            self.flush()?;
            request
        };
        if at_once {
            return self.carry_out_deletion(request.id, today);
        }
        Ok(request)
    }

    /// Whether the subject may have `record` deleted on request (Art. 27 ¶2): its version in
    /// force is a commendation, volunteer or charity record.
    fn deletable_on_request(&self, record: &Record) -> bool {
        self.catalog()
            .get(&record.current().content.item)
            .is_some_and(|i| i.deletable_on_request)
    }

    /// Carries out a deletion request: in one batch the records leave the subject (their content
    /// is gone), tombstones keep what refuses a resubmission, the providers are notified and the
    /// request is marked done. A record whose new version made it something else than a
    /// commendation, volunteer or charity record since the request stays, and the request lists
    /// it as refused. Idempotent.
    pub fn carry_out_deletion(&self, id: u64, today: Date) -> Result<DeletionRequest> {
        let _guard = self.registry_lock();
        let mut request = lifecycle::deletion(self.tree(), id)?
            .ok_or_else(|| Error::Invalid(format!("no deletion request {id}")))?;
        if request.done_on.is_some() {
            return Ok(request);
        }
        request.done_on = Some(today);
        let mut counters = self.lifecycle_counters()?;
        let mut tombstones = lifecycle::tombstones(self.tree(), &request.subject)?;
        let subject = request.subject;
        let done = self.rewrite_subject(&subject, |entry, batch| {
            for column in entry.columns.iter_mut() {
                let mut kept = Vec::with_capacity(column.len());
                for record in column.drain(..) {
                    if !request.records.contains(&record.record_id.0) {
                        kept.push(record);
                        continue;
                    }
                    let item = record.current().content.item.clone();
                    // NOTE: the request was checked when received; a new version since may have
                    // changed the item, and deleting what is no longer deletable on request
                    // would be an unlawful deletion (Art. 31). Found by tests/model.rs.
                    if !self.deletable_on_request(&record) {
                        let id = record.record_id.0;
                        request.records.retain(|r| *r != id);
                        request.refused.push((
                            id,
                            format!(
                                "item {item}: the record changed after the request and is no longer a commendation, volunteer or charity record; Art. 27 ¶2 allows deleting only those on request"
                            ),
                        ));
                        kept.push(record);
                        continue;
                    }
                    lifecycle::put_notification(
                        batch,
                        &Notification {
                            seq: counters.next_notification_seq,
                            on: today,
                            to: Recipient::Provider(record.provider.clone()),
                            objection: None,
                            record_id: record.record_id.0,
                            message: format!(
                                "record {:?} ({item}) deleted on the subject's request {} (Art. 27 ¶2)",
                                record.provider_record_id, request.id
                            ),
                            acked_on: None,
                        },
                    );
                    counters.next_notification_seq += 1;
                    tombstones.push(Tombstone {
                        record_id: record.record_id.0,
                        provider: record.provider,
                        provider_record_id: record.provider_record_id,
                        item,
                        deleted_on: today,
                        request: request.id,
                    });
                }
                *column = kept;
            }
            lifecycle::put_tombstones(batch, &subject, &tombstones);
            lifecycle::put_deletion(batch, &request);
            lifecycle::put_counters(batch, &counters);
            Ok(())
        })?;
        if done.is_none() {
            return Err(Error::Invalid(
                "the subject is no longer stored".to_string(),
            ));
        }
        self.note_tombstoned(&subject);
        Ok(request)
    }

    /// Every deletion request, by id.
    pub fn deletion_requests(&self) -> Result<Vec<DeletionRequest>> {
        lifecycle::deletions(self.tree()).collect()
    }

    /// An objection by id.
    pub fn objection(&self, id: u64) -> Result<Option<Objection>> {
        lifecycle::objection(self.tree(), id)
    }

    /// Every objection, by id.
    pub fn objections(&self) -> Result<Vec<Objection>> {
        lifecycle::objections(self.tree()).collect()
    }

    /// The notification outbox, oldest first.
    pub fn notifications(&self) -> Result<Vec<Notification>> {
        lifecycle::notifications(self.tree()).collect()
    }

    /// Marks a notification as sent.
    pub fn ack_notification(&self, seq: u64, today: Date) -> Result<Notification> {
        let _guard = self.registry_lock();
        let mut n = lifecycle::notification(self.tree(), seq)?
            .ok_or_else(|| Error::Invalid(format!("no notification {seq}")))?;
        if n.acked_on.is_none() {
            n.acked_on = Some(today);
            let mut batch = sled::Batch::default();
            lifecycle::put_notification(&mut batch, &n);
            self.tree().apply_batch(batch)?;
            self.flush()?;
        }
        Ok(n)
    }

    fn objection_or_err(&self, id: u64) -> Result<Objection> {
        self.objection(id)?
            .ok_or_else(|| Error::Invalid(format!("no objection {id}")))
    }

    fn lifecycle_counters(&self) -> Result<lifecycle::LifecycleCounters> {
        lifecycle::counters(self.tree())
    }

    fn transition(&self, id: u64, event: Event, today: Date) -> Result<Objection> {
        let _guard = self.registry_lock();
        let mut objection = self.objection_or_err(id)?;
        let effects = objection
            .apply(event, today, self.policy(), self.calendar())
            .map_err(objection_error)?;
        let mut counters = self.lifecycle_counters()?;
        self.write_transition(&objection, &[effects], &mut counters, today)?;
        Ok(objection)
    }

    /// Writes an objection, its record's mark (the strongest over the record's objections) and
    /// its notifications in one batch; the caller holds the registry lock.
    fn write_transition(
        &self,
        objection: &Objection,
        effects: &[Effects],
        counters: &mut lifecycle::LifecycleCounters,
        today: Date,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        lifecycle::put_objection(&mut batch, objection);
        // A record may carry several objections: its mark is the union of theirs.
        let mut mark = objection.state.mark();
        for other in lifecycle::objections(self.tree()) {
            let other = other?;
            if other.id != objection.id && other.record_id == objection.record_id {
                let m = other.state.mark();
                mark = (mark.0 || m.0, mark.1 || m.1);
            }
        }
        let any = self.mark_in_batch(
            &mut batch,
            &objection.subject,
            objection.record_id,
            mark,
            today,
        )?;
        for e in effects {
            let mut notify = |to: Recipient, message: &String| {
                let seq = counters.next_notification_seq;
                counters.next_notification_seq += 1;
                lifecycle::put_notification(
                    &mut batch,
                    &Notification {
                        seq,
                        on: today,
                        to,
                        objection: Some(objection.id),
                        record_id: objection.record_id,
                        message: message.clone(),
                        acked_on: None,
                    },
                );
            };
            if let Some(m) = &e.notify_subject {
                notify(Recipient::Subject(objection.subject), m);
            }
            if let Some(m) = &e.notify_provider {
                notify(Recipient::Provider(objection.provider.clone()), m);
            }
        }
        lifecycle::put_counters(&mut batch, counters);
        self.tree().apply_batch(batch)?;
        self.flush()?;
        self.note_marked(&objection.subject, any);
        Ok(())
    }
}

fn objection_error(e: crate::domain::objection::ObjectionError) -> Error {
    Error::Invalid(e.to_string())
}

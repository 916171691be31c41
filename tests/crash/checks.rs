//! Checks every scenario runs on a reopened store: the store's own consistency, since the crate
//! has no `Store::check` (there is no `credstore check` either): both hash chains verify, every
//! subject decodes, every record version names a collection-log entry that describes it, the
//! change log has no gap and names every stored subject, and the search index finds every stored
//! subject by its code and no subject the store does not hold.

use super::harness::Outcome;
use credstore::domain::code::SubjectCode;
use credstore::domain::record::SubjectRecords;
use credstore::search::{Matched, Requester};
use credstore::Store;
use std::collections::{BTreeSet, HashSet};

/// What the store holds, read once for a scenario's own checks.
pub struct Stored {
    /// Every subject with its records, in code order.
    pub subjects: Vec<SubjectRecords>,
    /// Record versions in the store.
    pub versions: u64,
    /// Versions the collection log says were stored (`accepted + new_versions`, summed).
    pub logged_versions: u64,
}

impl Stored {
    /// The stored subject with this code.
    pub fn subject(&self, code: &SubjectCode) -> Option<&SubjectRecords> {
        self.subjects
            .binary_search_by(|s| s.subject.code.cmp(code))
            .ok()
            .map(|i| &self.subjects[i])
    }
}

/// Checks the store's consistency and returns what it holds.
pub fn consistent(store: &Store) -> Outcome<Stored> {
    let audit = store.audit_verify()?;
    if !audit.ok() {
        return Err(format!("a hash chain is broken: {audit:?}").into());
    }
    let log: Vec<_> = store.collection_log().collect::<Result<_, _>>()?;
    let logged_versions = log.iter().map(|e| e.accepted + e.new_versions).sum();
    let mut subjects = Vec::new();
    for code in store.subject_codes() {
        let code = code?;
        let found = store
            .subject(&code)?
            .ok_or_else(|| format!("{code:?} is listed but cannot be read"))?;
        subjects.push(found);
    }
    let mut record_ids = HashSet::new();
    let mut subject_ids = HashSet::new();
    let mut versions = 0u64;
    for s in &subjects {
        if !subject_ids.insert(s.subject.subject_id) {
            return Err(format!("subject id {} used twice", s.subject.subject_id).into());
        }
        for r in &s.records {
            if !record_ids.insert(r.record_id) {
                return Err(format!("record id {:?} used twice", r.record_id).into());
            }
            for (i, v) in r.versions.iter().enumerate() {
                versions += 1;
                if v.version as usize != i + 1 {
                    return Err(format!("record {:?}: versions out of order", r.record_id).into());
                }
                let entry = log.get(v.collection_seq as usize).ok_or_else(|| {
                    format!(
                        "record {:?} v{} names collection entry {}, which is not there",
                        r.record_id, v.version, v.collection_seq
                    )
                })?;
                if entry.provider != r.provider || entry.collected_on != v.collected_on {
                    return Err(format!(
                        "record {:?} v{}: collection entry {} describes another batch",
                        r.record_id, v.version, v.collection_seq
                    )
                    .into());
                }
            }
        }
    }
    changes_name_every_subject(store, &subjects, log.len() as u64)?;
    searchable(store, &subjects)?;
    Ok(Stored {
        subjects,
        versions,
        logged_versions,
    })
}

/// The change log has no gap, names only collection entries that exist, and names every stored
/// subject (or the search index could never have caught up with it).
fn changes_name_every_subject(
    store: &Store,
    subjects: &[SubjectRecords],
    collection_entries: u64,
) -> Outcome {
    let mut named = BTreeSet::new();
    let mut expected = None;
    for change in store.changes_since(0) {
        let change = change?;
        if expected.is_some_and(|e| e != change.seq) {
            return Err(format!("change log gap before {}", change.seq).into());
        }
        expected = Some(change.seq + 1);
        if change
            .collection_seq
            .is_some_and(|c| c >= collection_entries)
        {
            return Err(format!("change {} names a missing collection entry", change.seq).into());
        }
        named.extend(change.subjects);
    }
    if let Some(s) = subjects.iter().find(|s| !named.contains(&s.subject.code)) {
        return Err(format!("{:?} is stored but no change names it", s.subject.code).into());
    }
    Ok(())
}

/// Every stored subject is found by its full code (opening the store caught the index up).
fn searchable(store: &Store, subjects: &[SubjectRecords]) -> Outcome {
    for s in subjects {
        let code = s.subject.code;
        let hits = store.search(Requester::Entitled, code.as_str(), 1)?;
        let found = hits
            .first()
            .is_some_and(|h| h.matched == Matched::Code && h.code == code.as_str());
        if !found {
            return Err(format!("{code:?} is stored but not found by its code: {hits:?}").into());
        }
    }
    Ok(())
}

/// None of `codes` that the store does not hold is found by its code: the index never holds
/// what the store does not.
pub fn not_searchable_unless_stored(
    store: &Store,
    stored: &Stored,
    codes: &[SubjectCode],
) -> Outcome {
    for code in codes.iter().filter(|c| stored.subject(c).is_none()) {
        let hits = store.search(Requester::Entitled, code.as_str(), 1)?;
        if hits.iter().any(|h| h.matched == Matched::Code) {
            return Err(format!("{code:?} is found by the index but not stored").into());
        }
    }
    Ok(())
}

//! The workload both engines run, drawn deterministically from the generated data, and the
//! ground truth the parent checks their answers against.
//!
//! The parent reads the generated files once (with the crate's parser and validator, untimed),
//! keeps every subject's names and every record's due date, and writes `workload.json`: the
//! 10,000 codes to look up, the search queries of each class, and the sweep date. The children
//! read it; neither engine sees the other's answers.

use crate::data::{self, Chunk};
use anyhow::{Context, Result};
use credstore::domain::catalog::Catalog;
use credstore::domain::code::{gen, SubjectCode};
use credstore::domain::date::Date;
use credstore::domain::SubjectKind;
use credstore::generate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Codes per lookup batch: 9,000 drawn from the stored subjects (with replacement), 1,000 absent.
const PRESENT: usize = 9_000;
const ABSENT: usize = 1_000;
/// Hits asked of each search.
pub const LIMIT: usize = 20;

/// A search query class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassKind {
    /// Two consecutive Chinese characters of a name (FTS5 trigram cannot index these: LIKE).
    Fragment2,
    /// Four consecutive Chinese characters of a company name.
    Fragment4,
    /// A person's whole name (2-4 characters).
    PersonName,
    /// A whole code.
    Code,
    /// The first 6-9 characters of a code.
    CodePrefix,
}

impl ClassKind {
    /// The row label.
    pub fn label(self) -> &'static str {
        match self {
            ClassKind::Fragment2 => "name search, 2-char fragment",
            ClassKind::Fragment4 => "name search, 4-char fragment",
            ClassKind::PersonName => "name search, full person name",
            ClassKind::Code => "code search, exact code",
            ClassKind::CodePrefix => "code search, prefix (6-9)",
        }
    }

    /// Whether the query is a name (else a code).
    pub fn is_name(self) -> bool {
        matches!(
            self,
            ClassKind::Fragment2 | ClassKind::Fragment4 | ClassKind::PersonName
        )
    }
}

/// The queries of one class.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryClass {
    /// Which class.
    pub kind: ClassKind,
    /// The queries, in the order they are run.
    pub queries: Vec<String>,
}

/// What each child runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workload {
    /// Subjects generated.
    pub subjects: u64,
    /// The generated provider files.
    pub data_dir: PathBuf,
    /// The collection date of the load, as a day number.
    pub today: i32,
    /// Timed runs per lookup batch.
    pub runs: usize,
    /// The codes of the lookup batch, in key order.
    pub lookup_codes: Vec<String>,
    /// The search queries.
    pub classes: Vec<QueryClass>,
    /// The sweep date (day number): records whose query period has ended by then fall due.
    pub sweep_as_of: i32,
}

impl Workload {
    /// The collection date.
    pub fn today(&self) -> Date {
        Date::from_days(self.today).expect("a day number written by the parent")
    }

    /// The sweep date.
    pub fn sweep_as_of(&self) -> Date {
        Date::from_days(self.sweep_as_of).expect("a day number written by the parent")
    }

    /// Writes `dir/workload.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join("workload.json");
        std::fs::write(&path, serde_json::to_vec(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Reads `dir/workload.json`.
    pub fn load(dir: &Path) -> Result<Workload> {
        let path = dir.join("workload.json");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// What the generated data holds, for checking the engines' answers.
pub struct Truth {
    /// Every name each subject was submitted under.
    pub names: BTreeMap<SubjectCode, Vec<String>>,
    /// Records accepted (every valid line: the generated provider ids are unique).
    pub records: u64,
    /// Lines the validator refused.
    pub refused: u64,
    /// Records due at the sweep date, by catalog item.
    pub due_by_item: BTreeMap<String, u64>,
}

impl Truth {
    /// Whether `code` is a subject one of whose names contains `text`.
    pub fn name_contains(&self, code: &str, text: &str) -> bool {
        SubjectCode::from_stored(code.as_bytes())
            .and_then(|c| self.names.get(&c))
            .is_some_and(|names| names.iter().any(|n| n.contains(text)))
    }

    /// Whether `code` is a stored subject.
    pub fn has(&self, code: &str) -> bool {
        SubjectCode::from_stored(code.as_bytes()).is_some_and(|c| self.names.contains_key(&c))
    }
}

/// Reads the generated data and draws the workload from it.
pub fn build(
    data_dir: &Path,
    subjects: u64,
    queries: usize,
    runs: usize,
) -> Result<(Workload, Truth)> {
    let today = data::today();
    let catalog = Catalog::builtin();
    let mut names: BTreeMap<SubjectCode, Vec<String>> = BTreeMap::new();
    let mut due: Vec<(i32, u16)> = Vec::new();
    let (mut records, mut refused) = (0u64, 0u64);
    data::for_each_chunk(&data::sources(data_dir)?, today, |chunk: Chunk| {
        for line in chunk.lines {
            let Ok(sub) = line else {
                refused += 1;
                continue;
            };
            records += 1;
            let entry = names.entry(sub.subject).or_default();
            // The current name last, as the stores keep it.
            entry.retain(|n| *n != sub.content.subject_name);
            entry.push(sub.content.subject_name.clone());
            let item = catalog.get(&sub.content.item);
            let end = item
                .and_then(|i| i.query_period_end(sub.content.occurred_on, sub.content.ended_on));
            if let (Some(end), Some(index)) = (end, item_index(catalog, &sub.content.item)) {
                due.push((end.to_days(), index));
            }
        }
        Ok(())
    })?;
    let sweep_as_of = sweep_date(&mut due, records);
    let mut due_by_item = BTreeMap::new();
    for &(day, item) in due.iter().take_while(|(day, _)| *day <= sweep_as_of) {
        debug_assert!(day <= sweep_as_of);
        *due_by_item
            .entry(catalog.items()[usize::from(item)].code.clone())
            .or_insert(0) += 1;
    }
    let truth = Truth {
        names,
        records,
        refused,
        due_by_item,
    };
    let workload = Workload {
        subjects,
        data_dir: data_dir.to_path_buf(),
        today: today.to_days(),
        runs,
        lookup_codes: lookup_codes(&truth, subjects),
        classes: query_classes(&truth, queries),
        sweep_as_of,
    };
    Ok((workload, truth))
}

/// A catalog item's position in the catalog (the SQLite baseline stores it as a small integer).
pub fn item_index(catalog: &Catalog, item: &str) -> Option<u16> {
    catalog
        .items()
        .iter()
        .position(|i| i.code == item)
        .and_then(|p| u16::try_from(p).ok())
}

/// The day by which ~10% of all records have passed their query period (sorts `due`).
fn sweep_date(due: &mut [(i32, u16)], records: u64) -> i32 {
    due.sort_unstable();
    let tenth = (records / 10).max(1) as usize;
    match due.get(tenth - 1).or(due.last()) {
        Some(&(day, _)) => day,
        None => data::today().to_days(),
    }
}

/// 9,000 stored codes drawn at random (with replacement) and 1,000 valid codes not stored, in
/// key order.
fn lookup_codes(truth: &Truth, subjects: u64) -> Vec<String> {
    let codes: Vec<&SubjectCode> = truth.names.keys().collect();
    let mut rng = Rng::new(subjects ^ 0xB0B);
    let mut out: Vec<String> = (0..PRESENT)
        .map(|_| codes[rng.index(codes.len())].as_str().to_string())
        .collect();
    let mut absent = HashSet::new();
    while absent.len() < ABSENT {
        let birth = Date::from_ymd(
            1960 + rng.below(40) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .expect("a valid date");
        let code = gen::resident_id(&mut rng, "310109", birth);
        if !truth.names.contains_key(&code) {
            absent.insert(code.as_str().to_string());
        }
    }
    out.extend(absent);
    out.sort_unstable();
    out
}

/// `n` queries per class, drawn from the subjects' names and codes. Name fragments are made of
/// Chinese characters only: there both engines mean "the name contains the text" (credstore
/// indexes a run of Latin letters as one unit, so `AB` does not find `ABC`; SQLite's LIKE does).
fn query_classes(truth: &Truth, n: usize) -> Vec<QueryClass> {
    let subjects: Vec<(&SubjectCode, &String)> = truth
        .names
        .iter()
        .map(|(code, names)| (code, names.last().expect("a subject has a name")))
        .collect();
    let of_kind = |kind| -> Vec<&(&SubjectCode, &String)> {
        subjects.iter().filter(|(c, _)| c.kind() == kind).collect()
    };
    let (persons, companies) = (
        of_kind(SubjectKind::NaturalPerson),
        of_kind(SubjectKind::Organization),
    );
    let mut rng = Rng::new(7);
    let all: Vec<&(&SubjectCode, &String)> = subjects.iter().collect();
    let mut class =
        |kind,
         pool: &[&(&SubjectCode, &String)],
         draw: &dyn Fn(&mut Rng, &SubjectCode, &str) -> Option<String>| {
            let mut queries = Vec::with_capacity(n);
            while queries.len() < n {
                let (code, name) = pool[rng.index(pool.len())];
                if let Some(q) = draw(&mut rng, code, name) {
                    queries.push(q);
                }
            }
            QueryClass { kind, queries }
        };
    vec![
        class(ClassKind::Fragment2, &all, &|rng, _, name| {
            fragment(rng, name, 2)
        }),
        class(ClassKind::Fragment4, &companies, &|rng, _, name| {
            fragment(rng, name, 4)
        }),
        class(ClassKind::PersonName, &persons, &|_, _, name| {
            Some(name.to_string())
        }),
        class(ClassKind::Code, &all, &|_, code, _| {
            Some(code.as_str().to_string())
        }),
        class(ClassKind::CodePrefix, &all, &|rng, code, _| {
            Some(code.as_str()[..6 + rng.index(4)].to_string())
        }),
    ]
}

/// `len` consecutive characters of `name` at a random place, if they are all Chinese.
fn fragment(rng: &mut Rng, name: &str, len: usize) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < len {
        return None;
    }
    let at = rng.index(chars.len() - len + 1);
    let piece = &chars[at..at + len];
    piece
        .iter()
        .all(|c| c.is_alphabetic() && !c.is_ascii())
        .then(|| piece.iter().collect())
}

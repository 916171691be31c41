//! Fuzzing, on stable, of every parser of outside input and of the value decoder (issue 7,
//! part 4): subject codes, dates, JSON Lines lines, CSV rows, the catalog, calendar, policy and
//! application-catalog files, and stored values. Each target asserts "no panic, and a typed
//! error or a value", plus the round trip where one exists.
//!
//! Each target runs `CREDSTORE_FUZZ_CASES` cases (default 2,000; the ingest targets, which go
//! through a real store, a twentieth of that). A long run: `CREDSTORE_FUZZ_CASES=200000 cargo
//! test --release --test fuzz_parsers`.

mod common;

use common::*;
use credstore::codec;
use credstore::domain::calendar::WorkCalendar;
use credstore::domain::catalog::Catalog;
use credstore::domain::code::{gen, SubjectCode};
use credstore::domain::date::Date;
use credstore::domain::policy::Policy;
use credstore::domain::record::{Record, Subject};
use credstore::domain::SubjectKind;
use credstore::generate::rng::Rng;
use credstore::ingest::{FileFormat, IngestOptions, IngestReport};
use credstore::query::application::ApplicationCatalog;
use credstore::query::{Asker, QueryOptions};
use credstore::store::dictionaries::Dictionaries;
use credstore::store::subjects::{self, SubjectEntry};
use credstore::{Error, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Cases per target: `CREDSTORE_FUZZ_CASES`, default 2,000.
fn cases() -> u32 {
    std::env::var("CREDSTORE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// A proptest configuration running `cases() / divisor` cases (at least 10).
fn config(divisor: u32) -> Config {
    Config {
        cases: (cases() / divisor).max(10),
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// The configuration of a hand-driven runner (no source file to persist failures beside).
fn runner(divisor: u32) -> TestRunner {
    TestRunner::new(Config {
        failure_persistence: None,
        ..config(divisor)
    })
}

/// Characters a hostile code is made of: the alphabets, lookalikes, full-width forms, spaces
/// that normalisation removes, and some that it must not.
const CODE_CHARS: &[char] = &[
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'X', 'x', 'Y', 'O', 'o', 'I', 'l',
    'Z', 'S', 'V', '０', '１', '９', 'Ｏ', 'Ｘ', 'ｘ', ' ', '\u{3000}', '\u{200B}', '\u{FEFF}',
    '\t', '-', 'Ⅰ', 'О', 'ß', 'İ', '\u{0}', '\u{202E}', '零', '〇',
];

fn code_like() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(CODE_CHARS), 0..24)
        .prop_map(|cs| cs.into_iter().collect())
}

/// A valid code (a person's or an organisation's) with up to three characters replaced by
/// hostile ones, and some spaces or full-width folding that normalisation must undo.
fn mutated_code() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        any::<bool>(),
        prop::collection::vec((0usize..18, prop::sample::select(CODE_CHARS)), 0..3),
    )
        .prop_map(|(seed, person, edits)| {
            let mut rng = Rng::new(seed);
            let code = if person {
                let born = Date::from_days(-20_000 + (seed % 25_000) as i32).unwrap_or(today());
                gen::resident_id(&mut rng, "310101", born)
            } else {
                gen::uscc(&mut rng, "310115")
            };
            let mut chars: Vec<char> = code.as_str().chars().collect();
            for (at, c) in edits {
                chars[at] = c;
            }
            chars.into_iter().collect()
        })
}

fn check_code(input: &str) -> Result<(), TestCaseError> {
    match SubjectCode::parse(input, today()) {
        Ok(parsed) => {
            let text = parsed.code.as_str();
            prop_assert_eq!(text.len(), 18);
            let again = SubjectCode::parse(text, today());
            prop_assert!(
                matches!(&again, Ok(p) if p.code == parsed.code && p.kind == parsed.kind),
                "a valid code does not re-parse to itself"
            );
            prop_assert_eq!(
                SubjectCode::from_stored(parsed.code.as_bytes()),
                Some(parsed.code)
            );
            if parsed.kind == SubjectKind::NaturalPerson {
                let masked = parsed.code.masked();
                prop_assert!(!masked.contains(&text[6..14]), "masked() shows the middle");
                let debug = format!("{:?}", parsed.code);
                prop_assert!(!debug.contains(&text[6..14]), "Debug shows the middle");
            }
        }
        Err(e) => {
            let message = e.to_string();
            let normalized = credstore::domain::code::normalize(input);
            prop_assert!(!message.is_empty());
            if normalized.chars().count() >= 10 {
                prop_assert!(!message.contains(&normalized), "the error echoes the code");
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn subject_code_parse_on_arbitrary_strings(input in any::<String>()) {
        check_code(&input)?;
    }

    #[test]
    fn subject_code_parse_on_code_alphabets_and_lookalikes(input in code_like()) {
        check_code(&input)?;
    }

    #[test]
    fn subject_code_parse_on_mutated_valid_codes(input in mutated_code()) {
        check_code(&input)?;
    }

    #[test]
    fn date_parse_on_arbitrary_strings(input in any::<String>()) {
        if let Ok(d) = Date::parse(&input) {
            prop_assert_eq!(d.to_string(), input);
        }
    }

    #[test]
    fn date_parse_on_date_shaped_strings(input in "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}") {
        match Date::parse(&input) {
            Ok(d) => {
                prop_assert_eq!(d.to_string(), input.clone());
                prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
            }
            Err(e) => prop_assert!(!e.to_string().contains(&input)),
        }
    }

    #[test]
    fn every_day_number_round_trips_through_display(days in -800_000i32..3_000_000) {
        if let Some(d) = Date::from_days(days) {
            prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
        }
    }
}

// ---- JSON Lines and CSV through the public ingest API ----------------------------------------

/// One store per test function, with a pool of subjects the good lines are about.
struct Fixture {
    _tmp: tempfile::TempDir,
    store: Store,
    orgs: Vec<SubjectCode>,
    options: IngestOptions,
    next_id: AtomicU64,
}

impl Fixture {
    fn new() -> Result<Fixture, Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let store = Store::open(tmp.path().join("store"))?;
        let mut options = options();
        // The index is not under test here; leaving it behind keeps each case to a store flush.
        options.defer_search_index = true;
        Ok(Fixture {
            _tmp: tmp,
            store,
            orgs: usccs(77, 40),
            options,
            next_id: AtomicU64::new(0),
        })
    }

    /// A known-good line with a fresh provider_record_id; returns it with its code and id.
    fn good_line(&self) -> (Value, SubjectCode, String) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("GOOD-{n}");
        let code = self.orgs[n as usize % self.orgs.len()];
        let mut l = line(&id, &code, "上海好数据有限公司", "D-PENALTY", "2026-02-01");
        l["title"] = json!(format!("良好记录 {n}"));
        (l, code, id)
    }

    fn is_stored(&self, code: &SubjectCode, id: &str) -> Result<bool, TestCaseError> {
        let found = self
            .store
            .subject(code)
            .map_err(|e| TestCaseError::fail(format!("reading a good subject: {e}")))?;
        Ok(found.is_some_and(|s| s.records.iter().any(|r| r.provider_record_id == id)))
    }

    fn ingest(&self, format: FileFormat, bytes: &[u8]) -> credstore::Result<IngestReport> {
        self.store
            .ingest_reader("FUZZ-SH", "fuzz", format, bytes, &self.options)
    }
}

/// What every report must satisfy, whatever the input.
fn check_report(
    report: &IngestReport,
    max_line: u64,
    values: &[String],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        report.lines,
        report.accepted + report.duplicates + report.new_versions + report.rejected,
        "every line is counted once: {:?}",
        report
    );
    prop_assert_eq!(report.rejects.len() as u64, report.rejected);
    for r in &report.rejects {
        prop_assert!(
            r.line >= 1 && r.line <= max_line,
            "line {} of {}",
            r.line,
            max_line
        );
        prop_assert!(
            [
                "syntax",
                "encoding",
                "too_long",
                "prohibited",
                "field",
                "refused",
                "conflict"
            ]
            .contains(&r.kind),
            "kind {}",
            r.kind
        );
        prop_assert!(!r.reason.is_empty());
        prop_assert_eq!(r.file.as_str(), "fuzz");
        for v in values.iter().filter(|v| v.chars().count() >= 8) {
            prop_assert!(
                !r.reason.contains(v.as_str()),
                "reason {:?} echoes a value",
                r.reason
            );
        }
    }
    Ok(())
}

/// Values that are recognisable if echoed: a marker and random text.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "VAL[a-z]{6}.{0,20}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!("2023-02-30")),
        Just(json!("=cmd|' /C calc'!A0")),
        Just(json!("\u{0}\u{7}\u{202E}")),
        Just(json!("")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const KEYS: &[&str] = &[
    "provider_record_id",
    "subject_code",
    "subject_name",
    "item",
    "occurred_on",
    "decided_on",
    "ended_on",
    "reminded_on",
    "disclosure",
    "grade",
    "title",
    "facts",
    "amount_fen",
    "attributes",
    "blood_type",
    "宗教信仰",
    "unknown_key",
];

/// An edit of a line: set a key (known or random) to a hostile value, remove one, or write a
/// key twice.
#[derive(Debug, Clone)]
enum Edit {
    Set(String, Value),
    Remove(String),
    Duplicate(String, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    let key = prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_string),
        "[a-z_]{1,12}",
    ];
    prop_oneof![
        (key.clone(), hostile_value()).prop_map(|(k, v)| Edit::Set(k, v)),
        key.clone().prop_map(Edit::Remove),
        (key, hostile_value()).prop_map(|(k, v)| Edit::Duplicate(k, v)),
    ]
}

/// A hostile line: a template line under edits, then maybe cut or with bytes spliced in.
#[derive(Debug, Clone)]
struct HostileLine {
    edits: Vec<Edit>,
    cut: Option<prop::sample::Index>,
    splice: Option<(prop::sample::Index, Vec<u8>)>,
}

fn hostile_line() -> impl Strategy<Value = HostileLine> {
    (
        prop::collection::vec(edit(), 0..5),
        prop::option::weighted(0.2, any::<prop::sample::Index>()),
        prop::option::weighted(
            0.2,
            (
                any::<prop::sample::Index>(),
                prop::collection::vec(any::<u8>(), 1..6),
            ),
        ),
    )
        .prop_map(|(edits, cut, splice)| HostileLine { edits, cut, splice })
}

/// Renders a hostile line (no newline inside unless spliced in) and the values it carries.
fn render(h: &HostileLine, template: Value) -> (Vec<u8>, Vec<String>) {
    let Value::Object(mut map) = template else {
        unreachable!("a template line is an object")
    };
    let mut values = Vec::new();
    let mut dup = String::new();
    for e in &h.edits {
        match e {
            Edit::Set(k, v) => {
                collect_strings(v, &mut values);
                map.insert(k.clone(), v.clone());
            }
            Edit::Remove(k) => {
                map.remove(k);
            }
            Edit::Duplicate(k, v) => {
                collect_strings(v, &mut values);
                dup.push_str(&format!(",{}:{v}", Value::from(k.as_str())));
            }
        }
    }
    let body = Value::Object(map).to_string();
    let mut bytes = if dup.is_empty() || body == "{}" {
        body.into_bytes()
    } else {
        format!("{}{dup}}}", &body[..body.len() - 1]).into_bytes()
    };
    if let Some(at) = &h.cut {
        bytes.truncate(at.index(bytes.len() + 1));
    }
    if let Some((at, inserted)) = &h.splice {
        let at = at.index(bytes.len() + 1);
        bytes.splice(at..at, inserted.iter().copied());
    }
    (bytes, values)
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("VAL") => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

#[test]
fn jsonl_ingest_of_hostile_lines_keeps_the_good_ones() -> TestResult {
    let f = Fixture::new()?;
    let mut runner = runner(20);
    let strategy = prop::collection::vec(hostile_line(), 1..6);
    let kinds = std::cell::RefCell::new(std::collections::BTreeSet::new());
    runner
        .run(&strategy, |hostile| {
            let (first, first_code, first_id) = f.good_line();
            let (last, last_code, last_id) = f.good_line();
            let mut file = format!("{first}\n").into_bytes();
            let mut values = Vec::new();
            for h in &hostile {
                let (template, _, _) = f.good_line();
                let (bytes, v) = render(h, template);
                file.extend_from_slice(&bytes);
                file.push(b'\n');
                values.extend(v);
            }
            let last_line = file.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            file.extend_from_slice(format!("{last}\n").as_bytes());
            match f.ingest(FileFormat::JsonLines, &file) {
                Ok(report) => {
                    check_report(&report, last_line, &values)?;
                    kinds
                        .borrow_mut()
                        .extend(report.rejects.iter().map(|r| r.kind));
                    prop_assert!(f.is_stored(&first_code, &first_id)?, "first good line lost");
                    prop_assert!(f.is_stored(&last_code, &last_id)?, "last good line lost");
                    prop_assert!(!report
                        .rejects
                        .iter()
                        .any(|r| r.line == 1 || r.line == last_line));
                }
                Err(Error::Encoding { .. }) => {
                    prop_assert!(
                        !f.is_stored(&first_code, &first_id)?,
                        "a refused file stored a line"
                    );
                }
                Err(e) => return Err(fail(format!("ingest failed as a whole: {e}"))),
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    // The generator reaches the parser's and the validator's refusals, not only one of them.
    let kinds = kinds.into_inner();
    if runner.config().cases >= 100 {
        for kind in ["syntax", "field", "prohibited", "encoding"] {
            assert!(kinds.contains(kind), "no {kind} reject in {kinds:?}");
        }
    }
    Ok(())
}

#[test]
fn jsonl_ingest_of_arbitrary_bytes_never_panics() -> TestResult {
    let f = Fixture::new()?;
    let mut runner = runner(20);
    let strategy = prop::collection::vec(any::<u8>(), 0..400);
    runner
        .run(&strategy, |garbage| {
            let (first, code, id) = f.good_line();
            let mut file = format!("{first}\n").into_bytes();
            file.extend_from_slice(&garbage);
            let max_line = file.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            match f.ingest(FileFormat::JsonLines, &file) {
                Ok(report) => {
                    check_report(&report, max_line, &[])?;
                    prop_assert!(
                        f.is_stored(&code, &id)?,
                        "the good line before garbage was lost"
                    );
                }
                Err(Error::Encoding { .. }) => {}
                Err(e) => return Err(fail(format!("ingest failed as a whole: {e}"))),
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// CSV cells a provider (or an attacker) might send.
fn csv_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "VAL[a-z]{6}.{0,12}",
        Just("=cmd|' /C calc'!A0".to_string()),
        Just("+1".to_string()),
        Just("-1".to_string()),
        Just("@SUM(1)".to_string()),
        Just("2023-02-30".to_string()),
        Just("\"".to_string()),
        Just("a,b\nc\r\n".to_string()),
        Just(String::new()),
        Just("\u{0}\u{7}\u{202E}".to_string()),
        any::<String>(),
    ]
}

const CSV_HEADER: [&str; 7] = [
    "provider_record_id",
    "subject_code",
    "subject_name",
    "item",
    "occurred_on",
    "title",
    "case_no",
];

fn csv_row(cells: &[String]) -> Result<Vec<u8>, TestCaseError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells).map_err(fail)?;
    w.into_inner().map_err(fail)
}

#[test]
fn csv_ingest_of_hostile_rows_keeps_the_good_ones() -> TestResult {
    let f = Fixture::new()?;
    let mut runner = runner(20);
    // Each hostile row: the good row's cells, some replaced, some added or dropped.
    let row = prop::collection::vec((0usize..9, csv_cell()), 0..5);
    let strategy = prop::collection::vec(row, 1..6);
    runner
        .run(&strategy, |rows| {
            let good_cells = |l: &Value| -> Vec<String> {
                CSV_HEADER
                    .iter()
                    .map(|k| l.get(*k).and_then(Value::as_str).unwrap_or("").to_string())
                    .collect()
            };
            let mut file = csv_row(&CSV_HEADER.map(str::to_string))?;
            let (first, first_code, first_id) = f.good_line();
            file.extend(csv_row(&good_cells(&first))?);
            let mut values = Vec::new();
            for edits in &rows {
                let (template, _, _) = f.good_line();
                let mut cells = good_cells(&template);
                for (at, cell) in edits {
                    if cell.starts_with("VAL") {
                        values.push(cell.clone());
                    }
                    match at {
                        0..=6 if *at < cells.len() => cells[*at] = cell.clone(),
                        7 => cells.push(cell.clone()),
                        _ => {
                            cells.pop();
                        }
                    }
                }
                if cells.is_empty() {
                    cells.push(String::from("x"));
                }
                file.extend(csv_row(&cells)?);
            }
            let (last, last_code, last_id) = f.good_line();
            let last_line = file.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            file.extend(csv_row(&good_cells(&last))?);
            match f.ingest(FileFormat::Csv, &file) {
                Ok(report) => {
                    check_report(&report, last_line, &values)?;
                    prop_assert!(f.is_stored(&first_code, &first_id)?, "first good row lost");
                    prop_assert!(f.is_stored(&last_code, &last_id)?, "last good row lost");
                }
                Err(e) => return Err(fail(format!("ingest failed as a whole: {e}"))),
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn csv_ingest_of_arbitrary_bytes_never_panics() -> TestResult {
    let f = Fixture::new()?;
    let mut runner = runner(20);
    let strategy = prop::collection::vec(any::<u8>(), 0..400);
    runner
        .run(&strategy, |garbage| {
            let mut file = csv_row(&CSV_HEADER.map(str::to_string))?;
            let (first, code, id) = f.good_line();
            let cells: Vec<String> = CSV_HEADER
                .iter()
                .map(|k| {
                    first
                        .get(*k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            file.extend(csv_row(&cells)?);
            file.extend_from_slice(&garbage);
            let max_line = file.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            match f.ingest(FileFormat::Csv, &file) {
                Ok(report) => {
                    check_report(&report, max_line, &[])?;
                    prop_assert!(
                        f.is_stored(&code, &id)?,
                        "the good row before garbage was lost"
                    );
                }
                Err(Error::Encoding { .. }) => {}
                Err(e) => return Err(fail(format!("ingest failed as a whole: {e}"))),
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

// ---- the data files: catalog, calendar, policy, application catalog -------------------------

const CATALOG: &str = include_str!("../data-samples/catalog-2026.json");
const CALENDAR: &str = include_str!("../data-samples/workdays-cn.json");
const POLICY: &str = include_str!("../data-samples/policies/measures-2018.json");
const POLICY_2017: &str =
    include_str!("../data-samples/policies/social-credit-regulation-2017.json");
const APPLICATIONS: &str = include_str!("../data-samples/application-catalog-2026.json");

/// A mutation of a file's bytes: flips, truncation, insertions; lossily back to text.
fn mutated(original: &'static str) -> impl Strategy<Value = String> {
    let op = prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| (0u8, i, vec![b])),
        any::<prop::sample::Index>().prop_map(|i| (1u8, i, vec![])),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..8)
        )
            .prop_map(|(i, b)| (2u8, i, b)),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(&b"{}[],:\"0-9e"[..])
        )
            .prop_map(|(i, b)| (3u8, i, vec![b])),
    ];
    prop::collection::vec(op, 1..6).prop_map(move |ops| {
        let mut bytes = original.as_bytes().to_vec();
        for (kind, at, data) in ops {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] ^= data[0] | 1,
                1 => bytes.truncate(i),
                3 if i < bytes.len() => bytes[i] = data[0],
                _ => {
                    bytes.splice(i..i, data);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn parse_all_data_files(text: &str) {
    if let Err(e) = Catalog::parse(text, "fuzz") {
        assert!(!e.to_string().is_empty());
    }
    if let Err(e) = WorkCalendar::parse(text, "fuzz") {
        assert!(!e.to_string().is_empty());
    }
    if let Err(e) = Policy::parse(text, "fuzz") {
        assert!(!e.to_string().is_empty());
    }
    if let Err(e) = ApplicationCatalog::parse(text, Catalog::builtin()) {
        assert!(!e.is_empty());
    }
}

proptest! {
    #![proptest_config(config(4))]

    #[test]
    fn data_file_parsers_on_arbitrary_text(text in any::<String>()) {
        parse_all_data_files(&text);
    }

    #[test]
    fn catalog_parse_on_mutated_real_file(text in mutated(CATALOG)) {
        let _ = Catalog::parse(&text, "fuzz");
    }

    #[test]
    fn calendar_parse_on_mutated_real_file(text in mutated(CALENDAR)) {
        let _ = WorkCalendar::parse(&text, "fuzz");
    }

    #[test]
    fn policy_parse_on_mutated_real_files(a in mutated(POLICY), b in mutated(POLICY_2017)) {
        let _ = Policy::parse(&a, "fuzz");
        let _ = Policy::parse(&b, "fuzz");
    }

    #[test]
    fn application_catalog_parse_on_mutated_real_file(text in mutated(APPLICATIONS)) {
        let _ = ApplicationCatalog::parse(&text, Catalog::builtin());
    }
}

#[test]
fn the_real_data_files_parse() -> TestResult {
    Catalog::parse(CATALOG, "catalog")?;
    WorkCalendar::parse(CALENDAR, "calendar")?;
    Policy::parse(POLICY, "policy")?;
    Policy::parse(POLICY_2017, "policy")?;
    ApplicationCatalog::parse(APPLICATIONS, Catalog::builtin())?;
    Ok(())
}

// ---- the value decoder ----------------------------------------------------------------------

/// Valid encodings of stored types, taken from a small real store.
struct Samples {
    /// (type name, encoded value)
    values: Vec<(&'static str, Vec<u8>)>,
    /// (key, plain subject value)
    subjects: Vec<(Vec<u8>, Vec<u8>)>,
}

fn samples() -> Result<Samples, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(5, 3);
    let adult = person(6, "1980-05-05");
    let mut lines: Vec<Value> = orgs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            line(
                &format!("S-{i}"),
                c,
                "上海样本有限公司",
                "D-PENALTY",
                &format!("2026-01-0{}", i + 1),
            )
        })
        .collect();
    lines.push(line("S-P", &adult, "张三", "B-NP-EDUCATION", "2002-07-01"));
    let mut penalty = line(
        "S-9",
        &orgs[0],
        "上海样本有限公司",
        "D-PENALTY",
        "2025-03-01",
    );
    penalty["attributes"] = json!({"case_no": "2025-1"});
    penalty["amount_fen"] = json!(100);
    lines.push(penalty);
    ingest_jsonl(&store, "SAMPLE-SH", "s.jsonl", &jsonl(&lines))?;
    store.query(&Asker::Public, &orgs[0], &QueryOptions::new(today()))?;
    store.query(&Asker::Public, &adult, &QueryOptions::new(today()))?;
    let mut values = Vec::new();
    for e in store.collection_log() {
        values.push(("collection", codec::encode(&e?)));
    }
    for e in store.changes_since(0) {
        values.push(("change", codec::encode(&e?)));
    }
    for e in store.query_log() {
        values.push(("query", codec::encode(&e?)));
    }
    let mut subjects_out = Vec::new();
    for code in orgs.iter().chain([&adult]) {
        let found = must_get(&store, code)?;
        let mut entry = SubjectEntry::new(found.subject.clone());
        for r in found.records {
            entry.column_mut(r.category).push(r);
        }
        let key = credstore::store::keys::subject(code).to_vec();
        subjects_out.push((key, subjects::encode_plain(&entry)));
        values.push(("subject", codec::encode(&found.subject)));
    }
    Ok(Samples {
        values,
        subjects: subjects_out,
    })
}

/// Decodes `bytes` as every stored type; every failure must be typed corruption naming the
/// tree and key.
fn decode_as_everything(bytes: &[u8], key: &[u8]) -> Result<(), TestCaseError> {
    use credstore::domain::objection::Objection;
    use credstore::query::model::{Authorisation, Requester};
    use credstore::store::{
        changelog::ChangeEntry, collection_log::CollectionEntry, lifecycle::Notification,
        query_log::QueryLogEntry, registry::RecordMark,
    };
    fn one<T: serde::de::DeserializeOwned>(bytes: &[u8], key: &[u8]) -> Result<(), TestCaseError> {
        match codec::decode::<T>(bytes, "x", key) {
            Ok(_) => Ok(()),
            Err(Error::Corrupt {
                tree: "x",
                key: k,
                reason,
            }) => {
                prop_assert!(!k.is_empty() && !reason.is_empty());
                Ok(())
            }
            Err(e) => Err(fail(format!("not a corruption error: {e:?}"))),
        }
    }
    one::<CollectionEntry>(bytes, key)?;
    one::<QueryLogEntry>(bytes, key)?;
    one::<ChangeEntry>(bytes, key)?;
    one::<Requester>(bytes, key)?;
    one::<Authorisation>(bytes, key)?;
    one::<Objection>(bytes, key)?;
    one::<Notification>(bytes, key)?;
    one::<RecordMark>(bytes, key)?;
    one::<Subject>(bytes, key)?;
    one::<Vec<Record>>(bytes, key)?;
    Ok(())
}

fn decode_subject(key: &[u8], value: &[u8], dicts: &Dictionaries) -> Result<(), TestCaseError> {
    // The borrowed views of the verification sweep read the same bytes: never a panic either.
    if let Ok(plain) = credstore::codec::plain(value, |id| dicts.get(id), "subjects", key) {
        if let Ok(sections) = credstore::codec::unframe::<4>(&plain, "subjects", key) {
            for column in &sections[1..] {
                let _ = subjects::decode_column(column, key, &mut Vec::new());
            }
        }
    }
    match subjects::decode(key, value, dicts) {
        Ok(_) => Ok(()),
        Err(Error::Corrupt {
            tree: "subjects",
            key: k,
            ..
        }) => {
            // A person's code never appears in clear in the error.
            if let Some(code) = SubjectCode::from_stored(&key[1..]) {
                if code.kind() == SubjectKind::NaturalPerson {
                    prop_assert!(!k.contains(code.as_str()));
                }
            }
            Ok(())
        }
        Err(e) => Err(fail(format!("not a corruption error: {e:?}"))),
    }
}

/// Flips, truncates, overwrites and inserts bytes of `original`.
fn mutate(original: &[u8], ops: &[(u8, prop::sample::Index, u8)]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for (kind, at, b) in ops {
        let i = at.index(bytes.len() + 1);
        match kind % 4 {
            0 if i < bytes.len() => bytes[i] ^= b | 1,
            1 => bytes.truncate(i),
            2 if i < bytes.len() => bytes[i] = *b,
            _ => bytes.insert(i, *b),
        }
    }
    bytes
}

fn mutation_ops() -> impl Strategy<Value = Vec<(u8, prop::sample::Index, u8)>> {
    prop::collection::vec(
        (any::<u8>(), any::<prop::sample::Index>(), any::<u8>()),
        1..5,
    )
}

#[test]
fn value_decoder_on_arbitrary_and_mutated_bytes() -> TestResult {
    let samples = samples()?;
    let person_key = samples.subjects[3].0.clone();
    let mut runner = runner(1);
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..300),
        any::<prop::sample::Index>(),
        mutation_ops(),
    );
    runner
        .run(&strategy, |(garbage, pick, ops)| {
            decode_as_everything(&garbage, &person_key)?;
            let mut framed = vec![codec::VALUE_FORMAT];
            framed.extend_from_slice(&garbage);
            decode_as_everything(&framed, &person_key)?;
            let (_, valid) = &samples.values[pick.index(samples.values.len())];
            decode_as_everything(&mutate(valid, &ops), &person_key)?;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn subject_decoder_on_arbitrary_and_mutated_bytes() -> TestResult {
    let samples = samples()?;
    let dicts = Dictionaries::default();
    // A raw-content dictionary (zstd accepts any bytes as one) so the compressed path is fuzzed.
    let dict_bytes: Vec<u8> = samples
        .subjects
        .iter()
        .flat_map(|(_, v)| v.clone())
        .collect();
    let dict = std::sync::Arc::new(codec::Dictionary::new(1, dict_bytes));
    dicts.install(dict.clone());
    let mut compressor = dict.compressor()?;
    let mut valid = Vec::new();
    for (key, plain) in &samples.subjects {
        let entry = subjects::decode(key, plain, &dicts)?;
        assert_eq!(subjects::encode_plain(&entry), *plain, "plain round trip");
        let packed = codec::compress(plain, &dict, &mut compressor)?;
        assert_eq!(
            subjects::decode(key, &packed, &dicts)?,
            entry,
            "compressed round trip"
        );
        valid.push((key.clone(), plain.clone()));
        valid.push((key.clone(), packed));
    }
    let mut runner = runner(1);
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..300),
        any::<prop::sample::Index>(),
        mutation_ops(),
    );
    runner
        .run(&strategy, |(garbage, pick, ops)| {
            let (key, value) = &valid[pick.index(valid.len())];
            decode_subject(key, &garbage, &dicts)?;
            let mut compressed = vec![codec::COMPRESSED, 0, 0, 0, 1];
            compressed.extend_from_slice(&garbage);
            decode_subject(key, &compressed, &dicts)?;
            decode_subject(key, &mutate(value, &ops), &dicts)?;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn a_length_prefix_claiming_2_pow_60_bytes_errors_fast() -> TestResult {
    // bincode's standard config: a u64 length is 0xFD then 8 bytes little-endian.
    let mut huge = vec![codec::VALUE_FORMAT, 0xFD];
    huge.extend_from_slice(&(1u64 << 60).to_le_bytes());
    huge.extend_from_slice(b"short");
    let mut section = vec![0xFD];
    section.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let mut framed_subject = vec![codec::VALUE_FORMAT];
    for _ in 0..4 {
        framed_subject.extend_from_slice(&(section.len() as u32).to_be_bytes());
        framed_subject.extend_from_slice(&section);
    }
    // Just under the 256 MiB limit: accepted as a claim, but there are no such bytes.
    let mut big = vec![codec::VALUE_FORMAT, 0xFC];
    big.extend_from_slice(&(250u32 << 20).to_le_bytes());
    let key = credstore::store::keys::subject(&person(9, "1970-01-01"));
    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    for _ in 0..100 {
        for bytes in [&huge, &big] {
            let errors = [
                codec::decode::<String>(bytes, "x", &key).err(),
                codec::decode::<Vec<Record>>(bytes, "x", &key).err(),
                codec::decode::<Vec<u8>>(bytes, "x", &key).err(),
                codec::decode::<Subject>(bytes, "x", &key).err(),
            ];
            for e in errors {
                assert!(matches!(e, Some(Error::Corrupt { tree: "x", .. })), "{e:?}");
            }
        }
        let e = subjects::decode(&key, &framed_subject, &Dictionaries::default());
        assert!(
            matches!(
                e,
                Err(Error::Corrupt {
                    tree: "subjects",
                    ..
                })
            ),
            "{e:?}"
        );
    }
    let elapsed = started.elapsed();
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert!(elapsed.as_secs_f64() < 2.0, "took {elapsed:?}");
    assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");
    Ok(())
}

#[test]
fn a_corrupted_subject_value_in_the_store_is_a_typed_error_naming_tree_and_key() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let orgs = usccs(11, 2);
    let adult = person(12, "1975-03-03");
    let lines = vec![
        line("C-1", &orgs[0], "上海甲公司", "D-PENALTY", "2026-02-01"),
        line("C-2", &orgs[1], "上海乙公司", "D-PENALTY", "2026-02-01"),
        line("C-3", &adult, "王五", "B-NP-EDUCATION", "2000-07-01"),
    ];
    let garbage: [&[u8]; 4] = [
        b"",
        b"\x01\x00\x00\x00\x05garbage",
        b"\x81\x00\x00\x00\x07\xFF\xFF\xFF\xFFgarbage",
        b"\x02not a value",
    ];
    for (round, bad) in garbage.iter().enumerate() {
        let dir = dir.join(round.to_string());
        {
            let store = Store::open(&dir)?;
            ingest_jsonl(&store, "CORRUPT-SH", "c.jsonl", &jsonl(&lines))?;
        }
        for code in [&adult, &orgs[0]] {
            with_tree(&dir, |tree| {
                let key = credstore::store::keys::subject(code);
                assert!(tree.get(key)?.is_some(), "the key layout is 's' ++ code");
                tree.insert(key, *bad)?;
                Ok(())
            })?;
        }
        let store = Store::open(&dir)?;
        for code in [&adult, &orgs[0]] {
            let err = match store.subject(code) {
                Err(e) => e,
                Ok(found) => return Err(format!("corruption not noticed: {found:?}").into()),
            };
            assert!(
                matches!(&err, Error::Corrupt { tree: "subjects", key, .. } if key.starts_with("s/")),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(!message.contains(adult.as_str()), "{message}");
            assert!(message.contains("subjects"), "{message}");
            if code == &adult {
                assert!(message.contains(&adult.masked()), "{message}");
            }
        }
        assert_eq!(
            must_get(&store, &orgs[1])?.records.len(),
            1,
            "others still read"
        );
    }
    Ok(())
}

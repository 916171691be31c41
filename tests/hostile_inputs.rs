//! Hostile provider files (issue 7, part 6): truncated lines, invalid UTF-8, a GBK file, a
//! 100 MB line, deeply nested JSON, wrong types, duplicate keys, formula-looking CSV cells,
//! control characters, lookalike characters in codes and impossible dates.
//!
//! Each case is ingested into a store that already holds known-good records, and checks that
//! every bad line gets a clear per-line reject (file, line, kind, reason) that never repeats the
//! value, that the good lines of the same file are kept, and that what was stored before is
//! byte-identical afterwards. The corpus is `tests/hostile/`; codes are written there as
//! placeholders (`{ORG1}`, `{PRE_ORG}`, ...) because valid ones depend on check characters, and
//! the large inputs are generated here rather than kept in git.

mod common;

use common::*;
use credstore::codec;
use credstore::domain::code::SubjectCode;
use credstore::domain::record::SubjectRecords;
use credstore::ingest::{FileFormat, IngestReport};
use credstore::store::Stats;
use credstore::{Error, Store};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The provider of both the stored records and the hostile files, so that a bad line about a
/// stored record would, if accepted, become a new version of it.
const PROVIDER: &str = "SAMR-SH";

/// A store holding known-good records, and the codes the corpus refers to.
struct Case {
    tmp: tempfile::TempDir,
    store: Store,
    /// Organisations with no records yet (the good lines of the corpus).
    org1: SubjectCode,
    org2: SubjectCode,
    /// An adult with no records yet.
    person: SubjectCode,
    /// The subjects stored before, with their records and encodings, and the store's counts.
    pre: Vec<(SubjectCode, SubjectRecords, Vec<u8>)>,
    stats: Stats,
}

/// A subject's records as bytes: the stored types' own encoding, to compare byte for byte.
fn snapshot(
    store: &Store,
    code: &SubjectCode,
) -> Result<(SubjectRecords, Vec<u8>), Box<dyn std::error::Error>> {
    let found = must_get(store, code)?;
    let mut bytes = codec::encode(&found.subject);
    for r in &found.records {
        bytes.extend(codec::encode(r));
    }
    Ok((found, bytes))
}

impl Case {
    fn new() -> Result<Case, Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let store = Store::open(tmp.path().join("store"))?;
        let orgs = usccs(301, 3);
        let pre_person = person(303, "1979-01-01");
        let mut pre_org = line(
            "PRE-1",
            &orgs[2],
            "上海既有有限公司",
            "D-PENALTY",
            "2025-06-01",
        );
        pre_org["title"] = "行政处罚".into();
        pre_org["amount_fen"] = 50_000.into();
        pre_org["attributes"] = serde_json::json!({"case_no": "2025-0001"});
        let pre_np = line(
            "PRE-2",
            &pre_person,
            "李既有",
            "B-NP-EDUCATION",
            "2001-07-01",
        );
        let report = ingest_jsonl(&store, PROVIDER, "pre.jsonl", &jsonl(&[pre_org, pre_np]))?;
        assert_eq!((report.accepted, report.rejected), (2, 0), "{report:?}");
        let mut pre = Vec::new();
        for code in [orgs[2], pre_person] {
            let (records, bytes) = snapshot(&store, &code)?;
            pre.push((code, records, bytes));
        }
        let stats = store.stats()?;
        Ok(Case {
            tmp,
            store,
            org1: orgs[0],
            org2: orgs[1],
            person: person(302, "1985-06-15"),
            pre,
            stats,
        })
    }

    /// A corpus file with its placeholders filled in.
    fn corpus(&self, name: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/hostile")
            .join(name);
        let mut bytes = std::fs::read(path)?;
        let org1 = self.org1.as_str();
        let person = self.person.as_str();
        let pairs = [
            ("{ORG1_O}", org1.replacen('0', "O", 1)),
            ("{ORG1_I}", org1.replacen('1', "I", 1)),
            ("{PERSON_O}", person.replacen('0', "O", 1)),
            ("{PERSON_L}", person.replacen('1', "l", 1)),
            ("{ORG1}", org1.to_string()),
            ("{ORG2}", self.org2.as_str().to_string()),
            ("{PERSON}", person.to_string()),
            ("{PRE_ORG}", self.pre[0].0.as_str().to_string()),
        ];
        for (from, to) in pairs {
            bytes = replace_all(&bytes, from.as_bytes(), to.as_bytes());
        }
        Ok(bytes)
    }

    /// Writes a corpus file into the case's directory under its own name and ingests it.
    fn ingest(
        &self,
        name: &str,
    ) -> Result<(PathBuf, credstore::Result<IngestReport>), Box<dyn std::error::Error>> {
        let path = write_file(self.tmp.path(), name, self.corpus(name)?)?;
        let result = self.store.ingest_files(PROVIDER, &[&path], &options());
        Ok((path, result))
    }

    /// What was stored before is byte-identical, and the counts moved only by what the report
    /// says was added.
    fn assert_unchanged(&self, report: &IngestReport) -> TestResult {
        for (code, records, bytes) in &self.pre {
            let (now, now_bytes) = snapshot(&self.store, code)?;
            assert_eq!(&now, records, "a stored subject changed");
            assert_eq!(&now_bytes, bytes, "a stored subject's bytes changed");
        }
        let stats = self.store.stats()?;
        assert_eq!(
            stats.records,
            self.stats.records + report.accepted,
            "{report:?}"
        );
        assert_eq!(
            stats.versions,
            self.stats.versions + report.accepted + report.new_versions,
            "{report:?}"
        );
        assert_eq!(report.new_versions, 0, "no stored record gained a version");
        Ok(())
    }

    /// The record `id` of `code` is stored.
    fn assert_kept(&self, code: &SubjectCode, id: &str) -> TestResult {
        let found = must_get(&self.store, code)?;
        assert!(
            found.records.iter().any(|r| r.provider_record_id == id),
            "good line {id} was not kept"
        );
        Ok(())
    }
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Checks the report's rejects are exactly `expected` (line, kind, a word of the reason), each
/// naming the file, and that no reason contains any of `secrets`.
fn assert_rejects(
    report: &IngestReport,
    path: &Path,
    expected: &[(u64, &str, &str)],
    secrets: &[&str],
) {
    let got: Vec<(u64, &str)> = report.rejects.iter().map(|r| (r.line, r.kind)).collect();
    let want: Vec<(u64, &str)> = expected.iter().map(|(l, k, _)| (*l, *k)).collect();
    assert_eq!(got, want, "{:#?}", report.rejects);
    assert_eq!(report.rejected, expected.len() as u64);
    assert_eq!(
        report.lines,
        report.accepted + report.duplicates + report.new_versions + report.rejected
    );
    for (reject, (_, _, word)) in report.rejects.iter().zip(expected) {
        assert_eq!(reject.file, path.display().to_string());
        assert!(
            reject.reason.contains(word),
            "line {}: {:?} should mention {word:?}",
            reject.line,
            reject.reason
        );
        for secret in secrets {
            assert!(
                !reject.reason.contains(secret),
                "line {}: {:?} repeats a value",
                reject.line,
                reject.reason
            );
        }
    }
}

#[test]
fn truncated_lines_are_rejected_and_their_neighbours_kept() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("truncated.jsonl")?;
    let report = report?;
    assert_rejects(
        &report,
        &path,
        &[(2, "syntax", "truncated"), (4, "syntax", "truncated")],
        &["TRUNCATEDSECRET", case.pre[0].0.as_str()],
    );
    case.assert_kept(&case.org1, "H-TR-1")?;
    case.assert_kept(&case.org2, "H-TR-3")?;
    case.assert_unchanged(&report)
}

#[test]
fn invalid_utf8_rejects_only_its_line() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("invalid-utf8.jsonl")?;
    let report = report?;
    assert_rejects(
        &report,
        &path,
        &[
            (2, "encoding", "not valid text"),
            (3, "encoding", "not valid text"),
            (4, "encoding", "not valid text"),
        ],
        &[case.pre[0].0.as_str()],
    );
    case.assert_kept(&case.org1, "H-U8-1")?;
    case.assert_kept(&case.org2, "H-U8-5")?;
    case.assert_unchanged(&report)
}

#[test]
fn a_gbk_file_is_refused_naming_gb18030_and_nothing_is_stored() -> TestResult {
    let case = Case::new()?;
    let log_before = case.store.collection_log().count();
    let (path, result) = case.ingest("gbk.csv")?;
    let err = match result {
        Ok(report) => return Err(format!("a GBK file was ingested: {report:?}").into()),
        Err(e) => e,
    };
    assert!(
        matches!(&err, Error::Encoding { path: p, encoding } if p == &path && encoding.contains("GB18030")),
        "{err:?}"
    );
    assert!(err.to_string().contains("gb18030"), "{err}");
    assert!(case.store.subject(&case.org1)?.is_none());
    assert_eq!(case.store.collection_log().count(), log_before);
    case.assert_unchanged(&IngestReport::default())
}

const HUNDRED_MB: u64 = 100 << 20;

#[test]
fn a_100_mb_line_is_rejected_as_too_long_without_buffering_it() -> TestResult {
    let case = Case::new()?;
    let good = |id: &str, code: &SubjectCode| {
        format!(
            "{}\n",
            line(id, code, "上海长行有限公司", "D-PENALTY", "2026-02-01")
        )
    };
    // Generated as a stream: the line is never in memory, here or (the point) in the reader.
    let head = format!(
        "{}{{\"provider_record_id\":\"PRE-1\",\"subject_code\":\"{}\",\"subject_name\":\"",
        good("H-BIG-1", &case.org1),
        case.pre[0].0.as_str()
    );
    let tail = format!(
        "\",\"item\":\"D-PENALTY\",\"occurred_on\":\"2026-02-01\"}}\n{}",
        good("H-BIG-3", &case.org2)
    );
    let stream = std::io::Cursor::new(head.into_bytes())
        .chain(std::io::repeat(b'A').take(HUNDRED_MB))
        .chain(std::io::Cursor::new(tail.into_bytes()));
    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    let report = case.store.ingest_reader(
        PROVIDER,
        "big.jsonl",
        FileFormat::JsonLines,
        stream,
        &options(),
    )?;
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "peak memory grew by {grown_mib} MiB");
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert_rejects(
        &report,
        Path::new("big.jsonl"),
        &[(2, "too_long", "longer than 1048576 bytes")],
        &["AAAAAAAA"],
    );
    case.assert_kept(&case.org1, "H-BIG-1")?;
    case.assert_kept(&case.org2, "H-BIG-3")?;
    case.assert_unchanged(&report)
}

#[test]
fn deeply_nested_json_is_a_syntax_error_not_a_stack_overflow() -> TestResult {
    let case = Case::new()?;
    let code = case.pre[0].0.as_str();
    let deep = 100_000;
    let lines = [
        format!(
            "{}",
            line(
                "H-NE-1",
                &case.org1,
                "上海嵌套甲有限公司",
                "D-PENALTY",
                "2026-02-01"
            )
        ),
        format!(
            r#"{{"provider_record_id":"PRE-1","subject_code":"{code}","subject_name":"x","item":"D-PENALTY","occurred_on":"2026-02-01","title":{}{}}}"#,
            "[".repeat(deep),
            "]".repeat(deep)
        ),
        format!(
            r#"{{"provider_record_id":"PRE-1","subject_code":"{code}","attributes":{{"k":{}1{}}}}}"#,
            "{\"a\":".repeat(deep),
            "}".repeat(deep)
        ),
        "[".repeat(deep),
        "{\"a\":".repeat(deep),
        format!(
            "{}",
            line(
                "H-NE-6",
                &case.org2,
                "上海嵌套乙有限公司",
                "D-PENALTY",
                "2026-02-01"
            )
        ),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let path = write_file(case.tmp.path(), "nested.jsonl", text)?;
    let report = case.store.ingest_files(PROVIDER, &[&path], &options())?;
    assert_rejects(
        &report,
        &path,
        // serde_json skips an ignored value without recursing, so depth alone is no error:
        // a nested value where text goes is refused as such, unclosed nesting as truncated.
        &[
            (2, "field", "\"title\": must be a string"),
            (3, "field", "\"attributes.k\": must be a string"),
            (4, "syntax", "a line must be a JSON object"),
            (5, "syntax", "truncated JSON"),
        ],
        &[],
    );
    case.assert_kept(&case.org1, "H-NE-1")?;
    case.assert_kept(&case.org2, "H-NE-6")?;
    case.assert_unchanged(&report)
}

#[test]
fn wrong_types_are_refused_per_line_naming_the_field() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("wrong-types.jsonl")?;
    let report = report?;
    assert_rejects(
        &report,
        &path,
        &[
            (2, "field", "\"subject_name\": must be a string"),
            (3, "field", "\"occurred_on\": must be a string"),
            (4, "field", "\"title\": must be a string"),
            (5, "field", "\"amount_fen\": must be a whole"),
            (6, "field", "\"attributes\": must be an object of strings"),
            (7, "field", "\"subject_name\": must be a string"),
            (8, "syntax", "a line must be a JSON object"),
            (9, "syntax", "a line must be a JSON object"),
        ],
        &["WRONGTYPESECRET", "91310000123"],
    );
    case.assert_kept(&case.org1, "H-WT-1")?;
    case.assert_kept(&case.org2, "H-WT-10")?;
    let amount = must_get(&case.store, &case.org2)?.records[0]
        .current()
        .content
        .amount_fen;
    assert_eq!(
        amount,
        Some(150_000),
        "a JSON number is fine where the interface has one"
    );
    case.assert_unchanged(&report)
}

#[test]
fn numeric_record_ids_are_refused_not_rounded_into_one_record() -> TestResult {
    // Regression (found by fuzzing): numbers were accepted in text fields as the text of an
    // f64, so these two ids became the same id and the second line was stored as a new version
    // of the first line's record.
    let case = Case::new()?;
    let mut a = line(
        "x",
        &case.org1,
        "上海数字有限公司",
        "D-PENALTY",
        "2026-02-01",
    );
    a["provider_record_id"] = serde_json::from_str("12345678901234567890123")?;
    let mut b = line(
        "x",
        &case.org1,
        "上海数字有限公司",
        "D-PENALTY",
        "2026-02-02",
    );
    b["provider_record_id"] = serde_json::from_str("12345678901234567890124")?;
    let text = format!("{a}\n{b}\n");
    let report = ingest_jsonl(&case.store, PROVIDER, "numbers.jsonl", &text)?;
    assert_rejects(
        &report,
        Path::new("numbers.jsonl"),
        &[
            (1, "field", "\"provider_record_id\": must be a string"),
            (2, "field", "\"provider_record_id\": must be a string"),
        ],
        &["1234567890"],
    );
    assert!(case.store.subject(&case.org1)?.is_none());
    case.assert_unchanged(&report)
}

#[test]
fn duplicate_keys_are_refused_per_line() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("duplicate-keys.jsonl")?;
    let report = report?;
    assert_rejects(
        &report,
        &path,
        &[
            (2, "field", "\"title\": appears twice"),
            (3, "field", "\"subject_code\": appears twice"),
            (4, "field", "\"attributes.k\": appears twice"),
            (5, "field", "\"attributes\": appears twice"),
        ],
        &["DUPLICATESECRET", case.org2.as_str()],
    );
    case.assert_kept(&case.org1, "H-DK-1")?;
    case.assert_kept(&case.org2, "H-DK-6")?;
    case.assert_unchanged(&report)
}

/// What the store does with formula-looking CSV cells (`=cmd|...`, `+1`, `-1`, `@SUM(1)`): it
/// is a store, not a spreadsheet, so text fields keep them verbatim as text, and every output
/// is JSON, where they are plain strings (no output of credstore is CSV, so nothing is handed to
/// a spreadsheet to evaluate). `amount_fen` is a number: "+1" is read as 1 (Rust's integer
/// syntax), "-1" is refused as negative. Whoever exports records to CSV for a spreadsheet must
/// neutralise such cells there.
#[test]
fn formula_looking_csv_cells_are_kept_as_inert_text() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("formula.csv")?;
    let report = report?;
    assert_rejects(
        &report,
        &path,
        &[(
            4,
            "field",
            "\"amount_fen\": must be a whole, non-negative number",
        )],
        &["=cmd", "calc"],
    );
    case.assert_unchanged(&report)?;
    let first = must_get(&case.store, &case.org1)?.records[0]
        .current()
        .content
        .clone();
    assert_eq!(first.title.as_deref(), Some("=cmd|' /C calc'!A0"));
    assert_eq!(first.document_no.as_deref(), Some("+1"));
    assert_eq!(
        first.attributes.get("case_no").map(String::as_str),
        Some("@SUM(1)")
    );
    let second = must_get(&case.store, &case.org2)?.records[0]
        .current()
        .content
        .clone();
    assert_eq!(second.title.as_deref(), Some("-1"));
    assert_eq!(
        second.document_no.as_deref(),
        Some("=HYPERLINK(\"http://x\")")
    );
    assert_eq!(second.amount_fen, Some(1));
    assert_eq!(
        second.attributes.get("case_no").map(String::as_str),
        Some("=1+1")
    );
    // `credstore get` shows them as JSON strings, byte for byte.
    let Case {
        tmp, store, org1, ..
    } = case;
    let dir = store.path().to_path_buf();
    drop(store);
    let run = credstore_in(&dir, &["get", org1.as_str()])?;
    assert_eq!(run.code, 0, "{run:?}");
    let answer: Value = serde_json::from_str(&run.stdout)?;
    let record = &answer["records"][0];
    assert_eq!(record["title"], "=cmd|' /C calc'!A0", "{answer}");
    assert_eq!(record["document_no"], "+1", "{answer}");
    assert!(
        run.stdout.contains(r#""=cmd|' /C calc'!A0""#),
        "quoted: {}",
        run.stdout
    );
    drop(tmp);
    Ok(())
}

#[test]
fn control_characters_in_names_are_refused() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("control-chars.jsonl")?;
    let report = report?;
    let rule = "\"subject_name\": contains control characters";
    assert_rejects(
        &report,
        &path,
        &[
            (2, "field", rule),
            (3, "field", rule),
            (4, "field", rule),
            (5, "field", rule),
        ],
        &["\u{0}", "\u{7}", "\u{202E}", "\u{1b}", "有限公司"],
    );
    case.assert_kept(&case.org1, "H-CC-1")?;
    case.assert_kept(&case.org2, "H-CC-6")?;
    case.assert_unchanged(&report)
}

#[test]
fn codes_with_lookalike_characters_are_refused_naming_the_rule_not_the_code() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("lookalike-codes.jsonl")?;
    let report = report?;
    let org1 = case.org1.as_str();
    let person = case.person.as_str();
    let (o, i) = (org1.replacen('0', "O", 1), org1.replacen('1', "I", 1));
    let (po, pl) = (person.replacen('0', "O", 1), person.replacen('1', "L", 1));
    assert_rejects(
        &report,
        &path,
        &[
            (2, "field", "'O' at position"),
            (3, "field", "'I' at position"),
            (4, "field", "'O' at position"),
            // 'l' for '1' is upper-cased to 'L', which the USCC alphabet has: the code is then
            // judged as a USCC and fails its check character.
            (5, "field", "check character (GB 32100-2015)"),
        ],
        &[org1, person, &o, &i, &po, &pl, &person[6..14]],
    );
    for r in &report.rejects {
        assert!(r.reason.starts_with("field \"subject_code\""), "{r:?}");
    }
    for r in &report.rejects[..3] {
        assert!(
            r.reason.contains("is not allowed in a"),
            "names the alphabet: {r:?}"
        );
    }
    case.assert_kept(&case.org1, "H-LC-1")?;
    case.assert_kept(&case.person, "H-LC-6")?;
    case.assert_unchanged(&report)
}

#[test]
fn impossible_and_malformed_dates_are_refused_per_line() -> TestResult {
    let case = Case::new()?;
    let (path, report) = case.ingest("dates.jsonl")?;
    let report = report?;
    assert_rejects(
        &report,
        &path,
        &[
            (2, "field", "\"occurred_on\": no such calendar day"),
            (3, "field", "\"occurred_on\": no such calendar day"),
            (4, "field", "\"occurred_on\": no such calendar day"),
            (
                5,
                "field",
                "\"occurred_on\": not a date of the form YYYY-MM-DD",
            ),
            (6, "field", "\"decided_on\": no such calendar day"),
        ],
        &[
            "2023-02-30",
            "2023-13-01",
            "0000-00-00",
            "2023-2-3",
            "2023-02-29",
        ],
    );
    case.assert_kept(&case.org1, "H-DT-1")?;
    case.assert_kept(&case.org2, "H-DT-7")?;
    case.assert_unchanged(&report)
}

#[test]
fn an_unknown_item_that_is_not_code_shaped_is_not_echoed() -> TestResult {
    // Regression (found by fuzzing): the unknown-item refusal quoted the item whatever it was,
    // so a person's number or a name put in the wrong field reached reports and reject files.
    let case = Case::new()?;
    let adult = case.person;
    let lines = [
        line(
            "H-IT-1",
            &case.org1,
            "上海条目有限公司",
            adult.as_str(),
            "2026-02-01",
        ),
        line(
            "H-IT-2",
            &case.org1,
            "上海条目有限公司",
            "张三 \u{202E}",
            "2026-02-01",
        ),
        line(
            "H-IT-3",
            &case.org1,
            "上海条目有限公司",
            "D-NO-SUCH-ITEM",
            "2026-02-01",
        ),
    ];
    let report = ingest_jsonl(&case.store, PROVIDER, "items.jsonl", &jsonl(&lines))?;
    assert_rejects(
        &report,
        Path::new("items.jsonl"),
        &[
            (1, "refused", "not shown"),
            (2, "refused", "not shown"),
            (3, "refused", "\"D-NO-SUCH-ITEM\" is not in the catalog"),
        ],
        &[adult.as_str(), &adult.as_str()[6..14], "张三", "\u{202E}"],
    );
    case.assert_unchanged(&report)
}

#[test]
fn bidi_override_characters_in_text_are_refused_like_control_characters() -> TestResult {
    // Regression (found by this corpus): U+202E and the other bidirectional formatting
    // characters are not `char::is_control`, so a name that displays as another was accepted,
    // here as a new version of a stored record.
    let case = Case::new()?;
    let code = case.pre[0].0;
    let mut lines = Vec::new();
    for (i, c) in ['\u{202E}', '\u{202D}', '\u{2066}', '\u{200F}']
        .into_iter()
        .enumerate()
    {
        let mut l = line(
            "PRE-1",
            &code,
            &format!("上海{c}司公限有"),
            "D-PENALTY",
            "2025-06-01",
        );
        if i == 3 {
            l["subject_name"] = "上海既有有限公司".into();
            l["attributes"] = serde_json::json!({"case_no": format!("2025-{c}0001")});
        }
        lines.push(l);
    }
    let report = ingest_jsonl(&case.store, PROVIDER, "bidi.jsonl", &jsonl(&lines))?;
    let rule = "contains control characters";
    assert_rejects(
        &report,
        Path::new("bidi.jsonl"),
        &[
            (1, "field", rule),
            (2, "field", rule),
            (3, "field", rule),
            (4, "field", rule),
        ],
        &["司公限有", "\u{202E}"],
    );
    case.assert_unchanged(&report)
}

#[test]
fn a_100_mb_csv_row_is_rejected_as_too_long_without_buffering_it() -> TestResult {
    // Regression (found by this corpus): the CSV reader gathered a whole row in memory with no
    // limit, so this row grew the process by 222 MiB (and a larger one would exhaust memory).
    let case = Case::new()?;
    let good = |id: &str, code: &SubjectCode| {
        format!(
            "{id},{},上海长行有限公司,D-PENALTY,2026-02-01,x\n",
            code.as_str()
        )
    };
    let head = format!(
        "provider_record_id,subject_code,subject_name,item,occurred_on,title\n{}PRE-1,{},上海长行有限公司,D-PENALTY,2026-02-01,",
        good("H-BIGC-1", &case.org1),
        case.pre[0].0.as_str()
    );
    let tail = format!("\n{}", good("H-BIGC-3", &case.org2));
    let stream = std::io::Cursor::new(head.into_bytes())
        .chain(std::io::repeat(b'A').take(HUNDRED_MB))
        .chain(std::io::Cursor::new(tail.into_bytes()));
    let before = peak_rss_kib();
    let report =
        case.store
            .ingest_reader(PROVIDER, "big.csv", FileFormat::Csv, stream, &options())?;
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "peak memory grew by {grown_mib} MiB");
    assert_rejects(
        &report,
        Path::new("big.csv"),
        &[(3, "too_long", "longer than")],
        &["AAAAAAAA"],
    );
    case.assert_kept(&case.org1, "H-BIGC-1")?;
    case.assert_kept(&case.org2, "H-BIGC-3")?;
    case.assert_unchanged(&report)
}

#[test]
fn a_csv_row_just_under_the_line_limit_is_not_too_long() -> TestResult {
    // The row bound has slack for the CSV reader's read-ahead: a row within 1 MiB is judged on
    // its fields, like a JSON line of the same size.
    let case = Case::new()?;
    let value = "信".repeat(16_000);
    let names: Vec<String> = (0..21).map(|i| format!("a{i:02}")).collect();
    let mut header = String::from("provider_record_id,subject_code,subject_name,item,occurred_on");
    let mut row = format!(
        "H-NEAR-1,{},上海临界有限公司,D-PENALTY,2026-02-01",
        case.org1.as_str()
    );
    for name in &names {
        header.push_str(&format!(",{name}"));
        row.push_str(&format!(",{value}"));
    }
    let bytes = row.len();
    assert!(bytes > (1 << 20) - (64 << 10) && bytes < 1 << 20, "{bytes}");
    let text = format!("{header}\n{row}\n{row}\n");
    let report = case.store.ingest_reader(
        PROVIDER,
        "near.csv",
        FileFormat::Csv,
        text.as_bytes(),
        &options(),
    )?;
    assert_eq!(
        (report.accepted, report.duplicates),
        (1, 1),
        "{:?}",
        report.rejects
    );
    assert_eq!(report.rejected, 0);
    let stored = must_get(&case.store, &case.org1)?;
    assert_eq!(stored.records[0].current().content.attributes.len(), 21);
    case.assert_unchanged(&report)
}

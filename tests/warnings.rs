//! A code with a registration authority / type pair the table does not know is accepted (the
//! table changes over time) and the line is reported with a warning.

mod common;

use common::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// `code` with its first two characters replaced and the GB 32100 check character recomputed
/// (the embedded organisation code, positions 9-17, is untouched and stays valid).
fn with_pair(code: &str, pair: &str) -> String {
    let mut chars: Vec<u8> = format!("{pair}{}", &code[2..17]).into_bytes();
    let sum: usize = chars
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| CHARSET.iter().position(|x| x == c).unwrap_or(0) * w)
        .sum();
    chars.push(CHARSET[(31 - sum % 31) % 31]);
    String::from_utf8(chars).unwrap_or_default()
}

#[test]
fn unknown_registration_pairs_are_accepted_with_a_warning() -> TestResult {
    let known = usccs(77, 1)[0];
    let code = with_pair(known.as_str(), "A5");
    assert!(
        credstore::domain::code::registration_type("A5").is_none(),
        "A5 must be unknown"
    );
    let tmp = tempfile::tempdir()?;
    let store = credstore::Store::open(tmp.path())?;
    let text = format!(
        "{}\n",
        serde_json::json!({"provider_record_id": "W-1", "subject_code": code, "subject_name": "上海新型登记机构",
            "item": "B-ORG-REG", "occurred_on": "2024-01-02"})
    );
    let report = ingest_jsonl(&store, "SAMR-SH", "w.jsonl", &text)?;
    assert_eq!(
        (report.accepted, report.rejected, report.warned),
        (1, 0, 1),
        "{report:?}"
    );
    assert_eq!(report.warnings[0].line, 1);
    assert_eq!(report.warnings[0].kind, "warning");
    assert!(
        report.warnings[0].reason.contains("A5"),
        "{}",
        report.warnings[0].reason
    );
    Ok(())
}

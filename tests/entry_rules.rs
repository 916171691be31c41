//! The law's entry rules, end to end through ingestion: the age rule (Art. 10), the items natural
//! persons are spared (Art. 12 ¶2) and the utility-arrears rule (Art. 13 (4)), each judged as of
//! the collection date 2026-11-27.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::ingest::IngestReport;
use credstore::Store;
use serde_json::Value;

/// Ingests `lines` (one line each) and checks which were accepted: `expect[i]` is `None` for an
/// accepted line, or a text the reject reason must contain. Accepted subjects must be stored and
/// refused ones absent (each line is about its own subject).
fn check(cases: &[(Value, Option<&str>)]) -> Result<IngestReport, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let lines: Vec<Value> = cases.iter().map(|(l, _)| l.clone()).collect();
    let report = ingest_jsonl(&store, "SAMR-SH", "rules.jsonl", &jsonl(&lines))?;
    let expected_rejects: Vec<u64> = (1..)
        .zip(cases)
        .filter(|(_, (_, e))| e.is_some())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        reject_lines(&report),
        expected_rejects,
        "{:#?}",
        report.rejects
    );
    assert_eq!(
        report.accepted as usize,
        cases.len() - expected_rejects.len()
    );
    for (n, (l, expected)) in (1..).zip(cases) {
        let code = SubjectCode::parse(l["subject_code"].as_str().ok_or("a code")?, today())
            .map_err(|e| format!("line {n}: {e}"))?
            .code;
        match expected {
            Some(part) => {
                let reason = reason_for(&report, n);
                assert!(reason.contains(part), "line {n}: {reason:?} lacks {part:?}");
                assert!(
                    !reason.contains(code.as_str()),
                    "line {n}: the code in {reason:?}"
                );
                assert!(store.subject(&code)?.is_none(), "line {n} was stored");
            }
            None => {
                let found = must_get(&store, &code)?;
                assert_eq!(found.records.len(), 1, "line {n}");
            }
        }
    }
    Ok(report)
}

#[test]
fn a_person_is_covered_from_the_eighteenth_birthday() -> TestResult {
    let on_the_day = person(51, "2008-11-27");
    let day_after = person(52, "2008-11-28");
    let long_ago = person(53, "1950-01-01");
    let just_before = person(54, "2008-11-26");
    check(&[
        (
            line("A-1", &on_the_day, "赵一", "B-NP-EDUCATION", "2026-07-01"),
            None,
        ),
        (
            line("A-2", &day_after, "钱二", "B-NP-EDUCATION", "2026-07-01"),
            Some("Art. 10"),
        ),
        (
            line("A-3", &long_ago, "孙三", "B-NP-MARITAL", "1975-05-01"),
            None,
        ),
        (
            line("A-4", &just_before, "李四", "B-NP-EDUCATION", "2026-07-01"),
            None,
        ),
    ])?;
    Ok(())
}

#[test]
fn the_under_18_refusal_names_the_field() -> TestResult {
    let minor = person(55, "2010-03-03");
    let report = check(&[(
        line("A-1", &minor, "周五", "O-VOLUNTEER", "2026-01-01"),
        Some("subject_code"),
    )])?;
    assert!(reason_for(&report, 1).contains("18"));
    Ok(())
}

#[test]
fn items_that_do_not_apply_to_natural_persons_are_refused() -> TestResult {
    let adult = |seed| person(seed, "1985-06-15");
    let org = usccs(56, 1)[0];
    check(&[
        (
            line("K-1", &adult(61), "吴一", "D-ORG-FEE-ARREARS", "2026-01-10"),
            Some("Art. 12 ¶2"),
        ),
        (
            line(
                "K-2",
                &adult(62),
                "郑二",
                "D-ORG-SOCIAL-INS-ARREARS",
                "2026-01-10",
            ),
            Some("does not apply to natural persons"),
        ),
        (
            line("K-3", &adult(63), "王三", "D-TAX-ARREARS", "2026-01-10"),
            None,
        ),
        (
            line("K-4", &org, "上海某公司", "D-NP-FARE-EVASION", "2026-01-10"),
            Some("does not apply to organisations"),
        ),
    ])?;
    Ok(())
}

/// A utility-arrears line: the charge fell due on `due`, the reminder on `reminded`, paid on
/// `paid`.
fn arrears(seed: u64, due: &str, reminded: Option<&str>, paid: Option<&str>) -> Value {
    let code = person(seed, "1970-02-02");
    let mut l = line(
        &format!("U-{seed}"),
        &code,
        "冯某",
        "O-UTILITY-ARREARS",
        due,
    );
    if let Some(r) = reminded {
        l["reminded_on"] = r.into();
    }
    if let Some(p) = paid {
        l["ended_on"] = p.into();
    }
    l["amount_fen"] = 12_345.into();
    l
}

#[test]
fn utility_arrears_need_more_than_six_months_unpaid_after_a_reminder() -> TestResult {
    check(&[
        // 2026-05-26 + 6 months = 2026-11-26, before the collection date: collectable.
        (arrears(71, "2026-04-01", Some("2026-05-26"), None), None),
        // 2026-05-27 + 6 months = 2026-11-27: exactly six months, not more.
        (
            arrears(72, "2026-04-01", Some("2026-05-27"), None),
            Some("Art. 13 (4)"),
        ),
        // No reminder at all.
        (
            arrears(73, "2026-01-01", None, None),
            Some("no reminder date"),
        ),
        // Paid on the last day of the six months: it never qualified.
        (
            arrears(74, "2026-01-01", Some("2026-01-10"), Some("2026-07-10")),
            Some("within 6 months"),
        ),
        (
            arrears(75, "2026-01-01", Some("2026-01-10"), Some("2026-03-01")),
            Some("within 6 months"),
        ),
        // Paid the day after the six months: it qualified, and stays collectable.
        (
            arrears(76, "2026-01-01", Some("2026-01-10"), Some("2026-07-11")),
            None,
        ),
    ])?;
    Ok(())
}

/// A dishonesty line that ended on `ended` (or, without an end, occurred on `occurred`).
fn penalty(seed: u64, occurred: &str, ended: Option<&str>) -> Value {
    let code = usccs(seed, 1)[0];
    let mut l = line(
        &format!("Q-{seed}"),
        &code,
        "上海期限有限公司",
        "D-PENALTY",
        occurred,
    );
    if let Some(e) = ended {
        l["ended_on"] = e.into();
    }
    l
}

#[test]
fn dishonesty_past_its_five_year_query_period_is_not_collected() -> TestResult {
    check(&[
        // Five years from the end is 2026-11-27, the collection date: no longer queryable.
        (
            penalty(121, "2021-01-01", Some("2021-11-27")),
            Some("Art. 27"),
        ),
        (penalty(122, "2021-01-01", Some("2021-11-28")), None),
        // Without an end date the period runs from the day it occurred.
        (penalty(123, "2021-11-27", None), Some("Art. 27")),
        (penalty(124, "2021-11-28", None), None),
    ])?;
    Ok(())
}

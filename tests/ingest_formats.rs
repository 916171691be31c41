//! JSON Lines and CSV provider files: each line stands alone. Good lines are stored with exactly
//! the submitted values (and the catalog's default disclosure), bad lines are reported with their
//! file and line number and leave nothing behind.

mod common;

use common::*;
use credstore::domain::record::Record;
use credstore::domain::{Category, Disclosure, Grade};
use credstore::Store;
use serde_json::json;
use std::collections::BTreeMap;

/// The only record of a subject that must be in the store.
fn only_record(
    store: &Store,
    code: &credstore::domain::code::SubjectCode,
) -> Result<Record, Box<dyn std::error::Error>> {
    let found = must_get(store, code)?;
    assert_eq!(found.records.len(), 1, "{:?}", found.records);
    let record = found.records[0].clone();
    assert_eq!(record.versions.len(), 1);
    assert_eq!(record.versions[0].version, 1);
    assert_eq!(record.versions[0].collected_on, today());
    Ok(record)
}

#[test]
fn jsonl_keeps_good_lines_and_reports_bad_ones_by_line() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(11, 6);
    let adult = person(1, "1980-05-17");
    let other_adult = person(2, "1975-01-09");

    let mut penalty = line(
        "J-1",
        &orgs[0],
        "上海明华贸易有限公司",
        "D-PENALTY",
        "2026-03-01",
    );
    penalty["decided_on"] = json!("2026-03-15");
    penalty["ended_on"] = json!("2026-04-01");
    penalty["grade"] = json!("general");
    penalty["amount_fen"] = json!(1_234_500);
    penalty["title"] = json!("行政处罚");
    penalty["document_no"] = json!("沪市监罚〔2026〕12号");
    penalty["authority"] = json!("上海市市场监督管理局");
    penalty["attributes"] = json!({"case_ref": "CASE-77"});

    let mut bad_check = line("J-2", &other_adult, "李四", "B-NP-EDUCATION", "2001-07-01");
    bad_check["subject_code"] = json!(with_bad_check(&other_adult));

    // Lower case and spaces in the code: normalised before validation and storage.
    let mut education = line("J-3", &adult, "张三", "B-NP-EDUCATION", "2002-07-01");
    let spaced = format!(
        "{} {} {}",
        &adult.as_str()[..6],
        &adult.as_str()[6..14],
        adult.as_str()[14..].to_lowercase()
    );
    education["subject_code"] = json!(spaced);
    education["amount_fen"] = json!("250");

    let mut no_name = line("J-4", &orgs[1], "", "O-COMMENDATION", "2025-01-01");
    no_name
        .as_object_mut()
        .ok_or("an object")?
        .remove("subject_name");

    let bad_date = line("J-6", &orgs[2], "上海乙公司", "B-LICENCE", "2023-02-30");
    let unknown_item = line(
        "J-7",
        &orgs[3],
        "上海丙公司",
        "X-NOT-IN-CATALOG",
        "2025-01-01",
    );
    let truncated = format!(
        r#"{{"provider_record_id":"J-8","subject_code":"{}","subject_name":"上海丁公司""#,
        orgs[4].as_str()
    );
    let mut commendation = line(
        "J-9",
        &orgs[5],
        "上海戊公司",
        "O-COMMENDATION",
        "2025-06-01",
    );
    commendation["disclosure"] = json!("non_public");

    let text = format!(
        "{penalty}\n{bad_check}\n{education}\n{no_name}\n   \n{bad_date}\n{unknown_item}\n{truncated}\n{commendation}\n"
    );
    let path = write_file(tmp.path(), "penalties.jsonl", &text)?;
    let report = store.ingest_files("SAMR-SH", &[&path], &options())?;

    assert_eq!(report.files, 1);
    assert_eq!(report.lines, 8, "the blank line 5 is not a line of data");
    assert_eq!(report.accepted, 3, "{:?}", report.rejects);
    assert_eq!(report.rejected, 5);
    assert_eq!((report.duplicates, report.new_versions), (0, 0));
    assert_eq!(reject_lines(&report), [2, 4, 6, 7, 8]);
    let name = path.display().to_string();
    assert!(
        report.rejects.iter().all(|r| r.file == name),
        "{:?}",
        report.rejects
    );

    let reason = reason_for(&report, 2);
    assert!(
        reason.contains("subject_code") && reason.contains("check character"),
        "{reason}"
    );
    assert!(
        !reason.contains(&with_bad_check(&other_adult)),
        "a code in a reason: {reason}"
    );
    let reason = reason_for(&report, 4);
    assert!(
        reason.contains("subject_name") && reason.contains("required"),
        "{reason}"
    );
    let reason = reason_for(&report, 6);
    assert!(
        reason.contains("occurred_on") && reason.contains("no such calendar day"),
        "{reason}"
    );
    let reason = reason_for(&report, 7);
    assert!(
        reason.contains("X-NOT-IN-CATALOG") && reason.contains("not in the catalog"),
        "{reason}"
    );
    assert!(
        reason_for(&report, 8).contains("JSON"),
        "{}",
        reason_for(&report, 8)
    );

    let r = only_record(&store, &orgs[0])?;
    assert_eq!(r.provider, "SAMR-SH");
    assert_eq!(r.provider_record_id, "J-1");
    assert_eq!(r.category, Category::Dishonesty);
    let c = &r.current().content;
    assert_eq!(c.subject_name, "上海明华贸易有限公司");
    assert_eq!(c.item, "D-PENALTY");
    assert_eq!(c.occurred_on, date("2026-03-01"));
    assert_eq!(c.decided_on, Some(date("2026-03-15")));
    assert_eq!(c.ended_on, Some(date("2026-04-01")));
    assert_eq!(c.reminded_on, None);
    assert_eq!(c.grade, Some(Grade::General));
    assert_eq!(c.amount_fen, Some(1_234_500));
    assert_eq!(
        c.disclosure,
        Disclosure::Public,
        "D-PENALTY defaults to public"
    );
    assert_eq!(c.title.as_deref(), Some("行政处罚"));
    assert_eq!(c.document_no.as_deref(), Some("沪市监罚〔2026〕12号"));
    assert_eq!(c.authority.as_deref(), Some("上海市市场监督管理局"));
    assert_eq!(c.facts, None);
    let expected: BTreeMap<String, String> =
        [("case_ref".to_string(), "CASE-77".to_string())].into();
    assert_eq!(c.attributes, expected);

    let found = must_get(&store, &adult)?;
    assert_eq!(
        found.subject.code, adult,
        "stored under the normalised code"
    );
    assert_eq!(found.subject.name, "张三");
    let c = &only_record(&store, &adult)?.current().content.clone();
    assert_eq!(c.amount_fen, Some(250), "amount_fen as a JSON string");
    assert_eq!(
        c.disclosure,
        Disclosure::NonPublic,
        "B-NP-EDUCATION defaults to non_public"
    );
    assert!(c.attributes.is_empty());
    assert_eq!(c.grade, None);

    let c = only_record(&store, &orgs[5])?.current().content.clone();
    assert_eq!(
        c.disclosure,
        Disclosure::NonPublic,
        "the provider's level overrides the default"
    );

    for code in [&other_adult, &orgs[1], &orgs[2], &orgs[3], &orgs[4]] {
        assert!(
            store.subject(code)?.is_none(),
            "{code:?} was stored from a bad line"
        );
    }
    let stats = store.stats()?;
    assert_eq!((stats.subjects, stats.records, stats.versions), (3, 3, 3));
    Ok(())
}

#[test]
fn csv_keeps_good_rows_and_reports_bad_ones_by_starting_line() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(12, 10);
    let volunteer = person(3, "1990-12-01");
    let o = |i: usize| orgs[i].as_str().to_string();
    let bad = with_bad_check(&orgs[1]);
    let text = [
        "provider_record_id,subject_code,subject_name,item,occurred_on,title,facts,amount_fen,disclosure,case_no".to_string(),
        format!("C-1,{},上海甲公司,B-ORG-REG,2015-06-01,设立登记,,,,（2026）沪01民初1号", o(0)),
        format!("C-2,{bad},上海乙公司,B-ORG-REG,2015-06-01,,,,,"),
        format!("C-3,{},上海丙公司,B-ORG-REG", o(2)),
        // A quoted cell with a comma and a newline: the row spans lines 5 and 6.
        format!("C-4,{},王五,O-VOLUNTEER,2025-09-10,志愿服务,\"社区服务,\n共120小时\",0,public,", volunteer.as_str()),
        format!("C-5,{},上海丁公司,,2020-01-01,,,,,", o(3)),
        format!("C-6,{},上海戊公司,B-ORG-CERT,2023-02-30,,,,,", o(4)),
        format!("C-7,{},上海己公司,X-NOPE,2020-01-01,,,,,", o(5)),
        format!("C-8,{},上海庚公司,B-ORG-CERT,2020-01-01,,,1500,,", o(6)),
    ]
    .join("\n");
    let path = write_file(tmp.path(), "court.csv", format!("{text}\n"))?;
    let report = store.ingest_files("COURT-SH", &[&path], &options())?;

    assert_eq!(report.lines, 8, "data rows, not physical lines");
    assert_eq!(report.accepted, 3, "{:?}", report.rejects);
    assert_eq!(report.rejected, 5);
    assert_eq!(reject_lines(&report), [3, 4, 7, 8, 9]);
    let name = path.display().to_string();
    assert!(
        report.rejects.iter().all(|r| r.file == name),
        "{:?}",
        report.rejects
    );
    let reason = reason_for(&report, 3);
    assert!(reason.contains("subject_code"), "{reason}");
    let reason = reason_for(&report, 4);
    assert!(
        reason.contains("4 cells") && reason.contains("10"),
        "{reason}"
    );
    let reason = reason_for(&report, 7);
    assert!(
        reason.contains("\"item\"") && reason.contains("required"),
        "{reason}"
    );
    assert!(reason_for(&report, 8).contains("occurred_on"));
    assert!(reason_for(&report, 9).contains("not in the catalog"));

    let r = only_record(&store, &orgs[0])?;
    assert_eq!(
        (r.provider.as_str(), r.provider_record_id.as_str()),
        ("COURT-SH", "C-1")
    );
    assert_eq!(r.category, Category::Basic);
    let c = &r.current().content;
    assert_eq!(c.subject_name, "上海甲公司");
    assert_eq!(c.occurred_on, date("2015-06-01"));
    assert_eq!(c.title.as_deref(), Some("设立登记"));
    assert_eq!(
        (c.facts.as_deref(), c.amount_fen, c.decided_on),
        (None, None, None)
    );
    assert_eq!(
        c.disclosure,
        Disclosure::Public,
        "B-ORG-REG defaults to public"
    );
    let expected: BTreeMap<String, String> =
        [("case_no".to_string(), "（2026）沪01民初1号".to_string())].into();
    assert_eq!(c.attributes, expected, "an extra column is an attribute");

    let c = only_record(&store, &volunteer)?.current().content.clone();
    assert_eq!(c.facts.as_deref(), Some("社区服务,\n共120小时"));
    assert_eq!(c.amount_fen, Some(0));
    assert_eq!(
        c.disclosure,
        Disclosure::Public,
        "explicit public over the non_public default"
    );
    assert!(
        c.attributes.is_empty(),
        "an empty cell is no attribute: {:?}",
        c.attributes
    );

    let c = only_record(&store, &orgs[6])?.current().content.clone();
    assert_eq!((c.item.as_str(), c.amount_fen), ("B-ORG-CERT", Some(1500)));
    assert_eq!(c.disclosure, Disclosure::Public);

    for code in &orgs[1..6] {
        assert!(
            store.subject(code)?.is_none(),
            "{code:?} was stored from a bad row"
        );
    }
    assert_eq!(store.stats()?.records, 3);
    Ok(())
}

#[test]
fn a_utf8_byte_order_mark_and_crlf_are_accepted() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(13, 3);
    let csv = format!(
        "\u{FEFF}provider_record_id,subject_code,subject_name,item,occurred_on\r\nB-1,{},上海甲公司,B-ORG-REG,2018-01-01\r\n",
        orgs[0].as_str()
    );
    let csv_path = write_file(tmp.path(), "bom.csv", csv)?;
    let json = format!(
        "\u{FEFF}{}\r\n{}\r\n",
        line("B-2", &orgs[1], "上海乙公司", "B-ORG-REG", "2018-01-02"),
        line("B-3", &orgs[2], "上海丙公司", "B-ORG-REG", "2018-01-03")
    );
    let json_path = write_file(tmp.path(), "bom.jsonl", json)?;
    let report = store.ingest_files("SAMR-SH", &[&csv_path, &json_path], &options())?;
    assert_eq!((report.files, report.lines), (2, 3));
    assert_eq!(
        (report.accepted, report.rejected),
        (3, 0),
        "{:?}",
        report.rejects
    );
    let r = only_record(&store, &orgs[0])?;
    assert_eq!(
        r.provider_record_id, "B-1",
        "the BOM is not part of the first column's name"
    );
    assert!(r.current().content.attributes.is_empty());
    assert_eq!(
        must_get(&store, &orgs[2])?.subject.name,
        "上海丙公司",
        "no CR kept"
    );
    Ok(())
}

#[test]
fn an_overlong_line_is_skipped_and_the_next_one_kept() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(14, 3);
    let mut long = line(
        "T-2",
        &orgs[1],
        "上海长行有限公司",
        "B-ORG-REG",
        "2018-01-01",
    );
    long["facts"] = json!("x".repeat(credstore::ingest::input::MAX_LINE_BYTES));
    let text = jsonl(&[
        line("T-1", &orgs[0], "上海甲公司", "B-ORG-REG", "2018-01-01"),
        long,
        line("T-3", &orgs[2], "上海丙公司", "B-ORG-REG", "2018-01-01"),
    ]);
    let report = ingest_jsonl(&store, "SAMR-SH", "long.jsonl", &text)?;
    assert_eq!((report.lines, report.accepted, report.rejected), (3, 2, 1));
    assert_eq!(reject_lines(&report), [2]);
    assert!(
        reason_for(&report, 2).contains("longer than"),
        "{:?}",
        report.rejects
    );
    assert!(store.subject(&orgs[1])?.is_none());
    assert_eq!(
        must_get(&store, &orgs[2])?.records[0].provider_record_id,
        "T-3"
    );
    Ok(())
}

#[test]
fn a_bad_csv_header_refuses_the_file_at_line_1() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let org = usccs(15, 1)[0];
    let text = format!(
        "provider_record_id,subject_code,subject_name,item,occurred_on,item\nH-1,{},上海甲公司,B-ORG-REG,2018-01-01,B-ORG-REG\n",
        org.as_str()
    );
    let path = write_file(tmp.path(), "dup-header.csv", text)?;
    let report = store.ingest_files("COURT-SH", &[&path], &options())?;
    assert_eq!((report.files, report.accepted, report.rejected), (1, 0, 1));
    assert_eq!(reject_lines(&report), [1]);
    assert!(
        reason_for(&report, 1).contains("header") || reason_for(&report, 1).contains("twice"),
        "{:?}",
        report.rejects
    );
    assert!(store.subject(&org)?.is_none());
    Ok(())
}

#[test]
fn rejects_beyond_the_kept_maximum_are_counted_not_listed() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(16, 6);
    let lines: Vec<_> = orgs
        .iter()
        .enumerate()
        .map(|(i, c)| line(&format!("M-{i}"), c, "上海公司", "X-NOPE", "2018-01-01"))
        .collect();
    let mut opts = options();
    opts.max_rejects_kept = 2;
    let report = store.ingest_reader(
        "SAMR-SH",
        "many.jsonl",
        credstore::ingest::FileFormat::JsonLines,
        jsonl(&lines).as_bytes(),
        &opts,
    )?;
    assert_eq!(report.rejected, 6);
    assert_eq!(reject_lines(&report), [1, 2], "the first ones, in order");
    Ok(())
}

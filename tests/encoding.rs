//! Provider files in GBK / GB18030: refused as a whole, naming the encoding, unless transcoding
//! is asked for; then names read back correctly in Chinese. A single bad byte in a UTF-8 file
//! rejects only its line.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::ingest::input::InputEncoding;
use credstore::{Error, Store};
use std::path::{Path, PathBuf};

const NAMES: [&str; 3] = [
    "上海浦东新区甲乙贸易有限公司",
    "上海市徐汇区丙丁餐饮店",
    "上海戊己科技有限公司",
];

/// A GBK-encoded CSV file about three organisations; returns its path and their codes.
fn gbk_csv(dir: &Path) -> Result<(PathBuf, Vec<SubjectCode>), Box<dyn std::error::Error>> {
    let orgs = usccs(101, 3);
    let mut text =
        String::from("provider_record_id,subject_code,subject_name,item,occurred_on,title,备注\n");
    for (i, (code, name)) in orgs.iter().zip(NAMES).enumerate() {
        text.push_str(&format!(
            "G-{i},{},{name},B-ORG-REG,2019-0{}-01,设立登记,经营范围：批发零售\n",
            code.as_str(),
            i + 1
        ));
    }
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    Ok((write_file(dir, "gbk.csv", &bytes)?, orgs))
}

#[test]
fn a_gbk_file_is_refused_naming_the_encoding_and_nothing_is_stored() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let (path, orgs) = gbk_csv(tmp.path())?;
    let err = match store.ingest_files("UTILITY-SH", &[&path], &options()) {
        Ok(report) => return Err(format!("a GBK file was ingested: {report:?}").into()),
        Err(e) => e,
    };
    assert!(
        matches!(&err, Error::Encoding { path: p, encoding } if p == &path && encoding.contains("GB18030")),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("gbk.csv") && message.contains("--encoding gb18030"),
        "{message}"
    );
    for code in &orgs {
        assert!(store.subject(code)?.is_none());
    }
    assert_eq!(store.stats()?.subjects, 0);
    assert_eq!(store.collection_log().count(), 0, "not even a log entry");
    Ok(())
}

#[test]
fn gb18030_transcoding_reads_the_names_back_in_chinese() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let (path, orgs) = gbk_csv(tmp.path())?;
    let mut opts = options();
    opts.encoding = InputEncoding::Gb18030;
    let report = store.ingest_files("UTILITY-SH", &[&path], &opts)?;
    assert_eq!(
        (report.accepted, report.rejected),
        (3, 0),
        "{:?}",
        report.rejects
    );
    for (code, name) in orgs.iter().zip(NAMES) {
        let found = must_get(&store, code)?;
        assert_eq!(found.subject.name, name);
        let content = &found.records[0].current().content;
        assert_eq!(content.title.as_deref(), Some("设立登记"));
        assert_eq!(
            content.attributes.get("备注").map(String::as_str),
            Some("经营范围：批发零售"),
            "a Chinese column name"
        );
    }
    Ok(())
}

#[test]
fn the_cli_refuses_gbk_unless_told_and_then_prints_chinese() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let (path, orgs) = gbk_csv(tmp.path())?;
    let file = path.to_str().ok_or("path")?;

    let run = credstore_in(&data, &["ingest", "--provider", "UTILITY-SH", file])?;
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("GB18030"), "{}", run.stderr);
    let run = credstore_in(&data, &["stats", "--json"])?;
    let stats: serde_json::Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(stats["subjects"], 0, "nothing stored: {stats}");

    let run = credstore_in(
        &data,
        &[
            "ingest",
            "--provider",
            "UTILITY-SH",
            "--encoding",
            "gb18030",
            "--json",
            file,
        ],
    )?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(report["accepted"], 3, "{report}");
    let run = credstore_in(&data, &["get", orgs[0].as_str()])?;
    let view: serde_json::Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(view["subject"]["name"], NAMES[0]);
    Ok(())
}

#[test]
fn one_bad_byte_in_a_utf8_file_rejects_only_its_line() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(102, 3);
    let mut bytes = Vec::new();
    for (i, code) in orgs.iter().enumerate() {
        let mut l = line(
            &format!("E-{i}"),
            code,
            "上海编码有限公司",
            "B-ORG-REG",
            "2019-01-01",
        )
        .to_string()
        .into_bytes();
        if i == 1 {
            // 0xFF is valid in neither UTF-8 nor GB18030, inside the name's string.
            let at = l
                .windows(3)
                .position(|w| w == "上".as_bytes())
                .ok_or("the name")?;
            l.insert(at, 0xFF);
        }
        bytes.extend(l);
        bytes.push(b'\n');
    }
    let path = write_file(tmp.path(), "mixed.jsonl", &bytes)?;
    let report = store.ingest_files("SAMR-SH", &[&path], &options())?;
    assert_eq!(
        (report.accepted, report.rejected),
        (2, 1),
        "{:?}",
        report.rejects
    );
    assert_eq!(reject_lines(&report), [2]);
    assert!(
        reason_for(&report, 2).contains("not valid text"),
        "{:?}",
        report.rejects
    );
    assert!(store.subject(&orgs[1])?.is_none());
    assert!(store.subject(&orgs[2])?.is_some());
    Ok(())
}

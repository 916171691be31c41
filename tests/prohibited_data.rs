//! Art. 14: data that may never be collected is never stored anywhere: not in the store, not in
//! the rejects file, not in any output. Run through the real binary, then every file of the data
//! directory and every byte the commands printed are searched for the submitted value.
//!
//! The search is checked against itself: values of ordinary fields submitted beside the
//! prohibited ones must be found in the data directory (sled stores values uncompressed), so
//! "not found" means "not stored", not "not searchable".

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

/// The value submitted in prohibited fields.
const MARKER: &str = "ZQX-PROHIBITED-31337";
/// Values submitted in ordinary fields, which must be stored and so found.
const KEPT_JSON: &str = "ZQX-KEPT-JSON-4242";
const KEPT_CSV: &str = "ZQX-KEPT-CSV-4343";

/// Everything the test ran, for the final scan of outputs.
#[derive(Default)]
struct Outputs(Vec<(String, Run)>);

impl Outputs {
    fn run(&mut self, data: &Path, args: &[&str]) -> Result<&Run, Box<dyn std::error::Error>> {
        let run = credstore_in(data, args)?;
        self.0.push((args.join(" "), run));
        Ok(&self.0[self.0.len() - 1].1)
    }
}

#[test]
fn prohibited_values_are_refused_and_stored_nowhere() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let input = tmp.path().join("input");
    std::fs::create_dir_all(&input)?;
    let orgs = usccs(81, 3);
    let alice = person(82, "1979-04-04");
    let bob = person(83, "1988-08-08");
    let carol = person(84, "1991-01-31");
    let dave = person(85, "1966-06-06");

    let mut kept = line("J-1", &alice, "陈一", "O-VOLUNTEER", "2025-05-01");
    kept["attributes"] = json!({"note": KEPT_JSON});
    let mut blood = line("J-2", &alice, "陈一", "O-CHARITY", "2025-06-01");
    blood["attributes"] = json!({"note": "ordinary", "血型": MARKER});
    let mut religion = line("J-3", &bob, "林二", "O-VOLUNTEER", "2025-07-01");
    religion["religion"] = json!(MARKER);
    let org_line = line(
        "J-4",
        &orgs[0],
        "上海正常有限公司",
        "B-ORG-REG",
        "2011-01-01",
    );
    // Cut short after the prohibited value: a syntax error must not quote it either.
    let truncated = format!(
        r#"{{"provider_record_id":"J-5","subject_code":"{}","fingerprint":"{MARKER}""#,
        orgs[1].as_str()
    );
    let text = format!("{kept}\n{blood}\n{religion}\n{org_line}\n{truncated}\n");
    let jsonl_path = write_file(&input, "civil.jsonl", text)?;

    let csv = [
        "provider_record_id,subject_code,subject_name,item,occurred_on,指纹,note".to_string(),
        format!(
            "C-1,{},黄三,O-PROPERTY-JUDGMENT,2024-01-01,,{KEPT_CSV}",
            carol.as_str()
        ),
        format!(
            "C-2,{},何四,O-PROPERTY-JUDGMENT,2024-02-01,{MARKER},plain",
            dave.as_str()
        ),
        format!(
            "C-3,{},上海另一有限公司,O-NON-PERFORMANCE,2024-03-01, ,",
            orgs[2].as_str()
        ),
    ]
    .join("\n");
    let csv_path = write_file(&input, "court.csv", format!("{csv}\n"))?;

    let mut outputs = Outputs::default();
    let jsonl_arg = jsonl_path.to_str().ok_or("path")?;
    let csv_arg = csv_path.to_str().ok_or("path")?;

    // JSON mode.
    let run = outputs.run(
        &data,
        &["ingest", "--provider", "CIVIL-SH", "--json", jsonl_arg],
    )?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rejected"], 3, "{report}");
    let rejects = report["rejects"].as_array().ok_or("rejects")?;
    let by_line = |n: u64| -> String {
        rejects
            .iter()
            .find(|r| r["line"] == n)
            .and_then(|r| r["reason"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        by_line(2).contains("attributes.血型") && by_line(2).contains("blood type"),
        "{}",
        by_line(2)
    );
    assert!(
        by_line(3).contains("religion") && by_line(3).contains("Art. 14"),
        "{}",
        by_line(3)
    );
    assert!(!by_line(5).is_empty(), "line 5 rejected: {report}");

    // Text mode, with the default rejects file in the data directory.
    let run = outputs.run(&data, &["ingest", "--provider", "COURT-SH", csv_arg])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("2 accepted") && run.stdout.contains("1 rejected"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("{csv_arg}:3: ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\"指纹\"") && run.stdout.contains("fingerprints"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("rejects written to"), "{}", run.stdout);
    let rejects_files = all_files(&data.join("rejects"))?;
    assert_eq!(
        rejects_files.len(),
        2,
        "one rejects file per ingest: {rejects_files:?}"
    );
    let all_rejects: String = rejects_files
        .iter()
        .map(std::fs::read_to_string)
        .collect::<Result<_, _>>()?;
    assert!(
        all_rejects.contains("attributes.血型") && all_rejects.contains("指纹"),
        "{all_rejects}"
    );

    // Every other line was kept; the refused lines' subjects were not created.
    for code in [&alice, &orgs[0], &carol, &orgs[2]] {
        let run = outputs.run(
            &data,
            &[
                "get",
                code.as_str(),
                "--as",
                "subject",
                "--proof",
                "ID-CHECK",
            ],
        )?;
        assert_eq!(run.code, 0, "{code:?}: {}", run.stderr);
        let view: Value = serde_json::from_str(&run.stdout)?;
        assert_eq!(view["code"], code.as_str());
    }
    let run = outputs.run(
        &data,
        &[
            "get",
            alice.as_str(),
            "--as",
            "subject",
            "--proof",
            "ID-CHECK",
        ],
    )?;
    let view: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(
        view["records"].as_array().map(Vec::len),
        Some(1),
        "J-2 refused: {view}"
    );
    assert_eq!(view["records"][0]["attributes"]["note"], KEPT_JSON);
    for code in [&bob, &dave, &orgs[1]] {
        let run = outputs.run(
            &data,
            &[
                "get",
                code.as_str(),
                "--as",
                "subject",
                "--proof",
                "ID-CHECK",
            ],
        )?;
        assert_eq!(run.code, 1, "{code:?} must not be stored: {}", run.stdout);
    }
    let run = outputs.run(&data, &["stats", "--json"])?;
    let stats: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(
        (stats["subjects"].clone(), stats["records"].clone()),
        (json!(4), json!(4)),
        "{stats}"
    );
    outputs.run(&data, &["stats"])?;

    // The scan: kept values are findable (the scanner works), the marker is nowhere.
    let kept_json = files_containing(&data, KEPT_JSON.as_bytes())?;
    assert!(
        !kept_json.is_empty(),
        "sanity: a stored value must be findable in {}",
        data.display()
    );
    let kept_csv = files_containing(&data, KEPT_CSV.as_bytes())?;
    assert!(
        !kept_csv.is_empty(),
        "sanity: a stored CSV value must be findable"
    );
    let leaks = files_containing(&data, MARKER.as_bytes())?;
    assert!(
        leaks.is_empty(),
        "the prohibited value was written to {leaks:?}"
    );
    // The store's files as UTF-16 too, in case any layer wrote wide text.
    let wide: Vec<u8> = MARKER.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(files_containing(&data, &wide)?.is_empty());
    for (command, run) in &outputs.0 {
        assert!(
            !run.stdout.contains(MARKER),
            "`{command}` printed it: {}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(MARKER),
            "`{command}` printed it: {}",
            run.stderr
        );
    }
    assert!(
        outputs.0.iter().any(|(_, r)| r.stdout.contains(KEPT_JSON)),
        "sanity: get prints kept values"
    );
    Ok(())
}

#[test]
fn the_library_refuses_the_same_lines_without_repeating_the_value() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let code = person(86, "1982-02-12");
    let mut kept = line("L-1", &code, "许一", "O-VOLUNTEER", "2025-05-01");
    kept["attributes"] = json!({"note": KEPT_JSON});
    let mut lines = vec![kept];
    for (i, field) in [
        "blood_type",
        "bloodType",
        "基因检测",
        "medical_history",
        "face_image",
    ]
    .iter()
    .enumerate()
    {
        let mut l = line(
            &format!("L-{}", i + 2),
            &code,
            "许一",
            "O-CHARITY",
            "2025-06-01",
        );
        l["attributes"] = json!({ *field: MARKER });
        lines.push(l);
    }
    {
        let store = credstore::Store::open(&dir)?;
        let report = ingest_jsonl(&store, "CIVIL-SH", "lib.jsonl", &jsonl(&lines))?;
        assert_eq!(
            (report.accepted, report.rejected),
            (1, 5),
            "{:?}",
            report.rejects
        );
        for r in &report.rejects {
            assert!(r.reason.contains("must not be collected"), "{}", r.reason);
            assert!(!r.reason.contains(MARKER), "{}", r.reason);
            assert!(!format!("{r:?}").contains(MARKER));
        }
        let found = must_get(&store, &code)?;
        assert_eq!(found.records.len(), 1);
        assert!(!format!("{found:?}").contains(MARKER));
    }
    assert!(
        !files_containing(&dir, KEPT_JSON.as_bytes())?.is_empty(),
        "sanity"
    );
    assert!(files_containing(&dir, MARKER.as_bytes())?.is_empty());
    Ok(())
}

/// Chinese forms justify two-character labels with a space (`姓　名`, `血　型`); such a header
/// still names prohibited data, whatever space sits between the characters.
#[test]
fn spaced_chinese_field_names_are_still_prohibited() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let code = person(87, "1977-07-07");
    let csv = format!(
        "provider_record_id,subject_code,subject_name,item,occurred_on,血\u{3000}型\nS-1,{},韩一,O-VOLUNTEER,2025-01-01,{MARKER}\n",
        code.as_str()
    );
    let mut spaced = line("S-2", &code, "韩一", "O-CHARITY", "2025-02-01");
    spaced["attributes"] = json!({"血 型": MARKER});
    let mut zero_width = line("S-3", &code, "韩一", "O-CHARITY", "2025-03-01");
    zero_width["attributes"] = json!({"指\u{200B}纹": MARKER});
    {
        let store = credstore::Store::open(&dir)?;
        let opts = options();
        let report = store.ingest_reader(
            "CIVIL-SH",
            "spaced.csv",
            credstore::ingest::FileFormat::Csv,
            csv.as_bytes(),
            &opts,
        )?;
        assert_eq!(report.rejected, 1, "CSV header `血　型`: {report:?}");
        let report = ingest_jsonl(
            &store,
            "CIVIL-SH",
            "spaced.jsonl",
            &jsonl(&[spaced, zero_width]),
        )?;
        assert_eq!(
            report.rejected, 2,
            "attributes `血 型`, `指\\u{{200B}}纹`: {report:?}"
        );
    }
    assert!(
        files_containing(&dir, MARKER.as_bytes())?.is_empty(),
        "stored"
    );
    Ok(())
}

/// A field name can carry the prohibited value itself: one-hot exports have columns like
/// `blood_type_AB` or `血型-O` holding "1". Naming such a field in a row's refusal tells the
/// rejects file (kept in the data directory) and the console what the refused value was.
#[test]
fn a_field_name_carrying_the_value_is_not_repeated_in_row_rejects() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = credstore::Store::open(tmp.path().join("store"))?;
    let people = [
        person(88, "1970-01-01"),
        person(89, "1971-01-01"),
        person(90, "1972-01-01"),
    ];
    let csv = format!(
        "provider_record_id,subject_code,subject_name,item,occurred_on,血型-ZQXA,blood_type_ZQXB\n\
         H-1,{},甲,O-VOLUNTEER,2025-01-01,1,\n\
         H-2,{},乙,O-VOLUNTEER,2025-01-01,,1\n",
        people[0].as_str(),
        people[1].as_str()
    );
    let csv_report = store.ingest_reader(
        "CIVIL-SH",
        "one-hot.csv",
        credstore::ingest::FileFormat::Csv,
        csv.as_bytes(),
        &options(),
    )?;
    let mut one_hot = line("H-3", &people[2], "丙", "O-CHARITY", "2025-01-01");
    one_hot["attributes"] = json!({"血型ZQXC": "1"});
    let json_report = ingest_jsonl(&store, "CIVIL-SH", "one-hot.jsonl", &jsonl(&[one_hot]))?;
    assert_eq!(csv_report.accepted + json_report.accepted, 0);
    assert!(json_report.rejected == 1 && csv_report.rejected >= 1);
    // A header may be refused as a whole (line 1, the same for every subject); a data row's
    // reason must not say which prohibited column held its value.
    for r in csv_report.rejects.iter().chain(&json_report.rejects) {
        if r.line == 1 && r.file.ends_with(".csv") {
            continue;
        }
        for suffix in ["ZQXA", "ZQXB", "ZQXC"] {
            assert!(
                !r.reason.contains(suffix),
                "{}:{}: {}",
                r.file,
                r.line,
                r.reason
            );
        }
    }
    Ok(())
}

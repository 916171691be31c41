//! The command line through the real binary: output shapes (a public contract), exit codes
//! (0 success, 1 failure or an invalid code, 2 usage error) and stdin.

mod common;

use common::*;
use serde_json::{json, Value};

/// One JSON value per output line.
fn json_lines(stdout: &str) -> Result<Vec<Value>, serde_json::Error> {
    stdout.lines().map(serde_json::from_str).collect()
}

/// Valid USCCs from the python-stdnum test data (../shared/testdata/uscc-real-world.txt).
const REAL_USCCS: [&str; 3] = [
    "121200004013590816",
    "91110000600037341L",
    "911522010783762860",
];

#[test]
fn validate_code_answers_each_argument_and_fails_if_any_is_invalid() -> TestResult {
    let run = credstore(&[
        "--today",
        TODAY,
        "validate-code",
        "91310115MA1K3BTP2B",
        " 110105 19491231 002x ",
        "91310115MA1K3BTP2C",
    ])?;
    assert_eq!(run.code, 1, "one input is invalid: {}", run.stderr);
    let answers = json_lines(&run.stdout)?;
    assert_eq!(answers.len(), 3, "{}", run.stdout);
    for a in &answers {
        for key in ["input", "valid", "code", "kind", "error"] {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
    }
    assert_eq!(answers[0]["input"], "91310115MA1K3BTP2B");
    assert_eq!(answers[0]["valid"], true);
    assert_eq!(answers[0]["code"], "91310115MA1K3BTP2B");
    assert_eq!(answers[0]["kind"], "organization");
    assert_eq!(answers[0]["error"], Value::Null);
    assert_eq!(
        answers[1]["input"], " 110105 19491231 002x ",
        "the input as given"
    );
    assert_eq!(answers[1]["code"], "11010519491231002X", "normalised");
    assert_eq!(answers[1]["kind"], "natural_person");
    assert_eq!(answers[2]["valid"], false);
    assert_eq!(answers[2]["code"], Value::Null);
    let error = answers[2]["error"].as_str().ok_or("an error text")?;
    assert!(error.contains("check character"), "{error}");

    let mut args = vec!["--today", TODAY, "validate-code"];
    args.extend(REAL_USCCS);
    let run = credstore(&args)?;
    assert_eq!(run.code, 0, "all valid: {}", run.stdout);
    let answers = json_lines(&run.stdout)?;
    assert_eq!(answers.len(), 3);
    assert!(
        answers
            .iter()
            .all(|a| a["valid"] == true && a["kind"] == "organization"),
        "{}",
        run.stdout
    );
    Ok(())
}

#[test]
fn validate_code_reads_stdin_one_code_per_line() -> TestResult {
    let input = format!(
        "{}\r\n{}\n11010519491231002x\n",
        REAL_USCCS[0], REAL_USCCS[1]
    );
    let run = credstore_stdin(&["--today", TODAY, "validate-code"], input.as_bytes())?;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let answers = json_lines(&run.stdout)?;
    let codes: Vec<&str> = answers.iter().filter_map(|a| a["code"].as_str()).collect();
    assert_eq!(codes, [REAL_USCCS[0], REAL_USCCS[1], "11010519491231002X"]);

    let run = credstore_stdin(&["--today", TODAY, "validate-code"], b"not a code\n")?;
    assert_eq!(run.code, 1);
    assert_eq!(json_lines(&run.stdout)?[0]["valid"], false);
    Ok(())
}

#[test]
fn ingest_json_get_and_stats_print_their_documented_shapes() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let org = usccs(91, 1)[0];
    let mut penalty = line("X-2", &org, "上海命令行有限公司", "D-PENALTY", "2026-05-05");
    penalty["amount_fen"] = json!(880_000);
    let lines = [
        line("X-1", &org, "上海命令行有限公司", "B-ORG-REG", "2014-04-04"),
        penalty,
        line(
            "X-3",
            &org,
            "上海命令行有限公司",
            "NO-SUCH-ITEM",
            "2014-04-04",
        ),
    ];
    let file = write_file(tmp.path(), "cli.jsonl", jsonl(&lines))?;
    let file_arg = file.to_str().ok_or("path")?;

    let run = credstore_in(
        &data,
        &["ingest", "--provider", "SAMR-SH", "--json", file_arg],
    )?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "one JSON object: {}",
        run.stdout
    );
    let report: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(report["new_versions"], 0);
    assert_eq!(report["rejected"], 1);
    assert_eq!(
        report["rejects"],
        json!([{
            "file": file_arg,
            "line": 3,
            "kind": "refused",
            "reason": "item \"NO-SUCH-ITEM\" is not in the catalog (Art. 15)",
        }])
    );

    let run = credstore_in(
        &data,
        &["ingest", "--provider", "SAMR-SH", "--json", file_arg],
    )?;
    let again: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(2))
    );

    // Any spelling of the code finds the subject.
    let spelled = org.as_str().to_lowercase();
    let run = credstore_in(&data, &["get", &spelled])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let view: Value = serde_json::from_str(&run.stdout)?;
    let keys: Vec<&String> = view.as_object().ok_or("an object")?.keys().collect();
    assert_eq!(
        keys,
        [
            "code",
            "query_seq",
            "records",
            "status",
            "subject",
            "withheld"
        ]
    );
    assert_eq!(view["status"], "found");
    assert_eq!(view["code"], org.as_str());
    assert_eq!(view["subject"]["name"], "上海命令行有限公司");
    assert_eq!(view["subject"]["kind"], "organization");
    let records = view["records"].as_array().ok_or("records")?;
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["item"], "B-ORG-REG");
    assert_eq!(records[0]["category"], "basic");
    assert_eq!(records[1]["item"], "D-PENALTY");
    assert_eq!(records[1]["category"], "dishonesty");
    assert_eq!(records[1]["amount_fen"], 880_000);
    assert_eq!(records[1]["provider"], "SAMR-SH");
    assert_eq!(records[1]["provider_record_id"], "X-2");
    assert!(records.iter().all(|r| r["record_id"].is_u64()), "{view}");
    assert_ne!(records[0]["record_id"], records[1]["record_id"]);

    let run = credstore_in(&data, &["stats", "--json"])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stats: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(stats["subjects"], 1);
    assert_eq!(stats["records"], 2);
    assert_eq!(stats["by_category"]["dishonesty"], 1);
    assert_eq!(stats["by_provider"]["SAMR-SH"], 2);

    let run = credstore_in(&data, &["stats"])?;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("subjects: 1"), "{}", run.stdout);
    Ok(())
}

#[test]
fn get_fails_with_1_for_an_invalid_or_unknown_code() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let run = credstore_in(&data, &["get", "91310115MA1K3BTP2C"])?;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not a valid code"), "{}", run.stderr);
    let unknown = person(92, "1960-01-01");
    let run = credstore_in(&data, &["get", unknown.as_str()])?;
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        !run.stderr.contains(unknown.as_str()),
        "a person's code in clear: {}",
        run.stderr
    );
    Ok(())
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    for args in [
        &["ingest", "--provider", "SAMR-SH"][..],
        &["ingest", "x.jsonl"],
        &["no-such-command"],
        &["stats", "--no-such-flag"],
        &[
            "ingest",
            "--provider",
            "SAMR-SH",
            "--encoding",
            "latin1",
            "x.jsonl",
        ],
    ] {
        let run = credstore_in(&data, args)?;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("Usage") || run.stderr.contains("error"),
            "{}",
            run.stderr
        );
    }
    let run = credstore(&[
        "--today",
        "2023-02-30",
        "validate-code",
        "91310115MA1K3BTP2B",
    ])?;
    assert_eq!(run.code, 2, "an impossible --today: {}", run.stderr);

    // Well-formed commands that fail: 1, with the reason on stderr.
    let missing = tmp.path().join("missing.jsonl");
    let run = credstore_in(
        &data,
        &[
            "ingest",
            "--provider",
            "SAMR-SH",
            missing.to_str().ok_or("path")?,
        ],
    )?;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("missing.jsonl"), "{}", run.stderr);
    let file = write_file(tmp.path(), "ok.jsonl", "")?;
    let run = credstore_in(
        &data,
        &[
            "ingest",
            "--provider",
            "samr sh",
            file.to_str().ok_or("path")?,
        ],
    )?;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("provider code"), "{}", run.stderr);
    Ok(())
}

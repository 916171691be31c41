//! The credbench binary end to end, at a tiny size: both engines load the same generated data,
//! their answers are checked against each other, and one table comes out (no timing asserted).

use std::process::Command;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn a_small_run_checks_the_answers_and_prints_one_table() -> TestResult {
    let work = tempfile::tempdir()?;
    let out = Command::new(env!("CARGO_BIN_EXE_credbench"))
        .args([
            "--subjects",
            "300",
            "--queries",
            "40",
            "--runs",
            "1",
            "--work-dir",
        ])
        .arg(work.path())
        .output()?;
    let stdout = String::from_utf8(out.stdout)?;
    let stderr = String::from_utf8(out.stderr)?;
    assert!(out.status.success(), "credbench failed: {stderr}");
    assert!(
        stdout.contains("answers checked: lookups identical"),
        "{stdout}"
    );
    for row in [
        "| bulk load, 300 subjects",
        "| lookup 10,000 codes: Store::subject",
        "| lookup 10,000 codes: Store::bulk_query",
        "| name search, 2-char fragment p99",
        "| name search, 4-char fragment p50",
        "| name search, full person name p50",
        "| code search, exact code p50",
        "| code search, prefix (6-9) p99",
        "| retention sweep: ",
        "| peak memory",
        "| disk after the load",
    ] {
        assert_eq!(
            stdout.matches(row).count(),
            1,
            "no single row {row:?} in:\n{stdout}"
        );
    }
    // The stores are deleted afterwards; the workload and the answers stay.
    assert!(!work.path().join("sqlite").exists() && !work.path().join("credstore").exists());
    assert!(work.path().join("workload.json").exists());
    Ok(())
}

#[test]
fn the_engine_flag_needs_a_work_directory() -> TestResult {
    let out = Command::new(env!("CARGO_BIN_EXE_credbench"))
        .args(["--engine", "sqlite"])
        .output()?;
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains("--engine needs --work-dir"));
    Ok(())
}

//! Bulk lookups (Art. 20 ¶3): answers in input order, identical to single queries by the same
//! agency, invalid and unknown lines answered without stopping the batch, chunk boundaries
//! crossed, per-line authorisations, the query log listing every code asked (one entry per
//! request, or one per block of a long request),
//! and the CLI writing the same answers.

mod common;

use common::*;
use credstore::domain::code::{gen, SubjectCode};
use credstore::generate::rng::Rng;
use credstore::generate::{generate, GenerateConfig};
use credstore::query::bulk::{
    BulkInput, BulkLine, BulkRequest, BulkStatus, CHUNK_LINES, LOG_BLOCK_LINES,
};
use credstore::query::model::{Authorisation, BulkAccess, Requester, Role, Scope};
use credstore::query::{Asker, QueryOptions, Registered, RoleName, Status};
use credstore::store::query_log::{Outcome, QueryKind};
use credstore::Store;
use serde_json::Value;

fn agency(store: &Store, id: &str) -> credstore::Result<()> {
    store.register_requester(&Requester {
        id: id.into(),
        name: "某信用服务机构".into(),
        role: Role::Agency {
            bulk: BulkAccess::Granted { since: today() },
        },
        registered_on: today(),
        active: true,
    })
}

fn request(input: BulkInput) -> BulkRequest {
    BulkRequest {
        agency: "AG-1".into(),
        operator: "赵六".into(),
        purpose: "批量核查".into(),
        today: today(),
        input,
    }
}

fn run(
    store: &Store,
    req: &BulkRequest,
    input: &str,
) -> Result<Vec<BulkLine>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let summary = store
        .bulk_query(
            req,
            input.as_bytes(),
            |l| l,
            |l| {
                out.push(l);
                Ok(())
            },
        )?
        .map_err(|(_, r)| format!("refused: {r}"))?;
    assert_eq!(summary.counts.asked, out.len() as u64);
    Ok(out)
}

/// A store of `subjects` generated subjects (seed `seed`), bulk loaded, with agency AG-1.
fn generated_store(
    subjects: u64,
    seed: u64,
) -> Result<(tempfile::TempDir, Store), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    generate(
        &GenerateConfig {
            subjects,
            seed,
            bad_share: 0.0,
            today: date("2026-11-01"),
        },
        &data,
    )?;
    let store = Store::open(tmp.path().join("store"))?;
    let sources = credstore::ingest::bulk::provider_tree(&data)?;
    store.ingest_bulk(&sources, &options())?;
    agency(&store, "AG-1")?;
    Ok((tmp, store))
}

#[test]
fn bulk_answers_equal_single_queries_in_input_order() -> TestResult {
    let (_tmp, store) = generated_store(1500, 77)?;

    // Every stored code, some twice, 10% unknown valid codes, 1% malformed, blank lines.
    let codes: Vec<SubjectCode> = store.subject_codes().collect::<Result<_, _>>()?;
    let mut rng = Rng::new(5);
    let mut input = Vec::new();
    let mut expected_kinds = Vec::new();
    for i in 0..(CHUNK_LINES * 2 + 333) {
        let roll = rng.below(100);
        if roll < 10 {
            let unknown = gen::resident_id(&mut rng, "310104", date("1975-01-01"));
            input.push(unknown.as_str().to_lowercase());
            expected_kinds.push(if codes.contains(&unknown) {
                "found"
            } else {
                "not_found"
            });
        } else if roll < 11 {
            input.push(format!("NOT-A-CODE-{i}"));
            expected_kinds.push("invalid_code");
        } else {
            input.push(
                codes[rng.below(codes.len() as u64) as usize]
                    .as_str()
                    .to_string(),
            );
            expected_kinds.push("found");
        }
    }
    let mut text = String::new();
    for (i, line) in input.iter().enumerate() {
        text.push_str(line);
        text.push('\n');
        if i % 1000 == 999 {
            text.push_str("   \n");
        }
    }
    let log_before = store.query_log().count();
    let lines = run(&store, &request(BulkInput::Lines), &text)?;
    assert_eq!(
        lines.len(),
        input.len(),
        "blank lines are skipped, all others answered"
    );
    // In input order: line numbers strictly increase.
    assert!(lines.windows(2).all(|w| w[0].line < w[1].line));
    let statuses: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::to_value(l.status))
        .collect::<Result<_, _>>()?;
    let expected: Vec<Value> = expected_kinds.iter().map(|k| Value::from(*k)).collect();
    assert_eq!(statuses, expected);

    // Exactly one log entry for the whole request, listing every valid code in input order.
    let log: Vec<_> = store.query_log().collect::<Result<_, _>>()?;
    assert_eq!(log.len(), log_before + 1);
    let entry = &log[log.len() - 1];
    assert_eq!(entry.kind, QueryKind::Bulk);
    assert_eq!(entry.outcome, Outcome::Answered);
    assert_eq!(entry.requester.as_deref(), Some("AG-1"));
    let valid: Vec<SubjectCode> = lines
        .iter()
        .filter_map(|l| l.code.as_deref())
        .map(|c| SubjectCode::parse(c, today()).map(|p| p.code))
        .collect::<Result<_, _>>()?;
    assert_eq!(entry.subjects, valid);
    let returned: Vec<u64> = lines
        .iter()
        .flat_map(|l| l.records.iter().map(|r| r.record_id))
        .collect();
    assert_eq!(entry.returned, returned);
    let counts = entry.counts.ok_or("counts")?;
    assert_eq!(
        counts.invalid,
        expected_kinds
            .iter()
            .filter(|k| **k == "invalid_code")
            .count() as u64
    );
    assert!(counts.found > 0 && counts.not_found > 0);

    // The same as single queries by the same agency (each of which is logged too).
    let asker = Asker::Registered(Registered {
        requester: "AG-1".into(),
        role: RoleName::Agency,
        operator: "赵六".into(),
        purpose: "批量核查".into(),
        matter: None,
        authorisation: None,
    });
    let mut withheld_somewhere = false;
    for line in lines.iter().filter(|l| l.code.is_some()) {
        let code = SubjectCode::parse(line.code.as_deref().ok_or("code")?, today())?.code;
        let single = store.query(&asker, &code, &QueryOptions::new(today()))?;
        match single.status {
            Status::Found => assert_eq!(line.status, BulkStatus::Found),
            Status::NotFound => assert_eq!(line.status, BulkStatus::NotFound),
            Status::Refused => return Err("a single query was refused".into()),
        }
        assert_eq!(
            serde_json::to_value(&line.records)?,
            serde_json::to_value(&single.records)?
        );
        assert_eq!(line.withheld, single.withheld);
        assert_eq!(line.subject, single.subject);
        withheld_somewhere |= !line.withheld.is_empty();
    }
    assert!(
        withheld_somewhere,
        "generated data has non-public records an agency cannot see"
    );
    Ok(())
}

#[test]
fn csv_rows_carry_their_own_authorisations() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path().join("store"))?;
    let orgs = usccs(808, 3);
    let mut lines = Vec::new();
    for (i, org) in orgs.iter().enumerate() {
        lines.push(line(
            &format!("B-{i}"),
            org,
            "上海批量有限公司",
            "B-ORG-REG",
            "2020-01-01",
        ));
        lines.push(line(
            &format!("D-{i}"),
            org,
            "上海批量有限公司",
            "D-FALSE-MATERIALS",
            "2025-01-01",
        ));
    }
    ingest_jsonl(&store, "SAMR-SH", "b.jsonl", &jsonl(&lines))?;
    agency(&store, "AG-1")?;
    let auth = store.record_authorisation(Authorisation {
        id: 0,
        subject: orgs[0],
        grantee: "AG-1".into(),
        scope: Scope::parse("dishonesty")?,
        valid_from: date("2026-01-01"),
        valid_until: date("2026-12-31"),
        document: "DOC-9".into(),
        recorded_on: today(),
        revoked: None,
    })?;
    let csv = format!(
        "name,uscc,auth\n甲,{},{}\n乙,{},{}\n丙,{},\n丁,{},nonsense\n",
        orgs[0].as_str(),
        auth.id,
        orgs[1].as_str(),
        auth.id,
        orgs[2].as_str(),
        orgs[2].as_str(),
    );
    let req = request(BulkInput::Csv {
        code: "uscc".into(),
        authorisation: Some("auth".into()),
    });
    let out = run(&store, &req, &csv)?;
    let summary: Vec<(u64, BulkStatus, usize, u64)> = out
        .iter()
        .map(|l| {
            (
                l.line,
                l.status,
                l.records.len(),
                l.withheld.iter().map(|w| w.count).sum(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, BulkStatus::Found, 2, 0),   // its own authorisation: both records
            (3, BulkStatus::Refused, 0, 0), // someone else's authorisation
            (4, BulkStatus::Found, 1, 1),   // none: the public record only
            (5, BulkStatus::Refused, 0, 0), // not an authorisation id
        ]
    );
    assert!(out[1].refusal.is_some() && out[1].subject.is_none());
    let entry = store.query_log().last().ok_or("entry")??;
    assert_eq!(entry.counts.map(|c| (c.found, c.refused)), Some((2, 2)));

    // A missing column is a clear error, not an empty answer.
    let bad = request(BulkInput::Csv {
        code: "code".into(),
        authorisation: None,
    });
    let err = store
        .bulk_query(&bad, csv.as_bytes(), |l| l, |_| Ok(()))
        .err()
        .ok_or("an error")?;
    assert!(err.to_string().contains("\"code\""), "{err}");
    Ok(())
}

#[test]
fn the_cli_writes_json_lines_and_the_subject_sees_the_lookup() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let store = Store::open(&data)?;
    let orgs = usccs(909, 2);
    let lines: Vec<_> = orgs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            line(
                &format!("R-{i}"),
                o,
                "上海命令有限公司",
                "D-PENALTY",
                "2025-02-02",
            )
        })
        .collect();
    ingest_jsonl(&store, "SAMR-SH", "c.jsonl", &jsonl(&lines))?;
    agency(&store, "AG-1")?;
    drop(store);
    let input = write_file(
        tmp.path(),
        "codes.txt",
        format!(
            "{}\nbad\n{}\n",
            orgs[0].as_str(),
            orgs[1].as_str().to_lowercase()
        ),
    )?;
    let output = tmp.path().join("answers.jsonl");
    let run = credstore_in(
        &data,
        &[
            "bulk-query",
            "--agency",
            "AG-1",
            "--operator",
            "赵六",
            "--purpose",
            "核查",
            "--output",
            output.to_str().ok_or("path")?,
            input.to_str().ok_or("path")?,
        ],
    )?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("3 lines: 2 found"), "{}", run.stderr);
    let answers: Vec<Value> = std::fs::read_to_string(&output)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let status: Vec<&str> = answers
        .iter()
        .filter_map(|a| a["status"].as_str())
        .collect();
    assert_eq!(status, ["found", "invalid_code", "found"]);
    assert_eq!(answers[2]["code"], orgs[1].as_str());
    assert_eq!(answers[0]["records"][0]["item"], "D-PENALTY");

    // An unregistered agency is refused, and nothing is written.
    let run = credstore_in(
        &data,
        &[
            "bulk-query",
            "--agency",
            "AG-9",
            "--operator",
            "x",
            "--purpose",
            "y",
            input.to_str().ok_or("path")?,
        ],
    )?;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    // The subject can list who queried it: the bulk lookup and the refused one are there.
    let run = credstore_in(
        &data,
        &[
            "audit",
            "who-queried",
            orgs[1].as_str(),
            "--as",
            "subject",
            "--proof",
            "ID-1",
        ],
    )?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let seen: Vec<Value> = run
        .stdout
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(
        seen.len(),
        1,
        "only the answered bulk lookup names this subject: {}",
        run.stdout
    );
    assert_eq!(seen[0]["kind"], "bulk");
    assert_eq!(seen[0]["requester"], "AG-1");
    // The public may not list it.
    let run = credstore_in(&data, &["audit", "who-queried", orgs[1].as_str()])?;
    assert_eq!(run.code, 1);
    Ok(())
}

/// A request longer than `LOG_BLOCK_LINES` is logged in parts, so the log's memory does not grow
/// with the input: the first entry is of kind `Bulk`, each later one `BulkPart` naming it; in
/// order they list every valid code asked and every record returned, and their counts add up.
#[test]
fn a_long_request_is_logged_in_parts_that_name_the_first() -> TestResult {
    let (_tmp, store) = generated_store(200, 78)?;
    let codes: Vec<SubjectCode> = store.subject_codes().collect::<Result<_, _>>()?;

    let block = LOG_BLOCK_LINES as usize;
    let mut rng = Rng::new(9);
    let mut input: Vec<String> = (0..2 * block + 1234)
        .map(|i| match i % 50 {
            0 => format!("NOT-A-CODE-{i}"),
            _ => codes[rng.below(codes.len() as u64) as usize]
                .as_str()
                .to_string(),
        })
        .collect();
    // A code asked only in the last block: the subject's own listing finds that block's entry.
    let late = codes[0];
    input.retain(|l| l != late.as_str());
    let at = input.len() - 5;
    input[at] = late.as_str().to_string();

    let mut text = input.join("\n");
    text.push('\n');
    let mut lines = Vec::new();
    // When the first line of each block reaches the sink, how many of the request's entries
    // the log already holds: an answer given is an answer logged.
    let log_before = store.query_log().count();
    let mut logged_when_seen = Vec::new();
    let summary = store
        .bulk_query(
            &request(BulkInput::Lines),
            text.as_bytes(),
            |l| l,
            |l| {
                if (lines.len() as u64).is_multiple_of(LOG_BLOCK_LINES) {
                    logged_when_seen.push(store.query_log().count() - log_before);
                }
                lines.push(l);
                Ok(())
            },
        )?
        .map_err(|(_, r)| format!("refused: {r}"))?;
    assert_eq!(lines.len(), input.len());
    assert_eq!(summary.log_entries, 3);
    assert_eq!(logged_when_seen, vec![1, 2, 3]);

    let log: Vec<_> = store.query_log().collect::<Result<_, _>>()?;
    let parts: Vec<_> = log.iter().filter(|e| e.seq >= summary.query_seq).collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].kind, QueryKind::Bulk);
    for (i, part) in parts.iter().enumerate().skip(1) {
        assert_eq!(
            part.kind,
            QueryKind::BulkPart {
                request: summary.query_seq,
                part: i as u32
            }
        );
        assert_eq!(part.requester.as_deref(), Some("AG-1"));
        assert_eq!(part.purpose.as_deref(), Some("批量核查"));
    }
    let asked: Vec<u64> = parts
        .iter()
        .map(|e| e.counts.map(|c| c.asked))
        .collect::<Option<_>>()
        .ok_or("counts")?;
    let rest = input.len() as u64 - 2 * LOG_BLOCK_LINES;
    assert_eq!(asked, vec![LOG_BLOCK_LINES, LOG_BLOCK_LINES, rest]);
    let total =
        parts
            .iter()
            .filter_map(|e| e.counts)
            .fold((0, 0, 0), |(found, not_found, invalid), c| {
                (
                    found + c.found,
                    not_found + c.not_found,
                    invalid + c.invalid,
                )
            });
    let c = summary.counts;
    assert_eq!(total, (c.found, c.not_found, c.invalid));
    assert_eq!(c.asked, input.len() as u64);
    assert!(c.invalid > 0 && c.found > 0);

    let valid: Vec<SubjectCode> = lines
        .iter()
        .filter_map(|l| l.code.as_deref())
        .map(|c| SubjectCode::parse(c, today()).map(|p| p.code))
        .collect::<Result<_, _>>()?;
    let logged: Vec<SubjectCode> = parts.iter().flat_map(|e| e.subjects.clone()).collect();
    assert_eq!(logged, valid);
    let returned: Vec<u64> = lines
        .iter()
        .flat_map(|l| l.records.iter().map(|r| r.record_id))
        .collect();
    let logged: Vec<u64> = parts.iter().flat_map(|e| e.returned.clone()).collect();
    assert_eq!(logged, returned);

    let listing = store
        .who_queried(
            &Asker::Subject {
                identity_proof: "身份核验-1".into(),
            },
            &late,
            today(),
        )?
        .map_err(|r| format!("refused: {r}"))?;
    let seqs: Vec<u64> = listing.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![parts[2].seq]);
    assert!(
        store.audit_verify()?.ok(),
        "the chain holds across the parts"
    );
    Ok(())
}

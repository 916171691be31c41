//! Search: what each kind of query finds, in which order, with which codes shown, and that the
//! index agrees with the store after a rebuild and after a crash.

mod common;

use common::*;
use credstore::domain::code::SubjectCode;
use credstore::domain::record::Subject;
use credstore::domain::SubjectKind;
use credstore::search::{Matched, Requester};
use credstore::Store;
use std::collections::BTreeSet;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A store of `subjects` generated subjects, bulk-loaded (in `store` under the returned
/// directory).
fn loaded(
    subjects: u64,
    seed: u64,
) -> Result<(tempfile::TempDir, Store), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let sources = generated(&data, subjects, seed, 0.0)?;
    let store = Store::open(tmp.path().join("store"))?;
    store.ingest_bulk(&sources, &options())?;
    Ok((tmp, store))
}

/// A store of 3,000 generated subjects (bulk-loaded), plus every subject in memory.
fn fixture() -> Result<(tempfile::TempDir, Store, Vec<Subject>), Box<dyn std::error::Error>> {
    let (tmp, store) = loaded(3_000, 21)?;
    let mut subjects = Vec::new();
    for code in store.subject_codes() {
        subjects.push(store.subject_header(&code?)?.ok_or("header")?);
    }
    Ok((tmp, store, subjects))
}

fn names(s: &Subject) -> impl Iterator<Item = &String> {
    std::iter::once(&s.name).chain(&s.former_names)
}

#[test]
fn a_two_character_query_finds_every_name_containing_it() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    for text in ["科技", "王伟", "华信", "明华"] {
        let expected: BTreeSet<String> = subjects
            .iter()
            .filter(|s| names(s).any(|n| n.contains(text)))
            .map(|s| s.code.as_str().to_string())
            .collect();
        let hits = store.search(Requester::Entitled, text, 100_000)?;
        let got: BTreeSet<String> = hits.iter().map(|h| h.code.clone()).collect();
        assert_eq!(got, expected, "{text}");
    }
    Ok(())
}

#[test]
fn a_fragment_of_a_long_company_name_finds_it_in_the_top_results() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    let companies: Vec<&Subject> = subjects
        .iter()
        .filter(|s| s.kind == SubjectKind::Organization && s.name.chars().count() >= 10)
        .take(40)
        .collect();
    assert!(companies.len() >= 20);
    for company in companies {
        let chars: Vec<char> = company.name.chars().collect();
        for len in [3, 4] {
            // The trade name right after 上海: the distinctive part of the name.
            let fragment: String = chars[2..2 + len].iter().collect();
            let hits = store.search(Requester::Entitled, &fragment, 20)?;
            assert!(
                hits.iter().any(|h| h.code == company.code.as_str()),
                "{fragment} did not find {}",
                company.name
            );
        }
    }
    Ok(())
}

/// The name tiers, by their definitions, for a query of units `q` (see `credstore::search`):
/// exact name, then a name containing `q`'s units as a run, then all but one of its bigrams
/// (at least one of two) among the subject's names; each tier by rank (shorter current name
/// first, then subject id); the first `limit`.
fn expected_name_answer(
    subjects: &[Subject],
    q: &[String],
    limit: usize,
) -> Vec<(String, Matched)> {
    use credstore::search::analyzer::units;
    let bigrams = |u: &[String]| -> Vec<String> { u.windows(2).map(|w| w.concat()).collect() };
    let query_bigrams = bigrams(q);
    let tier = |s: &Subject| -> Option<Matched> {
        let names: Vec<Vec<String>> = names(s).map(|n| units(n)).collect();
        if names.iter().any(|u| u == q) {
            return Some(Matched::Name);
        }
        if names.iter().any(|u| u.windows(q.len()).any(|w| w == q)) {
            return Some(Matched::NameFragment);
        }
        let held: BTreeSet<String> = names.iter().flat_map(|u| bigrams(u)).collect();
        let present = query_bigrams.iter().filter(|b| held.contains(*b)).count();
        (query_bigrams.len() >= 2 && present + 1 >= query_bigrams.len())
            .then_some(Matched::NamePartial)
    };
    let mut found: Vec<(Matched, usize, u64, String)> = subjects
        .iter()
        .filter_map(|s| {
            let t = tier(s)?;
            Some((
                t,
                s.name.chars().count(),
                s.subject_id,
                s.code.as_str().to_string(),
            ))
        })
        .collect();
    found.sort_by_key(|(t, len, id, _)| (std::cmp::Reverse(t.score_order()), *len, *id));
    found
        .into_iter()
        .take(limit)
        .map(|(t, _, _, code)| (code, t))
        .collect()
}

trait ScoreOrder {
    fn score_order(&self) -> u8;
}

impl ScoreOrder for Matched {
    fn score_order(&self) -> u8 {
        match self {
            Matched::Name => 3,
            Matched::NameFragment => 2,
            _ => 1,
        }
    }
}

/// Fragments of 3 to 6 characters (one term or a phrase; the partial tier as a union of
/// intersections or a minimum-match disjunction) and whole names: exactly the definition of
/// the tiers, in rank order, at the first-20 limit and whole.
#[test]
fn name_queries_answer_exactly_the_tiers_in_rank_order() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    let mut queries: Vec<String> = vec!["上海明华".into(), "哈哈哈哈".into(), "科技有限".into()];
    for (i, s) in subjects.iter().enumerate().step_by(37) {
        let chars: Vec<char> = s.name.chars().collect();
        for len in 3..=6 {
            if chars.len() >= len {
                let at = (i * 7) % (chars.len() - len + 1);
                queries.push(chars[at..at + len].iter().collect());
            }
        }
        queries.push(s.name.clone());
        // Two pieces of different names: mostly partial matches.
        if let Some(other) = subjects.get(i + 1) {
            let a: String = chars.iter().take(2).collect();
            let b: String = other.name.chars().rev().take(2).collect();
            queries.push(format!("{a}{b}"));
        }
    }
    let mut partial = 0;
    for q in &queries {
        let units = credstore::search::analyzer::units(q);
        for limit in [20, 100_000] {
            let expected = expected_name_answer(&subjects, &units, limit);
            let got: Vec<(String, Matched)> = store
                .search(Requester::Entitled, q, limit)?
                .into_iter()
                .map(|h| (h.code, h.matched))
                .collect();
            assert_eq!(got, expected, "{q} (limit {limit})");
            partial += got.iter().filter(|h| h.1 == Matched::NamePartial).count();
        }
    }
    assert!(partial > 0, "some queries reach the partial tier");
    Ok(())
}

#[test]
fn a_full_name_lists_every_exact_match_before_partial_ones() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    // The most common person name in the data set.
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for s in subjects
        .iter()
        .filter(|s| s.kind == SubjectKind::NaturalPerson)
    {
        *counts.entry(s.name.as_str()).or_default() += 1;
    }
    let (name, n) = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, v)| (*k, *v))
        .ok_or("no persons")?;
    assert!(n >= 2, "want a shared name, got {name} x{n}");
    let hits = store.search(Requester::Public, name, n + 10)?;
    let exact: Vec<_> = hits
        .iter()
        .take_while(|h| h.matched == Matched::Name)
        .collect();
    assert_eq!(exact.len(), n, "{name}: {hits:?}");
    assert!(exact.iter().all(|h| h.name == name));
    assert!(hits[n..]
        .iter()
        .all(|h| h.matched != Matched::Name && h.score < 4.0));
    Ok(())
}

#[test]
fn a_full_code_comes_first_and_persons_are_masked_for_the_public() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    for s in subjects.iter().step_by(97) {
        let shown = store.search(Requester::Public, &s.code.as_str().to_lowercase(), 5)?;
        assert_eq!(shown[0].matched, Matched::Code);
        assert_eq!(shown[0].name, s.name);
        let entitled = store.search(Requester::Entitled, s.code.as_str(), 5)?;
        assert_eq!(entitled[0].code, s.code.as_str());
        match s.kind {
            SubjectKind::NaturalPerson => {
                assert_eq!(shown[0].code, s.code.masked());
                assert!(shown[0].code.contains("********"), "{}", shown[0].code);
            }
            SubjectKind::Organization => assert_eq!(shown[0].code, s.code.as_str()),
        }
    }
    Ok(())
}

#[test]
fn a_code_prefix_of_six_or_more_characters_finds_the_codes_with_it() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    for prefix in ["310115", "9131011", "31010419"] {
        let expected: BTreeSet<&str> = subjects
            .iter()
            .map(|s| s.code.as_str())
            .filter(|c| c.starts_with(prefix))
            .collect();
        assert!(!expected.is_empty(), "{prefix}");
        let hits = store.search(Requester::Entitled, prefix, 100_000)?;
        let got: BTreeSet<&str> = hits
            .iter()
            .filter(|h| h.matched == Matched::CodePrefix)
            .map(|h| h.code.as_str())
            .collect();
        assert!(expected.is_subset(&got), "{prefix}");
        // The rest come from the region or organisation-code part of a USCC.
        for code in got.difference(&expected) {
            assert!(
                code[2..].starts_with(prefix) || code[8..].starts_with(prefix),
                "{code}"
            );
        }
    }
    Ok(())
}

/// Every length from 6 to 17 (indexed terms, the union of the terms one character longer, term
/// ranges), from the start of a code, of a USCC's region part and of its organisation code:
/// exactly the subjects with the prefix in one of those places.
#[test]
fn a_code_prefix_of_every_length_finds_exactly_the_codes_with_it() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    let person = subjects
        .iter()
        .find(|s| s.code.kind() == SubjectKind::NaturalPerson)
        .ok_or("a person")?;
    let orgs: Vec<&Subject> = subjects
        .iter()
        .filter(|s| s.code.kind() == SubjectKind::Organization)
        .take(3)
        .collect();
    let mut prefixes = Vec::new();
    for n in 6..=17 {
        prefixes.push(person.code.as_str()[..n].to_string());
        for s in &orgs {
            let c = s.code.as_str();
            prefixes.push(c[..n].to_string());
            if n <= 16 {
                prefixes.push(c[2..2 + n].to_string());
            }
            if n <= 9 {
                prefixes.push(c[8..8 + n].to_string());
            }
        }
    }
    for prefix in &prefixes {
        let prefix = prefix.as_str();
        let expected: BTreeSet<&str> = subjects
            .iter()
            .filter(|s| {
                let c = s.code.as_str();
                c.starts_with(prefix)
                    || (s.code.kind() == SubjectKind::Organization
                        && (c[2..].starts_with(prefix) || c[8..17].starts_with(prefix)))
            })
            .map(|s| s.code.as_str())
            .collect();
        assert!(!expected.is_empty(), "{prefix}");
        let hits = store.search(Requester::Entitled, prefix, 100_000)?;
        let got: BTreeSet<&str> = hits
            .iter()
            .filter(|h| h.matched == Matched::CodePrefix)
            .map(|h| h.code.as_str())
            .collect();
        assert_eq!(expected, got, "{prefix}");
    }
    Ok(())
}

#[test]
fn long_names_are_found_by_their_tail() -> TestResult {
    let (_tmp, store, subjects) = fixture()?;
    let long: Vec<&Subject> = subjects
        .iter()
        .filter(|s| s.name.chars().count() >= 20)
        .collect();
    assert!(
        !long.is_empty(),
        "the generator makes some 20+ character names"
    );
    for s in long {
        let chars: Vec<char> = s.name.chars().collect();
        let tail: String = chars[chars.len() - 8..].iter().collect();
        let hits = store.search(Requester::Entitled, &tail, 1_000)?;
        assert!(
            hits.iter().any(|h| h.code == s.code.as_str()),
            "{tail} / {}",
            s.name
        );
        let hits = store.search(Requester::Entitled, &s.name, 5)?;
        assert_eq!(hits[0].code, s.code.as_str(), "the whole long name");
    }
    Ok(())
}

#[test]
fn reindex_answers_exactly_as_the_incremental_index() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let sources = generated(&data, 1_500, 8, 0.0)?;
    let store = Store::open(tmp.path().join("store"))?;
    // Incremental: one provider at a time, each a commit of the index.
    for s in &sources {
        store.ingest_files(&s.provider, &[&s.path], &options())?;
    }
    let queries: Vec<String> = {
        let mut q = vec![
            "科技".to_string(),
            "上海".to_string(),
            "310115".to_string(),
            "王".to_string(),
        ];
        for code in store.subject_codes().step_by(53) {
            let s = store.subject_header(&code?)?.ok_or("header")?;
            q.push(s.name.clone());
            q.push(s.code.as_str()[..9].to_string());
            q.push(s.name.chars().skip(1).take(3).collect());
        }
        q
    };
    let answers = |store: &Store| -> Result<Vec<_>, credstore::Error> {
        queries
            .iter()
            .map(|q| store.search(Requester::Entitled, q, 20))
            .collect()
    };
    let incremental = answers(&store)?;
    assert!(incremental.iter().filter(|h| !h.is_empty()).count() > queries.len() / 2);
    assert!(store.reindex()? >= 1_400);
    assert_eq!(answers(&store)?, incremental);

    // A first bulk load indexes each chunk's subjects as it writes them (no catch-up): the
    // same answers as a rebuild of its store and as the catch-up of the same load deferred.
    // (Not the answers above: a bulk load numbers subjects in code order, and the rank uses the
    // numbers.)
    let bulk = Store::open(tmp.path().join("bulk"))?;
    bulk.ingest_bulk(&sources, &options())?;
    let direct = answers(&bulk)?;
    assert!(direct.iter().filter(|h| !h.is_empty()).count() > queries.len() / 2);
    drop(bulk);
    let bulk = Store::open(tmp.path().join("bulk"))?;
    assert_eq!(answers(&bulk)?, direct, "after a reopen");
    assert!(bulk.reindex()? >= 1_400);
    assert_eq!(answers(&bulk)?, direct, "after a rebuild");
    let deferred = credstore::ingest::IngestOptions {
        defer_search_index: true,
        ..options()
    };
    let caught_up = tmp.path().join("caught-up");
    Store::open(&caught_up)?.ingest_bulk(&sources, &deferred)?;
    assert_eq!(
        answers(&Store::open(&caught_up)?)?,
        direct,
        "caught up on open"
    );
    // Into an index that is empty but behind the store (an ingest that deferred it), the load
    // leaves the indexing to the catch-up, which has the earlier changes to apply too.
    let behind = Store::open(tmp.path().join("behind"))?;
    behind.ingest_files(&sources[0].provider, &[&sources[0].path], &deferred)?;
    behind.ingest_bulk(&sources[1..], &options())?;
    let caught = answers(&behind)?;
    assert!(behind.reindex()? >= 1_400);
    assert_eq!(answers(&behind)?, caught);

    // An index of another layout version (an older build's) is rebuilt on open, and answers
    // the same.
    drop(store);
    let version = tmp.path().join("store/search/credstore-index-version");
    assert!(version.exists(), "the index names its layout version");
    std::fs::write(&version, "1")?;
    let store = Store::open(tmp.path().join("store"))?;
    assert_ne!(std::fs::read_to_string(&version)?, "1", "rebuilt");
    assert_eq!(answers(&store)?, incremental);
    Ok(())
}

/// Child side of the crash test: ingest with the index left behind, report, then wait to be
/// killed. Runs only when the parent test sets the variable.
#[test]
fn crash_child_ingests_then_waits() -> TestResult {
    let Ok(dir) = std::env::var("CREDSTORE_SEARCH_CRASH_CHILD") else {
        return Ok(());
    };
    let store = Store::open(&dir)?;
    let code = usccs(4242, 1)[0];
    let mut options = options();
    options.defer_search_index = true;
    let text = jsonl(&[line(
        "K-1",
        &code,
        "上海崩溃测试科技有限公司",
        "B-ORG-REG",
        "2024-01-02",
    )]);
    let report = store.ingest_reader(
        "SAMR-SH",
        "crash.jsonl",
        credstore::ingest::FileFormat::JsonLines,
        text.as_bytes(),
        &options,
    )?;
    assert_eq!(report.accepted, 1);
    // Acknowledged: stored and flushed, but not yet in the search index.
    assert!(store
        .search(Requester::Entitled, code.as_str(), 5)?
        .is_empty());
    println!("ACK {}", code.as_str());
    std::thread::sleep(std::time::Duration::from_secs(60));
    Ok(())
}

#[test]
fn a_subject_acknowledged_before_a_kill_is_searchable_after_reopen() -> TestResult {
    use std::io::BufRead;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "crash_child_ingests_then_waits",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CREDSTORE_SEARCH_CRASH_CHILD", &dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let mut acked = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        // The harness may print "test name ... " on the same line before our output.
        if let Some(at) = line.find("ACK ") {
            acked = Some(line[at + 4..].trim().to_string());
            break;
        }
    }
    child.kill()?; // SIGKILL: no destructor, no index commit.
    child.wait()?;
    let code = acked.ok_or("the child never acknowledged")?;
    let store = Store::open(&dir)?;
    let hits = store.search(Requester::Entitled, &code, 5)?;
    assert_eq!(hits.first().map(|h| h.code.as_str()), Some(code.as_str()));
    let hits = store.search(Requester::Entitled, "崩溃测试", 5)?;
    assert_eq!(hits.len(), 1);
    let parsed = SubjectCode::parse(&code, today())?;
    assert!(store.subject(&parsed.code)?.is_some());
    Ok(())
}

/// A first load big enough (50,000+ subjects) to be merged into one segment after its
/// catch-up: every subject is found by its code, and the change sequence the index recorded is
/// right — a later ingest that renames one subject is applied by the next catch-up, and a reopen
/// finds nothing left to apply.
#[test]
fn a_big_first_load_is_indexed_whole_and_later_changes_still_apply() -> TestResult {
    let (tmp, store) = loaded(52_000, 5)?;
    let codes: Vec<SubjectCode> = store.subject_codes().collect::<Result<_, _>>()?;
    assert!(codes.len() >= 50_000, "{} subjects", codes.len());
    for code in codes.iter().step_by(97) {
        let hits = store.search(Requester::Entitled, code.as_str(), 1)?;
        assert_eq!(hits.first().map(|h| h.code.as_str()), Some(code.as_str()));
    }
    let org = *codes
        .iter()
        .find(|c| c.kind() == SubjectKind::Organization)
        .ok_or("an organisation")?;
    let renamed = "上海索引更名测试有限公司";
    let text = jsonl(&[line("RENAME-1", &org, renamed, "B-ORG-REG", "2025-01-02")]);
    ingest_jsonl(&store, "SAMR-SH", "rename.jsonl", &text)?;
    let found = |store: &Store| -> Result<Vec<String>, credstore::Error> {
        Ok(store
            .search(Requester::Entitled, renamed, 5)?
            .into_iter()
            .map(|h| h.code)
            .collect())
    };
    assert_eq!(found(&store)?, vec![org.as_str().to_string()]);
    drop(store);
    let store = Store::open(tmp.path().join("store"))?;
    assert_eq!(found(&store)?, vec![org.as_str().to_string()]);
    let again = store.search(Requester::Entitled, org.as_str(), 1)?;
    assert_eq!(again.first().map(|h| h.name.as_str()), Some(renamed));
    Ok(())
}

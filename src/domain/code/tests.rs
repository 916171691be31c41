//! Unit tests of the subject-code rules: real-world codes, single-character corruptions,
//! normalisation, the date rules, the kind decision, privacy of output, and generated codes.

use super::*;
use crate::generate::rng::Rng;
use proptest::prelude::*;

const REAL_WORLD: &str = include_str!("../../../../shared/testdata/uscc-real-world.txt");
const KNOWN_ID: &str = "11010519491231002X";

fn today() -> Date {
    Date::from_ymd(2026, 11, 27).unwrap()
}

fn real_world() -> impl Iterator<Item = &'static str> {
    REAL_WORLD
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn parse(s: &str) -> Result<ParsedCode, CodeError> {
    SubjectCode::parse(s, today())
}

/// A resident ID from its first 17 digits, with the right check character.
fn id_with(first17: &str) -> String {
    let check = char::from(id_check_char(first17.as_bytes()));
    format!("{first17}{check}")
}

/// A USCC from its first 16 characters, with both check characters right.
fn uscc_with(first16: &str) -> String {
    let mut b = first16.as_bytes().to_vec();
    b.push(org_check_char(&b[8..16]));
    b.push(uscc_check_char(&b[..17]));
    String::from_utf8(b).unwrap()
}

/// Every single-character substitution of `code` to another character of `alphabet` that is
/// accepted: `(same kind, other kind)` counts.
fn accepted_substitutions(code: &SubjectCode, alphabet: &[u8]) -> (usize, usize) {
    let kind = code.kind();
    let (mut same, mut other) = (0, 0);
    for i in 0..LEN {
        for &c in alphabet.iter().filter(|&&c| c != code.0[i]) {
            let mut mutant = code.0;
            mutant[i] = c;
            let text = std::str::from_utf8(&mutant).unwrap();
            match parse(text) {
                Ok(p) if p.kind == kind => same += 1,
                Ok(_) => other += 1,
                Err(_) => {}
            }
        }
    }
    (same, other)
}

#[test]
fn real_world_usccs_are_accepted() {
    let mut n = 0;
    for text in real_world() {
        let p = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(p.code.as_str(), text);
        assert_eq!(p.kind, SubjectKind::Organization);
        assert_eq!(p.code.kind(), SubjectKind::Organization);
        assert_eq!((p.birth_date, &p.warning), (None, &None));
        assert_eq!(p.code.masked(), text, "USCCs are public");
        n += 1;
    }
    assert_eq!(n, 201);
}

/// GB 32100's MOD 31 check catches every single substitution (31 is prime and no weight is 0
/// mod 31). Across standards nothing is promised, but none of these codes turns into an ID.
#[test]
fn real_world_single_substitutions_are_rejected() {
    for text in real_world() {
        let code = parse(text).unwrap().code;
        assert_eq!(
            accepted_substitutions(&code, USCC_CHARSET),
            (0, 0),
            "{text}"
        );
    }
}

#[test]
fn known_resident_id_is_accepted_and_its_corruptions_are_not_as_ids() {
    let p = parse(KNOWN_ID).unwrap();
    assert_eq!(p.kind, SubjectKind::NaturalPerson);
    assert_eq!(p.birth_date, Date::from_ymd(1949, 12, 31));
    assert_eq!(p.code.birth_date(), p.birth_date);
    assert_eq!(p.code.masked(), "110105********002X");
    // MOD 11-2 catches every single substitution among digits and X. A corruption to a letter
    // can still be a valid USCC by coincidence; it is then an organisation's code, never an ID.
    assert_eq!(accepted_substitutions(&p.code, b"0123456789X"), (0, 0));
    assert_eq!(accepted_substitutions(&p.code, USCC_CHARSET).0, 0);
}

/// About 1 single-digit typo in 350 turns an ID into a valid USCC (a 1/31 and a 1/11 check
/// coincidence). Where the typo leaves the ID shape and birth date intact, the code is masked and
/// carries a warning.
#[test]
fn mistyped_ids_pass_only_as_flagged_organisations() {
    let mut rng = Rng::new(7);
    let mut accepted = 0;
    for _ in 0..3_000 {
        let birth = Date::from_days(rng.range(-25_000, 20_000) as i32).unwrap();
        let code = gen::resident_id(&mut rng, "310115", birth);
        for i in (1..6).chain(14..17) {
            for c in (b'0'..=b'9').filter(|&c| c != code.0[i]) {
                let mut mutant = code.0;
                mutant[i] = c;
                let Ok(p) = parse(std::str::from_utf8(&mutant).unwrap()) else {
                    continue;
                };
                assert_eq!(p.kind, SubjectKind::Organization);
                assert_eq!(p.warning, Some(CodeWarning::ResemblesResidentId));
                assert_ne!(p.code.masked(), p.code.as_str());
                accepted += 1;
            }
        }
    }
    // 3,000 IDs x 8 positions x 9 digits = 216,000 typos; about 1/341 of them are USCCs.
    assert!((400..=900).contains(&accepted), "{accepted}");
}

#[test]
fn normalisation_folds_case_spaces_and_full_width() {
    let want = "91310112087994932F";
    for input in [
        "91310112087994932f",
        " 9131 0112 0879 9493 2F\n",
        "９１３１０１１２０８７９９４９３２ｆ",
        "\u{3000}913101\u{3000}12087994932Ｆ\u{3000}",
        "\u{FEFF}91310112\u{00A0}087994932\u{200B}F\t",
    ] {
        assert_eq!(normalize(input), want, "{input:?}");
        assert_eq!(parse(input).unwrap().code.as_str(), want, "{input:?}");
    }
    assert_eq!(parse("11010519491231002x").unwrap().code.as_str(), KNOWN_ID);
    assert_eq!(normalize(" 中ｘ-"), "中X-");
}

#[test]
fn length_and_character_errors() {
    assert_eq!(parse(""), Err(CodeError::Empty));
    assert_eq!(parse(" \u{3000}\t"), Err(CodeError::Empty));
    assert_eq!(
        parse("9131011208799493"),
        Err(CodeError::WrongLength { len: 16 })
    );
    assert_eq!(
        parse("91310112087994932F1"),
        Err(CodeError::WrongLength { len: 19 })
    );
    assert_eq!(
        parse("9131011208799I932F"),
        Err(CodeError::InvalidCharacter {
            position: 14,
            found: 'I',
            standard: CodeStandard::Uscc
        })
    );
    assert_eq!(
        parse("91310112087中94932F"),
        Err(CodeError::InvalidCharacter {
            position: 12,
            found: '中',
            standard: CodeStandard::Uscc
        })
    );
    assert_eq!(
        parse("11010519491231002Y"),
        Err(CodeError::InvalidCharacter {
            position: 18,
            found: 'Y',
            standard: CodeStandard::ResidentId
        })
    );
    assert_eq!(
        parse("91A10112087994932F"),
        Err(CodeError::UsccRegion {
            position: 3,
            found: 'A'
        })
    );
}

#[test]
fn check_character_errors_name_the_rule() {
    let e = parse("91310112087994932X").unwrap_err();
    assert_eq!(
        e,
        CodeError::UsccCheck {
            expected: 'F',
            found: 'X'
        }
    );
    assert_eq!(
        e.to_string(),
        "USCC check character (GB 32100-2015) should be 'F', found 'X'"
    );
    // A right USCC check over a wrong organisation-code check.
    let mut b = *parse("91310112087994932F").unwrap().code.as_bytes();
    b[16] = if b[16] == b'3' { b'4' } else { b'3' };
    b[17] = uscc_check_char(&b[..17]);
    let e = parse(std::str::from_utf8(&b).unwrap()).unwrap_err();
    assert!(
        matches!(e, CodeError::OrgCodeCheck { expected: '2', .. }),
        "{e}"
    );
    let e = parse("110105194912310021").unwrap_err();
    assert_eq!(
        e,
        CodeError::IdCheck {
            expected: 'X',
            found: '1'
        }
    );
    assert!(e
        .to_string()
        .starts_with("resident ID check character (GB 11643-1999)"));
}

#[test]
fn birth_date_rules() {
    assert_eq!(
        parse(&id_with("11010519990230123")),
        Err(CodeError::BirthDate)
    );
    assert_eq!(
        parse(&id_with("11010518991231123")),
        Err(CodeError::BirthBefore1900)
    );
    assert!(parse(&id_with("11010519000101123")).is_ok());
    let born_today = id_with("31010120261127123");
    assert_eq!(parse(&born_today).unwrap().birth_date, Some(today()));
    let tomorrow = id_with("31010120261128123");
    assert_eq!(parse(&tomorrow), Err(CodeError::BirthInFuture));
    let later = Date::from_ymd(2026, 11, 28).unwrap();
    assert!(
        SubjectCode::parse(&tomorrow, later).is_ok(),
        "relative to the today passed"
    );
}

/// Codes valid under both standards exist (an all-digit USCC whose region ends in a birth
/// century). The ID reading wins, and `kind()` agrees with `parse`.
#[test]
fn a_code_valid_under_both_standards_is_a_person() {
    let mut rng = Rng::new(1);
    let (mut both, mut future) = (None, None);
    while both.is_none() || future.is_none() {
        let century = if rng.below(2) == 0 { "19" } else { "20" };
        let body: String = (0..8)
            .map(|_| char::from(*rng.pick(b"0123456789")))
            .collect();
        let text = uscc_with(&format!("123101{century}{body}"));
        let b: [u8; LEN] = text.as_bytes().try_into().unwrap();
        if check_uscc(&b).is_err() || check_resident_id(&b).is_err() {
            continue;
        }
        match parse(&text) {
            Ok(_) => both = Some(text),
            Err(_) => future = Some(text),
        }
    }
    let both = both.unwrap();
    let p = parse(&both).unwrap();
    assert_eq!(
        (p.kind, p.code.kind()),
        (SubjectKind::NaturalPerson, SubjectKind::NaturalPerson)
    );
    // NOTE in `parse`: a future birth date rejects the code rather than making it a USCC.
    assert_eq!(parse(&future.unwrap()), Err(CodeError::BirthInFuture));
}

#[test]
fn failing_codes_report_the_standard_they_look_like() {
    // ID-shaped with a birth century at 7-8: the ID error, even for a month 13.
    assert!(matches!(
        parse(&id_with("11010519491331002")),
        Err(CodeError::BirthDate)
    ));
    assert!(matches!(
        parse("110105194912310020"),
        Err(CodeError::IdCheck { .. })
    ));
    // All digits but no birth century at 7-8: the USCC error.
    assert!(matches!(
        parse("121200004013590817"),
        Err(CodeError::UsccCheck { .. })
    ));
}

#[test]
fn output_never_shows_a_persons_code() {
    let p = parse(KNOWN_ID).unwrap();
    assert_eq!(format!("{:?}", p.code), "SubjectCode(110105********002X)");
    assert!(!format!("{p:?}").contains(KNOWN_ID));
    assert_eq!(p.code.to_string(), KNOWN_ID, "Display is the full code");
    let org = parse("91310112087994932F").unwrap().code;
    assert_eq!(format!("{org:?}"), "SubjectCode(91310112087994932F)");
    for bad in [
        "110105194912310021",
        "11010519491231002Y",
        "11010519491231002X1",
    ] {
        let message = parse(bad).unwrap_err().to_string();
        assert!(!message.contains(&bad[..17]), "{message}");
    }
    // Stored but invalid, ID-like: still masked.
    let stored = SubjectCode::from_stored(b"110105194912310021").unwrap();
    assert_eq!(stored.kind(), SubjectKind::NaturalPerson);
    assert_eq!(stored.masked(), "110105********0021");
}

#[test]
fn stored_codes_check_length_and_alphabet_only() {
    let code = SubjectCode::from_stored(b"91310112087994932X").unwrap();
    assert_eq!(code.as_bytes(), b"91310112087994932X");
    assert_eq!(SubjectCode::from_stored(b"9131011208799493"), None);
    assert_eq!(SubjectCode::from_stored(b"91310112087994932f"), None);
    assert_eq!(SubjectCode::from_stored(b"9131011208799I932F"), None);
    assert_eq!(
        SubjectCode::from_stored("91310112087994932中".as_bytes()),
        None
    );
}

#[test]
fn serde_round_trips_as_a_string() {
    let code = parse(KNOWN_ID).unwrap().code;
    let json = serde_json::to_string(&code).unwrap();
    assert_eq!(json, format!("\"{KNOWN_ID}\""));
    assert_eq!(serde_json::from_str::<SubjectCode>(&json).unwrap(), code);
    let err = serde_json::from_str::<SubjectCode>("\"11010519491231002x\"").unwrap_err();
    assert!(!err.to_string().contains("110105194912"), "{err}");
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(code, config).unwrap();
    let (back, _): (SubjectCode, usize) =
        bincode::serde::decode_from_slice(&bytes, config).unwrap();
    assert_eq!(back, code);
}

#[test]
fn registration_table_is_complete_and_well_formed() {
    assert!(REGISTRATION_TSV.starts_with("pair\tauthority\ttype\n"));
    let data_lines = REGISTRATION_TSV.lines().skip(1).count();
    assert_eq!(
        registrations().len(),
        data_lines,
        "a malformed row was skipped"
    );
    let pairs = "11 12 13 19 21 29 31 32 33 34 35 36 39 41 49 51 52 53 54 55 59 61 62 69 71 72 79 \
                 81 82 89 91 92 93 A1 A9 N1 N2 N3 N9 Y1 G1 J1 Q1 99";
    for pair in pairs.split_whitespace() {
        assert!(registration_type(pair).is_some(), "{pair}");
    }
    for w in registrations().windows(2) {
        assert!(w[0].pair < w[1].pair, "duplicate pair {}", w[1].pair);
    }
    let alphabet_ok = |r: &Registration| r.pair.bytes().all(|b| USCC_CHARSET.contains(&b));
    assert!(registrations().iter().all(alphabet_ok));
    assert_eq!(registration_type("91"), Some("企业"));
    assert_eq!(registration_authority("51"), Some("民政"));
    assert_eq!(registration_type("98"), None);
}

#[test]
fn unknown_registration_pairs_are_accepted_with_a_warning() {
    let p = parse(&uscc_with("9831011508799493")).unwrap();
    assert_eq!(p.kind, SubjectKind::Organization);
    let warning = p.warning.unwrap();
    assert_eq!(
        warning,
        CodeWarning::UnknownRegistrationType { pair: "98".into() }
    );
    assert!(warning.to_string().contains("\"98\""));
}

const USCC_REGIONS: &[&str] = &["310115", "310101", "310120", "310118", "100000", "340603"];
const ID_REGIONS: &[&str] = &["310101", "310115", "110105", "440305", "820000"];

proptest! {
    #[test]
    fn generated_usccs_validate_and_catch_substitutions(
        seed in any::<u64>(),
        region in proptest::sample::select(USCC_REGIONS),
    ) {
        let code = gen::uscc(&mut Rng::new(seed), region);
        let p = parse(code.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.code, code);
        prop_assert_eq!((p.kind, code.kind()), (SubjectKind::Organization, SubjectKind::Organization));
        prop_assert_eq!(&code.as_str()[2..8], region);
        prop_assert_eq!(accepted_substitutions(&code, USCC_CHARSET).0, 0);
    }

    #[test]
    fn generated_ids_validate_and_catch_substitutions(
        seed in any::<u64>(),
        region in proptest::sample::select(ID_REGIONS),
        day in Date::from_ymd(1900, 1, 1).unwrap().to_days()..=today().to_days(),
    ) {
        let birth = Date::from_days(day).unwrap();
        let code = gen::resident_id(&mut Rng::new(seed), region, birth);
        let p = parse(code.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!((p.kind, code.kind()), (SubjectKind::NaturalPerson, SubjectKind::NaturalPerson));
        prop_assert_eq!(p.birth_date, Some(birth));
        // Never accepted as an ID; sometimes as a USCC (see `mistyped_ids_...`).
        prop_assert_eq!(accepted_substitutions(&code, USCC_CHARSET).0, 0);
    }
}

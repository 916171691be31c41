//! Subject codes (Art. 5): the 18-character key of every subject, normalised and validated.
//!
//! Two national standards share one 18-character shape. An organisation's code is the USCC of
//! GB 32100-2015: registration authority and organisation type (positions 1-2), a GB/T 2260
//! region (3-8, digits), a GB 11714 organisation code with its own MOD 11 check (9-17) and a
//! MOD 31 check character (18) over the alphabet `0-9A-Z` without I, O, S, V, Z. A natural
//! person's code is the resident ID number of GB 11643-1999: address (1-6), birth date
//! `YYYYMMDD` (7-14), sequence (15-17) and an ISO 7064 MOD 11-2 check character (`0-9` or `X`).
//!
//! Codes reach us typed by people and exported by dozens of systems: lower-case `x`, spaces
//! between groups, full-width digits from Chinese input methods. Every one of those is the same
//! code, so input is **normalised first** (whitespace removed, full-width ASCII folded, upper
//! case) and only then validated; validating first would reject good codes, and storing
//! un-normalised text would give one subject several keys.
//!
//! **Which standard?** Both fit in 18 characters, and an all-digit USCC can look like an ID.
//! The rule, applied by [`SubjectCode::parse`] and [`SubjectCode::kind`] alike so that they
//! always agree:
//! 1. a code that passes every date-independent resident-ID rule (first digit 1-8, digits,
//!    check character, a real birth date not before 1900) is a natural person's;
//! 2. otherwise a code that passes every USCC rule is an organisation's;
//! 3. otherwise it is rejected, with the error of the standard it *looks like*: an ID if its
//!    first 17 characters are digits, the first 1-8, and positions 7-8 read `18`, `19` or `20`
//!    (a birth century); a USCC in every other case.
//!
//! The ID is preferred because the mistake is cheaper that way round: a person's number taken
//! for an organisation's would be shown unmasked, an organisation's taken for a person's is
//! merely masked. A birth date after `today` is checked after the choice, so it rejects the
//! code rather than turning it into a USCC (see `NOTE` at [`SubjectCode::parse`]).
//!
//! Each standard's check catches every single-character substitution *within* that standard
//! (31 and 11 are prime and no weight is zero). Across standards it does not: about one
//! single-digit typo in 350 turns a resident ID into a valid USCC. Those that keep an ID's shape
//! are accepted as organisations' codes with [`CodeWarning::ResemblesResidentId`], and masked.
//!
//! **Privacy:** a resident ID is personal data. `Debug` prints the masked form, and no error
//! message contains the code: a position and a character at most.

pub mod gen;

use crate::domain::date::Date;
use crate::domain::SubjectKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::OnceLock;

/// Characters of a subject code.
const LEN: usize = 18;

/// The GB 32100 alphabet; a character's index is its value (0-30).
const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100 weights for positions 1-17 (3^(i-1) mod 31).
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// GB 11714 weights for the eight body characters of the organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643 weights for positions 1-17 (2^(18-i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643 check character for each value of the weighted sum mod 11.
const ID_CHECK: &[u8; 11] = b"10X98765432";

const NOT_USCC: u8 = u8::MAX;
/// Value of each byte in the GB 32100 alphabet, `NOT_USCC` for bytes outside it.
const USCC_VALUE: [u8; 256] = {
    let mut table = [NOT_USCC; 256];
    let mut i = 0;
    while i < USCC_CHARSET.len() {
        table[USCC_CHARSET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// A normalised, validated 18-character subject code (ASCII, upper case).
///
/// The bytes are the storage key, so the derived order is the byte order of the text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectCode([u8; LEN]);

/// The outcome of [`SubjectCode::parse`]: the code and what it was recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCode {
    /// The normalised code.
    pub code: SubjectCode,
    /// Natural person (resident ID) or organisation (USCC); always equal to `code.kind()`.
    pub kind: SubjectKind,
    /// The birth date of a resident ID; `None` for a USCC.
    pub birth_date: Option<Date>,
    /// Something worth telling the provider about an accepted code.
    pub warning: Option<CodeWarning>,
}

/// An accepted code with something unusual about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeWarning {
    /// A USCC that is also shaped like a resident ID: all digits, and positions 7-14 a birth
    /// date from 1900 on. About 1 single-digit typo in 350 turns an ID into a valid USCC,
    /// and such a code looks exactly like this; genuine ones exist too (an old all-digit
    /// organisation code in a region whose code ends in 19 or 20, such as Fengxian, 310120).
    ResemblesResidentId,
    /// A USCC whose authority/type pair (positions 1-2) is not in the registration table. The
    /// table grows over time, so this is accepted, not rejected.
    UnknownRegistrationType {
        /// Positions 1-2 of the code (public for an organisation).
        pair: String,
    },
}

impl fmt::Display for CodeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeWarning::ResemblesResidentId => f.write_str(
                "accepted as a USCC, but shaped like a resident ID (digits, a birth date at \
                 positions 7-14): check that it is not a mistyped ID number",
            ),
            CodeWarning::UnknownRegistrationType { pair } => write!(
                f,
                "USCC registration authority/type pair {pair:?} (positions 1-2) is not in the \
                 known table; accepted"
            ),
        }
    }
}

/// The standard a rejected code was checked against, named in [`CodeError::InvalidCharacter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeStandard {
    /// GB 32100-2015, unified social credit code of an organisation.
    Uscc,
    /// GB 11643-1999, resident ID number of a natural person.
    ResidentId,
}

impl fmt::Display for CodeStandard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeStandard::Uscc => "USCC (GB 32100-2015: 0-9 and A-Z except I, O, S, V, Z)",
            CodeStandard::ResidentId => {
                "resident ID (GB 11643-1999: digits, and X only as the 18th character)"
            }
        })
    }
}

/// Why a subject code was rejected: one variant per rule. Positions count from 1, as in the
/// standards.
///
/// Unlike the crate's other errors, these never carry the offending code itself: a resident ID
/// is personal data and error messages end up in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// Nothing left after removing whitespace.
    #[error("the subject code is empty")]
    Empty,
    /// Not 18 characters after normalisation.
    #[error("a subject code has 18 characters; this one has {len} after removing spaces")]
    WrongLength {
        /// Characters after normalisation.
        len: usize,
    },
    /// A character outside the standard's alphabet.
    #[error("character {found:?} at position {position} is not allowed in a {standard}")]
    InvalidCharacter {
        /// 1-based position after normalisation.
        position: usize,
        /// The character found there.
        found: char,
        /// The standard whose alphabet it breaks.
        standard: CodeStandard,
    },
    /// A USCC whose region code (positions 3-8) is not all digits.
    #[error(
        "USCC positions 3-8 (region code, GB/T 2260) must be digits; found {found:?} at \
         position {position}"
    )]
    UsccRegion {
        /// 1-based position of the first non-digit.
        position: usize,
        /// The character found there.
        found: char,
    },
    /// The GB 32100 check character (position 18) does not match.
    #[error("USCC check character (GB 32100-2015) should be '{expected}', found '{found}'")]
    UsccCheck {
        /// The check character positions 1-17 call for.
        expected: char,
        /// Position 18 as given.
        found: char,
    },
    /// The GB 11714 check character of the embedded organisation code (position 17) does not
    /// match.
    #[error(
        "organisation code check character (GB 11714, USCC position 17) should be \
         '{expected}', found '{found}'"
    )]
    OrgCodeCheck {
        /// The check character positions 9-16 call for.
        expected: char,
        /// Position 17 as given.
        found: char,
    },
    /// The GB 11643 check character (position 18) does not match.
    #[error("resident ID check character (GB 11643-1999) should be '{expected}', found '{found}'")]
    IdCheck {
        /// The check character positions 1-17 call for.
        expected: char,
        /// Position 18 as given.
        found: char,
    },
    /// Positions 7-14 of a resident ID are not a calendar date.
    #[error("resident ID birth date (positions 7-14) is not a real calendar date")]
    BirthDate,
    /// The birth date is after the day the code was checked.
    #[error("resident ID birth date (positions 7-14) is in the future")]
    BirthInFuture,
    /// The birth date is before 1900.
    #[error("resident ID birth date (positions 7-14) is before 1900")]
    BirthBefore1900,
}

/// What the date-independent rules made of a code.
enum Reading {
    Person { birth: Date },
    Organization,
}

impl SubjectCode {
    /// Characters in every subject code.
    pub const LEN: usize = LEN;

    /// Normalises `input` (see [`normalize`]) and validates it as a resident ID or a USCC, the
    /// birth date of an ID against `today`. Allocates nothing except a warning's text.
    ///
    /// NOTE: a code that reads as a valid ID except for a birth date after `today` is rejected
    /// with [`CodeError::BirthInFuture`] even if it would also pass as a USCC. Choosing by
    /// `today` would make [`SubjectCode::kind`] depend on the clock and change a stored
    /// subject's kind as time passes. Such a USCC needs a first character 1-8, an all-digit
    /// organisation code, a region ending in `20` and a 1-in-11 check coincidence.
    pub fn parse(input: &str, today: Date) -> Result<ParsedCode, CodeError> {
        let code = SubjectCode(normalize_to_array(input)?);
        match classify(&code.0)? {
            Reading::Person { birth } if birth > today => Err(CodeError::BirthInFuture),
            Reading::Person { birth } => Ok(ParsedCode {
                code,
                kind: SubjectKind::NaturalPerson,
                birth_date: Some(birth),
                warning: None,
            }),
            Reading::Organization => Ok(ParsedCode {
                code,
                kind: SubjectKind::Organization,
                birth_date: None,
                warning: code.organization_warning(),
            }),
        }
    }

    /// A code read back from storage: exactly 18 bytes from the GB 32100 alphabet (which holds
    /// every resident ID character too). Check characters are not verified; `None` otherwise.
    pub fn from_stored(bytes: &[u8]) -> Option<SubjectCode> {
        let bytes: [u8; LEN] = bytes.try_into().ok()?;
        let charset_ok = bytes
            .iter()
            .all(|&b| USCC_VALUE[usize::from(b)] != NOT_USCC);
        charset_ok.then_some(SubjectCode(bytes))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII by construction (parse and from_stored), so this never fails.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The code as its 18 key bytes.
    pub fn as_bytes(&self) -> &[u8; LEN] {
        &self.0
    }

    /// Natural person or organisation, by the rule in the module documentation. A code that
    /// passes neither standard (possible only through [`SubjectCode::from_stored`]) gets the
    /// kind of the standard it looks like, so that an ID-like code stays masked.
    pub fn kind(&self) -> SubjectKind {
        match classify(&self.0) {
            Ok(Reading::Person { .. }) => SubjectKind::NaturalPerson,
            Ok(Reading::Organization) => SubjectKind::Organization,
            Err(_) if looks_like_id(&self.0) => SubjectKind::NaturalPerson,
            Err(_) => SubjectKind::Organization,
        }
    }

    /// The birth date of a valid resident ID; `None` for anything else.
    pub fn birth_date(&self) -> Option<Date> {
        check_resident_id(&self.0).ok()
    }

    /// The code as it may be shown: a person's as the first 6 and last 4 characters around 8
    /// asterisks (`310101********123X`); an organisation's unchanged, since USCCs are public.
    /// An organisation's code that looks like an ID (all digits, a birth century at 7-8) is
    /// masked too: it may be a person's number one typo away.
    pub fn masked(&self) -> String {
        let mut shown = self.0;
        if self.kind() == SubjectKind::NaturalPerson || looks_like_id(&self.0) {
            shown[6..14].fill(b'*');
        }
        // NOTE: a stored code is ASCII (the GB 32100 alphabet), and so is '*'.
        shown.iter().map(|&b| char::from(b)).collect()
    }

    /// The warning for an accepted USCC, if any; resembling an ID matters more.
    fn organization_warning(&self) -> Option<CodeWarning> {
        if looks_like_id(&self.0) && birth_date_at(&self.0).is_ok() {
            return Some(CodeWarning::ResemblesResidentId);
        }
        let pair = &self.as_str()[..2];
        match registration(pair) {
            Some(_) => None,
            None => Some(CodeWarning::UnknownRegistrationType {
                pair: pair.to_owned(),
            }),
        }
    }
}

/// The full code. Use [`SubjectCode::masked`] wherever a person's number must not be shown.
impl fmt::Display for SubjectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The masked code: debug output reaches logs and panic messages.
impl fmt::Debug for SubjectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectCode({})", self.masked())
    }
}

impl Serialize for SubjectCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Accepts what [`SubjectCode::from_stored`] accepts: values were validated when first parsed.
impl<'de> Deserialize<'de> for SubjectCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SubjectCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an 18-character subject code (upper case, GB 32100 alphabet)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SubjectCode, E> {
                self.visit_bytes(v.as_bytes())
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<SubjectCode, E> {
                // The value is left out of the message on purpose (privacy).
                SubjectCode::from_stored(v).ok_or_else(|| E::custom("not a stored subject code"))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Normalises a code as typed: removes all whitespace (ASCII, U+3000 ideographic space and
/// every other Unicode space, plus zero-width spaces and byte-order marks), folds full-width
/// ASCII (U+FF01-U+FF5E) to ASCII, and upper-cases ASCII letters. Other characters are kept, for
/// validation to reject with their position.
pub fn normalize(input: &str) -> String {
    input.chars().filter_map(fold_char).collect()
}

/// One character of [`normalize`]: `None` to drop it.
fn fold_char(c: char) -> Option<char> {
    if c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}') {
        return None;
    }
    let c = match u32::from(c) {
        // Full-width forms sit at a fixed offset from ASCII 0x21-0x7E, so the byte is exact.
        full @ 0xFF01..=0xFF5E => char::from((full - 0xFEE0) as u8),
        _ => c,
    };
    Some(c.to_ascii_uppercase())
}

/// [`normalize`] into a fixed array, with the errors that need no standard.
fn normalize_to_array(input: &str) -> Result<[u8; LEN], CodeError> {
    let mut out = [0u8; LEN];
    let mut len = 0;
    let mut non_ascii = None;
    for c in input.chars().filter_map(fold_char) {
        if let Some(slot) = out.get_mut(len) {
            match u8::try_from(c) {
                Ok(b) if b.is_ascii() => *slot = b,
                // The slot keeps 0, which no rule accepts.
                _ => {
                    non_ascii.get_or_insert((len + 1, c));
                }
            }
        }
        len += 1;
    }
    match (len, non_ascii) {
        (0, _) => Err(CodeError::Empty),
        (LEN, None) => Ok(out),
        (LEN, Some((position, found))) => Err(CodeError::InvalidCharacter {
            position,
            found,
            standard: if looks_like_id(&out) {
                CodeStandard::ResidentId
            } else {
                CodeStandard::Uscc
            },
        }),
        _ => Err(CodeError::WrongLength { len }),
    }
}

/// The kind decision of the module documentation, without the date-dependent rule.
fn classify(b: &[u8; LEN]) -> Result<Reading, CodeError> {
    let id_error = match check_resident_id(b) {
        Ok(birth) => return Ok(Reading::Person { birth }),
        Err(e) => e,
    };
    match check_uscc(b) {
        Ok(()) => Ok(Reading::Organization),
        Err(_) if looks_like_id(b) => Err(id_error),
        Err(e) => Err(e),
    }
}

/// Whether a code is shaped like a resident ID: the first 17 characters digits, the first 1-8,
/// and positions 7-8 a birth century (18, 19, 20). Decides whose error a code failing both
/// standards gets, and masks organisations' codes that could be a mistyped ID.
fn looks_like_id(b: &[u8; LEN]) -> bool {
    (b'1'..=b'8').contains(&b[0])
        && b[..17].iter().all(u8::is_ascii_digit)
        && matches!(&b[6..8], b"18" | b"19" | b"20")
}

/// Every GB 32100 rule: alphabet, digit region, the MOD 31 check and the embedded GB 11714 check.
fn check_uscc(b: &[u8; LEN]) -> Result<(), CodeError> {
    if let Some(i) = b
        .iter()
        .position(|&c| USCC_VALUE[usize::from(c)] == NOT_USCC)
    {
        return Err(CodeError::InvalidCharacter {
            position: i + 1,
            found: char::from(b[i]),
            standard: CodeStandard::Uscc,
        });
    }
    if let Some(i) = (2..8).find(|&i| !b[i].is_ascii_digit()) {
        return Err(CodeError::UsccRegion {
            position: i + 1,
            found: char::from(b[i]),
        });
    }
    let expected = uscc_check_char(&b[..17]);
    if b[17] != expected {
        return Err(CodeError::UsccCheck {
            expected: char::from(expected),
            found: char::from(b[17]),
        });
    }
    let expected = org_check_char(&b[8..16]);
    if b[16] != expected {
        return Err(CodeError::OrgCodeCheck {
            expected: char::from(expected),
            found: char::from(b[16]),
        });
    }
    Ok(())
}

/// The GB 32100 check character for 17 characters of the GB 32100 alphabet.
fn uscc_check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(USCC_WEIGHTS)
        .map(|(&c, w)| u32::from(USCC_VALUE[usize::from(c)]) * w)
        .sum();
    USCC_CHARSET[((31 - sum % 31) % 31) as usize]
}

/// The GB 11714 check character for an 8-character organisation code body (digits keep their
/// value, letters count A=10 ... Z=35).
fn org_check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(&c, w)| {
            let value = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A' + 10
            };
            u32::from(value) * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        digit => b'0' + digit as u8,
    }
}

/// Every date-independent GB 11643 rule; the birth date if they all hold.
fn check_resident_id(b: &[u8; LEN]) -> Result<Date, CodeError> {
    let bad = |i: usize| CodeError::InvalidCharacter {
        position: i + 1,
        found: char::from(b[i]),
        standard: CodeStandard::ResidentId,
    };
    if !(b'1'..=b'8').contains(&b[0]) {
        return Err(bad(0));
    }
    if let Some(i) = (1..17).find(|&i| !b[i].is_ascii_digit()) {
        return Err(bad(i));
    }
    if !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(bad(17));
    }
    let expected = id_check_char(&b[..17]);
    if b[17] != expected {
        return Err(CodeError::IdCheck {
            expected: char::from(expected),
            found: char::from(b[17]),
        });
    }
    birth_date_at(b)
}

/// The date-independent birth-date rules; positions 7-14 must be digits.
fn birth_date_at(b: &[u8; LEN]) -> Result<Date, CodeError> {
    let number =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    let year = number(6..10);
    let birth =
        Date::from_ymd(year as i32, number(10..12), number(12..14)).ok_or(CodeError::BirthDate)?;
    if year < 1900 {
        return Err(CodeError::BirthBefore1900);
    }
    Ok(birth)
}

/// The GB 11643 check character for 17 digits.
fn id_check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    ID_CHECK[(sum % 11) as usize]
}

/// The registration authority/type table, `data-samples/uscc-registration-types.tsv`: a header
/// line, then `pair<TAB>authority<TAB>type`. Kept as data because the pairs in use change.
const REGISTRATION_TSV: &str = include_str!("../../data-samples/uscc-registration-types.tsv");

/// One row of the registration table.
struct Registration {
    pair: &'static str,
    authority: &'static str,
    kind: &'static str,
}

/// The table, parsed on first use and sorted by pair. Malformed rows are skipped here and caught
/// by a unit test, since the file is compiled in.
fn registrations() -> &'static [Registration] {
    static TABLE: OnceLock<Vec<Registration>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows: Vec<Registration> = REGISTRATION_TSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split('\t');
                let row = Registration {
                    pair: cols.next()?,
                    authority: cols.next()?,
                    kind: cols.next()?,
                };
                (row.pair.len() == 2 && cols.next().is_none()).then_some(row)
            })
            .collect();
        rows.sort_by_key(|r| r.pair);
        rows
    })
}

fn registration(pair: &str) -> Option<&'static Registration> {
    let rows = registrations();
    rows.binary_search_by_key(&pair, |r| r.pair)
        .ok()
        .map(|i| &rows[i])
}

/// The organisation type (机构类别) registered for a USCC authority/type pair such as `"91"`
/// (企业), if the pair is in the table.
pub fn registration_type(pair: &str) -> Option<&'static str> {
    registration(pair).map(|r| r.kind)
}

/// The registration authority (登记管理部门) for a USCC authority/type pair such as `"91"`,
/// if the pair is in the table.
pub fn registration_authority(pair: &str) -> Option<&'static str> {
    registration(pair).map(|r| r.authority)
}

#[cfg(test)]
mod tests;

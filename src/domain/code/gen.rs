//! Valid-code generators for synthetic data and property tests.
//!
//! Each returns a code that [`SubjectCode::parse`] accepts as the kind asked for (a resident ID
//! on any day from its birth date on). Deterministic: equal `Rng` states give equal codes.

use super::{
    classify, id_check_char, org_check_char, registrations, uscc_check_char, Reading, SubjectCode,
    LEN, USCC_CHARSET,
};
use crate::domain::date::Date;
use crate::generate::rng::Rng;
use chrono::Datelike;

const DIGITS: &[u8] = b"0123456789";

/// A random valid USCC registered in `region` (six digits, e.g. `"310115"`): a known
/// authority/type pair, 80% `91` (enterprise) and 10% `92`; an organisation code body in either
/// the post-2015 `MA` style or the older all-digit style; both check characters.
///
/// # Panics
/// If `region` is not six ASCII digits.
pub fn uscc(rng: &mut Rng, region: &str) -> SubjectCode {
    let region = six_digits(region);
    loop {
        let mut b = [0u8; LEN];
        b[..2].copy_from_slice(pick_pair(rng));
        b[2..8].copy_from_slice(region);
        if rng.below(2) == 0 {
            b[8..10].copy_from_slice(b"MA");
            fill(rng, &mut b[10..16], USCC_CHARSET);
        } else {
            fill(rng, &mut b[8..16], DIGITS);
        }
        b[16] = org_check_char(&b[8..16]);
        b[17] = uscc_check_char(&b[..17]);
        // An all-digit code may also be a valid resident ID, which would make it a person's.
        if matches!(classify(&b), Ok(Reading::Organization)) {
            return SubjectCode(b);
        }
    }
}

/// A random valid resident ID for someone born on `birth` whose address code is `region` (six
/// digits, the first 1-8, e.g. `"310101"`), with a random sequence number.
///
/// # Panics
/// If `region` is not six digits starting 1-8, or `birth` is not in the years 1900-9999.
pub fn resident_id(rng: &mut Rng, region: &str, birth: Date) -> SubjectCode {
    let region = six_digits(region);
    assert!(
        (b'1'..=b'8').contains(&region[0]),
        "a resident ID address code starts with 1-8"
    );
    let day = birth.naive();
    let year = u32::try_from(day.year()).unwrap_or(0);
    assert!(
        (1900..=9999).contains(&year),
        "birth year must be 1900-9999"
    );
    let mut b = [0u8; LEN];
    b[..6].copy_from_slice(region);
    write_digits(&mut b[6..10], year);
    write_digits(&mut b[10..12], day.month());
    write_digits(&mut b[12..14], day.day());
    write_digits(&mut b[14..17], rng.below(1000) as u32);
    b[17] = id_check_char(&b[..17]);
    SubjectCode(b)
}

fn six_digits(region: &str) -> &[u8] {
    let bytes = region.as_bytes();
    assert!(
        bytes.len() == 6 && bytes.iter().all(u8::is_ascii_digit),
        "a region code is six ASCII digits"
    );
    bytes
}

fn pick_pair(rng: &mut Rng) -> &'static [u8] {
    match rng.below(100) {
        0..=79 => b"91",
        80..=89 => b"92",
        _ => rng.pick(registrations()).pair.as_bytes(),
    }
}

fn fill(rng: &mut Rng, out: &mut [u8], alphabet: &[u8]) {
    for slot in out {
        *slot = *rng.pick(alphabet);
    }
}

/// Writes `n` as zero-padded decimal filling `out`.
fn write_digits(out: &mut [u8], mut n: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

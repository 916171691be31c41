//! Each segment's fast-field columns, opened once: `rank` (for the collector) and what a hit
//! shows, so that a search never reads tantivy's doc store.
//!
//! A hit's code is two u64 columns, `code_a` and `code_b`: characters 1-9 and 10-18 of the code
//! in base 36 (a code's characters are digits and capital letters); `code_a` also holds the
//! subject's kind (bit 63) and the byte length of its current name (bits 48-58). A name of up
//! to 64 bytes (21 Chinese characters) is in eight u64 columns `name_0` .. `name_7`, eight
//! UTF-8 bytes each, big-endian, zero-padded; only a longer one is stored in the doc store (the
//! `name` field). Since the index is sorted by name length first, the columns past a short
//! name's length are runs of zeros, which tantivy's blockwise codec packs into almost nothing.
//!
//! NOTE: not a string fast field: its dictionary finds a name by its ordinal by decoding its
//! block up to it, ~100 names on average, which made a hit cost more than the doc store did.
//!
//! NOTE: reading a stored document walks the doc store's skip index from the top (a block of
//! checkpoints decoded and allocated per level), copies its block and deserialises the whole
//! document: half of a four-character fragment query at 1,000,000 subjects, ~1 µs a hit
//! (BENCHMARKS.md, "Search"). Opening a column decodes its index (for `rank`'s blockwise-linear
//! codec, its whole block index): paid once per segment here, not per query.

use crate::domain::code::SubjectCode;
use crate::domain::SubjectKind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tantivy::columnar::ColumnValues;
use tantivy::{index::SegmentId, DocId, SegmentReader};

/// Characters of a code in each of `code_a` and `code_b`.
const HALF: usize = 9;
/// The bit of `code_a` that says "organisation" (the code's half is below 36⁹ < 2⁴⁷).
const ORGANIZATION_BIT: u64 = 1 << 63;
/// Where a name's byte length starts in `code_a`, and its mask there (lengths past it: capped).
const NAME_LEN_SHIFT: u32 = 48;
const NAME_LEN_MASK: u64 = 0x7FF;
/// The name columns; a longer name is read from the doc store.
pub const NAME_WORDS: usize = 8;
const HALF_MASK: u64 = (1 << NAME_LEN_SHIFT) - 1;

/// Whether the name columns hold a name (else the doc store does).
pub fn name_fits(name: &str) -> bool {
    name.len() <= NAME_WORDS * 8
}

/// The `name_*` values of a name that fits (zeros past its end).
pub fn name_values(name: &str) -> [u64; NAME_WORDS] {
    let mut words = [0u64; NAME_WORDS];
    for (word, chunk) in words.iter_mut().zip(name.as_bytes().chunks(8)) {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        *word = u64::from_be_bytes(bytes);
    }
    words
}

/// The `code_a` and `code_b` values of a code, its subject's kind and current name.
pub fn code_values(code: &SubjectCode, kind: SubjectKind, name: &str) -> [u64; 2] {
    let half = |chars: &[u8]| {
        chars.iter().fold(0u64, |n, &c| {
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                // Capital letters: a `SubjectCode` holds digits and capitals only.
                _ => c.saturating_sub(b'A').min(25) + 10,
            };
            n * 36 + u64::from(digit)
        })
    };
    let bytes = code.as_bytes();
    let kind_bit = match kind {
        SubjectKind::NaturalPerson => 0,
        SubjectKind::Organization => ORGANIZATION_BIT,
    };
    let name_len = (name.len() as u64).min(NAME_LEN_MASK) << NAME_LEN_SHIFT;
    [
        half(&bytes[..HALF]) | kind_bit | name_len,
        half(&bytes[HALF..]),
    ]
}

/// The code and kind `code_values` made these values of.
fn code_from_values([a, b]: [u64; 2]) -> Option<(SubjectCode, SubjectKind)> {
    let mut bytes = [0u8; 2 * HALF];
    for (out, mut n) in [(0, a & HALF_MASK), (HALF, b)] {
        for i in (out..out + HALF).rev() {
            let digit = (n % 36) as u8;
            bytes[i] = if digit < 10 {
                b'0' + digit
            } else {
                b'A' + digit - 10
            };
            n /= 36;
        }
    }
    let kind = if a & ORGANIZATION_BIT != 0 {
        SubjectKind::Organization
    } else {
        SubjectKind::NaturalPerson
    };
    Some((SubjectCode::from_stored(&bytes)?, kind))
}

/// One segment's columns.
pub struct SegmentColumns {
    /// `rank` (documents without one: last).
    pub rank: Arc<dyn ColumnValues<u64>>,
    code: [Arc<dyn ColumnValues<u64>>; 2],
    name: Vec<Arc<dyn ColumnValues<u64>>>,
}

impl SegmentColumns {
    fn open(reader: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let fast = reader.fast_fields();
        let u64_column =
            |name: &str| -> tantivy::Result<_> { Ok(fast.u64(name)?.first_or_default_col(0)) };
        Ok(SegmentColumns {
            rank: fast.u64("rank")?.first_or_default_col(u64::MAX),
            code: [u64_column("code_a")?, u64_column("code_b")?],
            name: (0..NAME_WORDS)
                .map(|i| u64_column(&format!("name_{i}")))
                .collect::<tantivy::Result<_>>()?,
        })
    }

    /// The code and kind of subject `doc` (`None` for a corrupt value).
    pub fn code(&self, doc: DocId) -> Option<(SubjectCode, SubjectKind)> {
        code_from_values([self.code[0].get_val(doc), self.code[1].get_val(doc)])
    }

    /// The current name of subject `doc` if the name columns hold it (`None`: read the doc
    /// store; also for bytes that are not UTF-8, which only a corrupt index has).
    pub fn name(&self, doc: DocId) -> Option<String> {
        let len = ((self.code[0].get_val(doc) >> NAME_LEN_SHIFT) & NAME_LEN_MASK) as usize;
        if len > NAME_WORDS * 8 {
            return None;
        }
        let mut bytes = Vec::with_capacity(len.next_multiple_of(8));
        for column in &self.name[..len.div_ceil(8)] {
            bytes.extend_from_slice(&column.get_val(doc).to_be_bytes());
        }
        bytes.truncate(len);
        String::from_utf8(bytes).ok()
    }
}

/// Every live segment's columns, by segment.
#[derive(Default)]
pub struct Columns(Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>);

impl Columns {
    /// The columns of `reader`'s segment, opened on first use.
    pub fn get(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(columns) = map.get(&reader.segment_id()) {
            return Ok(columns.clone());
        }
        let columns = Arc::new(SegmentColumns::open(reader)?);
        map.insert(reader.segment_id(), columns.clone());
        Ok(columns)
    }

    /// Forgets the columns of segments the searcher no longer has (merged away).
    pub fn retain(&self, searcher: &tantivy::Searcher) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > searcher.segment_readers().len() {
            let live: Vec<SegmentId> = searcher
                .segment_readers()
                .iter()
                .map(|r| r.segment_id())
                .collect();
            map.retain(|id, _| live.contains(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_and_its_kind_round_trip_through_the_columns() {
        let today = crate::domain::date::Date::parse("2026-11-27").unwrap();
        for (text, kind) in [
            ("91310115MA1K3BTP2B", SubjectKind::Organization),
            ("11010519491231002X", SubjectKind::NaturalPerson),
        ] {
            let code = SubjectCode::parse(text, today).unwrap().code;
            let values = code_values(&code, kind, "上海明华信息技术有限公司");
            assert_eq!(code_from_values(values), Some((code, kind)));
            assert!(values[0] & HALF_MASK < 36u64.pow(9));
            assert_eq!((values[0] >> NAME_LEN_SHIFT) & NAME_LEN_MASK, 36);
        }
    }

    #[test]
    fn names_up_to_64_bytes_fit_the_columns() {
        let name = "上海明华信息技术有限公司";
        let words = name_values(name);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(&bytes[..name.len()], name.as_bytes());
        assert!(bytes[name.len()..].iter().all(|&b| b == 0));
        assert!(name_fits(&"名".repeat(21)));
        assert!(!name_fits(&"名".repeat(22)));
    }
}

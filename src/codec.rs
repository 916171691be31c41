//! The one place values are encoded: a format-version byte, then bincode 2.0.1.
//!
//! Every persisted value is `[VALUE_FORMAT] ++ bincode(standard config, value)`. Keys are built
//! by hand in each keyspace module (big-endian integers, fixed-width codes) and never use bincode.
//! bincode is pinned (`=2.0.1`) and carries an "unmaintained" advisory (see `deny.toml`): keeping
//! it behind this module means a replacement touches one file plus a format-version bump.
//!
//! Decoding never trusts lengths in the bytes: a size limit bounds what a corrupted length
//! prefix can make the decoder allocate.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The version byte in front of every stored value. Bump it, and keep a reader for the old one,
/// whenever any persisted struct changes shape.
pub const VALUE_FORMAT: u8 = 1;

/// The first byte of a framed value compressed with a dictionary:
/// `[0x81] ++ dictionary id (u32 BE) ++ plain length (u32 BE) ++ zstd frame of the plain value`,
/// where the plain value is what [`frame`] wrote (starting with [`VALUE_FORMAT`]).
pub const COMPRESSED: u8 = 0x81;

/// Plain values larger than this are never decompressed (a corrupted length is an error, not an
/// allocation).
const MAX_PLAIN: usize = MAX_VALUE_BYTES;

/// A zstd dictionary trained on the store's own values, ready for both directions.
pub struct Dictionary {
    id: u32,
    bytes: Vec<u8>,
    encoder: zstd::dict::EncoderDictionary<'static>,
    decoder: zstd::dict::DecoderDictionary<'static>,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dictionary {{ id: {}, {} bytes }}",
            self.id,
            self.bytes.len()
        )
    }
}

/// The zstd level values are compressed at.
const LEVEL: i32 = 3;

/// Most bytes a trained dictionary may have.
const DICTIONARY_BYTES: usize = 112 * 1024;

impl Dictionary {
    /// A dictionary from its stored bytes.
    pub fn new(id: u32, bytes: Vec<u8>) -> Dictionary {
        let encoder = zstd::dict::EncoderDictionary::copy(&bytes, LEVEL);
        let decoder = zstd::dict::DecoderDictionary::copy(&bytes);
        Dictionary {
            id,
            bytes,
            encoder,
            decoder,
        }
    }

    /// Trains a dictionary on sample values; `None` if zstd cannot (too few or too small samples).
    pub fn train(id: u32, samples: &[Vec<u8>]) -> Option<Dictionary> {
        zstd::dict::from_samples(samples, DICTIONARY_BYTES)
            .ok()
            .map(|bytes| Dictionary::new(id, bytes))
    }

    /// Its id (the key it is stored under).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The bytes to store.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A compressor for many values (one per thread).
    ///
    /// Literals (the bytes no match covers: mostly Chinese text) are stored raw, not
    /// Huffman-coded. Measured on 9,000 subjects of the 1,000,000-subject store: values 5%
    /// larger, decompression 2.5x faster (2.03 -> 0.80 µs a subject), and decompression is a
    /// quarter of every query's time. A reader needs nothing new: these are ordinary zstd frames.
    pub fn compressor(&self) -> std::io::Result<zstd::bulk::Compressor<'_>> {
        let mut c = zstd::bulk::Compressor::with_prepared_dictionary(&self.encoder)?;
        c.set_parameter(zstd::zstd_safe::CParameter::LiteralCompressionMode(
            zstd::zstd_safe::ParamSwitch::Disable,
        ))?;
        Ok(c)
    }
}

/// Compresses a plain framed value.
pub fn compress(
    plain: &[u8],
    dictionary: &Dictionary,
    compressor: &mut zstd::bulk::Compressor<'_>,
) -> std::io::Result<Vec<u8>> {
    let body = compressor.compress(plain)?;
    let mut out = Vec::with_capacity(9 + body.len());
    out.push(COMPRESSED);
    out.extend_from_slice(&dictionary.id.to_be_bytes());
    out.extend_from_slice(&(plain.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// `plain` compressed with `dictionary`, or `plain` itself when no compressor could be made or
/// compression failed (a plain value is always readable: `plain` below passes it through).
pub fn compress_or_plain(
    plain: Vec<u8>,
    dictionary: &Dictionary,
    compressor: Option<&mut zstd::bulk::Compressor<'_>>,
) -> Vec<u8> {
    match compressor {
        Some(c) => compress(&plain, dictionary, c).unwrap_or(plain),
        None => plain,
    }
}

/// The plain framed value of a stored value: itself, or decompressed with the dictionary it
/// names (`dictionary` looks one up by id).
pub fn plain<'v>(
    value: &'v [u8],
    dictionary: impl Fn(u32) -> Option<std::sync::Arc<Dictionary>>,
    tree: &'static str,
    key: &[u8],
) -> Result<std::borrow::Cow<'v, [u8]>> {
    if value.first() != Some(&COMPRESSED) {
        return Ok(std::borrow::Cow::Borrowed(value));
    }
    let mut out = Vec::new();
    plain_into(value, dictionary, &mut out, tree, key)?;
    Ok(std::borrow::Cow::Owned(out))
}

/// [`plain`] into a buffer the caller reuses from value to value (a scan of many values):
/// returns the plain bytes, borrowed from `value` or from `buf`.
pub fn plain_into<'v, D: std::ops::Deref<Target = Dictionary>>(
    value: &'v [u8],
    dictionary: impl FnOnce(u32) -> Option<D>,
    buf: &'v mut Vec<u8>,
    tree: &'static str,
    key: &[u8],
) -> Result<&'v [u8]> {
    if value.first() != Some(&COMPRESSED) {
        return Ok(value);
    }
    let corrupt = |reason: String| Error::Corrupt {
        tree,
        key: crate::store::keys::describe(key),
        reason,
    };
    let (id, len) = compressed_header(value)
        .ok_or_else(|| corrupt("compressed value shorter than its header".into()))?;
    if len > MAX_PLAIN {
        return Err(corrupt(format!("claims {len} plain bytes")));
    }
    let dict = dictionary(id)
        .ok_or_else(|| corrupt(format!("needs dictionary {id}, which the store lacks")))?;
    buf.clear();
    buf.reserve(len);
    decompress_checked(buf, value, &dict, len, corrupt)?;
    Ok(buf.as_slice())
}

/// The id of the dictionary a stored value needs, if it is compressed (and its header whole).
pub fn dictionary_id(value: &[u8]) -> Option<u32> {
    if value.first() != Some(&COMPRESSED) {
        return None;
    }
    compressed_header(value).map(|(id, _)| id)
}

fn compressed_header(value: &[u8]) -> Option<(u32, usize)> {
    let header = value.get(1..9)?;
    let id = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    Some((id, len))
}

/// Decompresses a compressed value's frame into `out` (appending) and checks its length.
fn decompress_checked(
    out: &mut Vec<u8>,
    value: &[u8],
    dict: &Dictionary,
    len: usize,
    corrupt: impl Fn(String) -> Error,
) -> Result<()> {
    // NOTE: one decompression context per thread, reused: creating one per value was a third
    // of the time of reading every subject (profiled on `reindex`).
    thread_local! {
        static DCTX: std::cell::RefCell<zstd::zstd_safe::DCtx<'static>> =
            std::cell::RefCell::new(zstd::zstd_safe::DCtx::create());
    }
    DCTX.with(|dctx| {
        dctx.borrow_mut()
            .decompress_using_ddict(out, &value[9..], dict.decoder.as_ddict())
            .map_err(|code| corrupt(format!("undecompressable: zstd error {code}")))
    })?;
    if out.len() != len {
        return Err(corrupt(format!(
            "decompressed to {} bytes, header says {len}",
            out.len()
        )));
    }
    Ok(())
}

/// The most bytes one decoded value may claim (a subject's column included). A corrupted length
/// prefix fails with an error instead of allocating more.
pub const MAX_VALUE_BYTES: usize = 256 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_VALUE_BYTES>()
}

/// Encodes a value with its version byte.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    encode_sized(value, 256)
}

/// [`encode`], into a buffer of `capacity` bytes to start with (large values grow it less).
pub fn encode_sized<T: Serialize>(value: &T, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.push(VALUE_FORMAT);
    // NOTE: encoding into a Vec fails only for types serde cannot express in bincode (maps with
    // unknown length, `deserialize_any` types); none of our stored types are such.
    if let Err(e) = bincode::serde::encode_into_std_write(value, &mut out, config()) {
        unreachable!("stored types are bincode-encodable: {e}");
    }
    out
}

/// Encodes a value without the version byte: a section inside a framed value.
pub fn encode_body<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if let Err(e) = bincode::serde::encode_into_std_write(value, &mut out, config()) {
        unreachable!("stored types are bincode-encodable: {e}");
    }
    out
}

/// Frames sections into one value: the version byte, then per section a `u32` big-endian
/// length and the bytes. A reader can then decode one section without the others.
pub fn frame(sections: &[&[u8]]) -> Vec<u8> {
    let total: usize = sections.iter().map(|s| 4 + s.len()).sum();
    let mut out = Vec::with_capacity(1 + total);
    out.push(VALUE_FORMAT);
    for section in sections {
        // NOTE: sections are bounded by MAX_VALUE_BYTES (< 4 GiB), so the length fits a u32.
        out.extend_from_slice(&(section.len() as u32).to_be_bytes());
        out.extend_from_slice(section);
    }
    out
}

/// Splits a value written by [`frame`] into its `N` sections.
pub fn unframe<'a, const N: usize>(
    bytes: &'a [u8],
    tree: &'static str,
    key: &[u8],
) -> Result<[&'a [u8]; N]> {
    let corrupt = |reason: String| Error::Corrupt {
        tree,
        key: crate::store::keys::describe(key),
        reason,
    };
    let (&format, mut rest) = bytes
        .split_first()
        .ok_or_else(|| corrupt("empty value".to_string()))?;
    if format != VALUE_FORMAT {
        return Err(corrupt(format!("unknown value format {format}")));
    }
    let mut out: [&[u8]; N] = [&[]; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let (len, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| corrupt(format!("section {i} has no length")))?;
        let len = u32::from_be_bytes(*len) as usize;
        if len > tail.len() {
            return Err(corrupt(format!(
                "section {i} claims {len} bytes, {} remain",
                tail.len()
            )));
        }
        let (section, tail) = tail.split_at(len);
        *slot = section;
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(corrupt(format!(
            "{} trailing bytes after the sections",
            rest.len()
        )));
    }
    Ok(out)
}

/// Decodes a section written by [`encode_body`].
pub fn decode_body<T: DeserializeOwned>(bytes: &[u8], tree: &'static str, key: &[u8]) -> Result<T> {
    let corrupt = |reason: String| Error::Corrupt {
        tree,
        key: crate::store::keys::describe(key),
        reason,
    };
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| corrupt(format!("undecodable: {e}")))?;
    if used != bytes.len() {
        return Err(corrupt(format!(
            "{} trailing bytes after the value",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// A reader of the wire format by hand, for the hot read paths (queries, the verification
/// scan) that decode records as borrowed views: serde's generic machinery costs more there
/// than the bytes (BENCHMARKS.md, "Queries"). It reads exactly what bincode 2.0.1's standard
/// configuration writes (little-endian, variable-length integers: a byte under 251 is the
/// value, 251/252/253 introduce a u16/u32/u64; signed integers zig-zag encoded; `Option` a
/// 0/1 tag; an enum its variant's position as a u32; strings and sequences a u64 length
/// first), and accepts and rejects what bincode does. `None` is malformed bytes: a length past
/// the end, an integer too wide for its type, an unknown tag. Lengths are never trusted for an
/// allocation: a caller grows a collection only as elements are actually read, each at least
/// a byte.
///
/// Tests in `store::subjects` keep it in step with the serde decoding of the owned types,
/// including on corrupted bytes.
#[derive(Debug, Clone)]
pub struct Wire<'a> {
    rest: &'a [u8],
}

impl<'a> Wire<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Wire<'a> {
        Wire { rest: bytes }
    }

    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next `n` bytes.
    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(head)
    }

    /// The next `N` bytes as an array.
    #[inline]
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A one-byte tag (an `Option`'s, a `bool`'s).
    #[inline]
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    /// A variable-length unsigned integer no wider than `max_byte` allows (251: u16, 252:
    /// u32, 253: u64).
    #[inline]
    fn varint(&mut self, max_byte: u8) -> Option<u64> {
        match self.u8()? {
            b @ 0..=250 => Some(u64::from(b)),
            b if b > max_byte => None,
            251 => self.array().map(|b| u64::from(u16::from_le_bytes(b))),
            252 => self.array().map(|b| u64::from(u32::from_le_bytes(b))),
            253 => self.array().map(u64::from_le_bytes),
            _ => None,
        }
    }

    /// A `u64`.
    #[inline]
    pub fn u64(&mut self) -> Option<u64> {
        self.varint(253)
    }

    /// A `u32` (also an enum's variant position).
    #[inline]
    pub fn u32(&mut self) -> Option<u32> {
        self.varint(252).map(|n| n as u32)
    }

    /// An `i64`.
    #[inline]
    pub fn i64(&mut self) -> Option<i64> {
        self.u64().map(|n| ((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// An `i32`.
    #[inline]
    pub fn i32(&mut self) -> Option<i32> {
        self.u32().map(|n| ((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    /// A sequence's or a string's length.
    #[inline]
    pub fn seq_len(&mut self) -> Option<usize> {
        self.u64().and_then(|n| usize::try_from(n).ok())
    }

    /// A string's bytes, not checked as UTF-8.
    #[inline]
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.seq_len()?;
        self.take(n)
    }

    /// A string, checked as UTF-8.
    #[inline]
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    /// An `Option`'s tag: whether a value follows.
    #[inline]
    pub fn some(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// An `Option<T>` whose value `read` reads.
    #[inline]
    pub fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.some()? {
            read(self).map(Some)
        } else {
            Some(None)
        }
    }
}

/// Appends one item to a temporary stream (no version byte: such streams live only for the
/// duration of one operation and are never read by another build).
pub fn write_item<T: Serialize, W: std::io::Write>(value: &T, out: &mut W) -> std::io::Result<()> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map(|_| ())
        .map_err(std::io::Error::other)
}

/// Reads the next item of a stream written by [`write_item`]; `None` at its end.
pub fn read_item<T: DeserializeOwned, R: std::io::BufRead>(
    input: &mut R,
) -> std::io::Result<Option<T>> {
    if input.fill_buf()?.is_empty() {
        return Ok(None);
    }
    bincode::serde::decode_from_std_read(input, config())
        .map(Some)
        .map_err(std::io::Error::other)
}

/// Decodes a value written by [`encode`]; `tree` and `key` name the value in the error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], tree: &'static str, key: &[u8]) -> Result<T> {
    let corrupt = |reason: String| Error::Corrupt {
        tree,
        key: crate::store::keys::describe(key),
        reason,
    };
    let (&format, body) = bytes
        .split_first()
        .ok_or_else(|| corrupt("empty value".to_string()))?;
    if format != VALUE_FORMAT {
        return Err(corrupt(format!("unknown value format {format}")));
    }
    let (value, used) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| corrupt(format!("undecodable: {e}")))?;
    if used != body.len() {
        return Err(corrupt(format!(
            "{} trailing bytes after the value",
            body.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        id: u64,
        name: String,
        tags: Vec<String>,
    }

    #[test]
    fn round_trip_keeps_the_value() {
        let v = Sample {
            id: 7,
            name: "上海明华".into(),
            tags: vec!["a".into()],
        };
        let bytes = encode(&v);
        assert_eq!(bytes[0], VALUE_FORMAT);
        assert_eq!(decode::<Sample>(&bytes, "t", b"k").unwrap(), v);
    }

    #[test]
    fn damaged_values_are_typed_corruption() {
        let mut bytes = encode(&Sample {
            id: 1,
            name: "x".into(),
            tags: vec![],
        });
        for bad in [vec![], vec![9u8, 0], {
            bytes.push(0);
            bytes.clone()
        }] {
            let err = decode::<Sample>(&bad, "records", b"k").unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Corrupt {
                        tree: "records",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn framed_sections_round_trip_and_reject_damage() {
        let value = frame(&[b"ab", b"", b"xyz"]);
        let [a, b, c] = unframe::<3>(&value, "t", b"k").unwrap();
        assert_eq!((a, b, c), (&b"ab"[..], &b""[..], &b"xyz"[..]));
        assert!(unframe::<4>(&value, "t", b"k").is_err());
        assert!(unframe::<2>(&value, "t", b"k").is_err());
        assert!(unframe::<3>(&value[..value.len() - 1], "t", b"k").is_err());
        let mut lying = value.clone();
        lying[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(unframe::<3>(&lying, "t", b"k").is_err());
    }

    #[test]
    fn dictionary_compression_round_trips_and_names_its_dictionary() {
        let values: Vec<Vec<u8>> = (0..2000)
            .map(|i| {
                frame(&[format!("上海市市场监督管理局 record {i} 行政处罚 {}", i * 7).as_bytes()])
            })
            .collect();
        let dict = std::sync::Arc::new(Dictionary::train(7, &values).expect("trained"));
        let mut c = dict.compressor().unwrap();
        let packed = compress(&values[5], &dict, &mut c).unwrap();
        assert!(
            packed.len() < values[5].len(),
            "{} vs {}",
            packed.len(),
            values[5].len()
        );
        let lookup = |id| (id == 7).then(|| dict.clone());
        assert_eq!(
            plain(&packed, lookup, "t", b"k").unwrap().as_ref(),
            &values[5][..]
        );
        assert!(
            plain(&packed, |_| None, "t", b"k").is_err(),
            "missing dictionary is corruption"
        );
        let mut cut = packed.clone();
        cut.truncate(cut.len() - 3);
        assert!(plain(&cut, lookup, "t", b"k").is_err());
        assert_eq!(
            plain(&values[1], lookup, "t", b"k").unwrap().as_ref(),
            &values[1][..]
        );
    }

    #[test]
    fn a_huge_length_prefix_does_not_allocate() {
        // format byte, id 1, then a string claiming u64::MAX bytes (varint 0xFD + 8 bytes).
        let bad = [
            VALUE_FORMAT,
            1,
            0xFD,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0x7F,
        ];
        assert!(decode::<Sample>(&bad, "t", b"k").is_err());
    }
}

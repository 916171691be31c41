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

/// The most bytes one decoded value may claim (a subject's column included). A corrupted length
/// prefix fails with an error instead of allocating more.
pub const MAX_VALUE_BYTES: usize = 256 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_VALUE_BYTES>()
}

/// Encodes a value with its version byte.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(VALUE_FORMAT);
    // NOTE: encoding into a Vec fails only for types serde cannot express in bincode (maps with
    // unknown length, `deserialize_any` types); none of our stored types are such.
    if let Err(e) = bincode::serde::encode_into_std_write(value, &mut out, config()) {
        unreachable!("stored types are bincode-encodable: {e}");
    }
    out
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
            assert!(matches!(err, Error::Corrupt { tree: "records", .. }), "{err}");
        }
    }

    #[test]
    fn a_huge_length_prefix_does_not_allocate() {
        // format byte, id 1, then a string claiming u64::MAX bytes (varint 0xFD + 8 bytes).
        let bad = [VALUE_FORMAT, 1, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
        assert!(decode::<Sample>(&bad, "t", b"k").is_err());
    }
}

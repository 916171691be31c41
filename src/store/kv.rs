//! Reading one codec value, or every value of a keyspace: the two reads every keyspace module
//! needs, written once (the key names the value in a corruption error, codes masked).

use crate::codec;
use crate::error::Result;
use serde::de::DeserializeOwned;

/// The value at `key` in `keyspace`, decoded; `None` if absent.
pub fn get<T: DeserializeOwned>(
    tree: &sled::Tree,
    key: &[u8],
    keyspace: &'static str,
) -> Result<Option<T>> {
    tree.get(key)?
        .map(|v| codec::decode(&v, keyspace, key))
        .transpose()
}

/// Every value whose key starts with `tag`, decoded, in key order.
pub fn scan<'t, T: DeserializeOwned>(
    tree: &'t sled::Tree,
    tag: u8,
    keyspace: &'static str,
) -> impl Iterator<Item = Result<T>> + 't {
    tree.scan_prefix([tag]).map(move |item| {
        let (k, v) = item?;
        codec::decode(&v, keyspace, &k)
    })
}

//! The library's one error type.
//!
//! Expected outcomes are not errors: a missing subject is `Ok(None)`, a rejected input line is a
//! `Reject` in the ingest report. `Error` is for what stops an operation: I/O, corruption, an
//! incompatible store, bad configuration. Corruption is kept apart from I/O, and no variant
//! carries a subject code in clear or any submitted value (privacy, Art. 31).

use std::path::PathBuf;

/// The result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a store operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The storage engine reported an I/O-level failure.
    #[error("storage engine: {0}")]
    Storage(#[source] sled::Error),
    /// A stored value could not be decoded: the store is damaged or was written by other code.
    #[error("corrupt value in keyspace '{tree}' at key {key}: {reason}")]
    Corrupt {
        /// The keyspace (logical tree).
        tree: &'static str,
        /// The key, printable, with any personal code masked.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// The store was written in a format this build does not read.
    #[error(
        "store format version {found} is not supported (this build reads version {supported})"
    )]
    FormatVersion {
        /// The version recorded in the store.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },
    /// The catalog could not be loaded.
    #[error(transparent)]
    Catalog(#[from] crate::domain::catalog::CatalogError),
    /// A provider file is not UTF-8 and no transcoding was asked for.
    #[error("{path}: the file appears to be {encoding}, not UTF-8; convert it, or pass --encoding gb18030 to transcode it")]
    Encoding {
        /// The file.
        path: PathBuf,
        /// The encoding it appears to be in.
        encoding: &'static str,
    },
    /// A provider code is not acceptable.
    #[error("provider code {provider:?} is not valid: {reason}")]
    InvalidProvider {
        /// The code given.
        provider: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The search index failed (it can always be rebuilt from the store: `credstore reindex`).
    #[error("search index: {0}")]
    Search(String),
    /// A request names something that does not exist or cannot be done (an unknown requester or
    /// authorisation, a malformed bulk input header).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A value would exceed a limit the store enforces.
    #[error("limit exceeded: {0}")]
    Limit(String),
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at, .. } => Error::Corrupt {
                tree: "sled",
                key: format!("{at:?}"),
                reason: "the storage engine found a corrupted page".to_string(),
            },
            other => Error::Storage(other),
        }
    }
}

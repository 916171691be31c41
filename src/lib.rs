//! credstore: an embedded storage engine for public credit information under the Shanghai
//! Measures (《上海市公共信用信息归集和使用管理办法》).
//!
//! Providers' records are validated line by line against the catalog and the law
//! ([`domain`]), stored per subject in record columns on sled ([`store`]), and read back through
//! the crate's own types. See ARCHITECTURE.md for the map and FORMAT.md for the bytes.
//!
//! ```no_run
//! use credstore::{Store, domain::date::Date, ingest::IngestOptions};
//! # fn main() -> credstore::Result<()> {
//! let store = Store::open("credstore-data")?;
//! let today = Date::parse("2026-11-27").expect("a date");
//! let report = store.ingest_files("SAMR-SH", &["penalties.jsonl"], &IngestOptions::new(today))?;
//! println!("{} accepted, {} rejected", report.accepted, report.rejected);
//! let code = credstore::domain::code::SubjectCode::parse("91310115MA1K3BTP2B", today)
//!     .expect("a valid code")
//!     .code;
//! if let Some(found) = store.subject(&code)? {
//!     println!("{}: {} records", found.subject.name, found.records.len());
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod codec;
pub mod domain;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod lifecycle;
pub mod query;
pub mod search;
pub mod store;
pub mod view;

pub use error::{Error, Result};
pub use store::{Store, StoreOptions};

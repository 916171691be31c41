//! credstore: an embedded storage engine for public credit information under the Shanghai
//! Measures (《上海市公共信用信息归集和使用管理办法》).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod domain;
pub mod generate;

//! The application catalog (信用信息应用目录, Art. 18 ¶2): for each government matter type, the
//! catalog items a body handling it may see. Kept as data (`data-samples/application-catalog-2026.json`,
//! built in), so a new edition is a data change.

use crate::domain::catalog::Catalog;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// One matter type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Matter {
    /// Its code (`supervision`, `procurement`, ...).
    pub code: String,
    /// What it is.
    pub name: String,
    /// The catalog items it covers.
    pub items: BTreeSet<String>,
}

/// The catalog: matters by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationCatalog {
    version: String,
    matters: BTreeMap<String, Matter>,
}

#[derive(Deserialize)]
struct File {
    format: u32,
    version: String,
    matters: Vec<Matter>,
}

const BUILTIN: &str = include_str!("../../data-samples/application-catalog-2026.json");

impl ApplicationCatalog {
    /// The built-in 2026 edition.
    pub fn builtin() -> &'static ApplicationCatalog {
        static CATALOG: std::sync::OnceLock<ApplicationCatalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(|| {
            // NOTE: the built-in file is checked by a unit test against the built-in catalog.
            #[allow(clippy::expect_used)]
            ApplicationCatalog::parse(BUILTIN, Catalog::builtin())
                .expect("the built-in application catalog is valid")
        })
    }

    /// Parses an edition, checking every item against the record catalog.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<ApplicationCatalog, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.format != 1 {
            return Err(format!(
                "application catalog format {} is not supported",
                file.format
            ));
        }
        let mut matters = BTreeMap::new();
        for matter in file.matters {
            if let Some(item) = matter.items.iter().find(|i| catalog.get(i).is_none()) {
                return Err(format!(
                    "matter {:?} names item {item:?}, which is not in catalog {}",
                    matter.code,
                    catalog.version()
                ));
            }
            let code = matter.code.clone();
            if matters.insert(code.clone(), matter).is_some() {
                return Err(format!("matter {code:?} is listed twice"));
            }
        }
        Ok(ApplicationCatalog {
            version: file.version,
            matters,
        })
    }

    /// The edition.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A matter by code.
    pub fn matter(&self, code: &str) -> Option<&Matter> {
        self.matters.get(code)
    }

    /// Every matter, by code.
    pub fn matters(&self) -> impl Iterator<Item = &Matter> {
        self.matters.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_names_known_items() {
        let c = ApplicationCatalog::builtin();
        assert!(c.matter("supervision").is_some());
        assert!(c.matter("hiring").unwrap().items.contains("B-NP-ID"));
        assert!(c.matters().count() >= 7);
    }

    #[test]
    fn unknown_items_are_refused() {
        let text =
            r#"{"format":1,"version":"x","matters":[{"code":"m","name":"n","items":["NOPE"]}]}"#;
        let err = ApplicationCatalog::parse(text, Catalog::builtin()).unwrap_err();
        assert!(err.contains("NOPE"), "{err}");
    }
}

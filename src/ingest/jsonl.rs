//! JSON Lines provider files: one JSON object per line.
//!
//! The line is read by a hand-written serde visitor rather than a derived struct, so that
//! (1) no error message ever quotes a submitted value (serde's own type errors do, and an Art. 14
//! value must never reach a report), (2) duplicate keys and unknown keys are caught, and (3) a
//! prohibited field name is found before anything else is looked at.

use super::fields::{Field, RawLine, ATTRIBUTES};
use super::LineError;
use crate::domain::prohibited;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Parses one line (without its newline) into a raw line.
pub fn parse_line(text: &str) -> Result<RawLine, LineError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = de
        .deserialize_map(LineVisitor)
        .map_err(|e| LineError::Syntax(syntax_message(&e)))?;
    de.end()
        .map_err(|e| LineError::Syntax(syntax_message(&e)))?;
    parsed
}

fn syntax_message(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => format!("truncated JSON (ends at column {})", e.column()),
        Category::Syntax | Category::Io => {
            // serde_json's syntax messages name the expected token and a position, never a value.
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or("invalid JSON");
            format!("invalid JSON at column {}: {what}", e.column())
        }
        Category::Data => format!(
            "invalid JSON at column {}: a line must be a JSON object",
            e.column()
        ),
    }
}

/// A JSON value where a string is expected.
enum Scalar {
    Text(String),
    /// A JSON number, as its text: accepted only where the interface has a number
    /// (`amount_fen`). Elsewhere it is refused: a large number goes through `f64` and comes out
    /// rounded, so two numeric record ids could silently become one (found by fuzzing).
    Number(String),
    Null,
    Bool,
    Nested,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested)
    }
}

struct ScalarSeed;
impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// The `attributes` object: string values only.
struct AttributesVisitor;

impl<'de> Visitor<'de> for AttributesVisitor {
    type Value = Result<Vec<(String, String)>, LineError>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Ok(Vec::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut problem: Option<LineError> = None;
        let mut position = 0;
        while let Some(key) = map.next_key::<String>()? {
            position += 1;
            if let Some(what) = prohibited::classify_name(&key) {
                map.next_value::<IgnoredAny>()?;
                let field = prohibited::field_label(&key, &format!("{ATTRIBUTES} key #{position}"));
                let field = if field.starts_with(ATTRIBUTES) {
                    field
                } else {
                    format!("{ATTRIBUTES}.{field}")
                };
                problem = Some(LineError::Prohibited { field, what });
                continue;
            }
            let value = map.next_value_seed(ScalarSeed)?;
            if problem.is_some() {
                continue;
            }
            if out.iter().any(|(k, _)| *k == key) {
                problem = Some(LineError::Field {
                    field: format!("{ATTRIBUTES}.{key}"),
                    reason: "appears twice".into(),
                });
                continue;
            }
            match value {
                Scalar::Text(v) => out.push((key, v)),
                Scalar::Null => {}
                Scalar::Number(_) | Scalar::Bool | Scalar::Nested => {
                    problem = Some(LineError::Field {
                        field: format!("{ATTRIBUTES}.{key}"),
                        reason: "must be a string".into(),
                    })
                }
            }
        }
        Ok(match problem {
            Some(p) => Err(p),
            None => Ok(out),
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(not_an_object()))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
}

fn not_an_object() -> LineError {
    LineError::Field {
        field: ATTRIBUTES.into(),
        reason: "must be an object of strings".into(),
    }
}

struct AttributesSeed;
impl<'de> DeserializeSeed<'de> for AttributesSeed {
    type Value = Result<Vec<(String, String)>, LineError>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(AttributesVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Result<RawLine, LineError>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut line = RawLine::default();
        let mut seen = [false; super::fields::FIELD_COUNT];
        let mut seen_attributes = false;
        // The first prohibited field wins over every other problem; otherwise the first problem.
        let mut prohibited_hit: Option<LineError> = None;
        let mut problem: Option<LineError> = None;
        let mut position = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            position += 1;
            let field = Field::from_name(&key);
            // Core field names are never prohibited (tested in `fields`), so only others are
            // classified: the check stays off the per-field hot path.
            if field.is_none() && key != ATTRIBUTES {
                if let Some(what) = prohibited::classify_name(&key) {
                    map.next_value::<IgnoredAny>()?;
                    let field = prohibited::field_label(&key, &format!("key #{position}"));
                    prohibited_hit.get_or_insert(LineError::Prohibited { field, what });
                    continue;
                }
            }
            if key == ATTRIBUTES {
                let attrs = map.next_value_seed(AttributesSeed)?;
                if std::mem::replace(&mut seen_attributes, true) {
                    problem.get_or_insert(duplicate(&key));
                }
                match attrs {
                    Ok(a) => line.attributes = a,
                    Err(e @ LineError::Prohibited { .. }) => {
                        prohibited_hit.get_or_insert(e);
                    }
                    Err(e) => {
                        problem.get_or_insert(e);
                    }
                }
                continue;
            }
            let Some(field) = field else {
                map.next_value::<IgnoredAny>()?;
                problem.get_or_insert(LineError::Field {
                    reason: "is not a field of the provider interface (put further fields in \"attributes\")".into(),
                    field: key.into_owned(),
                });
                continue;
            };
            let value = map.next_value_seed(ScalarSeed)?;
            if std::mem::replace(&mut seen[field as usize], true) {
                problem.get_or_insert(duplicate(&key));
                continue;
            }
            match value {
                Scalar::Text(v) if !v.trim().is_empty() => line.values[field as usize] = Some(v),
                Scalar::Number(v) if field == Field::AmountFen => {
                    line.values[field as usize] = Some(v)
                }
                Scalar::Text(_) | Scalar::Null => {}
                Scalar::Number(_) | Scalar::Bool | Scalar::Nested => {
                    problem.get_or_insert(LineError::Field {
                        field: key.into_owned(),
                        reason: "must be a string".into(),
                    });
                }
            }
        }
        Ok(match prohibited_hit.or(problem) {
            Some(e) => Err(e),
            None => Ok(line),
        })
    }
}

fn duplicate(key: &str) -> LineError {
    LineError::Field {
        field: key.to_string(),
        reason: "appears twice".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_core_fields_and_attributes() {
        let line = parse_line(
            r#"{"provider_record_id":"A1","subject_code":"x","amount_fen":1200,"attributes":{"k":"v"},"title":null}"#,
        )
        .unwrap();
        assert_eq!(line.get(Field::ProviderRecordId), Some("A1"));
        assert_eq!(line.get(Field::AmountFen), Some("1200"));
        assert_eq!(line.get(Field::Title), None);
        assert_eq!(line.attributes, vec![("k".to_string(), "v".to_string())]);
    }

    #[test]
    fn problems_never_quote_values() {
        let secret = "SECRET-VALUE-123";
        for text in [
            format!(r#"{{"title":{{"a":"{secret}"}}}}"#),
            format!(r#"{{"title":"{secret}","title":"{secret}"}}"#),
            format!(r#"{{"blood_type":"{secret}"}}"#),
            format!(r#"{{"attributes":{{"宗教信仰":"{secret}"}}}}"#),
            format!(r#"{{"title":"{secret}""#),
            format!(r#"["{secret}"]"#),
            format!(r#"{{"unknown":"{secret}"}}"#),
        ] {
            let err = parse_line(&text).unwrap_err();
            assert!(!err.to_string().contains(secret), "{err}");
        }
    }

    #[test]
    fn prohibited_field_wins_over_other_problems() {
        let err = parse_line(r#"{"nope":1,"attributes":{"fingerprint":"x"}}"#).unwrap_err();
        assert!(
            matches!(err, LineError::Prohibited { ref field, .. } if field == "attributes.fingerprint"),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!(
            r#"{{"title":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse_line(&text).is_err());
    }
}

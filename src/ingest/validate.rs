//! Validating a raw line into a `Submission`: codes, dates, the catalog's entry rules, the age
//! rule (Art. 10) and field limits. Pure: no I/O, no store.

use super::fields::{Field, RawLine};
use super::LineError;
use crate::domain::catalog::{Catalog, EntryFacts};
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::record::{RecordContent, Submission};
use crate::domain::{prohibited, Disclosure, Grade, SubjectKind};
use std::collections::BTreeMap;

/// The most characters a short text field (names, codes, ids) may have.
pub const MAX_SHORT_CHARS: usize = 256;
/// The most characters a long text field (facts, content, attribute values) may have.
pub const MAX_LONG_CHARS: usize = 16_384;
/// The most attributes a line may carry.
pub const MAX_ATTRIBUTES: usize = 64;

/// Everything validation needs besides the line.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The provider submitting.
    pub provider: &'a str,
    /// The catalog in force.
    pub catalog: &'a Catalog,
    /// The collection date (`--today`).
    pub collected_on: Date,
}

/// Validates one line.
pub fn validate(line: RawLine, cx: &Context<'_>) -> Result<Submission, LineError> {
    for (i, (name, _)) in line.attributes.iter().enumerate() {
        if let Some(what) = prohibited::classify_name(name) {
            let field = prohibited::field_label(name, &format!("attribute #{}", i + 1));
            return Err(LineError::Prohibited { field, what });
        }
    }
    for field in Field::ALL {
        if field.required() && line.get(field).is_none() {
            return Err(field_error(field, "required but missing"));
        }
    }
    let provider_record_id = short_text(&line, Field::ProviderRecordId)?.unwrap_or_default();
    let parsed = SubjectCode::parse(required(&line, Field::SubjectCode)?, cx.collected_on)
        .map_err(|e| field_error(Field::SubjectCode, e.to_string()))?;
    let subject_name = short_text(&line, Field::SubjectName)?.unwrap_or_default();
    let item = required(&line, Field::Item)?.trim().to_string();
    let occurred_on = date(&line, Field::OccurredOn)?.unwrap_or(cx.collected_on);
    let ended_on = date(&line, Field::EndedOn)?;
    let reminded_on = date(&line, Field::RemindedOn)?;
    if parsed.kind == SubjectKind::NaturalPerson {
        if let Some(born) = parsed.birth_date {
            if born.years_until(cx.collected_on) < 18 {
                return Err(field_error(
                    Field::SubjectCode,
                    "the person is under 18 on the collection date; only persons aged 18 or over are covered (Art. 10)",
                ));
            }
        }
    }
    let entry = cx
        .catalog
        .check_entry(&EntryFacts {
            item: &item,
            kind: parsed.kind,
            occurred_on,
            ended_on,
            reminded_on,
            collected_on: cx.collected_on,
        })
        .map_err(|e| LineError::Refused(e.to_string()))?;
    let disclosure = match line.get(Field::Disclosure).map(str::trim) {
        None => entry.disclosure,
        Some("public") => Disclosure::Public,
        Some("non_public") => Disclosure::NonPublic,
        Some(_) => {
            return Err(field_error(
                Field::Disclosure,
                "must be \"public\" or \"non_public\"",
            ))
        }
    };
    let grade = match line.get(Field::Grade).map(str::trim) {
        None => None,
        Some("minor") => Some(Grade::Minor),
        Some("general") => Some(Grade::General),
        Some("serious") => Some(Grade::Serious),
        Some(_) => {
            return Err(field_error(
                Field::Grade,
                "must be \"minor\", \"general\" or \"serious\"",
            ))
        }
    };
    let amount_fen = match line.get(Field::AmountFen).map(str::trim) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    field_error(
                        Field::AmountFen,
                        "must be a whole, non-negative number of fen",
                    )
                })?,
        ),
    };
    let content = RecordContent {
        subject_name,
        item: entry.code.clone(),
        occurred_on,
        decided_on: date(&line, Field::DecidedOn)?,
        ended_on,
        reminded_on,
        disclosure,
        grade,
        title: short_text(&line, Field::Title)?,
        document_no: short_text(&line, Field::DocumentNo)?,
        violation_type: short_text(&line, Field::ViolationType)?,
        facts: long_text(&line, Field::Facts)?,
        legal_basis: long_text(&line, Field::LegalBasis)?,
        penalty_type: short_text(&line, Field::PenaltyType)?,
        penalty_content: long_text(&line, Field::PenaltyContent)?,
        amount_fen,
        authority: short_text(&line, Field::Authority)?,
        authority_code: short_text(&line, Field::AuthorityCode)?,
        attributes: attributes(line.attributes)?,
    };
    Ok(Submission {
        provider: cx.provider.to_string(),
        provider_record_id,
        subject: parsed.code,
        kind: parsed.kind,
        category: entry.category,
        content,
        warning: parsed
            .warning
            .map(|w| format!("field \"subject_code\": {w}")),
    })
}

fn field_error(field: Field, reason: impl Into<String>) -> LineError {
    LineError::Field {
        field: field.name().to_string(),
        reason: reason.into(),
    }
}

fn required(line: &RawLine, field: Field) -> Result<&str, LineError> {
    line.get(field)
        .ok_or_else(|| field_error(field, "required but missing"))
}

fn date(line: &RawLine, field: Field) -> Result<Option<Date>, LineError> {
    line.get(field)
        .map(|t| Date::parse(t.trim()).map_err(|e| field_error(field, e.to_string())))
        .transpose()
}

fn checked_text(text: &str, max_chars: usize, allow_newlines: bool) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > max_chars {
        return Err(format!("is longer than {max_chars} characters"));
    }
    let bad = |c: char| {
        (c.is_control() && !(allow_newlines && matches!(c, '\n' | '\t' | '\r')))
            || is_bidi_control(c)
    };
    if text.chars().any(bad) {
        return Err("contains control characters".to_string());
    }
    Ok(text.to_string())
}

/// Bidirectional formatting characters (U+202E and kin) are not `char::is_control`, but they
/// reorder how the text around them is shown, so a name can be made to display as another:
/// refused like control characters (found by the hostile-input corpus).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn short_text(line: &RawLine, field: Field) -> Result<Option<String>, LineError> {
    line.get(field)
        .map(|t| checked_text(t, MAX_SHORT_CHARS, false).map_err(|r| field_error(field, r)))
        .transpose()
}

fn long_text(line: &RawLine, field: Field) -> Result<Option<String>, LineError> {
    line.get(field)
        .map(|t| checked_text(t, MAX_LONG_CHARS, true).map_err(|r| field_error(field, r)))
        .transpose()
}

fn attributes(raw: Vec<(String, String)>) -> Result<BTreeMap<String, String>, LineError> {
    if raw.len() > MAX_ATTRIBUTES {
        return Err(LineError::Field {
            field: "attributes".into(),
            reason: format!("more than {MAX_ATTRIBUTES} attributes"),
        });
    }
    let mut out = BTreeMap::new();
    for (name, value) in raw {
        let problem = |reason: String| LineError::Field {
            field: format!("attributes.{name}"),
            reason,
        };
        let key = checked_text(&name, 64, false).map_err(&problem)?;
        if key.is_empty() {
            return Err(problem("has an empty name".into()));
        }
        let value = checked_text(&value, MAX_LONG_CHARS, true).map_err(&problem)?;
        if !value.is_empty() && out.insert(key, value).is_some() {
            return Err(problem("appears twice".into()));
        }
    }
    Ok(out)
}

//! The provider interface's field names: a public contract, spelled the same in JSON keys and CSV
//! headers. Renaming one breaks every provider; add, never rename.

/// A core field of a provider line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `provider_record_id` (required).
    ProviderRecordId,
    /// `subject_code` (required).
    SubjectCode,
    /// `subject_name` (required).
    SubjectName,
    /// `item` (required): a catalog item code.
    Item,
    /// `occurred_on` (required): `YYYY-MM-DD`.
    OccurredOn,
    /// `decided_on`.
    DecidedOn,
    /// `ended_on`: starts the Art. 27 query period.
    EndedOn,
    /// `reminded_on`: utility arrears only (Art. 13(4)).
    RemindedOn,
    /// `disclosure`: `public` / `non_public`.
    Disclosure,
    /// `grade`: `minor` / `general` / `serious`.
    Grade,
    /// `title`.
    Title,
    /// `document_no`.
    DocumentNo,
    /// `violation_type`.
    ViolationType,
    /// `facts`.
    Facts,
    /// `legal_basis`.
    LegalBasis,
    /// `penalty_type`.
    PenaltyType,
    /// `penalty_content`.
    PenaltyContent,
    /// `amount_fen`: an integer number of fen.
    AmountFen,
    /// `authority`.
    Authority,
    /// `authority_code`.
    AuthorityCode,
}

/// Number of core fields.
pub const FIELD_COUNT: usize = 20;

impl Field {
    /// Every core field, in interface order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::ProviderRecordId,
        Field::SubjectCode,
        Field::SubjectName,
        Field::Item,
        Field::OccurredOn,
        Field::DecidedOn,
        Field::EndedOn,
        Field::RemindedOn,
        Field::Disclosure,
        Field::Grade,
        Field::Title,
        Field::DocumentNo,
        Field::ViolationType,
        Field::Facts,
        Field::LegalBasis,
        Field::PenaltyType,
        Field::PenaltyContent,
        Field::AmountFen,
        Field::Authority,
        Field::AuthorityCode,
    ];

    /// The field's name in files.
    pub fn name(self) -> &'static str {
        match self {
            Field::ProviderRecordId => "provider_record_id",
            Field::SubjectCode => "subject_code",
            Field::SubjectName => "subject_name",
            Field::Item => "item",
            Field::OccurredOn => "occurred_on",
            Field::DecidedOn => "decided_on",
            Field::EndedOn => "ended_on",
            Field::RemindedOn => "reminded_on",
            Field::Disclosure => "disclosure",
            Field::Grade => "grade",
            Field::Title => "title",
            Field::DocumentNo => "document_no",
            Field::ViolationType => "violation_type",
            Field::Facts => "facts",
            Field::LegalBasis => "legal_basis",
            Field::PenaltyType => "penalty_type",
            Field::PenaltyContent => "penalty_content",
            Field::AmountFen => "amount_fen",
            Field::Authority => "authority",
            Field::AuthorityCode => "authority_code",
        }
    }

    /// The field named `name`, if it is a core field.
    pub fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "provider_record_id" => Field::ProviderRecordId,
            "subject_code" => Field::SubjectCode,
            "subject_name" => Field::SubjectName,
            "item" => Field::Item,
            "occurred_on" => Field::OccurredOn,
            "decided_on" => Field::DecidedOn,
            "ended_on" => Field::EndedOn,
            "reminded_on" => Field::RemindedOn,
            "disclosure" => Field::Disclosure,
            "grade" => Field::Grade,
            "title" => Field::Title,
            "document_no" => Field::DocumentNo,
            "violation_type" => Field::ViolationType,
            "facts" => Field::Facts,
            "legal_basis" => Field::LegalBasis,
            "penalty_type" => Field::PenaltyType,
            "penalty_content" => Field::PenaltyContent,
            "amount_fen" => Field::AmountFen,
            "authority" => Field::Authority,
            "authority_code" => Field::AuthorityCode,
            _ => return None,
        })
    }

    /// Whether a line without it is refused.
    pub fn required(self) -> bool {
        matches!(
            self,
            Field::ProviderRecordId
                | Field::SubjectCode
                | Field::SubjectName
                | Field::Item
                | Field::OccurredOn
        )
    }
}

/// The key of the JSON object holding further string fields (CSV: every other column).
pub const ATTRIBUTES: &str = "attributes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_none_is_prohibited() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
            // The parsers skip the Art. 14 check for core fields: it must never fire for them.
            assert_eq!(
                crate::domain::prohibited::classify_name(f.name()),
                None,
                "{}",
                f.name()
            );
        }
        assert_eq!(crate::domain::prohibited::classify_name(ATTRIBUTES), None);
        assert_eq!(Field::from_name("Item"), None);
    }
}

/// One input line before validation: core fields as text, further fields by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawLine {
    /// Core field values, indexed by `Field as usize`; `None` when absent, null or empty.
    pub values: [Option<String>; FIELD_COUNT],
    /// Further fields, in input order.
    pub attributes: Vec<(String, String)>,
}

impl RawLine {
    /// The value of a core field.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize].as_deref()
    }
}

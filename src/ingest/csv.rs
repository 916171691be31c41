//! CSV provider files: a header row naming the columns (the provider interface's field names;
//! any other column becomes an attribute), then one record per row.
//!
//! Rows are read as bytes and each cell is decoded on its own, so a bad byte in one row rejects
//! that row only, and GB18030 files can be transcoded cell by cell.

use super::fields::{Field, RawLine};
use super::input::{decode, InputEncoding};
use super::LineError;
use crate::domain::prohibited;

/// What a header column holds.
#[derive(Debug, Clone)]
enum Column {
    Core(Field),
    Attribute(String),
    Prohibited(String, prohibited::ProhibitedKind),
}

/// The parsed header row.
#[derive(Debug, Clone)]
pub struct Header {
    columns: Vec<Column>,
}

impl Header {
    /// Parses the header row; an error here refuses the whole file.
    pub fn parse(row: &csv::ByteRecord, encoding: InputEncoding) -> Result<Header, LineError> {
        let mut columns = Vec::with_capacity(row.len());
        for (i, cell) in row.iter().enumerate() {
            let name = decode(cell, encoding).ok_or_else(|| {
                LineError::Encoding(format!("header column {} is not valid text", i + 1))
            })?;
            let name = name.trim_start_matches('\u{feff}').trim().to_string();
            if name.is_empty() {
                return Err(LineError::Syntax(format!(
                    "header column {} has no name",
                    i + 1
                )));
            }
            if columns.iter().any(|c| column_name(c) == name) {
                return Err(LineError::Field {
                    field: name,
                    reason: "appears twice in the header".into(),
                });
            }
            columns.push(if let Some(what) = prohibited::classify_name(&name) {
                Column::Prohibited(
                    prohibited::field_label(&name, &format!("CSV column {}", i + 1)),
                    what,
                )
            } else if let Some(field) = Field::from_name(&name) {
                Column::Core(field)
            } else {
                Column::Attribute(name)
            });
        }
        Ok(Header { columns })
    }

    /// Turns a data row into a raw line.
    pub fn row(
        &self,
        row: &csv::ByteRecord,
        encoding: InputEncoding,
    ) -> Result<RawLine, LineError> {
        if row.len() != self.columns.len() {
            return Err(LineError::Syntax(format!(
                "has {} cells, the header has {}",
                row.len(),
                self.columns.len()
            )));
        }
        // A prohibited column with a value refuses the row before any other cell is read.
        for (column, cell) in self.columns.iter().zip(row.iter()) {
            if let Column::Prohibited(name, what) = column {
                if !cell.iter().all(u8::is_ascii_whitespace) {
                    return Err(LineError::Prohibited {
                        field: name.clone(),
                        what: *what,
                    });
                }
            }
        }
        let mut line = RawLine::default();
        for (column, cell) in self.columns.iter().zip(row.iter()) {
            let text = || {
                decode(cell, encoding).ok_or_else(|| {
                    LineError::Encoding(format!(
                        "column {:?} is not valid text",
                        column_name(column)
                    ))
                })
            };
            match column {
                Column::Prohibited(..) => {}
                Column::Core(field) => {
                    let value = text()?;
                    if !value.trim().is_empty() {
                        line.values[*field as usize] = Some(value.into_owned());
                    }
                }
                Column::Attribute(name) => {
                    let value = text()?;
                    if !value.trim().is_empty() {
                        line.attributes.push((name.clone(), value.into_owned()));
                    }
                }
            }
        }
        Ok(line)
    }
}

fn column_name(c: &Column) -> &str {
    match c {
        Column::Core(f) => f.name(),
        Column::Attribute(n) | Column::Prohibited(n, _) => n,
    }
}

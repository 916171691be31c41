//! `credstore get CODE`: a subject and its records as one JSON object.

use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use credstore::view::SubjectView;
use std::io::Write;
use std::path::Path;

pub fn run(data_dir: &Path, today: Date, code: &str) -> anyhow::Result<i32> {
    let parsed = match SubjectCode::parse(code, today) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("credstore: not a valid code: {e}");
            return Ok(1);
        }
    };
    let store = super::open_existing_store(data_dir)?;
    let Some(found) = store.subject(&parsed.code)? else {
        eprintln!(
            "credstore: no subject {} in the store",
            parsed.code.masked()
        );
        return Ok(1);
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &SubjectView::new(&found))?;
    writeln!(out)?;
    Ok(0)
}

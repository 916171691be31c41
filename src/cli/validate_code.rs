//! `credstore validate-code [CODE...]`: one JSON object per input, exit 1 if any is invalid.

use credstore::domain::code::SubjectCode;
use credstore::domain::date::Date;
use std::io::{BufRead, BufWriter, Write};

#[derive(serde::Serialize)]
struct Answer<'a> {
    input: &'a str,
    valid: bool,
    code: Option<&'a str>,
    kind: Option<&'static str>,
    error: Option<String>,
    warning: Option<String>,
}

pub fn run(today: Date, codes: Vec<String>) -> anyhow::Result<i32> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut all_valid = true;
    let mut check = |input: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let parsed = SubjectCode::parse(input, today);
        let answer = match &parsed {
            Ok(p) => Answer {
                input,
                valid: true,
                code: Some(p.code.as_str()),
                kind: Some(p.kind.as_str()),
                error: None,
                warning: p.warning.as_ref().map(|w| w.to_string()),
            },
            Err(e) => {
                all_valid = false;
                Answer {
                    input,
                    valid: false,
                    code: None,
                    kind: None,
                    error: Some(e.to_string()),
                    warning: None,
                }
            }
        };
        serde_json::to_writer(&mut *out, &answer)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    if codes.is_empty() {
        // Bytes, not `lines()`: a line that is not UTF-8 is an invalid code, not a fatal error.
        for line in std::io::stdin().lock().split(b'\n') {
            let mut line = line?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            check(&String::from_utf8_lossy(&line), &mut out)?;
        }
    } else {
        for code in &codes {
            check(code, &mut out)?;
        }
    }
    out.flush()?;
    Ok(if all_valid { 0 } else { 1 })
}

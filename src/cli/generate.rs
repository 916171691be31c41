//! `credstore generate --subjects N --seed S --out DIR`.

use credstore::domain::date::Date;
use credstore::generate::{generate, GenerateConfig};
use std::io::Write;
use std::path::Path;

pub fn run(
    subjects: u64,
    seed: u64,
    out: &Path,
    bad_share: f64,
    today: Date,
) -> anyhow::Result<i32> {
    if !(0.0..=1.0).contains(&bad_share) {
        eprintln!("credstore: --bad-share must be between 0 and 1");
        return Ok(2);
    }
    let config = GenerateConfig {
        subjects,
        seed,
        bad_share,
        today,
    };
    let summary = generate(&config, out)?;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &summary)?;
    writeln!(stdout)?;
    Ok(0)
}

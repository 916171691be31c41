//! Deterministic synthetic provider files for demos, tests and benchmarks.
//!
//! `generate(config, dir)` writes one folder per provider (`dir/<PROVIDER>/records.jsonl` or
//! `records.csv`), covering every catalog item for the subject kinds it applies to, plus
//! `bad-lines.jsonl`: for every deliberately bad line, its file, line and kind, so a test can
//! check that ingestion refuses exactly those lines. Equal configs give byte-identical files.
//! Writing streams: memory does not grow with the number of subjects.

pub mod names;
pub mod rng;

use crate::domain::code::gen as codegen;
use crate::domain::code::SubjectCode;
use crate::domain::date::Date;
use crate::domain::SubjectKind;
use rng::Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// Subjects (30% organisations, 70% persons).
    pub subjects: u64,
    /// The seed.
    pub seed: u64,
    /// Share of deliberately bad lines (0.0 to 1.0).
    pub bad_share: f64,
    /// Good lines are valid for collection on this day and any later one.
    pub today: Date,
}

/// What was generated.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GenerateSummary {
    /// Subjects.
    pub subjects: u64,
    /// Valid lines written.
    pub good_lines: u64,
    /// Deliberately bad lines written.
    pub bad_lines: u64,
    /// Bad lines by kind.
    pub bad_by_kind: BTreeMap<&'static str, u64>,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
}

/// Shanghai's districts (GB/T 2260 codes).
pub const DISTRICTS: &[(&str, &str)] = &[
    ("310101", "黄浦区"),
    ("310104", "徐汇区"),
    ("310105", "长宁区"),
    ("310106", "静安区"),
    ("310107", "普陀区"),
    ("310109", "虹口区"),
    ("310110", "杨浦区"),
    ("310112", "闵行区"),
    ("310113", "宝山区"),
    ("310114", "嘉定区"),
    ("310115", "浦东新区"),
    ("310116", "金山区"),
    ("310117", "松江区"),
    ("310118", "青浦区"),
    ("310120", "奉贤区"),
    ("310151", "崇明区"),
];

/// Providers: code, name, whether they send CSV.
pub const PROVIDERS: &[(&str, &str, bool)] = &[
    ("SAMR-SH", "上海市市场监督管理局", false),
    ("TAX-SH", "国家税务总局上海市税务局", false),
    ("HRSS-SH", "上海市人力资源和社会保障局", false),
    ("FIN-SH", "上海市财政局", false),
    ("HOUSING-SH", "上海市住房和城乡建设管理委员会", false),
    ("EMERGENCY-SH", "上海市应急管理局", false),
    ("TRANSPORT-SH", "上海市交通委员会", false),
    ("HEALTH-SH", "上海市医疗保障局", false),
    ("EDU-SH", "上海市教育委员会", false),
    ("PSB-SH", "上海市公安局", false),
    ("CIVIL-SH", "上海市民政局", false),
    ("COURT-SH", "上海市高级人民法院", true),
    ("UTILITY-SH", "上海城投水务（集团）有限公司", true),
];

/// Which provider submits each catalog item.
fn provider_of(item: &str) -> &'static str {
    match item {
        "D-TAX-ARREARS" => "TAX-SH",
        "D-ORG-SOCIAL-INS-ARREARS" | "B-NP-EMPLOYMENT" => "HRSS-SH",
        "D-ORG-FEE-ARREARS" => "FIN-SH",
        "D-DEMOLITION-REFUSAL" => "HOUSING-SH",
        "D-ORG-ACCIDENT" => "EMERGENCY-SH",
        "D-NP-FARE-EVASION" | "D-NP-TRANSIT-DISRUPTION" => "TRANSPORT-SH",
        "D-NP-INSURANCE-FRAUD" | "D-NP-BED-OCCUPATION" => "HEALTH-SH",
        "D-NP-EXAM-CHEATING" | "B-NP-EDUCATION" => "EDU-SH",
        "B-NP-ID" => "PSB-SH",
        "B-NP-MARITAL" | "O-COMMENDATION" | "O-VOLUNTEER" | "O-CHARITY" | "O-OTHER" => "CIVIL-SH",
        "O-CRIMINAL-JUDGMENT" | "O-PROPERTY-JUDGMENT" | "O-NON-PERFORMANCE" => "COURT-SH",
        "O-UTILITY-ARREARS" => "UTILITY-SH",
        _ => "SAMR-SH",
    }
}

/// The kinds of deliberately bad line.
const BAD_KINDS: &[&str] = &[
    "bad_check_digit",
    "missing_required_field",
    "impossible_date",
    "unknown_item",
    "item_not_for_kind",
    "under_18",
    "malformed_line",
    "prohibited_field",
    "utility_arrears_too_recent",
];

/// The distinctive value carried by prohibited fields in generated files; tests scan for it.
pub const PROHIBITED_MARKER: &str = "PROHIBITED-VALUE-7f3a9c";

/// One provider line, with the interface's field names.
#[derive(Debug, Clone, Default, Serialize)]
struct Line {
    provider_record_id: String,
    subject_code: String,
    subject_name: String,
    item: String,
    occurred_on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    decided_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reminded_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authority: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<&'static str, String>,
}

/// CSV columns: the core fields used, then one attribute column.
const CSV_HEADER: &[&str] = &[
    "provider_record_id",
    "subject_code",
    "subject_name",
    "item",
    "occurred_on",
    "decided_on",
    "ended_on",
    "reminded_on",
    "grade",
    "title",
    "document_no",
    "amount_fen",
    "authority",
    "case_no",
];

/// One provider's output file.
struct Output {
    path: String,
    writer: BufWriter<std::fs::File>,
    csv: bool,
    lines: u64,
    next_id: u64,
}

/// Writes the files for `config` into `dir` (created if needed).
pub fn generate(config: &GenerateConfig, dir: &Path) -> io::Result<GenerateSummary> {
    let mut gen = Generator::new(config, dir)?;
    for i in 0..config.subjects {
        gen.subject(i)?;
    }
    gen.finish()
}

struct Generator<'a> {
    config: &'a GenerateConfig,
    rng: Rng,
    outputs: BTreeMap<&'static str, Output>,
    bad: BufWriter<std::fs::File>,
    summary: GenerateSummary,
    items_org: Vec<(u32, String)>,
    items_person: Vec<(u32, String)>,
}

impl<'a> Generator<'a> {
    fn new(config: &'a GenerateConfig, dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut outputs = BTreeMap::new();
        for &(code, _, csv) in PROVIDERS {
            let sub = dir.join(code);
            std::fs::create_dir_all(&sub)?;
            let file = if csv { "records.csv" } else { "records.jsonl" };
            let path: PathBuf = sub.join(file);
            let mut writer = BufWriter::with_capacity(1 << 16, std::fs::File::create(&path)?);
            let mut lines = 0;
            if csv {
                writeln!(writer, "{}", CSV_HEADER.join(","))?;
                lines = 1;
            }
            outputs.insert(
                code,
                Output {
                    path: format!("{code}/{file}"),
                    writer,
                    csv,
                    lines,
                    next_id: 1,
                },
            );
        }
        let catalog = crate::domain::catalog::Catalog::builtin();
        let items = |kind| {
            catalog
                .items()
                .iter()
                .filter(|i| i.applies_to(kind))
                .map(|i| (category_weight(&i.code), i.code.clone()))
                .collect::<Vec<_>>()
        };
        Ok(Generator {
            config,
            rng: Rng::new(config.seed),
            outputs,
            bad: BufWriter::new(std::fs::File::create(dir.join("bad-lines.jsonl"))?),
            summary: GenerateSummary::default(),
            items_org: items(SubjectKind::Organization),
            items_person: items(SubjectKind::NaturalPerson),
        })
    }

    fn subject(&mut self, _index: u64) -> io::Result<()> {
        let today = self.config.today;
        let &(region, district) = self.rng.pick(DISTRICTS);
        let org = self.rng.chance(0.3);
        let (code, name) = if org {
            (
                codegen::uscc(&mut self.rng, region),
                names::company(&mut self.rng, district),
            )
        } else {
            let age_days = self.rng.range(18 * 366 + 1, 80 * 365) as i32;
            let birth = Date::from_days(today.to_days() - age_days).unwrap_or(today);
            (
                codegen::resident_id(&mut self.rng, region, birth),
                names::person(&mut self.rng),
            )
        };
        self.summary.subjects += 1;
        let records = 1 + self.rng.below(9);
        for n in 0..records {
            let item = if org && n == 0 {
                "B-ORG-REG".to_string()
            } else {
                self.pick_item(org)
            };
            let line = self.record(&code, &name, &item);
            if self.rng.chance(self.config.bad_share) {
                self.bad_line(line)?;
            } else {
                self.write(line, None)?;
                self.summary.good_lines += 1;
            }
        }
        Ok(())
    }

    fn pick_item(&mut self, org: bool) -> String {
        let items = if org {
            &self.items_org
        } else {
            &self.items_person
        };
        let total: u64 = items.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut roll = self.rng.below(total.max(1));
        for (w, code) in items {
            if roll < u64::from(*w) {
                return code.clone();
            }
            roll -= u64::from(*w);
        }
        items[0].1.clone()
    }

    fn date_between(&mut self, from: i32, to: i32) -> Date {
        let days = self.rng.range(i64::from(from), i64::from(to.max(from))) as i32;
        Date::from_days(days).unwrap_or(self.config.today)
    }

    fn record(&mut self, code: &SubjectCode, name: &str, item: &str) -> Line {
        let today = self.config.today.to_days();
        let provider = provider_of(item);
        let authority = PROVIDERS
            .iter()
            .find(|p| p.0 == provider)
            .map_or("上海市", |p| p.1);
        let mut line = Line {
            subject_code: code.as_str().to_string(),
            subject_name: name.to_string(),
            item: item.to_string(),
            authority: Some(authority),
            ..Line::default()
        };
        let occurred = if item == "O-UTILITY-ARREARS" {
            // Reminded a month after, and still unpaid more than six months after the reminder.
            let occurred = self.date_between(today - 3000, today - 250);
            line.reminded_on = Some(
                Date::from_days(occurred.to_days() + 30)
                    .unwrap_or(occurred)
                    .to_string(),
            );
            line.amount_fen = Some(self.rng.range(5_000, 2_000_000));
            occurred
        } else if item.starts_with("D-") {
            // Dishonesty must still be inside its 5-year query period (Art. 27) when collected.
            self.date_between(today - 1700, today - 30)
        } else {
            self.date_between(today - 3300, today - 30)
        };
        line.occurred_on = occurred.to_string();
        let decided = self.date_between(occurred.to_days(), (occurred.to_days() + 60).min(today));
        line.decided_on = Some(decided.to_string());
        if item.starts_with("D-") {
            if self.rng.chance(0.8) {
                let ended =
                    self.date_between(decided.to_days(), (decided.to_days() + 720).min(today));
                line.ended_on = Some(ended.to_string());
            }
            line.grade = Some(*self.rng.pick(&["minor", "general", "general", "serious"]));
        }
        if matches!(
            item,
            "D-PENALTY" | "D-TAX-ARREARS" | "D-ORG-FEE-ARREARS" | "D-ORG-SOCIAL-INS-ARREARS"
        ) {
            line.amount_fen = Some(self.rng.range(10_000, 50_000_000));
            let year = decided.naive().format("%Y");
            line.document_no = Some(format!(
                "沪{}罚〔{year}〕{}号",
                &provider[..1],
                self.rng.range(1, 9999)
            ));
        }
        let item_name = crate::domain::catalog::Catalog::builtin()
            .get(item)
            .map_or("记录", |i| i.name.as_str());
        line.title = Some(format!(
            "{item_name}（{}）",
            decided.naive().format("%Y年%m月")
        ));
        if provider == "COURT-SH" {
            line.attributes.insert(
                "case_no",
                format!(
                    "（{}）沪01民初{}号",
                    decided.naive().format("%Y"),
                    self.rng.range(1, 99999)
                ),
            );
        }
        line
    }

    fn bad_line(&mut self, mut line: Line) -> io::Result<()> {
        let csv = self
            .outputs
            .get(provider_of(&line.item))
            .is_some_and(|o| o.csv);
        let mut kind = *self.rng.pick(BAD_KINDS);
        if csv && kind == "prohibited_field" {
            // The CSV files have no column for it; CSV prohibited columns are tested apart.
            kind = "impossible_date";
        }
        let today = self.config.today;
        let mut raw_override = None;
        match kind {
            "bad_check_digit" => {
                // Another check character, chosen so the result is no valid code of either
                // standard (a changed ID can, rarely, pass as a USCC).
                let original = std::mem::take(&mut line.subject_code);
                for c in b"0123456789X".iter().chain(b"ABCDEFGHJKLMNPQRTUWY") {
                    let mut bytes = original.clone().into_bytes();
                    bytes[17] = *c;
                    let candidate = String::from_utf8(bytes).unwrap_or_default();
                    if candidate != original && SubjectCode::parse(&candidate, today).is_err() {
                        line.subject_code = candidate;
                        break;
                    }
                }
            }
            "missing_required_field" => line.subject_name.clear(),
            "impossible_date" => line.occurred_on = "2023-02-30".to_string(),
            "unknown_item" => line.item = "X-NOT-IN-CATALOG".to_string(),
            "item_not_for_kind" => {
                let person = SubjectCode::parse(&line.subject_code, today)
                    .is_ok_and(|p| p.kind == SubjectKind::NaturalPerson);
                line.item = if person {
                    "D-ORG-FEE-ARREARS"
                } else {
                    "D-NP-FARE-EVASION"
                }
                .to_string();
            }
            "under_18" => {
                let birth = Date::from_days(today.to_days() - 10 * 365).unwrap_or(today);
                line.subject_code = codegen::resident_id(&mut self.rng, "310115", birth)
                    .as_str()
                    .to_string();
                line.subject_name = names::person(&mut self.rng);
            }
            "malformed_line" => raw_override = Some(()),
            "prohibited_field" => {
                line.attributes
                    .insert("血型", PROHIBITED_MARKER.to_string());
            }
            _ => {
                // utility_arrears_too_recent
                line.item = "O-UTILITY-ARREARS".to_string();
                let reminded = Date::from_days(today.to_days() - 60).unwrap_or(today);
                line.occurred_on = Date::from_days(today.to_days() - 90)
                    .unwrap_or(today)
                    .to_string();
                line.decided_on = None;
                line.ended_on = None;
                line.grade = None;
                line.reminded_on = Some(reminded.to_string());
            }
        }
        let (file, number) = self.write(line, raw_override)?;
        *self.summary.bad_by_kind.entry(kind).or_default() += 1;
        self.summary.bad_lines += 1;
        serde_json::to_writer(
            &mut self.bad,
            &serde_json::json!({"file": file, "line": number, "kind": kind}),
        )?;
        self.bad.write_all(b"\n")
    }

    /// Writes a line to its provider's file; `malformed` cuts it short. Returns file and line.
    fn write(&mut self, mut line: Line, malformed: Option<()>) -> io::Result<(String, u64)> {
        let provider = provider_of(&line.item);
        let provider = if PROVIDERS.iter().any(|p| p.0 == provider) {
            provider
        } else {
            "SAMR-SH"
        };
        let Some(out) = self.outputs.get_mut(provider) else {
            return Err(io::Error::other("unknown provider"));
        };
        line.provider_record_id = format!("{provider}-{:08}", out.next_id);
        out.next_id += 1;
        out.lines += 1;
        if out.csv {
            let text = csv_row(&line);
            let text = if malformed.is_some() {
                text.rsplitn(4, ',').last().unwrap_or("").to_string()
            } else {
                text
            };
            writeln!(out.writer, "{text}")?;
        } else {
            let text = serde_json::to_string(&line)?;
            let text = if malformed.is_some() {
                let mut cut = text.len() / 2;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text[..cut].to_string()
            } else {
                text
            };
            writeln!(out.writer, "{text}")?;
        }
        Ok((out.path.clone(), out.lines))
    }

    fn finish(mut self) -> io::Result<GenerateSummary> {
        for out in self.outputs.values_mut() {
            out.writer.flush()?;
            self.summary.files.push(out.path.clone());
        }
        self.bad.flush()?;
        Ok(self.summary)
    }
}

/// Items weighted so categories come out roughly 50% basic, 30% dishonesty, 20% other.
fn category_weight(code: &str) -> u32 {
    match code.as_bytes().first() {
        Some(b'B') => 25,
        Some(b'D') => 6,
        _ => 8,
    }
}

fn csv_row(line: &Line) -> String {
    let cells = [
        line.provider_record_id.as_str(),
        &line.subject_code,
        &line.subject_name,
        &line.item,
        &line.occurred_on,
        line.decided_on.as_deref().unwrap_or(""),
        line.ended_on.as_deref().unwrap_or(""),
        line.reminded_on.as_deref().unwrap_or(""),
        line.grade.unwrap_or(""),
        line.title.as_deref().unwrap_or(""),
        line.document_no.as_deref().unwrap_or(""),
        &line.amount_fen.map(|a| a.to_string()).unwrap_or_default(),
        line.authority.unwrap_or(""),
        line.attributes.get("case_no").map_or("", |s| s.as_str()),
    ];
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out
}

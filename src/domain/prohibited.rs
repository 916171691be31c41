//! Information that may never be collected (Art. 14), recognised by name.
//!
//! Art. 14 forbids collecting a natural person's religious belief, genes, fingerprints, blood
//! type, disease and medical history, and anything else laws and regulations forbid. The same
//! list stands in 征信业管理条例 Art. 14 and in 上海市社会信用条例. Such data must not be stored
//! anywhere, not even in a log of rejected input, so this module answers one question before
//! anything is kept: *does this field name, item code or item name name prohibited data?* The
//! answer is a [`ProhibitedKind`], never the text that matched, so a refusal can be reported and
//! logged without repeating what it refuses.
//!
//! [`ProhibitedKind::Biometric`] (face, iris, voiceprint, palm print, gait) goes beyond the
//! letter of Art. 14 and is a policy of this crate: fingerprints are one biometric identifier of
//! the same nature; the Personal Information Protection Law (Art. 28) makes biometric data
//! sensitive, to be processed only with a specific purpose and real necessity, and no catalog item
//! needs it; sister regulations forbid it expressly (天津市社会信用条例 2020, Art. 16).
//!
//! Income, deposits, securities, insurance, real estate and tax amounts are *not* here: later law
//! makes them need the subject's written consent, not forbids them (see DOMAIN.md).
//!
//! # Matching
//! Names are checked, not values: an authority called 疾病预防控制中心 in a value is not health
//! data about the subject. English is matched on whole tokens, split at anything that is not an
//! ASCII letter or digit, at camelCase humps and between letters and digits, so `bloodType`,
//! `blood_type` and `Blood-Type` match but `region`, `general`, `genre` and `agent` do not.
//! Chinese is matched on substrings. Full-width ASCII is folded first.
//!
//! Deliberate choices, each pinned by a test:
//! - Words that are ordinary in credit data alone are not enough: `blood` (blood donation is a
//!   commendation), `faith` (good faith, 诚信), `belief`, `medical` (medical institution),
//!   `health` (health food licence), `face` (face value), 医疗, 献血, 血统.
//! - Names of authorities are exempt: disease control (疾病预防控制, `disease_control`,
//!   `disease_prevention`), religious affairs (宗教事务局, `religious_affairs`), and GMO licences
//!   (转基因, `genetically_modified`), which are about crops, not people.
//! - Everything else errs on the side of refusal: `file_fingerprint` is refused; name a content
//!   hash `digest`.

use serde::Serialize;
use std::fmt;

/// A kind of information that may never be collected (Art. 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProhibitedKind {
    /// 宗教信仰.
    ReligiousBelief,
    /// 基因: genes, genetic tests, DNA.
    Genes,
    /// 指纹.
    Fingerprints,
    /// 血型.
    BloodType,
    /// 疾病和病史: diseases, diagnoses, medical records and history.
    DiseaseOrMedicalHistory,
    /// Other biometric identifiers (face, iris, voiceprint, palm print, gait): this crate's
    /// extension of Art. 14, see the module documentation.
    Biometric,
}

impl ProhibitedKind {
    /// Every kind, in the order of Art. 14.
    pub const ALL: [ProhibitedKind; 6] = [
        ProhibitedKind::ReligiousBelief,
        ProhibitedKind::Genes,
        ProhibitedKind::Fingerprints,
        ProhibitedKind::BloodType,
        ProhibitedKind::DiseaseOrMedicalHistory,
        ProhibitedKind::Biometric,
    ];

    /// The name used in files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ProhibitedKind::ReligiousBelief => "religious_belief",
            ProhibitedKind::Genes => "genes",
            ProhibitedKind::Fingerprints => "fingerprints",
            ProhibitedKind::BloodType => "blood_type",
            ProhibitedKind::DiseaseOrMedicalHistory => "disease_or_medical_history",
            ProhibitedKind::Biometric => "biometric",
        }
    }
}

impl fmt::Display for ProhibitedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ProhibitedKind::ReligiousBelief => "religious belief (Art. 14)",
            ProhibitedKind::Genes => "genes (Art. 14)",
            ProhibitedKind::Fingerprints => "fingerprints (Art. 14)",
            ProhibitedKind::BloodType => "blood type (Art. 14)",
            ProhibitedKind::DiseaseOrMedicalHistory => "disease and medical history (Art. 14)",
            ProhibitedKind::Biometric => "biometric data (policy, extending Art. 14; PIPL Art. 28)",
        };
        f.write_str(text)
    }
}

use ProhibitedKind::{
    Biometric, BloodType, DiseaseOrMedicalHistory as Disease, Fingerprints, Genes,
    ReligiousBelief as Religion,
};

/// Chinese terms, matched as substrings. Single characters are never enough (病 is also in
/// 病虫害, pest control), and 医疗 / 健康 alone name institutions and products.
const CHINESE: &[(&str, ProhibitedKind)] = &[
    ("宗教", Religion),
    ("信仰", Religion),
    ("信教", Religion),
    ("教派", Religion),
    ("教徒", Religion),
    ("基因", Genes),
    ("遗传", Genes),
    ("染色体", Genes),
    ("脱氧核糖核酸", Genes),
    ("指纹", Fingerprints),
    ("血型", BloodType),
    ("疾病", Disease),
    ("病史", Disease),
    ("病历", Disease),
    ("病例", Disease),
    ("病情", Disease),
    ("病症", Disease),
    ("病种", Disease),
    ("患病", Disease),
    ("诊断", Disease),
    ("确诊", Disease),
    ("传染病", Disease),
    ("精神病", Disease),
    ("艾滋", Disease),
    ("肝炎", Disease),
    ("乙肝", Disease),
    ("结核", Disease),
    ("既往史", Disease),
    ("症状", Disease),
    ("体检结果", Disease),
    ("体检报告", Disease),
    ("健康状况", Disease),
    ("健康档案", Disease),
    ("生物识别", Biometric),
    ("生物特征", Biometric),
    ("人脸", Biometric),
    ("面部识别", Biometric),
    ("面部特征", Biometric),
    ("虹膜", Biometric),
    ("声纹", Biometric),
    ("掌纹", Biometric),
    ("指静脉", Biometric),
    ("步态", Biometric),
];

/// Chinese names of authorities and products that contain a term above but say nothing about a
/// person. They are blanked out before matching, so anything else in the name is still checked.
const CHINESE_EXEMPT: &[&str] = &[
    "疾病预防控制",
    "宗教事务局",
    "宗教事务委员会",
    "转基因",
    "体外诊断",
];

/// English terms as token sequences (lower case).
const ENGLISH: &[(&[&str], ProhibitedKind)] = &[
    (&["religion"], Religion),
    (&["religions"], Religion),
    (&["religious"], Religion),
    (&["creed"], Religion),
    (&["gene"], Genes),
    (&["genes"], Genes),
    (&["genetic"], Genes),
    (&["genetics"], Genes),
    (&["genetically"], Genes),
    (&["genome"], Genes),
    (&["genomes"], Genes),
    (&["genomic"], Genes),
    (&["genotype"], Genes),
    (&["dna"], Genes),
    (&["chromosome"], Genes),
    (&["chromosomes"], Genes),
    (&["fingerprint"], Fingerprints),
    (&["fingerprints"], Fingerprints),
    (&["thumbprint"], Fingerprints),
    (&["finger", "print"], Fingerprints),
    (&["finger", "prints"], Fingerprints),
    (&["bloodtype"], BloodType),
    (&["bloodgroup"], BloodType),
    (&["blood", "type"], BloodType),
    (&["blood", "types"], BloodType),
    (&["blood", "group"], BloodType),
    (&["abo"], BloodType),
    (&["rhesus"], BloodType),
    (&["disease"], Disease),
    (&["diseases"], Disease),
    (&["illness"], Disease),
    (&["illnesses"], Disease),
    (&["sickness"], Disease),
    (&["diagnosis"], Disease),
    (&["diagnoses"], Disease),
    (&["symptom"], Disease),
    (&["symptoms"], Disease),
    (&["anamnesis"], Disease),
    (&["comorbidity"], Disease),
    (&["psychiatric"], Disease),
    (&["hiv"], Disease),
    (&["hepatitis"], Disease),
    (&["tuberculosis"], Disease),
    (&["covid"], Disease),
    (&["medicalhistory"], Disease),
    (&["medical", "history"], Disease),
    (&["medical", "record"], Disease),
    (&["medical", "records"], Disease),
    (&["medical", "condition"], Disease),
    (&["case", "history"], Disease),
    (&["health", "status"], Disease),
    (&["health", "condition"], Disease),
    (&["health", "record"], Disease),
    (&["health", "records"], Disease),
    (&["biometric"], Biometric),
    (&["biometrics"], Biometric),
    (&["facial"], Biometric),
    (&["faceprint"], Biometric),
    (&["face", "recognition"], Biometric),
    (&["face", "image"], Biometric),
    (&["face", "template"], Biometric),
    (&["face", "feature"], Biometric),
    (&["face", "features"], Biometric),
    (&["face", "id"], Biometric),
    (&["iris"], Biometric),
    (&["retina"], Biometric),
    (&["retinal"], Biometric),
    (&["voiceprint"], Biometric),
    (&["voice", "print"], Biometric),
    (&["palmprint"], Biometric),
    (&["palm", "print"], Biometric),
    (&["finger", "vein"], Biometric),
    (&["gait"], Biometric),
];

/// English token sequences naming authorities or products, skipped before matching.
const ENGLISH_EXEMPT: &[&[&str]] = &[
    &["disease", "control"],
    &["disease", "prevention"],
    &["diseases", "control"],
    &["religious", "affairs"],
    &["genetically", "modified"],
];

/// The prohibited kind a field name, item code or item name refers to, if any.
///
/// Accepts Chinese or English in any case, with `_`, `-`, spaces or camelCase between words.
/// Only names are meant to be checked, not values (see the module documentation).
pub fn classify_name(name: &str) -> Option<ProhibitedKind> {
    let folded = fold_full_width(name);
    classify_chinese(&folded).or_else(|| classify_english(&tokens(&folded)))
}

/// How a refusal may name a prohibited field without repeating what the name itself may carry.
///
/// A field name can hold the value: one-hot exports have columns such as `blood_type_AB` or
/// `血型-O` holding `1`. So a refusal repeats the name only when it is nothing but a prohibited
/// term (`血型`, `blood_type`, `religion`); otherwise it names the field by position
/// (`position`, e.g. `"CSV column 14"`) and says the name was withheld.
pub fn field_label(name: &str, position: &str) -> String {
    let folded = fold_full_width(name);
    let compact: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    let plain_chinese = CHINESE.iter().any(|(term, _)| *term == compact);
    let words = tokens(&folded);
    let plain_english = ENGLISH.iter().any(|(phrase, _)| {
        phrase.len() == words.len() && phrase.iter().zip(&words).all(|(p, w)| p == w)
    });
    if plain_chinese || plain_english {
        name.to_string()
    } else {
        format!("{position} (name withheld: it may carry the value)")
    }
}

fn classify_chinese(text: &str) -> Option<ProhibitedKind> {
    // Chinese terms are matched with every space, separator and punctuation mark removed, so
    // `血 型`, `血　型` and `血_型` are 血型 (invisible characters are already gone, see `fold`).
    let mut text: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    for exempt in CHINESE_EXEMPT {
        text = text.replace(exempt, " ");
    }
    CHINESE
        .iter()
        .find(|(term, _)| text.contains(term))
        .map(|&(_, kind)| kind)
}

fn classify_english(tokens: &[String]) -> Option<ProhibitedKind> {
    let starts = |at: usize, phrase: &[&str]| {
        tokens.len() >= at + phrase.len() && phrase.iter().zip(&tokens[at..]).all(|(p, t)| *p == t)
    };
    let mut at = 0;
    while at < tokens.len() {
        if let Some(exempt) = ENGLISH_EXEMPT.iter().find(|p| starts(at, p)) {
            at += exempt.len();
            continue;
        }
        if let Some(&(_, kind)) = ENGLISH.iter().find(|(p, _)| starts(at, p)) {
            return Some(kind);
        }
        at += 1;
    }
    None
}

/// Folds full-width ASCII (U+FF01-U+FF5E) and the ideographic space to ASCII, and drops
/// invisible format characters (zero-width spaces and joiners, soft hyphen, bidi controls, BOM)
/// that would otherwise split a name like `指\u{200B}纹` past the check.
fn fold_full_width(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
        })
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Lower-case ASCII word tokens: split at non-alphanumerics, at a lower-to-upper hump
/// (`bloodType`), before the last capital of a capital run (`HIVStatus`), and between letters
/// and digits (`icd10`).
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            flush(&mut current, &mut out);
            continue;
        }
        if i > 0 && !current.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let hump = (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (prev.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower)
                || prev.is_ascii_digit() != c.is_ascii_digit();
            if hump {
                flush(&mut current, &mut out);
            }
        }
        current.push(c.to_ascii_lowercase());
    }
    flush(&mut current, &mut out);
    out
}

fn flush(current: &mut String, out: &mut Vec<String>) {
    if !current.is_empty() {
        out.push(std::mem::take(current));
    }
}

#[cfg(test)]
mod label_tests {
    use super::field_label;

    #[test]
    fn names_carrying_values_are_withheld() {
        assert_eq!(field_label("血型", "column 3"), "血型");
        assert_eq!(field_label("blood_type", "column 3"), "blood_type");
        assert_eq!(field_label("Religion", "key #2"), "Religion");
        for carrying in ["blood_type_AB", "血型-O", "血型AB", "religion_buddhism"] {
            let label = field_label(carrying, "column 3");
            assert!(label.starts_with("column 3"), "{label}");
            assert!(
                !label.contains("AB") && !label.contains('O') && !label.contains("buddh"),
                "{label}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_at_separators_humps_and_digits() {
        assert_eq!(tokens("bloodType"), ["blood", "type"]);
        assert_eq!(tokens("HIVStatus"), ["hiv", "status"]);
        assert_eq!(
            tokens("finger_print-scan x"),
            ["finger", "print", "scan", "x"]
        );
        assert_eq!(tokens("icd10Code"), ["icd", "10", "code"]);
        assert_eq!(tokens("DNA检测"), ["dna"]);
        assert!(tokens("").is_empty());
    }

    #[test]
    fn prohibited_names_are_recognised() {
        let table: &[(&str, ProhibitedKind)] = &[
            ("宗教", Religion),
            ("宗教信仰", Religion),
            ("信仰", Religion),
            ("religion", Religion),
            ("Religion", Religion),
            ("RELIGION", Religion),
            ("religious_belief", Religion),
            ("religiousBelief", Religion),
            ("基因", Genes),
            ("基因检测结果", Genes),
            ("gene", Genes),
            ("genetic", Genes),
            ("genetic_test", Genes),
            ("genome", Genes),
            ("DNA", Genes),
            ("ＤＮＡ", Genes),
            ("DNA检测", Genes),
            ("dnaSample", Genes),
            ("指纹", Fingerprints),
            ("fingerprint", Fingerprints),
            ("finger_print", Fingerprints),
            ("FingerPrint", Fingerprints),
            ("fingerprint_hash", Fingerprints),
            ("file_fingerprint", Fingerprints),
            ("血型", BloodType),
            ("blood_type", BloodType),
            ("bloodType", BloodType),
            ("Blood-Group", BloodType),
            ("ABO", BloodType),
            ("abo_rh", BloodType),
            ("疾病", Disease),
            ("病史", Disease),
            ("既往病史", Disease),
            ("病历", Disease),
            ("诊断", Disease),
            ("传染病名称", Disease),
            ("disease", Disease),
            ("medical_history", Disease),
            ("medicalHistory", Disease),
            ("MedicalRecords", Disease),
            ("diagnosis", Disease),
            ("illness", Disease),
            ("HIV", Disease),
            ("HIVStatus", Disease),
            ("hiv_positive", Disease),
            ("health_status", Disease),
            ("疾病预防控制中心病历", Disease),
            ("disease_control_diagnosis", Disease),
            ("人脸识别", Biometric),
            ("虹膜", Biometric),
            ("声纹", Biometric),
            ("face_image", Biometric),
            ("faceRecognition", Biometric),
            ("iris_scan", Biometric),
            ("voiceprint", Biometric),
            ("finger_vein", Biometric),
        ];
        for &(name, kind) in table {
            assert_eq!(classify_name(name), Some(kind), "{name}");
        }
    }

    #[test]
    fn ordinary_credit_fields_are_not_prohibited() {
        let table = [
            "",
            "region",
            "regional_code",
            "regionCode",
            "general",
            "general_procedure",
            "genre",
            "generation",
            "gender",
            "agent",
            "urgent",
            "designated",
            "designation",
            "grade",
            "blood",
            "blood_donation",
            "无偿献血",
            "血统",
            "信用",
            "信息",
            "失信信息",
            "诚信",
            "good_faith",
            "belief",
            "face_value",
            "surface_area",
            "medical_institution_code",
            "医疗机构",
            "hospital_bed_occupation",
            "转诊",
            "health_food_licence",
            "public_health_penalty",
            "disease_control_center_code",
            "DiseasePreventionAndControlBureau",
            "疾病预防控制中心",
            "上海市民族和宗教事务局",
            "religious_affairs_bureau",
            "转基因生物安全证书",
            "genetically_modified_organism_permit",
            "体外诊断试剂注册证",
            "病虫害防治",
            "教育",
            "finger",
            "print_date",
            "D-NP-BED-OCCUPATION",
            "符合出院或者转诊标准无正当理由滞留医疗机构信息",
            "unified_social_credit_code",
            "统一社会信用代码",
        ];
        for name in table {
            assert_eq!(classify_name(name), None, "{name}");
        }
    }

    #[test]
    fn display_cites_the_article() {
        assert_eq!(Religion.to_string(), "religious belief (Art. 14)");
        assert_eq!(Disease.to_string(), "disease and medical history (Art. 14)");
        for kind in ProhibitedKind::ALL {
            assert!(kind.to_string().contains("Art. 14"), "{kind:?}");
        }
    }
}

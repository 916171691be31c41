//! The name analyzer: how names and queries become index terms.
//!
//! tantivy's default tokenizer keeps a run of Chinese characters as one token and drops runs of
//! 14+ characters, so it cannot find 科技 inside 上海明华科技有限公司, nor a long name at all. Here a
//! name is first normalised (full-width to half-width, lower case, spaces and punctuation
//! removed), then cut into **units**: one Chinese (or other non-ASCII) character, or one run of
//! ASCII letters and digits (`ABC科技` is `abc`, `科`, `技`). The index holds every unit (a unigram)
//! and every pair of neighbouring units (a bigram, e.g. `科技`), bigram *i* at position *i*, so a
//! query of *n* units is a phrase of its *n − 1* bigrams at consecutive positions. No name is
//! ever too long: every unit of it is indexed.
//!
//! A second field holds every run of **three and four** neighbouring units of a name (its
//! "long grams", without positions), so the commonest fragment queries, of three or four units,
//! are one term each instead of a phrase of bigrams (see [`long_grams`]). A gram is its units
//! concatenated: that is unambiguous, because two neighbouring units are never both ASCII runs,
//! so splitting a gram into units gives back exactly the units it was made of.
//!
//! Queries go through the same functions, so index and query always agree.

/// Folds full-width ASCII to ASCII, the ideographic space to a space, and lower-cases.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The units of a text (see the module docs), after [`normalize`].
pub fn units(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut ascii = String::new();
    for c in normalize(text).chars() {
        if c.is_ascii_alphanumeric() {
            ascii.push(c);
            continue;
        }
        if !ascii.is_empty() {
            out.push(std::mem::take(&mut ascii));
        }
        if c.is_alphanumeric() {
            out.push(c.to_string());
        }
    }
    if !ascii.is_empty() {
        out.push(ascii);
    }
    out
}

/// The bigram of two neighbouring units.
pub fn bigram(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len());
    s.push_str(a);
    s.push_str(b);
    s
}

/// The shortest and longest runs of units in the long-grams field.
pub const LONG_GRAM_UNITS: std::ops::RangeInclusive<usize> = 3..=4;

/// The long grams of a name: every run of 3 and of 4 neighbouring units, concatenated, each
/// once per name (position 0: the field has no positions).
pub fn long_grams(name: &str) -> Vec<(String, usize)> {
    let units = units(name);
    let mut out = Vec::with_capacity(units.len() * 2);
    for n in LONG_GRAM_UNITS {
        out.extend(units.windows(n).map(|w| (w.concat(), 0)));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The exact-name key: the units joined (so spacing and width never matter).
pub fn exact_key(text: &str) -> String {
    units(text).concat()
}

/// The index tokens of a name: `(term, position)`, unigrams and bigrams.
pub fn tokens(name: &str) -> Vec<(String, usize)> {
    let units = units(name);
    let mut out = Vec::with_capacity(units.len() * 2);
    for (i, unit) in units.iter().enumerate() {
        out.push((unit.clone(), i));
        if let Some(next) = units.get(i + 1) {
            out.push((bigram(unit, next), i));
        }
    }
    out
}

/// The name of [`GramTokenizer::grams`] in the index's tokenizer manager.
pub const GRAMS_TOKENIZER: &str = "credstore_grams";

/// The name of [`GramTokenizer::long_grams`] in the index's tokenizer manager.
pub const LONG_GRAMS_TOKENIZER: &str = "credstore_long_grams";

/// [`tokens`] (or [`long_grams`]) as a tantivy tokenizer, for the `grams` (`long_grams`) field:
/// the index analyses a name on its indexing threads, exactly as a query is analysed here.
///
/// NOTE: not `PreTokenizedString`: tantivy's `TantivyDocument` keeps a pre-tokenized value as
/// JSON, so each one was serialised and parsed again (an eighth of a rebuild's profile).
#[derive(Clone)]
pub struct GramTokenizer {
    tokens: Vec<tantivy::tokenizer::Token>,
    analyse: fn(&str) -> Vec<(String, usize)>,
}

impl GramTokenizer {
    /// Unigrams and bigrams with positions ([`tokens`]).
    pub fn grams() -> GramTokenizer {
        GramTokenizer {
            tokens: Vec::new(),
            analyse: tokens,
        }
    }

    /// Runs of 3 and 4 units ([`long_grams`]).
    pub fn long_grams() -> GramTokenizer {
        GramTokenizer {
            tokens: Vec::new(),
            analyse: long_grams,
        }
    }
}

/// The tokens of one name (see [`GramTokenizer`]).
pub struct GramStream<'a> {
    tokens: &'a mut [tantivy::tokenizer::Token],
    next: usize,
}

impl tantivy::tokenizer::Tokenizer for GramTokenizer {
    type TokenStream<'a> = GramStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream<'a> {
        self.tokens.clear();
        self.tokens
            .extend((self.analyse)(text).into_iter().map(|(text, position)| {
                tantivy::tokenizer::Token {
                    offset_from: 0,
                    offset_to: 0,
                    position,
                    text,
                    position_length: 1,
                }
            }));
        GramStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl tantivy::tokenizer::TokenStream for GramStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_split_chinese_and_keep_ascii_runs() {
        assert_eq!(units("ABC科技"), ["abc", "科", "技"]);
        assert_eq!(
            units("上海 明华（集团）"),
            ["上", "海", "明", "华", "集", "团"]
        );
        assert_eq!(units("ＡＢＣ１２３公司"), ["abc123", "公", "司"]);
        assert_eq!(exact_key("王 伟"), "王伟");
    }

    #[test]
    fn long_names_keep_every_unit() {
        let name = "上海浦东新区明华信息技术发展股份有限公司浦东分公司第二营业部";
        let t = tokens(name);
        let units = name.chars().count();
        assert_eq!(t.len(), units * 2 - 1);
        assert!(t.contains(&("业部".to_string(), units - 2)));
    }

    #[test]
    fn long_grams_are_the_runs_of_three_and_four_units() {
        let grams: Vec<String> = long_grams("ABC科技有限").into_iter().map(|g| g.0).collect();
        assert_eq!(
            grams,
            ["abc科技", "abc科技有", "技有限", "科技有", "科技有限"]
        );
        assert!(long_grams("王伟").is_empty());
        // Repeated runs are one term.
        assert_eq!(long_grams("哈哈哈哈哈").len(), 2);
    }
}

//! Which shipped language a customer's message is written in.
//!
//! Hebrew is told by its script. The four Latin-script languages are told apart by a small
//! character n-gram model (orders 1 to 3, per word) plus a dictionary of each language's
//! words, both built once from texts we ship: the bot's own messages (`locales/<code>/*.ftl`)
//! and the customer-side phrases in this folder. Every text is learned twice, as written and
//! folded, because customers type with and without diacritics. General-purpose detectors
//! (trigram profiles of 70+ languages) are built for paragraphs and guess poorly on the two
//! or three words of a chat message; five languages and shopping words are a much smaller
//! problem, measured in `tests/language_quality.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::locale::Locale;
use crate::words::{MAX_WORD_CHARS, fold, head};

/// At most this many words of a message are weighed: a language shows in its first words,
/// and the work per message stays bounded whatever its length.
const MAX_WORDS: usize = 40;
/// Words every language's chat uses: they say nothing about which one this is.
const SHARED_WORDS: &[&str] = &[
    "ok", "okay", "okey", "oki", "k", "kk", "lol", "xd", "wow", "hmm", "hm",
];
/// Add-alpha smoothing of the n-gram counts.
const ALPHA: f32 = 0.5;
/// Nats a word earns for a language whose dictionary has it and no other's does.
const WORD_BONUS: f32 = 8.0;
/// The most a word unknown to every dictionary can tell, in nats.
const MAX_GRAM_MARGIN: f32 = 4.0;
/// The mean bigram and trigram log-probability from which a word reads as a word
/// (`reads_as_words`). Measured: real words of the five languages -6.5 to -8.0, key mashing
/// ("asdf", "qwertyuiop", "blorp") -8.2 and below.
const WORDLIKE_GRAM: f32 = -8.1;
/// Margins (nats between the best language and the runner-up) for a guess to count as
/// likely, and as sure. Tuned on the customer-side training phrases, checked on the
/// separate set in `tests/language_quality.rs`.
const LIKELY_MARGIN: f32 = 3.0;
const SURE_MARGIN: f32 = 9.0;

const LATIN: [Locale; 4] = [Locale::En, Locale::Ro, Locale::Pl, Locale::Lv];

/// Per Latin language (in `LATIN` order), letters no other of the four uses: a word with
/// one of them is that language's even if no dictionary has it ("tańsze", "lētāk").
const LETTERS_OF_ONE: [&str; 4] = ["", "ăâîșşțţ", "ąćęłńóśźż", "āčēģīķļņšūž"];

const TEXTS: [(Locale, &[&str]); 4] = [
    (
        Locale::En,
        &[
            include_str!("en.txt"),
            include_str!("../../../locales/en/main.ftl"),
            include_str!("../../../locales/en/page.ftl"),
        ],
    ),
    (
        Locale::Ro,
        &[
            include_str!("ro.txt"),
            include_str!("../../../locales/ro/main.ftl"),
            include_str!("../../../locales/ro/page.ftl"),
        ],
    ),
    (
        Locale::Pl,
        &[
            include_str!("pl.txt"),
            include_str!("../../../locales/pl/main.ftl"),
            include_str!("../../../locales/pl/page.ftl"),
        ],
    ),
    (
        Locale::Lv,
        &[
            include_str!("lv.txt"),
            include_str!("../../../locales/lv/main.ftl"),
            include_str!("../../../locales/lv/page.ftl"),
        ],
    ),
];

/// What a conversation has learned about its customer's language from their writing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LanguageSense {
    /// The customer wrote in the conversation's language, chose one, or was switched to
    /// one: a guess that is only likely no longer switches alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub settled: bool,
    /// The language the last message leaned to, when not the conversation's and not
    /// clearly: a second such message switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaning: Option<Locale>,
}

/// How much a guess can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Certainty {
    /// More likely than the others, but a word or two could be either.
    Likely,
    /// Clearly this language: its script, or words only it has.
    Sure,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    pub locale: Locale,
    pub certainty: Certainty,
    /// Nats between this language and the runner-up (for tuning and reports).
    pub margin: f32,
}

/// What one word says: per Latin language, and whether it is grammar of exactly one.
struct WordEvidence {
    scores: [f32; 4],
    grammar: Option<usize>,
    /// The languages whose dictionaries (ours or the catalog's) have the word.
    owners: [bool; 4],
}

struct Model {
    /// Per Latin language (in `LATIN` order): n-gram → log probability.
    grams: [HashMap<String, f32>; 4],
    /// Per Latin language and n-gram order: the log probability of an unseen n-gram.
    unseen: [[f32; 3]; 4],
    /// Per Latin language: the folded words of its texts.
    words: [HashSet<String>; 4],
}

static MODEL: LazyLock<Model> = LazyLock::new(Model::build);

/// The words of a Fluent file or a phrase list, without comments, message ids, placeables
/// (`{ $shop }`) and variant keys (`[one]`).
fn plain_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        // `key = value` and `.attribute = value`: only the value is language.
        let value = match line.split_once(" = ") {
            Some((key, value)) if !key.contains(' ') => value,
            _ => line,
        };
        for token in value.split_whitespace() {
            if token.contains(['$', '[', ']', '{', '}', '*']) || token == "->" {
                continue;
            }
            out.extend(latin_words(token));
        }
    }
    out
}

fn is_hebrew(c: char) -> bool {
    ('\u{05D0}'..='\u{05EA}').contains(&c)
}

/// The Latin-script words of a text, lower-cased, diacritics kept.
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic() || is_hebrew(c))
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_alphabetic() && !is_hebrew(c)))
        .filter(|w| w.len() <= MAX_WORD_CHARS * 4)
        .map(str::to_lowercase)
        .collect()
}

/// The n-grams of one word, padded with a space at each end (orders 2 and 3), so word
/// beginnings and endings count: "-ului", "-ość", "-ām" say more than any middle.
fn grams(word: &str, mut each: impl FnMut(usize, &str)) {
    let padded: Vec<char> = std::iter::once(' ')
        .chain(word.chars().take(MAX_WORD_CHARS))
        .chain(std::iter::once(' '))
        .collect();
    let mut buffer = String::new();
    for n in 1..=3 {
        let (start, end) = if n == 1 {
            (1, padded.len().saturating_sub(1))
        } else {
            (0, padded.len())
        };
        let Some(slice) = padded.get(start..end) else {
            continue;
        };
        for window in slice.windows(n) {
            buffer.clear();
            buffer.extend(window);
            each(n, &buffer);
        }
    }
}

impl Model {
    fn build() -> Model {
        let mut counts: [HashMap<String, u32>; 4] = Default::default();
        let mut totals = [[0u32; 3]; 4];
        let mut words: [HashSet<String>; 4] = Default::default();
        let mut vocabulary: [HashSet<String>; 3] = Default::default();
        for (slot, (_, texts)) in TEXTS.iter().enumerate() {
            for text in *texts {
                for word in plain_words(text) {
                    let folded = fold(&word);
                    for form in [word.as_str(), folded.as_str()] {
                        grams(form, |n, gram| {
                            *counts[slot].entry(gram.to_owned()).or_default() += 1;
                            totals[slot][n - 1] += 1;
                            vocabulary[n - 1].insert(gram.to_owned());
                        });
                    }
                    words[slot].insert(folded);
                }
            }
        }
        let mut grams_out: [HashMap<String, f32>; 4] = Default::default();
        let mut unseen = [[0.0f32; 3]; 4];
        for slot in 0..LATIN.len() {
            for n in 0..3 {
                let denominator = totals[slot][n] as f32 + ALPHA * vocabulary[n].len() as f32;
                unseen[slot][n] = (ALPHA / denominator).ln();
            }
            for (gram, count) in &counts[slot] {
                let n = gram.chars().count().clamp(1, 3) - 1;
                let denominator = totals[slot][n] as f32 + ALPHA * vocabulary[n].len() as f32;
                grams_out[slot].insert(gram.clone(), ((*count as f32 + ALPHA) / denominator).ln());
            }
        }
        Model {
            grams: grams_out,
            unseen,
            words,
        }
    }

    /// One word's evidence per Latin language. A word of exactly some languages'
    /// dictionaries (ours or the catalog's) counts for those; a word of none is weighed by
    /// its n-grams, relative to the best language and capped, so one odd word cannot
    /// outvote the rest of the message.
    fn word_scores(&self, word: &str, catalog: Option<&CatalogWords>) -> WordEvidence {
        let folded = fold(word);
        let in_ours: Vec<usize> = (0..LATIN.len())
            .filter(|slot| self.words[*slot].contains(&folded))
            .collect();
        // One of our languages' own words, and no product's name: grammar, greetings,
        // questions. Only such words make a guess sure.
        let grammar = match in_ours.as_slice() {
            [only] if !catalog.is_some_and(|c| c.names_something(&folded)) => Some(*only),
            _ => None,
        };
        let mut owners = [false; 4];
        for (slot, owner) in owners.iter_mut().enumerate() {
            *owner = self.words[slot].contains(&folded)
                || catalog.is_some_and(|c| c.has(LATIN[slot], &folded));
        }
        if !owners.contains(&true)
            && let Some(slot) = LETTERS_OF_ONE
                .iter()
                .position(|letters| word.chars().any(|c| letters.contains(c)))
        {
            owners[slot] = true;
        }
        let scores = self.word_likelihoods(word, owners);
        WordEvidence {
            scores,
            grammar,
            owners,
        }
    }

    fn word_likelihoods(&self, word: &str, owners: [bool; 4]) -> [f32; 4] {
        let owned = owners.iter().filter(|o| **o).count();
        if owned == LATIN.len() {
            return [0.0; 4];
        }
        if owned > 0 {
            return owners.map(|o| if o { WORD_BONUS } else { 0.0 });
        }
        let mut scores = [0.0f32; 4];
        grams(word, |n, gram| {
            for (slot, score) in scores.iter_mut().enumerate() {
                *score += self.grams[slot]
                    .get(gram)
                    .copied()
                    .unwrap_or(self.unseen[slot][n - 1]);
            }
        });
        let best = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        scores.map(|s| (s - best).max(-MAX_GRAM_MARGIN))
    }

    fn known_anywhere(&self, word: &str) -> bool {
        let folded = fold(word);
        self.words.iter().any(|words| words.contains(&folded))
    }
}

/// Whether a word no dictionary has reads like a word of one of our languages ("bicycles",
/// "rowery") rather than a slip of the keyboard ("qwertyuiop", "asdf"): the mean
/// log-probability of its bigrams and trigrams in the language it fits best. Hebrew words are words.
pub fn reads_as_words(word: &str) -> bool {
    if word.chars().any(is_hebrew) {
        return true;
    }
    let model = &*MODEL;
    let mut best = f32::NEG_INFINITY;
    for slot in 0..LATIN.len() {
        let (mut total, mut count) = (0.0f32, 0usize);
        grams(word, |n, gram| {
            if n >= 2 {
                total += model.grams[slot]
                    .get(gram)
                    .copied()
                    .unwrap_or(model.unseen[slot][n - 1]);
                count += 1;
            }
        });
        if count > 0 {
            best = best.max(total / count as f32);
        }
    }
    best >= WORDLIKE_GRAM
}

/// The shipped language `text` is written in, when it says: `None` for numbers, codes,
/// emoji, other scripts, and words every language shares ("ok", "espresso").
pub fn detect(text: &str, catalog: Option<&CatalogWords>) -> Option<Guess> {
    let text = head(text, crate::words::MAX_TEXT_CHARS);
    let mut hebrew_words = 0usize;
    let mut latin: Vec<String> = Vec::new();
    let mut other_words = 0usize;
    // A word with a digit in it ("7qx4mf", "a3", "2xl") is a code, a size or an order
    // number: its letters say nothing of the language.
    for token in text
        .split_whitespace()
        .filter(|word| !word.chars().any(|c| c.is_ascii_digit()))
        .flat_map(|word| word.split(|c: char| !c.is_alphabetic()))
        .filter(|t| !t.is_empty())
        .take(MAX_WORDS)
    {
        if token.chars().any(is_hebrew) {
            hebrew_words += 1;
        } else if token
            .chars()
            .all(|c| c.is_ascii_alphabetic() || is_latin_letter(c))
        {
            let word = token.to_lowercase();
            // Codes and sizes ("LK", "XL", "QX") are not words of any language.
            let code_like = token.chars().count() <= 3 && token.chars().all(char::is_uppercase);
            if !code_like && !SHARED_WORDS.contains(&word.as_str()) {
                latin.push(word);
            }
        } else {
            other_words += 1;
        }
    }
    let model = &*MODEL;
    if hebrew_words > 0 {
        // A Hebrew sentence often carries a Latin brand or product name; Latin words only
        // outvote it when they are words of our languages, and more of them.
        let latin_known = latin.iter().filter(|w| model.known_anywhere(w)).count();
        if hebrew_words >= latin_known {
            return Some(Guess {
                locale: Locale::He,
                certainty: if latin_known == 0 {
                    Certainty::Sure
                } else {
                    Certainty::Likely
                },
                margin: f32::INFINITY,
            });
        }
    }
    if latin.is_empty() || other_words > latin.len() {
        return None;
    }
    let mut totals = [0.0f32; 4];
    let mut grammar = [0usize; 4];
    let mut known = [0usize; 4];
    for word in &latin {
        let evidence = model.word_scores(word, catalog);
        for (count, owner) in known.iter_mut().zip(evidence.owners) {
            *count += usize::from(owner);
        }
        for (total, score) in totals.iter_mut().zip(evidence.scores) {
            *total += score;
        }
        if let Some(slot) = evidence.grammar {
            grammar[slot] += 1;
        }
    }
    let mut ranked: Vec<(usize, f32)> = totals.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, best_score) = ranked.first().copied()?;
    let second_score = ranked.get(1).map_or(f32::NEG_INFINITY, |r| r.1);
    let margin = best_score - second_score;
    // N-grams weigh words no dictionary has, but alone ("adidas", a name) they are a guess
    // about spelling, not language.
    let words_enough = latin.len() >= 2 && margin >= 2.0 * LIKELY_MARGIN;
    if known[best] == 0 && !words_enough {
        return None;
    }
    let certainty = if margin >= SURE_MARGIN && grammar[best] > 0 {
        Certainty::Sure
    } else if margin >= LIKELY_MARGIN {
        Certainty::Likely
    } else {
        return None;
    };
    Some(Guess {
        locale: LATIN[best],
        certainty,
        margin,
    })
}

/// Latin letters with diacritics (Latin-1 Supplement and Latin Extended-A/B).
fn is_latin_letter(c: char) -> bool {
    c.is_alphabetic() && ('\u{00C0}'..='\u{024F}').contains(&c)
}

/// The words of a catalog's texts per Latin language, as stems: "kubki" is Polish because
/// the catalog's Polish names say "kubek". Built once per catalog load.
#[derive(Debug, Clone, Default)]
pub struct CatalogWords {
    /// Per Latin language: stems of every text.
    stems: [HashSet<String>; 4],
    /// Per Latin language: stems of product and category names and keywords, the words
    /// customers borrow from another language ("running shoes" in a Polish sentence).
    names: [HashSet<String>; 4],
}

impl CatalogWords {
    /// From a catalog's texts: (language, text, whether it names a product or category).
    pub fn build<'a>(texts: impl IntoIterator<Item = (Locale, &'a str, bool)>) -> CatalogWords {
        let mut words = CatalogWords::default();
        for (locale, text, is_name) in texts {
            words.add(locale, text, is_name);
        }
        words
    }

    fn add(&mut self, locale: Locale, text: &str, is_name: bool) {
        let Some(slot) = LATIN.iter().position(|l| *l == locale) else {
            return;
        };
        let folded = fold(text);
        for word in crate::words::tokens(&folded) {
            if word.chars().count() >= 3 && !word.chars().any(|c| c.is_ascii_digit()) {
                let stem = crate::search::stem(locale, word);
                if is_name {
                    self.names[slot].insert(stem.clone());
                }
                self.stems[slot].insert(stem);
            }
        }
    }

    /// Whether a folded word names a product or category in some language.
    fn names_something(&self, folded: &str) -> bool {
        LATIN
            .iter()
            .zip(&self.names)
            .any(|(locale, names)| names.contains(&crate::search::stem(*locale, folded)))
    }

    fn has(&self, locale: Locale, folded: &str) -> bool {
        LATIN
            .iter()
            .position(|l| *l == locale)
            .and_then(|slot| self.stems.get(slot))
            .is_some_and(|stems| stems.contains(&crate::search::stem(locale, folded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(text: &str) -> Option<Locale> {
        detect(text, None).map(|g| g.locale)
    }

    #[test]
    fn scripts_and_shapes() {
        assert_eq!(locale("שלום, יש לכם ספלים?"), Some(Locale::He));
        assert_eq!(locale("יש לכם Chelsea?"), Some(Locale::He));
        assert_eq!(locale("12345"), None);
        assert_eq!(locale("🙂🙂"), None);
        assert_eq!(locale("привет как дела"), None);
        assert_eq!(locale(""), None);
    }

    #[test]
    fn fluent_syntax_is_not_language() {
        let words = plain_words("welcome = Bună! { $items ->\n    [one] Aveți 1 produs.\n}");
        assert_eq!(words, ["bună", "aveți", "produs"]);
    }

    #[test]
    fn words_read_as_words_and_key_mashing_does_not() {
        for word in [
            "bicycles",
            "laptop",
            "rowery",
            "biciclete",
            "velosipedus",
            "perfume",
        ] {
            assert!(reads_as_words(word), "{word}");
        }
        for mash in [
            "qwertyuiop",
            "asdf",
            "ghjk",
            "xkcdq",
            "zzzz",
            "blorp",
            "hmmm",
        ] {
            assert!(!reads_as_words(mash), "{mash}");
        }
    }

    #[test]
    fn long_texts_are_bounded() {
        let long = "czy macie ".repeat(10_000);
        assert_eq!(locale(&long), Some(Locale::Pl));
    }
}

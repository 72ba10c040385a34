//! Word stems, so "jackets" finds "jacket" and "rochii" finds "rochie". Snowball stemmers
//! (rust-stemmers) where one exists for the language (English, Romanian); light suffix
//! stripping for Polish and Latvian, and prefix-letter stripping for Hebrew, where none does.
//! Words are folded first (no diacritics), on the index side and the query side alike.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use crate::locale::Locale;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static ROMANIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Romanian));

/// Longest first; a stem keeps at least three letters.
const POLISH_SUFFIXES: &[&str] = &[
    "owych", "owego", "owemu", "ami", "ach", "owi", "ego", "emu", "ymi", "imi", "ych", "ich",
    "owa", "owe", "owy", "ow", "om", "em", "ie", "ej", "a", "e", "i", "o", "u", "y",
];
const LATVIAN_SUFFIXES: &[&str] = &[
    "ajam", "ajai", "ajos", "iem", "ais", "aja", "ie", "as", "am", "os", "us", "ai", "em", "is",
    "es", "a", "e", "i", "u", "s", "o",
];
/// One-letter prefixes Hebrew writes onto words: the, and, in, to, from, that, as.
const HEBREW_PREFIXES: &[char] = &['ה', 'ו', 'ב', 'ל', 'מ', 'ש', 'כ'];
const HEBREW_SUFFIXES: &[&str] = &["ים", "ות", "ה"];

fn strip_suffix<'a>(word: &'a str, suffixes: &[&str]) -> &'a str {
    for suffix in suffixes {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    word
}

/// Snowball's Romanian stemmer expects diacritics, and we fold them away first, so some
/// plural and singular forms no longer meet ("lumânări"/"lumânare" fold to "lumanari"/
/// "lumanare"); and Romanian alternates vowels between them ("geacă"/"geci",
/// "prosop"/"prosoape", "gheată"/"ghete"). Both are evened out after Snowball.
fn romanian(word: &str) -> String {
    let stem = ROMANIAN.stem(word).replace("ea", "e").replace("oa", "o");
    match stem.strip_suffix("ar") {
        Some(head) if head.chars().count() >= 3 => head.to_owned(),
        _ => stem,
    }
}

/// Polish drops the "e" of "-ek"/"-ec" when it inflects ("kubek", "kubki"; "koniec",
/// "końca"): stems meet without it.
fn polish(word: &str) -> String {
    let stem = strip_suffix(word, POLISH_SUFFIXES);
    for (ending, dropped) in [("ek", "k"), ("ec", "c")] {
        if let Some(head) = stem.strip_suffix(ending)
            && head.chars().count() >= 2
        {
            return format!("{head}{dropped}");
        }
    }
    stem.to_owned()
}

fn hebrew(word: &str) -> String {
    let mut stem = word;
    // Only from words of five letters or more: "מעיל" (coat) starts with a letter that is
    // also a prefix.
    if stem.chars().count() > 4
        && let Some(first) = stem.chars().next()
        && HEBREW_PREFIXES.contains(&first)
    {
        stem = &stem[first.len_utf8()..];
    }
    if stem.chars().count() > 4 {
        stem = strip_suffix(stem, HEBREW_SUFFIXES);
    }
    stem.to_owned()
}

/// The stem of a folded word as `locale` inflects it.
pub fn stem(locale: Locale, word: &str) -> String {
    match locale {
        Locale::En => ENGLISH.stem(word).into_owned(),
        Locale::Ro => romanian(word),
        Locale::Pl => polish(word),
        Locale::Lv => strip_suffix(word, LATVIAN_SUFFIXES).to_owned(),
        Locale::He => hebrew(word),
    }
}

/// Every language's stem of a query word: the customer's language is not known for sure
/// (people mix), so the index is asked for each and the best match counts once.
pub fn all_stems(word: &str) -> Vec<String> {
    let mut stems: Vec<String> = Locale::ALL.iter().map(|l| stem(*l, word)).collect();
    stems.push(word.to_owned());
    stems.sort();
    stems.dedup();
    stems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_meet_their_base_form() {
        assert_eq!(stem(Locale::En, "jackets"), stem(Locale::En, "jacket"));
        assert_eq!(stem(Locale::En, "running"), stem(Locale::En, "run"));
        assert_eq!(stem(Locale::Ro, "rochii"), stem(Locale::Ro, "rochie"));
        assert_eq!(stem(Locale::Ro, "lumanari"), stem(Locale::Ro, "lumanare"));
        assert_eq!(stem(Locale::Ro, "geci"), stem(Locale::Ro, "geaca"));
        assert_eq!(stem(Locale::Ro, "prosoape"), stem(Locale::Ro, "prosop"));
        assert_eq!(stem(Locale::Ro, "ghete"), stem(Locale::Ro, "gheata"));
        assert_eq!(stem(Locale::Pl, "kurtki"), stem(Locale::Pl, "kurtka"));
        assert_eq!(stem(Locale::Pl, "buty"), stem(Locale::Pl, "butow"));
        assert_eq!(stem(Locale::Pl, "kubki"), stem(Locale::Pl, "kubek"));
        assert_eq!(stem(Locale::Pl, "kubka"), stem(Locale::Pl, "kubek"));
        assert_eq!(stem(Locale::Lv, "jakas"), stem(Locale::Lv, "jaka"));
        assert_eq!(stem(Locale::He, "המעיל"), stem(Locale::He, "מעיל"));
    }
}

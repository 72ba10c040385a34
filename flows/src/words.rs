//! Text folding shared by the customer's words and the words we match them against: both
//! sides go through the same function, so "Coșul", "cosul" and "COȘUL" meet. With the words
//! every matcher ignores. A leaf: understanding and search both build on it.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The most characters of one text that are read. Channels cut customer text to their
/// platform's own maximum (4,096 at most) before it gets here; this is the core's own bound,
/// so no caller can make folding, and everything that walks its words, cost more.
pub const MAX_TEXT_CHARS: usize = 8_192;

/// Longer "words" (a pasted URL, a base64 blob) name nothing a shop sells or a flow asks
/// for; dropping them keeps every per-word lookup (stems, typo deletions) small.
pub const MAX_WORD_CHARS: usize = 48;

/// At most the first `limit` characters of `text`, without copying.
pub fn head(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Lower-cases, strips diacritics and niqqud, and turns punctuation into spaces. Reads at
/// most `MAX_TEXT_CHARS` characters.
pub fn fold(text: &str) -> String {
    let text = head(text, MAX_TEXT_CHARS);
    let mut out = String::with_capacity(text.len());
    let mut last_was_space = true;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = match c {
            // Letters that do not decompose under NFD but that people type without the stroke.
            'ł' | 'Ł' => 'l',
            'ø' | 'Ø' => 'o',
            'đ' | 'Đ' => 'd',
            'ß' => 's',
            other => other,
        };
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            last_was_space = false;
        } else if !last_was_space {
            out.push(' ');
            last_was_space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The words of a folded text, without those longer than `MAX_WORD_CHARS`.
pub fn tokens(folded: &str) -> Vec<&str> {
    folded.split(' ').filter(|t| is_word(t)).collect()
}

/// Not empty and at most `MAX_WORD_CHARS` characters (counted only when the bytes could be
/// more: this runs for every word of every message and lexicon phrase).
fn is_word(token: &str) -> bool {
    !token.is_empty()
        && (token.len() <= MAX_WORD_CHARS || token.chars().nth(MAX_WORD_CHARS).is_none())
}

/// True when `phrase` (already folded) occurs as consecutive whole tokens of `words`.
pub fn contains_phrase(words: &[&str], phrase: &str) -> bool {
    // Walked without collecting: every message is checked against every lexicon phrase.
    let wanted = || phrase.split(' ').filter(|t| is_word(t));
    let (Some(first), length) = (wanted().next(), wanted().count()) else {
        return false;
    };
    words
        .windows(length)
        .any(|window| window[0] == first && window.iter().copied().eq(wanted()))
}

/// Words too common to say anything about which product is meant.
pub const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "want",
    "like",
    "have",
    "some",
    "please",
    "show",
    "any",
    "you",
    "your",
    "need",
    "looking",
    "buy",
    "get",
    "can",
    "do",
    "pentru",
    "vreau",
    "doresc",
    "niste",
    "imi",
    "arata",
    "aveti",
    "caut",
    "chce",
    "dla",
    "prosze",
    "pokaz",
    "macie",
    "szukam",
    "gribu",
    "man",
    "ludzu",
    "paradi",
    "vai",
    "jums",
    "ir",
    "אני",
    "רוצה",
    "יש",
    "לכם",
    "את",
    "של",
    // Asking whether a shop sells something, and asking which: "what shoes do you have?" is
    // a search for shoes.
    "sell",
    "carry",
    "got",
    "stock",
    "what",
    "which",
    "vindeti",
    "ce",
    "care",
    "cumpar",
    "as",
    "sprzedajecie",
    "jakie",
    "jaki",
    "czy",
    "kupic",
    "potrzebuje",
    "pardodat",
    "nopirkt",
    "vajag",
    "mekleju",
    "kadi",
    "kadas",
    "kada",
    "kads",
    "מוכרים",
    "אתם",
    "מחפש",
    "מחפשת",
    "צריך",
    "צריכה",
    "לקנות",
    "אילו",
    "איזה",
];

/// Function words of the shipped languages: no meaning to rank on.
pub const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "to", "for", "with", "and", "or", "is", "it", "my", "me",
    "de", "din", "la", "cu", "si", "sau", "in", "pe", "un", "o", "mi", "ce", "w", "z", "na", "do",
    "i", "oraz", "lub", "ze", "ar", "uz", "no", "un", "ir", "ka", "ל", "ב", "עם", "של", "או",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_diacritics_case_and_punctuation() {
        assert_eq!(fold("  Coșul meu, VĂ ROG!! "), "cosul meu va rog");
        assert_eq!(fold("Żółć łódź"), "zolc lodz");
        assert_eq!(fold("Latviešu valoda"), "latviesu valoda");
        assert_eq!(fold("שָׁלוֹם"), "שלום");
        assert_eq!(fold("🙂🙂🙂"), "");
    }

    #[test]
    fn long_texts_and_words_are_bounded() {
        let long = "ab ".repeat(MAX_TEXT_CHARS);
        assert!(fold(&long).chars().count() <= MAX_TEXT_CHARS);
        let word = "x".repeat(MAX_WORD_CHARS);
        let longer = "y".repeat(MAX_WORD_CHARS + 1);
        let folded = fold(&format!("red {word} {longer} dress"));
        assert_eq!(tokens(&folded), ["red", word.as_str(), "dress"]);
        assert_eq!(head("żółw", 2), "żó");
        assert_eq!(head("ab", 5), "ab");
    }

    #[test]
    fn phrases_match_whole_tokens_only() {
        let folded = fold("I want to talk to a human please");
        let words = tokens(&folded);
        assert!(contains_phrase(&words, "human"));
        assert!(contains_phrase(&words, "talk to"));
        assert!(!contains_phrase(&words, "hum"));
        assert!(!contains_phrase(&words, ""));
    }
}

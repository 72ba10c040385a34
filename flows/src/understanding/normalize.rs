//! Text folding shared by the customer's words and the words we match them against: both
//! sides go through the same function, so "Coșul", "cosul" and "COȘUL" meet.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, strips diacritics and niqqud, and turns punctuation into spaces.
pub fn fold(text: &str) -> String {
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

pub fn tokens(folded: &str) -> Vec<&str> {
    folded.split(' ').filter(|t| !t.is_empty()).collect()
}

/// True when `phrase` (already folded) occurs as consecutive whole tokens of `words`.
pub fn contains_phrase(words: &[&str], phrase: &str) -> bool {
    let wanted = tokens(phrase);
    !wanted.is_empty()
        && words
            .windows(wanted.len())
            .any(|window| window == wanted.as_slice())
}

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
    fn phrases_match_whole_tokens_only() {
        let folded = fold("I want to talk to a human please");
        let words = tokens(&folded);
        assert!(contains_phrase(&words, "human"));
        assert!(contains_phrase(&words, "talk to"));
        assert!(!contains_phrase(&words, "hum"));
        assert!(!contains_phrase(&words, ""));
    }
}

//! The lexicon's phrases split into words once, per keyword, for the checks every message
//! goes through (walking `PHRASES` and splitting each phrase per message was a tenth of a
//! "cart" step's time).

use std::collections::HashSet;
use std::sync::LazyLock;

use super::lexicon::{Keyword, PHRASES};

struct PhraseBook {
    /// Indexed by `Keyword as usize`: that keyword's phrases, each as its words.
    by_keyword: Vec<Vec<Vec<&'static str>>>,
    /// Every one-word phrase.
    single_words: HashSet<&'static str>,
    /// Every word of the greetings, thanks, yes and no phrases.
    small_talk: HashSet<&'static str>,
}

static BOOK: LazyLock<PhraseBook> = LazyLock::new(|| {
    let mut by_keyword: Vec<Vec<Vec<&'static str>>> = Vec::new();
    let mut single_words = HashSet::new();
    let mut small_talk = HashSet::new();
    for (keyword, phrases) in PHRASES {
        let slot = *keyword as usize;
        if by_keyword.len() <= slot {
            by_keyword.resize_with(slot + 1, Vec::new);
        }
        for phrase in *phrases {
            let words: Vec<&'static str> = phrase.split(' ').filter(|w| !w.is_empty()).collect();
            if let [word] = words.as_slice() {
                single_words.insert(*word);
            }
            if matches!(
                keyword,
                Keyword::Greeting | Keyword::Thanks | Keyword::Yes | Keyword::No
            ) {
                small_talk.extend(words.iter().copied());
            }
            if !words.is_empty() {
                by_keyword[slot].push(words);
            }
        }
    }
    PhraseBook {
        by_keyword,
        single_words,
        small_talk,
    }
});

/// True when one of `keyword`'s phrases occurs as consecutive whole words of `words`.
pub fn keyword_in(words: &[&str], keyword: Keyword) -> bool {
    let Some(phrases) = BOOK.by_keyword.get(keyword as usize) else {
        return false;
    };
    phrases.iter().any(|phrase| {
        words
            .windows(phrase.len())
            .any(|window| window == phrase.as_slice())
    })
}

/// True when `word` is part of a greeting, thanks, yes or no ("buna" of "buna ziua").
pub fn is_small_talk_word(word: &str) -> bool {
    BOOK.small_talk.contains(word)
}

/// True when `word` alone is one of the lexicon's phrases.
pub fn is_phrase_word(word: &str) -> bool {
    BOOK.single_words.contains(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::contains_phrase;

    #[test]
    fn agrees_with_matching_each_phrase_in_full() {
        let messages = [
            "show me my cart please",
            "i want to talk to a human",
            "golesc cosul",
            "stop reminders",
            "cart",
            "",
            "nothing here at all",
        ];
        for message in messages {
            let words: Vec<&str> = message.split(' ').filter(|w| !w.is_empty()).collect();
            for (keyword, phrases) in PHRASES {
                let in_full = phrases.iter().any(|p| contains_phrase(&words, p));
                assert_eq!(
                    keyword_in(&words, *keyword),
                    in_full,
                    "{message:?} {keyword:?}"
                );
            }
        }
        assert!(is_phrase_word("cart"));
        assert!(!is_phrase_word("lamp"));
    }
}

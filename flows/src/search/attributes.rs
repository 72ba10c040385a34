//! Colours and sizes in the customer's words. Colours are canonical ids ("red", "navy") that
//! catalog variants carry; each has folded stems in every shipped language, matched as a
//! word's beginning with a short inflection allowed ("czarne", "rosie", "melnas", "שחורה").

use std::sync::LazyLock;

/// (canonical id, folded stems in en, ro, pl, lv, he). Multi-word colours come first so
/// "dark blue" is navy, not blue.
const COLOURS: &[(&str, &[&str])] = &[
    (
        "navy",
        &[
            "navy",
            "dark blue",
            "bleumarin",
            "granatow",
            "tumsi zil",
            "כחול כהה",
        ],
    ),
    (
        "black",
        &["black", "negr", "neagr", "czarn", "meln", "שחור"],
    ),
    ("white", &["white", "alb", "bial", "balt", "לבן", "לבנ"]),
    ("grey", &["grey", "gray", "gri", "szar", "pelek", "אפור"]),
    ("blue", &["blue", "albastr", "niebiesk", "zil", "כחול"]),
    (
        "red",
        &["red", "rosu", "rosi", "czerwon", "sarkan", "אדום", "אדומ"],
    ),
    (
        "green",
        &["green", "verde", "verzi", "zielon", "zal", "ירוק"],
    ),
    (
        "olive",
        &["olive", "oliv", "maslin", "oliwkow", "olivkrasas", "זית"],
    ),
    ("brown", &["brown", "maro", "brazow", "brun", "חום"]),
    ("beige", &["beige", "bej", "bezow", "bes", "בז"]),
    (
        "mustard",
        &["mustard", "mustar", "musztardow", "sinepj", "חרדל"],
    ),
    ("yellow", &["yellow", "galben", "zolt", "dzelten", "צהוב"]),
    ("pink", &["pink", "roz", "rozow", "roza", "ורוד"]),
    ("purple", &["purple", "mov", "fioletow", "violet", "סגול"]),
    (
        "orange",
        &["orange", "portocali", "pomaranczow", "oranz", "כתום"],
    ),
];

/// How many letters may follow a colour stem inside one word (inflection, not another word).
const MAX_ENDING: usize = 4;

fn word_matches(word: &str, stem: &str) -> bool {
    let Some(ending) = word.strip_prefix(stem) else {
        return false;
    };
    if stem.chars().count() >= 4 {
        return ending.chars().count() <= MAX_ENDING;
    }
    // Very short stems ("alb", "zil", "roz") take only a vowel-or-s ending of up to two
    // letters ("alba", "zilas"), so "album" and "rozmiar" are not colours.
    ending.chars().count() <= 2 && ending.chars().all(|c| "aeiouys".contains(c))
}

/// A colour id and its stems, each split into its words.
type SplitStems = (&'static str, Vec<Vec<&'static str>>);

/// `COLOURS` with each stem split into its words once: every message is read against all of
/// them, and splitting them per message was a measurable part of reading one.
static COLOUR_STEMS: LazyLock<Vec<SplitStems>> = LazyLock::new(|| {
    COLOURS
        .iter()
        .map(|(colour, stems)| {
            (
                *colour,
                stems.iter().map(|s| s.split(' ').collect()).collect(),
            )
        })
        .collect()
});

/// Colours named in `words` (folded tokens), with the indices of the words they used.
pub fn colours(words: &[&str]) -> Vec<(&'static str, Vec<usize>)> {
    let mut found: Vec<(&'static str, Vec<usize>)> = Vec::new();
    let mut used = vec![false; words.len()];
    for &(colour, ref stems) in COLOUR_STEMS.iter() {
        for parts in stems {
            for start in 0..words.len() {
                let Some(window) = words.get(start..start + parts.len()) else {
                    break;
                };
                if window.iter().enumerate().any(|(i, _)| used[start + i]) {
                    continue;
                }
                let last = parts.len() - 1;
                let hit = parts
                    .iter()
                    .zip(window)
                    .enumerate()
                    .all(|(i, (part, word))| {
                        if i == last {
                            word_matches(word, part)
                        } else {
                            part == word
                        }
                    });
                if hit {
                    let indices: Vec<usize> = (start..start + parts.len()).collect();
                    for &i in &indices {
                        used[i] = true;
                    }
                    match found.iter_mut().find(|(c, _)| *c == colour) {
                        Some((_, at)) => at.extend(indices),
                        None => found.push((colour, indices)),
                    }
                }
            }
        }
    }
    found
}

/// Words that announce a size: "size 42", "marimea M", "rozmiar 40", "izmers L", "מידה 38".
const SIZE_WORDS: &[&str] = &[
    "size", "marime", "marimea", "masura", "masurii", "rozmiar", "rozmiaru", "izmers", "izmera",
    "מידה",
];
/// Letter sizes that are unambiguous on their own; S, M and L need a size word before them.
const LETTER_SIZES: &[&str] = &["xxs", "xs", "xl", "xxl", "xxxl"];

/// Sizes named in `words`, normalized to how catalogs write them ("M", "XL", "42"), with the
/// indices of the words they used.
pub fn sizes(words: &[&str]) -> Vec<(String, Vec<usize>)> {
    let mut found = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if SIZE_WORDS.contains(word)
            && let Some(next) = words.get(i + 1)
            && (next.chars().all(|c| c.is_ascii_digit())
                || ["s", "m", "l"].contains(next)
                || LETTER_SIZES.contains(next))
        {
            found.push((next.to_uppercase(), vec![i, i + 1]));
        } else if LETTER_SIZES.contains(word)
            && !found
                .iter()
                .any(|(_, at): &(String, Vec<usize>)| at.contains(&i))
        {
            found.push((word.to_uppercase(), vec![i]));
        }
    }
    found
}

/// A set of canonical colours as bits (one per entry of the colour table), so the search's
/// per-variant filter compares integers, not strings.
pub fn colour_bits<'a>(ids: impl IntoIterator<Item = &'a str>) -> u32 {
    ids.into_iter()
        .filter_map(|id| COLOURS.iter().position(|(c, _)| *c == id))
        .fold(0, |bits, at| bits | (1 << at))
}

/// The canonical colour of a catalog variant's colour field, if it names one we know.
pub fn canonical_colour(value: &str) -> Option<&'static str> {
    let folded = crate::words::fold(value);
    let words = crate::words::tokens(&folded);
    colours(&words).first().map(|(colour, _)| *colour)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{fold, tokens};

    fn colours_of(text: &str) -> Vec<&'static str> {
        let folded = fold(text);
        colours(&tokens(&folded))
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn colours_in_five_languages_and_their_inflections() {
        assert_eq!(colours_of("red dress"), ["red"]);
        assert_eq!(colours_of("rochie roșie"), ["red"]);
        assert_eq!(colours_of("czarne buty"), ["black"]);
        assert_eq!(colours_of("melnas kurpes"), ["black"]);
        assert_eq!(colours_of("נעליים שחורות"), ["black"]);
        assert_eq!(colours_of("dark blue jacket"), ["navy"]);
        assert_eq!(colours_of("albastru sau alb"), ["white", "blue"]);
        // Not colours: words that merely start like one.
        assert!(colours_of("album redactor zilele").is_empty());
    }

    #[test]
    fn colour_bits_are_distinct_and_skip_unknown_ids() {
        assert!(COLOURS.len() <= 32);
        let red = colour_bits(["red"]);
        let black = colour_bits(["black"]);
        assert_ne!(red, 0);
        assert_eq!(red & black, 0);
        assert_eq!(colour_bits(["red", "black", "plaid"]), red | black);
        assert_eq!(colour_bits(["plaid"]), 0);
    }

    #[test]
    fn sizes_need_a_size_word_unless_unambiguous() {
        let folded = fold("boots size 42 and a hoodie in xl, m");
        let found: Vec<String> = sizes(&tokens(&folded))
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(found, ["42", "XL"]);
        let folded = fold("mărimea M");
        assert_eq!(sizes(&tokens(&folded))[0].0, "M");
    }
}

//! Asks for what the shop does not sell ("do you have dog food?", "czy macie rowery?").
//! Answered as such, "we don't carry X", not with products that share a word with the ask
//! nor with "didn't get that" (which counts towards handing the customer to a person).
//!
//! An ask is for something absent when no product or category is named by any of its words
//! (what only descriptions mention is shown as "not as such, but these mention it"), or when
//! the thing it asks for, its head, is unknown while its other words name something: "shoe
//! polish", "coffee machine", "ekspres do kawy". The head is the last word of an English
//! ask's first phrase ("food" in "dog food for puppies"); in the other languages word order
//! varies too much to tell one word, so there the whole first phrase must be unknown.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;

use crate::catalog::{Catalog, CategoryId};
use crate::locale::Locale;
use crate::search::{SearchQuery, Standing};
use crate::words::{FUNCTION_WORDS, STOPWORDS, fold, tokens};

/// What the customer asked for, in their words, and what the shop has near it: a category
/// the rest of the ask named, or products whose descriptions mention it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absent {
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instead: Option<CategoryId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentioned_by: Vec<crate::catalog::ProductId>,
}

/// Words that end an ask's first phrase ("food for dogs", "huse de telefon").
const PHRASE_ENDS: &[&str] = &[
    "for", "with", "in", "from", "without", "under", "to", "of", "on", "at", "by", "that",
    "pentru", "de", "cu", "din", "la", "fara", "sub", "pe", "dla", "do", "na", "z", "w", "bez",
    "od", "ze", "pod", "przez", "ar", "no", "uz", "prieks", "par", "pie", "kas", "kam", "zem",
    "lidz",
];
/// Words that ask whether the shop has something: "do you sell", "aveți", "czy macie",
/// "vai jums ir", "יש לכם".
const ASK_WORDS: &[&str] = &[
    "want",
    "have",
    "need",
    "looking",
    "buy",
    "sell",
    "carry",
    "got",
    "stock",
    "aveti",
    "vreau",
    "doresc",
    "caut",
    "vindeti",
    "cumpar",
    "cumpara",
    "chce",
    "chcialbym",
    "chcialabym",
    "macie",
    "szukam",
    "sprzedajecie",
    "kupic",
    "potrzebuje",
    "gribu",
    "jums",
    "pardodat",
    "nopirkt",
    "vajag",
    "mekleju",
    "velos",
    "יש",
    "לכם",
    "רוצה",
    "מוכרים",
    "מחפש",
    "מחפשת",
    "צריך",
    "צריכה",
    "לקנות",
];
/// Products shown as mentioning what was asked for.
const MAX_MENTIONED: usize = 5;

/// Words around an ask that name nothing: "something", "new", "nice".
const FILLERS: &[&str] = &[
    "something",
    "anything",
    "thing",
    "things",
    "stuff",
    "new",
    "nice",
    "good",
    "cheap",
    "best",
    "one",
    "ones",
    "also",
    "too",
    "maybe",
    "sa",
    "ceva",
    "orice",
    "nou",
    "noua",
    "ieftin",
    "bun",
    "si",
    "jakis",
    "jakies",
    "jakas",
    "cos",
    "cokolwiek",
    "nowy",
    "tani",
    "tez",
    "kaut",
    "ko",
    "kadu",
    "jaunu",
    "letu",
    "ari",
    "משהו",
    "חדש",
    "זול",
    "גם",
];

/// The words of a message weighed as an ask, at most.
const MAX_ASK_WORDS: usize = 40;
/// The longest "what" quoted back: the customer's own words, so bounded.
const MAX_WHAT_CHARS: usize = 60;
/// A message the rules could not place is taken for a bare ask only when this short (in
/// words, and in words that may name something): longer, it is a sentence we did not follow.
const MAX_BARE_WORDS: usize = 4;
const MAX_BARE_CONTENT: usize = 2;

/// A word that may carry meaning: not a function word, ask word, filler or number.
fn is_content(word: &str) -> bool {
    word.chars().count() >= 2
        && word.chars().all(char::is_alphabetic)
        && !FUNCTION_WORDS.contains(&word)
        && !STOPWORDS.contains(&word)
        && !FILLERS.contains(&word)
}

/// The ask's words as written, from its first content word to its last, so the reply can
/// quote them with their diacritics ("huse de telefon").
fn quoted(text: &str, first: &str, last: &str) -> String {
    let text = crate::words::head(text, crate::words::MAX_TEXT_CHARS);
    // Marks (niqqud, combining accents) belong to their word.
    let written: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c)))
        .filter(|w| !w.is_empty())
        .take(MAX_ASK_WORDS)
        .collect();
    let folded: Vec<String> = written.iter().map(|w| fold(w)).collect();
    let start = folded.iter().position(|w| w == first);
    let end = folded.iter().rposition(|w| w == last);
    let span = match (start, end) {
        (Some(start), Some(end)) if start <= end => written[start..=end].join(" "),
        _ => first.to_owned(),
    };
    crate::words::head(&span, MAX_WHAT_CHARS).to_owned()
}

/// What a message's words are to the catalog.
struct Reading<'t> {
    /// Every folded word, in order.
    all: Vec<&'t str>,
    /// The words that may name a product, in order: no filters (colour, size, price), ask
    /// words, fillers or the lexicon's commands.
    content: Vec<&'t str>,
    standing: Vec<Standing>,
    named: usize,
    /// The message asks whether the shop has something ("do you sell", "czy macie").
    asking: bool,
    language: Option<Locale>,
}

fn read<'t>(
    folded: &'t str,
    text: &str,
    query: &SearchQuery,
    catalog: &Catalog,
    is_command: &dyn Fn(&str) -> bool,
) -> Reading<'t> {
    // An ask is said in its first words; the rest of a long message is not weighed, so the
    // work stays linear whatever its length.
    let all: Vec<&str> = tokens(folded).into_iter().take(MAX_ASK_WORDS).collect();
    let asking = all.iter().any(|w| ASK_WORDS.contains(w));
    let searched: HashSet<&str> = query.words.iter().map(String::as_str).collect();
    let content: Vec<&str> = all
        .iter()
        .copied()
        .filter(|w| {
            searched.contains(w)
                && is_content(w)
                && !is_command(w)
                && crate::search::canonical_colour(w).is_none()
        })
        .collect();
    // The language only weighs the content words: a message without any (a command such as
    // "cart") is not worth a guess.
    let language = if content.is_empty() {
        None
    } else {
        crate::language::detect(text, Some(catalog.language_words())).map(|g| g.locale)
    };
    let index = catalog.search_index();
    let standing: Vec<Standing> = content
        .iter()
        .map(|w| index.standing(w, language))
        .collect();
    let named = standing.iter().filter(|s| **s == Standing::Named).count();
    Reading {
        all,
        content,
        standing,
        named,
        asking,
        language,
    }
}

/// Colour, size or price: an ask of its own. (A category is a word like the others here.)
fn filters(query: &SearchQuery) -> bool {
    !query.colours.is_empty() || !query.sizes.is_empty() || !query.price.is_empty()
}

/// The products whose descriptions mention the words only descriptions know.
fn mentioning(reading: &Reading, catalog: &Catalog) -> Vec<crate::catalog::ProductId> {
    let described: Vec<String> = reading
        .content
        .iter()
        .zip(&reading.standing)
        .filter(|(_, s)| **s == Standing::Described)
        .map(|(w, _)| (*w).to_owned())
        .collect();
    if described.is_empty() {
        return Vec::new();
    }
    let query = SearchQuery {
        words: described,
        ..SearchQuery::default()
    };
    catalog.search(&query, false, MAX_MENTIONED).products
}

/// What a product search's words are to the catalog.
pub(super) enum Weighed {
    /// An ask for something the shop does not carry.
    NotCarried(Absent),
    /// Words the catalog names, or filters: a product search.
    NamesSomething,
    /// Only words descriptions mention, or none: no product search.
    NamesNothing,
}

/// Weighs a product search's words once (reading them is most of the cost of understanding a
/// short message). `is_command` tells the lexicon's own words (never products).
pub(super) fn weigh(
    text: &str,
    query: &SearchQuery,
    catalog: &Catalog,
    is_command: &dyn Fn(&str) -> bool,
) -> Weighed {
    let folded = fold(text);
    let reading = read(&folded, text, query, catalog, is_command);
    if let Some(absent) = ask(text, query, catalog, &reading) {
        Weighed::NotCarried(absent)
    } else if filters(query) || reading.named > 0 {
        Weighed::NamesSomething
    } else {
        Weighed::NamesNothing
    }
}

/// The ask, when a product search is for something the catalog does not have: an ask
/// ("do you sell…") naming nothing the catalog names, or an ask whose head is unknown while
/// its other words name something ("shoe polish").
fn ask(text: &str, query: &SearchQuery, catalog: &Catalog, reading: &Reading) -> Option<Absent> {
    let (first, last) = (*reading.content.first()?, *reading.content.last()?);
    if filters(query) && reading.named == 0 {
        // "Anything red under 100": the filters are the ask; the search answers it.
        return None;
    }
    if reading.named == 0 {
        return reading.asking.then(|| Absent {
            what: quoted(text, first, last),
            instead: query.category.clone(),
            mentioned_by: mentioning(reading, catalog),
        });
    }
    let index = catalog.search_index();
    let phrase = first_phrase(&reading.all, &reading.content);
    let unknown = |w: &&str| index.standing(w, reading.language) == Standing::Unknown;
    let head_unknown = if reading.language.is_none_or(|l| l == Locale::En) {
        // Two named words ("evening party dress") describe something we have.
        reading.named < 2 && phrase.last().is_some_and(unknown)
    } else {
        !phrase.is_empty() && phrase.iter().all(unknown)
    };
    if !head_unknown || phrase.iter().any(|w| w.chars().count() < 3) {
        return None;
    }
    let instead = query.category.clone().or_else(|| {
        let rest = SearchQuery {
            words: reading
                .content
                .iter()
                .filter(|w| !phrase.contains(w))
                .map(|w| (*w).to_owned())
                .collect(),
            ..SearchQuery::default()
        };
        let best = catalog
            .search(&rest, false, 1)
            .products
            .into_iter()
            .next()?;
        catalog.product(&best).map(|p| p.category.clone())
    });
    Some(Absent {
        what: quoted(text, first, last),
        instead,
        mentioned_by: Vec::new(),
    })
}

/// For a short message the rules placed nowhere ("sofa", "bicicletă"): what the shop does
/// not carry, when its words read like words and no digits or codes are in it. A slip of the
/// keyboard ("asdf") stays not understood.
pub fn fallback(
    text: &str,
    catalog: &Catalog,
    is_command: &dyn Fn(&str) -> bool,
) -> Option<Absent> {
    if text.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let query = crate::search::parse(text, catalog.currency());
    if filters(&query) {
        return None;
    }
    let folded = fold(text);
    let reading = read(&folded, text, &query, catalog, is_command);
    let (first, last) = (*reading.content.first()?, *reading.content.last()?);
    let short = reading.content.len() <= MAX_BARE_CONTENT && reading.all.len() <= MAX_BARE_WORDS;
    let wordlike = reading
        .content
        .iter()
        .all(|w| w.chars().count() >= 3 && crate::language::reads_as_words(w));
    if reading.named > 0 || !short || !wordlike {
        return None;
    }
    Some(Absent {
        what: quoted(text, first, last),
        instead: None,
        mentioned_by: mentioning(&reading, catalog),
    })
}

/// The content words before the first phrase end that follows one of them. A phrase end
/// before any ("under", "bez") is never part of the phrase.
fn first_phrase<'a>(all: &[&'a str], content: &[&str]) -> Vec<&'a str> {
    let content: HashSet<&str> = content.iter().copied().collect();
    let mut phrase = Vec::new();
    for word in all {
        if PHRASE_ENDS.contains(word) {
            if phrase.is_empty() {
                continue;
            }
            break;
        }
        if content.contains(word) {
            phrase.push(*word);
        }
    }
    phrase
}

//! Prices in the customer's words: "under 200", "sub 200 de lei", "do 300 zł", "līdz 50
//! eiro", "עד 200 ש״ח", "between 50 and 100", "€80". A number counts as a price only next to
//! a price word or a currency; "2 hoodies" and "size 42" are not prices.

use serde::{Deserialize, Serialize};

use crate::money::Currency;
use crate::words::{MAX_TEXT_CHARS, MAX_WORD_CHARS, fold, head};

/// One piece of the message: a folded word, a number, or a currency sign.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Word(String),
    Number(f64),
    Sign(&'static str),
}

impl Token {
    /// How other parsers see it: words as themselves, numbers as digits, signs as the code.
    pub fn text(&self) -> String {
        match self {
            Token::Word(word) => word.clone(),
            Token::Number(n) => format!("{n}"),
            Token::Sign(code) => (*code).to_owned(),
        }
    }
}

/// Splits raw text into words (folded), numbers (with a decimal part) and currency signs.
/// Reads at most `MAX_TEXT_CHARS` characters, and drops words longer than `MAX_WORD_CHARS`
/// as `tokens` does.
pub fn tokenize(text: &str) -> Vec<Token> {
    // The shekel abbreviation is written with a quote mark that folding would split.
    let text = head(text, MAX_TEXT_CHARS)
        .replace("ש\"ח", " ₪ ")
        .replace("ש״ח", " ₪ ");
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut number = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() {
                    number.push(d);
                    chars.next();
                } else if (d == '.' || d == ',') && !number.contains('.') {
                    // A decimal mark only when a digit follows: "200." ends a sentence.
                    let mut ahead = chars.clone();
                    ahead.next();
                    if ahead.peek().is_some_and(char::is_ascii_digit) {
                        number.push('.');
                        chars.next();
                    } else {
                        break;
                    }
                } else {
                    break;
                }
            }
            if let Ok(value) = number.parse() {
                out.push(Token::Number(value));
            }
        } else if c.is_alphanumeric() {
            let mut word = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() && !d.is_ascii_digit() || is_mark(d) {
                    word.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            let words = fold(&word);
            for folded in words
                .split(' ')
                .filter(|w| !w.is_empty() && w.chars().nth(MAX_WORD_CHARS).is_none())
            {
                out.push(Token::Word(folded.to_owned()));
            }
        } else {
            chars.next();
            if let Some(code) = sign_currency(c) {
                out.push(Token::Sign(code));
            }
        }
    }
    out
}

fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

fn sign_currency(c: char) -> Option<&'static str> {
    match c {
        '€' => Some("EUR"),
        '$' => Some("USD"),
        '£' => Some("GBP"),
        '₪' => Some("ILS"),
        _ => None,
    }
}

/// Currency words, folded, in every shipped language.
const CURRENCY_WORDS: &[(&str, &str)] = &[
    ("eur", "EUR"),
    ("euro", "EUR"),
    ("euros", "EUR"),
    ("eiro", "EUR"),
    ("lei", "RON"),
    ("leu", "RON"),
    ("ron", "RON"),
    ("zl", "PLN"),
    ("zloty", "PLN"),
    ("zlote", "PLN"),
    ("zlotych", "PLN"),
    ("pln", "PLN"),
    ("usd", "USD"),
    ("dollars", "USD"),
    ("dolari", "USD"),
    ("gbp", "GBP"),
    ("pounds", "GBP"),
    ("ils", "ILS"),
    ("שקל", "ILS"),
    ("שקלים", "ILS"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Max,
    Min,
    Between,
}

/// Price words, folded: "under", "sub", "do", "līdz", "עד"…
const BOUND_WORDS: &[(&str, Bound)] = &[
    ("under", Bound::Max),
    ("below", Bound::Max),
    ("less", Bound::Max),
    ("max", Bound::Max),
    ("maximum", Bound::Max),
    ("cheaper", Bound::Max),
    ("within", Bound::Max),
    ("up", Bound::Max),
    ("sub", Bound::Max),
    ("pana", Bound::Max),
    ("maxim", Bound::Max),
    ("do", Bound::Max),
    ("ponizej", Bound::Max),
    ("maks", Bound::Max),
    ("tansze", Bound::Max),
    ("lidz", Bound::Max),
    ("zem", Bound::Max),
    ("letak", Bound::Max),
    ("עד", Bound::Max),
    ("מתחת", Bound::Max),
    ("פחות", Bound::Max),
    ("over", Bound::Min),
    ("above", Bound::Min),
    ("more", Bound::Min),
    ("from", Bound::Min),
    ("least", Bound::Min),
    ("min", Bound::Min),
    ("minimum", Bound::Min),
    ("peste", Bound::Min),
    ("minim", Bound::Min),
    ("od", Bound::Min),
    ("powyzej", Bound::Min),
    ("virs", Bound::Min),
    ("vairak", Bound::Min),
    ("מעל", Bound::Min),
    ("יותר", Bound::Min),
    ("לפחות", Bound::Min),
    ("between", Bound::Between),
    ("intre", Bound::Between),
    ("miedzy", Bound::Between),
    ("starp", Bound::Between),
    ("בין", Bound::Between),
];

/// Little words that sit between a price word and its number: "less than", "up to",
/// "de la", "până la", "more than"; and the "and"/"to" of a range.
const FILLERS: &[&str] = &[
    "than", "to", "de", "la", "decat", "niz", "par", "and", "si", "a", "un", "ו", "ל", "מ",
];

/// A price range in minor units of the shop's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_minor: Option<i64>,
}

impl PriceRange {
    pub fn is_empty(&self) -> bool {
        self.min_minor.is_none() && self.max_minor.is_none()
    }

    pub fn contains(&self, minor: i64) -> bool {
        self.min_minor.is_none_or(|min| minor >= min)
            && self.max_minor.is_none_or(|max| minor <= max)
    }
}

/// What the price parser found, and which tokens it used up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceFound {
    pub range: PriceRange,
    /// The currency the customer named, if any (ISO code).
    pub currency: Option<String>,
    pub used: Vec<usize>,
}

fn currency_at(tokens: &[Token], i: usize) -> Option<&'static str> {
    match tokens.get(i)? {
        Token::Sign(code) => Some(code),
        Token::Word(word) => CURRENCY_WORDS
            .iter()
            .find(|(w, _)| w == word)
            .map(|(_, code)| *code),
        Token::Number(_) => None,
    }
}

fn bound_at(tokens: &[Token], i: usize) -> Option<Bound> {
    match tokens.get(i)? {
        Token::Word(word) => BOUND_WORDS
            .iter()
            .find(|(w, _)| w == word)
            .map(|(_, bound)| *bound),
        _ => None,
    }
}

fn is_filler(tokens: &[Token], i: usize) -> bool {
    matches!(tokens.get(i), Some(Token::Word(w)) if FILLERS.contains(&w.as_str()))
}

/// Tokens looked at before a number for its price word.
const LOOK_BACK: usize = 4;

/// Finds the price constraints; amounts are converted with the shop currency's minor digits.
pub fn parse(tokens: &[Token], shop_currency: Currency) -> PriceFound {
    let scale = 10_f64.powi(i32::try_from(shop_currency.minor_digits()).unwrap_or(2));
    let to_minor = |value: f64| (value * scale).round() as i64;
    let mut found = PriceFound::default();
    let mut pending_between = false;
    let mut last_was_min = false;
    let mut last_min_at: Option<usize> = None;
    for (i, token) in tokens.iter().enumerate() {
        let Token::Number(value) = token else {
            continue;
        };
        // Look back over currency signs and fillers for a price word, a few tokens at most
        // ("under 200 de lei"): a long run of fillers must not make this quadratic.
        let mut j = i;
        let mut bound = None;
        let mut used = vec![i];
        while j > 0 && i - j < LOOK_BACK {
            j -= 1;
            if let Some(b) = bound_at(tokens, j) {
                bound = Some(b);
                used.push(j);
                break;
            }
            if currency_at(tokens, j).is_some() || is_filler(tokens, j) {
                used.push(j);
                continue;
            }
            break;
        }
        let before = i.checked_sub(1).and_then(|k| currency_at(tokens, k));
        let after = currency_at(tokens, i + 1).or_else(|| {
            // "200 de lei": a filler between the number and the currency.
            is_filler(tokens, i + 1)
                .then(|| currency_at(tokens, i + 2))
                .flatten()
        });
        let currency = before.or(after);
        if let Some(code) = currency {
            found.currency = Some(code.to_owned());
            for k in [i.wrapping_sub(1), i + 1, i + 2] {
                if currency_at(tokens, k).is_some()
                    || (k == i + 1 && after.is_some() && is_filler(tokens, k))
                {
                    used.push(k);
                }
            }
        }
        let minor = to_minor(*value);
        let bound = match bound {
            Some(Bound::Between) => {
                pending_between = true;
                Some(Bound::Min)
            }
            // "between 50 and 100", "from 50 to 100", "50-100": a number joined to the
            // range's first by a filler, or right after it, closes the range. Any other
            // bare number ("over 50, size 42") is not a price.
            None if (pending_between || last_was_min)
                && (used.len() > 1 || last_min_at.is_some_and(|at| at + 1 == i)) =>
            {
                Some(Bound::Max)
            }
            None if currency.is_some() => Some(Bound::Max),
            // "10-20 eur": a bare number right before a priced one opens the range.
            None if matches!(tokens.get(i + 1), Some(Token::Number(_)))
                && currency_at(tokens, i + 2).is_some() =>
            {
                Some(Bound::Min)
            }
            other => other,
        };
        match bound {
            Some(Bound::Max) => {
                found.range.max_minor = Some(minor);
                pending_between = false;
                last_was_min = false;
            }
            Some(Bound::Min) => {
                found.range.min_minor = Some(minor);
                last_was_min = true;
                last_min_at = Some(i);
            }
            // A number with no price word or currency: a quantity or a size, not ours.
            Some(Bound::Between) | None => continue,
        }
        found.used.extend(used);
    }
    found.used.sort_unstable();
    found.used.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> (Option<i64>, Option<i64>, Option<String>) {
        let found = parse(
            &tokenize(text),
            Currency::new("EUR").unwrap_or_else(|_| unreachable!()),
        );
        (found.range.min_minor, found.range.max_minor, found.currency)
    }

    #[test]
    fn price_phrases_in_every_language() {
        assert_eq!(range("winter jacket under 200"), (None, Some(20_000), None));
        assert_eq!(
            range("rochie de vară din bumbac sub 200 de lei"),
            (None, Some(20_000), Some("RON".into()))
        );
        assert_eq!(
            range("czarne buty do biegania do 300 zł"),
            (None, Some(30_000), Some("PLN".into()))
        );
        assert_eq!(
            range("kurpes līdz 50 eiro"),
            (None, Some(5_000), Some("EUR".into()))
        );
        assert_eq!(
            range("נעליים עד 200 ש\"ח"),
            (None, Some(20_000), Some("ILS".into()))
        );
        assert_eq!(
            range("between 50 and 100"),
            (Some(5_000), Some(10_000), None)
        );
        assert_eq!(
            range("boots over €80"),
            (Some(8_000), None, Some("EUR".into()))
        );
        assert_eq!(range("mug 12.50€"), (None, Some(1_250), Some("EUR".into())));
        assert_eq!(
            range("less than 30 euro"),
            (None, Some(3_000), Some("EUR".into()))
        );
        assert_eq!(range("from 50 to 100"), (Some(5_000), Some(10_000), None));
        assert_eq!(
            range("mugs 10-20 eur"),
            (Some(1_000), Some(2_000), Some("EUR".into()))
        );
    }

    #[test]
    fn bare_numbers_are_not_prices() {
        assert_eq!(range("2 hoodies size 42"), (None, None, None));
        assert_eq!(range("do you have boots"), (None, None, None));
        // A size after a price is not the top of a range.
        assert_eq!(range("boots over 50, size 42"), (Some(5_000), None, None));
        // Nothing here may panic: huge numbers, lone signs, only punctuation.
        assert_eq!(range("€"), (None, None, None));
        assert_eq!(range("..., ;;"), (None, None, None));
        let (_, max, _) = range("under 99999999999999999999999999 euro");
        assert!(max.is_some_and(|m| m > 0));
    }
}

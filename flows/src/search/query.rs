//! The structured search query: what a message asks for, in a form both the rule-based
//! parser here and a language model (a later issue) can fill.

use serde::{Deserialize, Serialize};

use crate::catalog::CategoryId;
use crate::money::Currency;
use crate::words::STOPWORDS;

use super::attributes::{colours, sizes};
use super::price::{self, PriceRange, Token, tokenize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Folded words left once filters are taken out; ranked against the catalog's text.
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<CategoryId>,
    /// Canonical colour ids ("red", "navy").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colours: Vec<String>,
    /// As catalogs write them ("M", "XL", "42").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<String>,
    #[serde(default, skip_serializing_if = "PriceRange::is_empty")]
    pub price: PriceRange,
    /// The currency the customer named (ISO code), when they named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl SearchQuery {
    pub fn has_filters(&self) -> bool {
        self.category.is_some()
            || !self.colours.is_empty()
            || !self.sizes.is_empty()
            || !self.price.is_empty()
    }

    /// True when the customer priced in another currency than the shop's: the amount is
    /// then not comparable, and the price filter is not applied.
    pub fn foreign_currency(&self, shop: Currency) -> bool {
        self.currency
            .as_deref()
            .is_some_and(|code| code != shop.code())
    }
}

/// Reads a message into a query. The category is left to the index, which knows the names.
pub fn parse(text: &str, shop_currency: Currency) -> SearchQuery {
    let tokens = tokenize(text);
    let texts: Vec<String> = tokens.iter().map(Token::text).collect();
    let words: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut used = vec![false; tokens.len()];
    let found_price = price::parse(&tokens, shop_currency);
    for &i in &found_price.used {
        if let Some(slot) = used.get_mut(i) {
            *slot = true;
        }
    }
    let mut query = SearchQuery {
        price: found_price.range,
        currency: found_price.currency,
        ..SearchQuery::default()
    };
    // Colour words stay among the words as well: "Green tea" is named by its colour.
    for (colour, _) in colours(&words) {
        query.colours.push(colour.to_owned());
    }
    for (size, at) in sizes(&words) {
        if !query.sizes.contains(&size) {
            query.sizes.push(size);
        }
        at.iter().for_each(|&i| used[i] = true);
    }
    query.words = tokens
        .iter()
        .zip(&used)
        .filter_map(|(token, used)| match token {
            Token::Word(word) if !used && !STOPWORDS.contains(&word.as_str()) => Some(word.clone()),
            _ => None,
        })
        .collect();
    query
}

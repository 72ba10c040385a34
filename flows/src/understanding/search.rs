//! Finds products and categories named in a message. Deliberately simple here (shared words,
//! with plural-tolerant prefixes); the commerce search with ranking replaces its insides.

use crate::catalog::{CatalogData, CategoryId, ProductId};
use crate::understanding::Intent;
use crate::understanding::lexicon::STOPWORDS;
use crate::understanding::normalize::{fold, tokens};

/// Folded words of every product and category, in every language, built once per catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchIndex {
    products: Vec<(ProductId, Vec<String>)>,
    categories: Vec<(CategoryId, Vec<String>)>,
}

/// Results beyond this are not useful in a chat.
const MAX_RESULTS: usize = 10;

fn words_of<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut words: Vec<String> = texts
        .flat_map(|text| {
            let folded = fold(text);
            tokens(&folded)
                .into_iter()
                .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(w))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Same word, or a plural/case ending away: "jackets" ~ "jacket", "rochia" ~ "rochie".
fn similar(query: &str, word: &str) -> bool {
    if query == word {
        return true;
    }
    // Runs for every word of every product on every message: no allocation, and most pairs
    // are rejected on their first byte (four equal leading characters are required).
    if query.as_bytes().first() != word.as_bytes().first() {
        return false;
    }
    let (q, w) = (query.chars().count(), word.chars().count());
    let shorter = q.min(w);
    if shorter < 4 || q.abs_diff(w) > 2 {
        return false;
    }
    let common = query
        .chars()
        .zip(word.chars())
        .take_while(|(a, b)| a == b)
        .count();
    common >= 4 && common + 1 >= shorter
}

fn score(query: &[&str], words: &[String]) -> usize {
    query
        .iter()
        .filter(|q| words.iter().any(|w| similar(q, w)))
        .count()
}

impl SearchIndex {
    pub fn build(data: &CatalogData) -> SearchIndex {
        let products = data
            .products
            .iter()
            .map(|p| {
                let keywords = p.keywords.values().flatten().map(String::as_str);
                (p.id.clone(), words_of(p.name.all().chain(keywords)))
            })
            .collect();
        let categories = data
            .categories
            .iter()
            .map(|c| (c.id.clone(), words_of(c.name.all())))
            .collect();
        SearchIndex {
            products,
            categories,
        }
    }

    /// `Category` when a category is named at least as well as any product ("shoes" means the
    /// shelf, not the first shoe), else the best `Products`; `None` when neither is named.
    pub fn find(&self, words: &[&str]) -> Option<Intent> {
        let query: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(w))
            .collect();
        if query.is_empty() {
            return None;
        }
        let best_category = self
            .categories
            .iter()
            .map(|(id, words)| (score(&query, words), id))
            .max_by_key(|(score, _)| *score)
            .filter(|(score, _)| *score > 0);
        let mut products: Vec<(usize, &ProductId)> = self
            .products
            .iter()
            .map(|(id, words)| (score(&query, words), id))
            .filter(|(score, _)| *score > 0)
            .collect();
        // Stable sort keeps catalog order among equals.
        products.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        let best_product = products.first().map(|(score, _)| *score).unwrap_or(0);
        match best_category {
            Some((category_score, id)) if category_score >= best_product => {
                Some(Intent::Category(id.clone()))
            }
            _ if best_product > 0 => Some(Intent::Products(
                products
                    .iter()
                    .take_while(|(score, _)| *score == best_product)
                    .take(MAX_RESULTS)
                    .map(|(_, id)| (*id).clone())
                    .collect(),
            )),
            _ => None,
        }
    }
}

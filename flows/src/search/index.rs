//! The search index: BM25 over every locale's product names, keywords, category names and
//! descriptions (names count most), stems per language, one-edit typo tolerance, and the
//! query's filters applied per variant (one variant must satisfy colour, size and price
//! together). Built once per catalog load.

use std::collections::HashMap;

use crate::catalog::{CatalogData, CategoryId, ProductId};
use crate::locale::Locale;
use crate::text::LocalizedText;
use crate::words::{FUNCTION_WORDS, fold, tokens};

use super::attributes::{canonical_colour, colour_bits, colours};
use super::query::SearchQuery;
use super::stem::{all_stems, stem};
use super::typo::TypoIndex;

const K1: f32 = 1.2;
const B: f32 = 0.75;
const NAME_WEIGHT: f32 = 3.0;
const KEYWORD_WEIGHT: f32 = 2.0;
const CATEGORY_WEIGHT: f32 = 1.5;
const DESCRIPTION_WEIGHT: f32 = 1.0;
/// A word matched only through a typo counts for less than a word spelled right.
const TYPO_FACTOR: f32 = 0.6;

fn words_of(text: &str) -> Vec<String> {
    let folded = fold(text);
    tokens(&folded)
        .into_iter()
        .filter(|w| w.chars().count() >= 2 && !FUNCTION_WORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// What the filters look at, per variant, as integers: the filter runs on every candidate of
/// a common word (tens of thousands in a large catalog), and comparing strings there was
/// half of a query's time.
#[derive(Debug, Clone, Copy)]
struct VariantFacts {
    /// Canonical colour as one bit (`colour_bits`); 0 when none is declared or known.
    colour: u32,
    /// Index into `SearchIndex::sizes`, or `NO_SIZE`.
    size: u32,
    price_minor: i64,
}

const NO_SIZE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Doc {
    id: ProductId,
    /// Colours the product's name says in any language ("Green tea", "Zielona herbata").
    name_colours: u32,
    /// True when some variant declares a colour we know.
    declares_colour: bool,
    /// This product's range in `SearchIndex::variants`.
    variants: (u32, u32),
    length: f32,
}

/// A query's colour, size and price, resolved against the index once per search.
struct Filter<'q> {
    colours_asked: bool,
    colours: u32,
    sizes_asked: bool,
    sizes: Vec<u32>,
    price: &'q super::price::PriceRange,
}

/// Why results were found only after dropping part of the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relaxed {
    Price,
    ColourOrSize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOutcome {
    /// Best first.
    pub products: Vec<ProductId>,
    /// Filters dropped to find these, in the order they were dropped; empty for exact hits.
    pub relaxed: Vec<Relaxed>,
    /// A category the query named, for "no match: browse this instead".
    pub category: Option<CategoryId>,
}

#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    docs: Vec<Doc>,
    variants: Vec<VariantFacts>,
    /// Sizes as catalogs write them (upper case) → id.
    sizes: HashMap<String, u32>,
    average_length: f32,
    terms: HashMap<String, u32>,
    /// Per term id: (document, weighted term frequency).
    postings: Vec<Vec<(u32, f32)>>,
    typos: TypoIndex,
    /// Stem → category, for "shoes" meaning the shoe category.
    category_terms: HashMap<String, CategoryId>,
    /// Per term id: whether some product's name, keywords or category name has it (not only
    /// a description). What a shop sells is named; descriptions mention everything.
    named: Vec<bool>,
}

/// Every language's stem of a word, but not a short one that cut two letters or more: that
/// is as likely another language's word ("cases" cut to "cas" is Romanian "casă", home).
fn trusted_stems(word: &str) -> Vec<String> {
    let length = word.chars().count();
    all_stems(word)
        .into_iter()
        .filter(|s| {
            let kept = s.chars().count();
            kept >= 4 || length.saturating_sub(kept) < 2
        })
        .collect()
}

/// The shortest word, and vocabulary word, a one-edit match names something for.
const MIN_TYPO_STANDING: usize = 5;

/// How well the catalog knows a customer's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A product's or category's name or keyword has it (spelled right or one edit off).
    Named,
    /// Only descriptions mention it.
    Described,
    /// Nothing has it. (A one-edit match to a description word does not count: "sofa" is
    /// not "soft".)
    Unknown,
}

/// What `scores` found: per document (dense) and which documents matched anything.
struct Scores {
    matched: Vec<u8>,
    score: Vec<f32>,
    touched: Vec<u32>,
}

/// Per-document weighted counts while building.
type Counts = HashMap<String, f32>;

fn add_text(
    counts: &mut Counts,
    length: &mut f32,
    text: &LocalizedText,
    weight: f32,
    named: Option<&mut std::collections::HashSet<String>>,
) {
    let mut named = named;
    for (locale, value) in &text.0 {
        for word in words_of(value) {
            let term = stem(*locale, &word);
            if let Some(named) = named.as_deref_mut() {
                named.insert(term.clone());
            }
            *counts.entry(term).or_default() += weight;
            *length += weight;
        }
    }
}

impl SearchIndex {
    pub fn build(data: &CatalogData) -> SearchIndex {
        let mut index = SearchIndex::default();
        let category_names: HashMap<&CategoryId, &LocalizedText> =
            data.categories.iter().map(|c| (&c.id, &c.name)).collect();
        for category in &data.categories {
            for (locale, value) in &category.name.0 {
                for word in words_of(value) {
                    index
                        .category_terms
                        .entry(stem(*locale, &word))
                        .or_insert_with(|| category.id.clone());
                }
            }
        }
        let mut total_length = 0.0;
        for (doc_id, product) in data.products.iter().enumerate() {
            let mut counts = Counts::new();
            let mut length = 0.0;
            let mut named = std::collections::HashSet::new();
            add_text(
                &mut counts,
                &mut length,
                &product.name,
                NAME_WEIGHT,
                Some(&mut named),
            );
            add_text(
                &mut counts,
                &mut length,
                &product.description,
                DESCRIPTION_WEIGHT,
                None,
            );
            if let Some(name) = category_names.get(&product.category) {
                add_text(
                    &mut counts,
                    &mut length,
                    name,
                    CATEGORY_WEIGHT,
                    Some(&mut named),
                );
            }
            for (locale, keywords) in &product.keywords {
                for keyword in keywords {
                    for word in words_of(keyword) {
                        let term = stem(*locale, &word);
                        named.insert(term.clone());
                        *counts.entry(term).or_default() += KEYWORD_WEIGHT;
                        length += KEYWORD_WEIGHT;
                    }
                }
            }
            let doc = u32::try_from(doc_id).unwrap_or(u32::MAX);
            for (term, tf) in counts {
                let is_named = named.contains(&term);
                let next = u32::try_from(index.postings.len()).unwrap_or(u32::MAX);
                let id = *index.terms.entry(term).or_insert(next);
                if id == next {
                    index.postings.push(Vec::new());
                    index.named.push(false);
                }
                if is_named && let Some(flag) = index.named.get_mut(id as usize) {
                    *flag = true;
                }
                if let Some(list) = index.postings.get_mut(id as usize) {
                    list.push((doc, tf));
                }
            }
            total_length += length;
            let mut name_colours = 0;
            for name in product.name.all() {
                let folded = fold(name);
                name_colours |= colour_bits(colours(&tokens(&folded)).into_iter().map(|(c, _)| c));
            }
            let start = u32::try_from(index.variants.len()).unwrap_or(u32::MAX);
            for variant in &product.variants {
                let size = variant.size.as_ref().map_or(NO_SIZE, |s| {
                    let next = u32::try_from(index.sizes.len()).unwrap_or(NO_SIZE);
                    *index.sizes.entry(s.to_uppercase()).or_insert(next)
                });
                index.variants.push(VariantFacts {
                    colour: colour_bits(variant.colour.as_deref().and_then(canonical_colour)),
                    size,
                    price_minor: variant.price_minor,
                });
            }
            let end = u32::try_from(index.variants.len()).unwrap_or(u32::MAX);
            let declares_colour = index
                .variants
                .get(start as usize..end as usize)
                .is_some_and(|vs| vs.iter().any(|v| v.colour != 0));
            index.docs.push(Doc {
                id: product.id.clone(),
                name_colours,
                declares_colour,
                variants: (start, end),
                length,
            });
        }
        index.average_length = if index.docs.is_empty() {
            1.0
        } else {
            total_length / index.docs.len() as f32
        };
        index.typos = TypoIndex::build(index.terms.iter().map(|(t, id)| (*id, t.as_str())));
        index
    }

    /// The category a query's words name, if any.
    pub fn category_named(&self, words: &[String]) -> Option<CategoryId> {
        words.iter().find_map(|word| {
            trusted_stems(word)
                .iter()
                .find_map(|s| self.category_terms.get(s).cloned())
        })
    }

    /// True when a word is in the vocabulary under some language's stem.
    pub fn knows_exactly(&self, word: &str) -> bool {
        all_stems(word).iter().any(|s| self.terms.contains_key(s))
    }

    /// True when a word is in the vocabulary (under some language's stem) or one edit away.
    pub fn knows(&self, word: &str) -> bool {
        all_stems(word).iter().any(|s| self.terms.contains_key(s))
            || !self.typos.near(word).is_empty()
    }

    /// How well the catalog knows `word` (folded): under the stem of `language` when the
    /// message's language is known (so "cases" is not cut to Romanian "cas", home), else
    /// under any language's stem.
    pub fn standing(&self, word: &str, language: Option<Locale>) -> Standing {
        let stems = match language {
            Some(locale) => vec![word.to_owned(), stem(locale, word)],
            None => trusted_stems(word),
        };
        let exact: Vec<u32> = stems
            .iter()
            .filter_map(|s| self.terms.get(s).copied())
            .collect();
        let named = |term: &u32| self.named.get(*term as usize).copied().unwrap_or(false);
        if exact.iter().any(named) {
            return Standing::Named;
        }
        if !exact.is_empty() {
            return Standing::Described;
        }
        // A typo keeps its first letter far more often than not ("phone" is not "home"), and
        // one letter off a short word is another word ("בשמים", perfume, is not "במים").
        let first = word.chars().next();
        let named_near = word.chars().count() >= MIN_TYPO_STANDING
            && self
                .typos
                .near(word)
                .iter()
                .filter(|t| named(t))
                .any(|term| {
                    self.typos.word(*term).is_some_and(|letters| {
                        letters.len() >= MIN_TYPO_STANDING && letters.first().copied() == first
                    })
                });
        if named_near {
            Standing::Named
        } else {
            Standing::Unknown
        }
    }

    fn idf(&self, term: u32) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.postings.get(term as usize).map_or(0, Vec::len) as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// Per document: how many of the query's words it matches, and its BM25 score (a word
    /// counts once, by its best form). Dense arrays over the catalog and a list of the
    /// documents touched: a common word touches thousands, and hashing each was the cost.
    fn scores(&self, words: &[String]) -> Scores {
        let n = self.docs.len();
        let mut scores = Scores {
            matched: vec![0; n],
            score: vec![0.0; n],
            touched: Vec::new(),
        };
        let mut best = vec![0.0_f32; n];
        let mut word_touched: Vec<u32> = Vec::new();
        for word in words {
            let mut exact: Vec<u32> = all_stems(word)
                .iter()
                .filter_map(|s| self.terms.get(s).copied())
                .collect();
            exact.sort_unstable();
            exact.dedup();
            let (candidates, factor) = if exact.is_empty() {
                (self.typos.near(word), TYPO_FACTOR)
            } else {
                (exact, 1.0)
            };
            for term in candidates {
                let idf = self.idf(term);
                for &(doc, tf) in self.postings.get(term as usize).into_iter().flatten() {
                    let (Some(d), Some(slot)) =
                        (self.docs.get(doc as usize), best.get_mut(doc as usize))
                    else {
                        continue;
                    };
                    let norm = K1 * (1.0 - B + B * d.length / self.average_length);
                    let score = factor * idf * tf * (K1 + 1.0) / (tf + norm);
                    if *slot == 0.0 {
                        word_touched.push(doc);
                    }
                    *slot = slot.max(score);
                }
            }
            for doc in word_touched.drain(..) {
                let i = doc as usize;
                if scores.matched[i] == 0 {
                    scores.touched.push(doc);
                }
                scores.matched[i] = scores.matched[i].saturating_add(1);
                scores.score[i] += best[i];
                best[i] = 0.0;
            }
        }
        scores
    }

    fn variants_of(&self, doc: &Doc) -> &[VariantFacts] {
        self.variants
            .get(doc.variants.0 as usize..doc.variants.1 as usize)
            .unwrap_or_default()
    }

    fn filter<'q>(&self, query: &'q SearchQuery) -> Filter<'q> {
        Filter {
            colours_asked: !query.colours.is_empty(),
            colours: colour_bits(query.colours.iter().map(String::as_str)),
            sizes_asked: !query.sizes.is_empty(),
            sizes: query
                .sizes
                .iter()
                .filter_map(|s| self.sizes.get(&s.to_uppercase()).copied())
                .collect(),
            price: &query.price,
        }
    }

    fn declares_asked_colour(&self, doc: &Doc, filter: &Filter) -> bool {
        self.variants_of(doc)
            .iter()
            .any(|v| v.colour & filter.colours != 0)
    }

    /// One variant must satisfy the colour, size and price asked for together. A product
    /// whose variants declare no colour passes a colour only if its name says it ("Green
    /// tea"), not because a description mentions the word.
    fn passes(&self, doc: &Doc, filter: &Filter, use_price: bool, use_attrs: bool) -> bool {
        let named_colour = doc.name_colours & filter.colours != 0;
        self.variants_of(doc).iter().any(|v| {
            let colour_ok = !use_attrs
                || !filter.colours_asked
                || if doc.declares_colour {
                    v.colour & filter.colours != 0
                } else {
                    named_colour
                };
            let size_ok = !use_attrs || !filter.sizes_asked || filter.sizes.contains(&v.size);
            colour_ok && size_ok && (!use_price || filter.price.contains(v.price_minor))
        })
    }

    /// Ranks the catalog for `query`, at most `limit` products: those matching the most of
    /// its words (a variant of the asked colour counts as one), in stock first, then by BM25.
    /// A named category needs no filter of its own: its name is indexed text, so its products
    /// match that word. With no exact result, the price and then colour and size are dropped,
    /// and the outcome says which; an empty outcome means nothing came close.
    /// Documents are the catalog's products in order; `in_stock(doc)` says whether one can
    /// be bought now (stock changes at every payment; the index does not).
    pub fn search(
        &self,
        query: &SearchQuery,
        use_price: bool,
        limit: usize,
        in_stock: &dyn Fn(usize) -> bool,
    ) -> SearchOutcome {
        // Colour words are a filter, not text: "red dress" asks for dresses in red, not for
        // a coffee whose description mentions red fruit. A product named by its colour
        // ("Green tea") passes the filter through its name.
        let words: Vec<String> = {
            let refs: Vec<&str> = query.words.iter().map(String::as_str).collect();
            let colour_at: Vec<usize> = colours(&refs).into_iter().flat_map(|(_, at)| at).collect();
            query
                .words
                .iter()
                .enumerate()
                .filter(|(i, w)| {
                    !colour_at.contains(i)
                        && w.chars().count() >= 2
                        && !FUNCTION_WORDS.contains(&w.as_str())
                })
                .map(|(_, w)| w.clone())
                .collect()
        };
        let scores = self.scores(&words);
        let filter = self.filter(query);
        let has_filters =
            !query.colours.is_empty() || !query.sizes.is_empty() || !query.price.is_empty();
        if scores.touched.is_empty() && !has_filters {
            return SearchOutcome::default();
        }
        let attempts: [(bool, bool, &[Relaxed]); 3] = [
            (use_price, true, &[]),
            (false, true, &[Relaxed::Price]),
            (false, false, &[Relaxed::Price, Relaxed::ColourOrSize]),
        ];
        // Without matched words, the filters are all the customer said: dropping them would
        // show the whole catalog, so there is no "closest" to offer.
        let tries = if scores.touched.is_empty() {
            1
        } else {
            attempts.len()
        };
        for (price, attrs, relaxed) in attempts.into_iter().take(tries) {
            // With words that matched, only their documents compete; with filters alone,
            // every product may.
            let all_docs: Vec<u32>;
            let candidates: &[u32] = if scores.touched.is_empty() {
                all_docs = (0..u32::try_from(self.docs.len()).unwrap_or(u32::MAX)).collect();
                &all_docs
            } else {
                &scores.touched
            };
            // Only the products matching the most words are shown, so candidates are tried
            // by how many words they matched, most first, and the filter stops running once
            // no lower level can reach the best found (a colour can add one).
            let bonus = usize::from(attrs && filter.colours_asked);
            let mut levels: Vec<Vec<u32>> = Vec::new();
            for &doc in candidates {
                let level = usize::from(scores.matched.get(doc as usize).copied().unwrap_or(0));
                if levels.len() <= level {
                    levels.resize_with(level + 1, Vec::new);
                }
                if let Some(bucket) = levels.get_mut(level) {
                    bucket.push(doc);
                }
            }
            let mut ranked: Vec<(usize, bool, f32, usize)> = Vec::new();
            let mut most = 0;
            for (level, bucket) in levels.iter().enumerate().rev() {
                if !ranked.is_empty() && level + bonus < most {
                    break;
                }
                for &doc in bucket {
                    let i = doc as usize;
                    let Some(d) = self.docs.get(i) else { continue };
                    if !self.passes(d, &filter, price, attrs) {
                        continue;
                    }
                    // A variant of the asked colour counts like a matched word: "black
                    // boots" are the black boots, not every boot and every black tea.
                    let matched =
                        level + usize::from(attrs && self.declares_asked_colour(d, &filter));
                    if matched < most {
                        continue;
                    }
                    if matched > most {
                        most = matched;
                        ranked.retain(|r| r.0 == most);
                    }
                    let score = scores.score.get(i).copied().unwrap_or(0.0);
                    ranked.push((matched, in_stock(i), score, i));
                }
            }
            if ranked.is_empty() {
                continue;
            }
            let order = |a: &(usize, bool, f32, usize), b: &(usize, bool, f32, usize)| {
                b.1.cmp(&a.1)
                    .then(b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal))
                    .then(a.3.cmp(&b.3))
            };
            // Only the first `limit` are shown: select them, then sort just those.
            if ranked.len() > limit && limit > 0 {
                ranked.select_nth_unstable_by(limit - 1, order);
                ranked.truncate(limit);
            }
            ranked.sort_by(order);
            let relaxed = relaxed
                .iter()
                .copied()
                .filter(|r| match r {
                    Relaxed::Price => use_price && !query.price.is_empty(),
                    Relaxed::ColourOrSize => !query.colours.is_empty() || !query.sizes.is_empty(),
                })
                .collect();
            return SearchOutcome {
                products: ranked
                    .into_iter()
                    .take(limit)
                    .filter_map(|(_, _, _, i)| self.docs.get(i).map(|d| d.id.clone()))
                    .collect(),
                relaxed,
                category: query.category.clone(),
            };
        }
        SearchOutcome {
            category: query.category.clone(),
            ..SearchOutcome::default()
        }
    }
}

//! Product search in the customer's words, without a language model. A message becomes a
//! structured `SearchQuery` (words, category, colours, sizes, price range, currency), and
//! the index ranks the catalog for it (BM25 with stems and typo tolerance, filters per
//! variant, relaxed step by step when nothing matches exactly).

mod attributes;
mod index;
mod price;
mod query;
mod stem;
mod typo;

pub use attributes::canonical_colour;
pub use index::{Relaxed, SearchIndex, SearchOutcome, Standing};
pub use price::PriceRange;
pub use query::{SearchQuery, parse};
pub use stem::{all_stems, stem};

use crate::catalog::Catalog;

/// Reads a message and runs it against the catalog: the query as understood (with the
/// category the index recognised) and its outcome, at most `limit` products. The price
/// filter is dropped when the customer priced in another currency than the shop's.
pub fn search_text(catalog: &Catalog, text: &str, limit: usize) -> (SearchQuery, SearchOutcome) {
    let index = catalog.search_index();
    let mut query = parse(text, catalog.currency());
    query.category = index.category_named(&query.words);
    let use_price = !query.foreign_currency(catalog.currency());
    let outcome = catalog.search(&query, use_price, limit);
    (query, outcome)
}

//! Recommendations: "bought together" from paid orders (how often two products were in the
//! same paid order) and "similar" (same category, shared colours and sizes, close price).
//! Only products that can be bought are ever recommended.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, Product, ProductId};

/// Products paid for in the same order, counted per pair. Built by the shell from the
/// store's paid orders and grown as orders are paid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoughtTogether {
    pairs: BTreeMap<ProductId, BTreeMap<ProductId, u32>>,
}

impl BoughtTogether {
    /// One paid order's products (duplicates and order do not matter).
    pub fn record<'a>(&mut self, products: impl IntoIterator<Item = &'a ProductId>) {
        let distinct: BTreeSet<&ProductId> = products.into_iter().collect();
        for a in &distinct {
            for b in &distinct {
                if a != b {
                    let count = self
                        .pairs
                        .entry((*a).clone())
                        .or_default()
                        .entry((*b).clone())
                        .or_default();
                    *count = count.saturating_add(1);
                }
            }
        }
    }

    /// Products bought with `product`, most often first (ties by id, so the order is stable).
    pub fn with(&self, product: &ProductId) -> Vec<&ProductId> {
        let Some(partners) = self.pairs.get(product) else {
            return Vec::new();
        };
        let mut ranked: Vec<(&ProductId, u32)> = partners.iter().map(|(p, n)| (p, *n)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ranked.into_iter().map(|(p, _)| p).collect()
    }
}

fn colours(product: &Product) -> BTreeSet<&str> {
    product
        .variants
        .iter()
        .filter_map(|v| v.colour.as_deref())
        .collect()
}

fn sizes(product: &Product) -> BTreeSet<&str> {
    product
        .variants
        .iter()
        .filter_map(|v| v.size.as_deref())
        .collect()
}

/// The shop's keywords for a product in every language ("dress", "rochie"…): what kind
/// of thing it is, which colours and sizes do not say.
fn keywords(product: &Product) -> BTreeSet<String> {
    product
        .keywords
        .values()
        .flatten()
        .map(|k| k.to_lowercase())
        .collect()
}

/// Products like `product`: the same category, in stock, ranked by shared keywords (a dress
/// is like a dress before it is like a black T-shirt), then shared colours, then shared
/// sizes, then the closest price.
pub fn similar<'a>(catalog: &'a Catalog, product: &Product) -> Vec<&'a Product> {
    let (own_keywords, own_colours, own_sizes) =
        (keywords(product), colours(product), sizes(product));
    let price = product.lowest_price_minor();
    let mut ranked: Vec<((usize, usize, usize), i64, &Product)> = catalog
        .products()
        .iter()
        .map(|other| &**other)
        .filter(|other| {
            other.category == product.category && other.id != product.id && other.in_stock()
        })
        .map(|other| {
            let shared = (
                keywords(other).intersection(&own_keywords).count(),
                colours(other).intersection(&own_colours).count(),
                sizes(other).intersection(&own_sizes).count(),
            );
            let distance = (other.lowest_price_minor() - price).abs();
            (shared, distance, other)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| a.2.id.cmp(&b.2.id))
    });
    ranked.into_iter().map(|(.., p)| p).collect()
}

/// What to suggest after `product` was added: bought-together first, then similar; never
/// the product itself, anything in `exclude` (the cart) or anything out of stock.
pub fn after_add<'a>(
    catalog: &'a Catalog,
    together: &BoughtTogether,
    product: &Product,
    exclude: &BTreeSet<&ProductId>,
    limit: usize,
) -> Vec<&'a Product> {
    let mut chosen: Vec<&Product> = Vec::new();
    let wanted = |candidate: &Product, chosen: &[&Product]| {
        candidate.id != product.id
            && candidate.in_stock()
            && !exclude.contains(&candidate.id)
            && chosen.iter().all(|c| c.id != candidate.id)
    };
    for id in together.with(&product.id) {
        if chosen.len() >= limit {
            return chosen;
        }
        if let Some(candidate) = catalog.product(id)
            && wanted(candidate, &chosen)
        {
            chosen.push(candidate);
        }
    }
    for candidate in similar(catalog, product) {
        if chosen.len() >= limit {
            break;
        }
        if wanted(candidate, &chosen) {
            chosen.push(candidate);
        }
    }
    chosen
}

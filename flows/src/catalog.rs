//! What the shop sells. Prices come only from here: a reply or an order never carries a price
//! that was not looked up in the catalog at that moment.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::locale::Locale;
use crate::money::{Currency, Money};
use crate::search::SearchIndex;
use crate::text::LocalizedText;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(pub String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategoryId(pub String);

/// Stock keeping unit: identifies one variant across the whole catalog.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sku(pub String);

macro_rules! display_as_inner {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
display_as_inner!(ProductId, CategoryId, Sku);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: CategoryId,
    pub name: LocalizedText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub sku: Sku,
    pub name: LocalizedText,
    pub price_minor: i64,
    pub stock: u32,
    /// The variant's colour in plain words ("red", "navy", "roșu"); search maps it to a
    /// canonical colour so "czarne buty" finds black shoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// As the shop writes it ("M", "42", "XL").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// This variant's own picture (the red one in red); else the product's image is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: ProductId,
    pub category: CategoryId,
    pub name: LocalizedText,
    pub description: LocalizedText,
    #[serde(default)]
    pub keywords: BTreeMap<Locale, Vec<String>>,
    /// A file name under the catalog's image folder, or an absolute https URL.
    #[serde(default)]
    pub image: Option<String>,
    pub variants: Vec<Variant>,
}

impl Product {
    /// The picture for a card: the product's own, else that of its first variant in stock
    /// (or any variant) that has one.
    pub fn card_image(&self) -> Option<&str> {
        self.image.as_deref().or_else(|| {
            let with_image = |v: &&Variant| v.image.is_some();
            self.variants
                .iter()
                .filter(|v| v.stock > 0)
                .find(with_image)
                .or_else(|| self.variants.iter().find(with_image))
                .and_then(|v| v.image.as_deref())
        })
    }

    pub fn in_stock(&self) -> bool {
        self.variants.iter().any(|variant| variant.stock > 0)
    }

    pub fn variant(&self, sku: &Sku) -> Option<&Variant> {
        self.variants.iter().find(|variant| &variant.sku == sku)
    }

    /// The lowest price among variants that can be bought, else among all of them.
    pub fn lowest_price_minor(&self) -> i64 {
        let in_stock = self.variants.iter().filter(|v| v.stock > 0);
        in_stock
            .map(|v| v.price_minor)
            .min()
            .or_else(|| self.variants.iter().map(|v| v.price_minor).min())
            .unwrap_or_default()
    }

    pub fn has_one_price(&self) -> bool {
        let mut prices = self.variants.iter().map(|v| v.price_minor);
        let first = prices.next();
        prices.all(|price| Some(price) == first)
    }
}

/// The catalog file as written by the shop owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogData {
    pub currency: Currency,
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
}

/// A validated catalog with lookups. Built once per load; immutable afterwards.
#[derive(Debug, Clone)]
pub struct Catalog {
    currency: Currency,
    categories: Arc<Vec<Category>>,
    /// One shared record per product: a stock change copies the pointers and the changed
    /// products only.
    products: Vec<Arc<Product>>,
    /// Derived from the data and shared between stock versions of one catalog: stock is
    /// not indexed, so a payment copies neither the index nor the lookups.
    index: Arc<SearchIndex>,
    /// The catalog's words per language, for telling which one a customer writes.
    language_words: Arc<crate::language::CatalogWords>,
    /// SKU → (product, variant) positions in `products`.
    skus: Arc<HashMap<Sku, (usize, usize)>>,
    products_by_id: Arc<HashMap<ProductId, usize>>,
    /// Per product, in catalog order: can it be bought now? Compact, so ranking reads it
    /// without touching the product records; refreshed when stock changes.
    buyable: Vec<bool>,
}

/// The index is derived from the data: two catalogs are equal when their data are.
impl PartialEq for Catalog {
    fn eq(&self, other: &Catalog) -> bool {
        self.currency == other.currency
            && self.categories == other.categories
            && self.products == other.products
    }
}

impl Eq for Catalog {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("the catalog has no categories")]
    NoCategories,
    #[error("{what} id {id:?} appears twice")]
    DuplicateId { what: &'static str, id: String },
    #[error("product {product:?} names category {category:?}, which does not exist")]
    UnknownCategory { product: String, category: String },
    #[error("product {product:?} has no variants")]
    NoVariants { product: String },
    #[error("variant {sku:?} has a negative price")]
    NegativePrice { sku: String },
    #[error("{what} {id:?} has no {field} in {locale}")]
    MissingTranslation {
        what: &'static str,
        id: String,
        field: &'static str,
        locale: Locale,
    },
    #[error("id {id:?} must be 1-64 characters of a-z, A-Z, 0-9, '-' or '_'")]
    BadId { id: String },
}

fn check_id(id: &str) -> Result<(), CatalogError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::BadId { id: id.to_owned() })
    }
}

fn check_translated(
    text: &LocalizedText,
    what: &'static str,
    id: &str,
    field: &'static str,
) -> Result<(), CatalogError> {
    for locale in Locale::ALL {
        if text.0.get(&locale).is_none_or(|s| s.trim().is_empty()) {
            return Err(CatalogError::MissingTranslation {
                what,
                id: id.to_owned(),
                field,
                locale,
            });
        }
    }
    Ok(())
}

/// Every text of the catalog with its language, and whether it names something (product
/// and category names, keywords) or describes it.
fn language_words(data: &CatalogData) -> crate::language::CatalogWords {
    fn localized(text: &LocalizedText, is_name: bool) -> Vec<(Locale, &str, bool)> {
        text.0
            .iter()
            .map(|(locale, value)| (*locale, value.as_str(), is_name))
            .collect()
    }
    let mut texts = Vec::new();
    for category in &data.categories {
        texts.extend(localized(&category.name, true));
    }
    for product in &data.products {
        texts.extend(localized(&product.name, true));
        texts.extend(localized(&product.description, false));
        for (locale, keywords) in &product.keywords {
            texts.extend(keywords.iter().map(|k| (*locale, k.as_str(), true)));
        }
    }
    crate::language::CatalogWords::build(texts)
}

impl Catalog {
    /// Validates everything a conversation relies on, so the core can treat the catalog as
    /// trustworthy: ids are unique and safe to put in button ids, every text is translated.
    pub fn new(data: CatalogData) -> Result<Catalog, CatalogError> {
        if data.categories.is_empty() {
            return Err(CatalogError::NoCategories);
        }
        let mut seen = HashSet::new();
        for category in &data.categories {
            check_id(&category.id.0)?;
            check_translated(&category.name, "category", &category.id.0, "name")?;
            if !seen.insert(("category", category.id.0.as_str())) {
                return Err(CatalogError::DuplicateId {
                    what: "category",
                    id: category.id.0.clone(),
                });
            }
        }
        for product in &data.products {
            check_id(&product.id.0)?;
            check_translated(&product.name, "product", &product.id.0, "name")?;
            check_translated(
                &product.description,
                "product",
                &product.id.0,
                "description",
            )?;
            if !seen.insert(("product", product.id.0.as_str())) {
                return Err(CatalogError::DuplicateId {
                    what: "product",
                    id: product.id.0.clone(),
                });
            }
            if !data.categories.iter().any(|c| c.id == product.category) {
                return Err(CatalogError::UnknownCategory {
                    product: product.id.0.clone(),
                    category: product.category.0.clone(),
                });
            }
            if product.variants.is_empty() {
                return Err(CatalogError::NoVariants {
                    product: product.id.0.clone(),
                });
            }
            for variant in &product.variants {
                check_id(&variant.sku.0)?;
                check_translated(&variant.name, "variant", &variant.sku.0, "name")?;
                if variant.price_minor < 0 {
                    return Err(CatalogError::NegativePrice {
                        sku: variant.sku.0.clone(),
                    });
                }
                if !seen.insert(("sku", variant.sku.0.as_str())) {
                    return Err(CatalogError::DuplicateId {
                        what: "sku",
                        id: variant.sku.0.clone(),
                    });
                }
            }
        }
        let index = Arc::new(SearchIndex::build(&data));
        let language_words = Arc::new(language_words(&data));
        let mut skus = HashMap::new();
        let mut products_by_id = HashMap::new();
        for (p, product) in data.products.iter().enumerate() {
            products_by_id.insert(product.id.clone(), p);
            for (v, variant) in product.variants.iter().enumerate() {
                skus.insert(variant.sku.clone(), (p, v));
            }
        }
        let buyable = data.products.iter().map(Product::in_stock).collect();
        Ok(Catalog {
            currency: data.currency,
            categories: Arc::new(data.categories),
            products: data.products.into_iter().map(Arc::new).collect(),
            index,
            language_words,
            skus: Arc::new(skus),
            products_by_id: Arc::new(products_by_id),
            buyable,
        })
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.currency)
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn products(&self) -> &[Arc<Product>] {
        &self.products
    }

    pub fn category(&self, id: &CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| &c.id == id)
    }

    pub fn product(&self, id: &ProductId) -> Option<&Product> {
        self.products_by_id
            .get(id)
            .and_then(|&p| self.products.get(p))
            .map(|p| &**p)
    }

    pub fn products_in<'a>(
        &'a self,
        category: &'a CategoryId,
    ) -> impl Iterator<Item = &'a Product> {
        self.products
            .iter()
            .map(|p| &**p)
            .filter(move |p| &p.category == category)
    }

    /// Finds the product and variant of a SKU.
    pub fn variant(&self, sku: &Sku) -> Option<(&Product, &Variant)> {
        let &(p, v) = self.skus.get(sku)?;
        let product = self.products.get(p)?;
        Some((product, product.variants.get(v)?))
    }

    pub fn language_words(&self) -> &crate::language::CatalogWords {
        &self.language_words
    }

    pub fn search_index(&self) -> &SearchIndex {
        &self.index
    }

    /// Runs a query; in-stock products rank first.
    pub fn search(
        &self,
        query: &crate::search::SearchQuery,
        use_price: bool,
        limit: usize,
    ) -> crate::search::SearchOutcome {
        let in_stock = |doc: usize| self.buyable.get(doc).copied().unwrap_or(false);
        self.index.search(query, use_price, limit, &in_stock)
    }

    /// The same catalog with new stock levels for some SKUs (unknown SKUs are ignored).
    /// Shares everything but the changed products, which are copied.
    pub fn with_stock(&self, levels: &[(Sku, u32)]) -> Catalog {
        let mut next = self.clone();
        for (sku, level) in levels {
            let Some(&(p, v)) = self.skus.get(sku) else {
                continue;
            };
            let Some(product) = next.products.get_mut(p) else {
                continue;
            };
            let product = Arc::make_mut(product);
            if let Some(variant) = product.variants.get_mut(v) {
                variant.stock = *level;
            }
            let buyable = product.in_stock();
            if let Some(slot) = next.buyable.get_mut(p) {
                *slot = buyable;
            }
        }
        next
    }
}

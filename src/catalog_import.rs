//! `souk catalog import FILE`: a catalog from our JSON format or from a Shopify-style product
//! CSV export, validated row by row. Every bad row is reported with its line and reason, and
//! a file with any bad row changes nothing; a good one replaces the shop's catalog file
//! atomically (write beside it, then rename), for a running souk to reload on SIGHUP.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use flows::catalog::{Category, CategoryId, Product, ProductId, Sku, Variant};
use flows::text::LocalizedText;
use flows::{Catalog, CatalogData, Currency, Locale};

/// One reason an import was refused; `line` is 1-based in the file (0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "line {}: {}", self.line, self.reason)
        }
    }
}

/// A catalog that passed every check, and what the shop owner should know about it.
#[derive(Debug)]
pub struct Imported {
    pub data: CatalogData,
    /// Not errors: e.g. a locale without its own title, filled from the main one.
    pub warnings: Vec<String>,
}

fn whole_file(reason: impl Into<String>) -> Vec<RowError> {
    vec![RowError {
        line: 0,
        reason: reason.into(),
    }]
}

/// Reads and validates `file` (`.json` or `.csv`); prices in a CSV are in `currency`.
pub fn import(file: &Path, currency: Currency) -> Result<Imported, Vec<RowError>> {
    let bytes = std::fs::read(file)
        .map_err(|error| whole_file(format!("cannot read {}: {error}", file.display())))?;
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let imported = match extension.as_deref() {
        Some("json") => from_json(&bytes)?,
        Some("csv") => from_csv(&bytes, currency)?,
        _ => return Err(whole_file("the file must end in .json or .csv")),
    };
    // The core's own checks (ids, translations, categories, duplicate SKUs) on the result.
    Catalog::new(imported.data.clone()).map_err(|error| whole_file(error.to_string()))?;
    Ok(imported)
}

fn from_json(bytes: &[u8]) -> Result<Imported, Vec<RowError>> {
    serde_json::from_slice::<CatalogData>(bytes)
        .map(|data| Imported {
            data,
            warnings: Vec::new(),
        })
        .map_err(|error| {
            vec![RowError {
                line: u64::try_from(error.line()).unwrap_or(0),
                reason: format!("not a souk catalog: {error}"),
            }]
        })
}

/// Turns "Summer Dresses" into the id "summer-dresses".
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(64).collect()
}

/// Shopify's body is HTML; chat shows plain text.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&amp;", "&")
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "12.50" or "12,50" in the currency's minor units; no negative or malformed amounts.
fn minor_units(text: &str, currency: Currency) -> Result<i64, String> {
    let text = text.trim().replace(',', ".");
    let digits = currency.minor_digits();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let valid = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= digits as usize;
    if !valid {
        return Err(format!("price {text:?} is not an amount like 12.50"));
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| format!("price {text:?} is too large"))?;
    let mut fraction = fraction.to_owned();
    while fraction.len() < digits as usize {
        fraction.push('0');
    }
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        fraction
            .parse()
            .map_err(|_| format!("price {text:?} is malformed"))?
    };
    whole
        .checked_mul(10_i64.pow(digits))
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| format!("price {text:?} is too large"))
}

/// The columns we read, by header name (Shopify's export names), located once.
struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.index
            .get(&name.to_ascii_lowercase())
            .and_then(|&i| record.get(i))
            .map_or("", str::trim)
    }
}

/// Builds a product's localized text from the main column and optional per-locale columns
/// such as "Title (ro)"; a missing locale takes the main text and is reported as a warning.
fn localized(
    columns: &Columns,
    record: &csv::StringRecord,
    column: &str,
    main: &str,
    missing: &mut BTreeMap<Locale, usize>,
) -> LocalizedText {
    let mut map = BTreeMap::new();
    for locale in Locale::ALL {
        let own = columns.get(record, &format!("{column} ({})", locale.code()));
        let text = if own.is_empty() {
            if locale != Locale::En {
                *missing.entry(locale).or_default() += 1;
            }
            main.to_owned()
        } else {
            own.to_owned()
        };
        map.insert(locale, text);
    }
    LocalizedText(map)
}

const SIZE_OPTIONS: &[&str] = &["size", "marime", "mărime", "rozmiar", "izmērs"];
const COLOUR_OPTIONS: &[&str] = &["color", "colour", "culoare", "kolor", "krāsa"];

fn from_csv(bytes: &[u8], currency: Currency) -> Result<Imported, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|error| whole_file(format!("cannot read the header row: {error}")))?
        .clone();
    let columns = Columns {
        index: headers
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().to_ascii_lowercase(), i))
            .collect(),
    };
    for required in ["Handle", "Title", "Variant SKU", "Variant Price"] {
        if !columns.index.contains_key(&required.to_ascii_lowercase()) {
            return Err(whole_file(format!(
                "the header row has no {required:?} column"
            )));
        }
    }
    let mut errors = Vec::new();
    let mut products: Vec<Product> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut categories: Vec<Category> = Vec::new();
    let mut skus: HashMap<String, u64> = HashMap::new();
    let mut missing_titles = BTreeMap::new();
    let mut missing_bodies = BTreeMap::new();
    let mut untold: Vec<String> = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                errors.push(RowError {
                    line,
                    reason: format!("unreadable row: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let mut bad = |reason: String| errors.push(RowError { line, reason });
        let handle = columns.get(&record, "Handle");
        if handle.is_empty() {
            bad("no Handle".into());
            continue;
        }
        let sku = columns.get(&record, "Variant SKU");
        let price = columns.get(&record, "Variant Price");
        if sku.is_empty() && price.is_empty() {
            // An image-only row of Shopify's export: nothing for us.
            continue;
        }
        let index = match position.get(handle) {
            Some(&index) => index,
            None => {
                let title = columns.get(&record, "Title");
                if title.is_empty() {
                    bad(format!("the first row of {handle:?} has no Title"));
                    continue;
                }
                let kind = columns.get(&record, "Type");
                let kind = if kind.is_empty() { "Other" } else { kind };
                let category = CategoryId(slug(kind));
                if !categories.iter().any(|c| c.id == category) {
                    categories.push(Category {
                        id: category.clone(),
                        name: LocalizedText(
                            Locale::ALL.iter().map(|l| (*l, kind.to_owned())).collect(),
                        ),
                    });
                }
                let mut body = plain_text(columns.get(&record, "Body (HTML)"));
                if body.is_empty() {
                    // The core wants a description; the title is better than nothing.
                    body = title.to_owned();
                    untold.push(handle.to_owned());
                }
                let image = columns.get(&record, "Image Src");
                products.push(Product {
                    id: ProductId(handle.to_owned()),
                    category,
                    name: localized(&columns, &record, "Title", title, &mut missing_titles),
                    description: localized(&columns, &record, "Body", &body, &mut missing_bodies),
                    keywords: BTreeMap::new(),
                    image: (!image.is_empty()).then(|| image.to_owned()),
                    variants: Vec::new(),
                });
                position.insert(handle.to_owned(), products.len() - 1);
                products.len() - 1
            }
        };
        if sku.is_empty() {
            bad(format!("a variant of {handle:?} has no Variant SKU"));
            continue;
        }
        if let Some(first) = skus.insert(sku.to_owned(), line) {
            bad(format!("SKU {sku:?} already used on line {first}"));
            continue;
        }
        let price_minor = match minor_units(price, currency) {
            Ok(minor) => minor,
            Err(reason) => {
                bad(reason);
                continue;
            }
        };
        let quantity = columns.get(&record, "Variant Inventory Qty");
        let stock = if quantity.is_empty() {
            0
        } else {
            match quantity.parse::<i64>() {
                // Shopify allows overselling into negative stock; for us that is none left.
                Ok(n) => u32::try_from(n.max(0)).unwrap_or(u32::MAX),
                Err(_) => {
                    bad(format!(
                        "Variant Inventory Qty {quantity:?} is not a whole number"
                    ));
                    continue;
                }
            }
        };
        let mut values = Vec::new();
        let (mut size, mut colour) = (None, None);
        for n in 1..=3 {
            let name = columns
                .get(&record, &format!("Option{n} Name"))
                .to_lowercase();
            let value = columns.get(&record, &format!("Option{n} Value"));
            if value.is_empty() || value.eq_ignore_ascii_case("Default Title") {
                continue;
            }
            if SIZE_OPTIONS.contains(&name.as_str()) {
                size = Some(value.to_owned());
            } else if COLOUR_OPTIONS.contains(&name.as_str()) {
                colour = Some(value.to_owned());
            }
            values.push(value.to_owned());
        }
        let name = if values.is_empty() {
            "Standard".to_owned()
        } else {
            values.join(" / ")
        };
        if let Some(product) = products.get_mut(index) {
            product.variants.push(Variant {
                sku: Sku(sku.to_owned()),
                name: LocalizedText(Locale::ALL.iter().map(|l| (*l, name.clone())).collect()),
                price_minor,
                stock,
                colour,
                size,
                // Shopify's per-variant picture.
                image: Some(columns.get(&record, "Variant Image"))
                    .filter(|image| !image.is_empty())
                    .map(str::to_owned),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut warnings = Vec::new();
    if !untold.is_empty() {
        warnings.push(format!(
            "no Body (HTML) for {}: the title is used as the description",
            untold.join(", ")
        ));
    }
    for (what, missing) in [("title", missing_titles), ("description", missing_bodies)] {
        for (locale, count) in missing {
            warnings.push(format!(
                "{count} product(s) have no {what} in {}: the main column's text is used",
                locale.code()
            ));
        }
    }
    Ok(Imported {
        data: CatalogData {
            currency,
            categories,
            products,
        },
        warnings,
    })
}

/// Writes the catalog beside `target` and renames it into place: a reader sees the old
/// file or the new one, never half of either.
pub fn write_atomically(target: &Path, data: &CatalogData) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(data)?;
    let temporary = target.with_extension("json.importing");
    std::fs::write(&temporary, json)?;
    std::fs::rename(&temporary, target)?;
    Ok(())
}

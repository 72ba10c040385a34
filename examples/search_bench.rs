//! Search latency and memory over a generated catalog (default 100,000 products, 3 variants
//! each, names and descriptions in all five shipped languages):
//!
//!     cargo run --release --example search_bench -- 100000
//!
//! Prints index build time, resident memory before and after, and p50/p99/max per query
//! over a fixed mix of queries (plain words, typos, colours, sizes, prices, misses).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/resident.rs"]
mod resident;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use flows::catalog::{
    Catalog, CatalogData, Category, CategoryId, Product, ProductId, Sku, Variant,
};
use flows::locale::Locale;
use flows::money::Currency;
use flows::search::search_text;
use flows::text::LocalizedText;

const NOUNS: &[[&str; 5]] = &[
    ["jacket", "geacă", "kurtka", "jaka", "מעיל"],
    ["dress", "rochie", "sukienka", "kleita", "שמלה"],
    ["shoes", "pantofi", "buty", "apavi", "נעליים"],
    ["boots", "ghete", "trzewiki", "zābaki", "מגפיים"],
    ["sweater", "pulover", "sweter", "džemperis", "סוודר"],
    ["shirt", "cămașă", "koszula", "krekls", "חולצה"],
    ["mug", "cană", "kubek", "krūze", "ספל"],
    ["lamp", "lampă", "lampa", "lampa", "מנורה"],
    ["candle", "lumânare", "świeca", "svece", "נר"],
    ["towel", "prosop", "ręcznik", "dvielis", "מגבת"],
    ["tea", "ceai", "herbata", "tēja", "תה"],
    ["coffee", "cafea", "kawa", "kafija", "קפה"],
    ["sandals", "sandale", "sandały", "sandales", "סנדלים"],
    ["hat", "căciulă", "czapka", "cepure", "כובע"],
    ["blanket", "pătură", "koc", "sega", "שמיכה"],
];
const ADJECTIVES: &[[&str; 5]] = &[
    [
        "waterproof",
        "impermeabil",
        "wodoodporna",
        "ūdensizturīga",
        "עמיד",
    ],
    ["wool", "lână", "wełniany", "vilnas", "צמר"],
    ["leather", "piele", "skórzane", "ādas", "עור"],
    ["cotton", "bumbac", "bawełniana", "kokvilnas", "כותנה"],
    ["summer", "vară", "letnia", "vasaras", "קיץ"],
    ["winter", "iarnă", "zimowa", "ziemas", "חורף"],
    ["running", "alergare", "biegania", "skriešanas", "ריצה"],
    ["ceramic", "ceramică", "ceramiczny", "keramikas", "קרמיקה"],
    ["linen", "in", "lniana", "lina", "פשתן"],
    ["scented", "parfumată", "zapachowa", "aromātiska", "ריחני"],
];
const COLOURS: &[&str] = &[
    "black", "white", "grey", "blue", "navy", "red", "green", "brown",
];
const SIZES: &[&str] = &["S", "M", "L", "XL", "38", "40", "42", "44"];
const QUERIES: &[&str] = &[
    "waterproof winter jacket under 200",
    "rochie de vară din bumbac sub 200 de lei",
    "czarne buty do biegania do 300 zł",
    "red dress under 300",
    "leather boots size 42",
    "wool sweater",
    "ceramic mug",
    "jackt",
    "swaeter blue",
    "זוג נעלי ריצה",
    "vilnas džemperis līdz 50 eiro",
    "something nobody sells",
    "scented candle",
    "shoes between 50 and 80",
    "kubek",
    "tea",
];

/// A deterministic pseudo-word, so descriptions have a large, realistic vocabulary.
fn pseudo_word(rng: &mut fastrand::Rng) -> String {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ne", "ra", "tu", "vi", "so", "de", "pa", "ri", "gu", "fe", "zo", "ba",
    ];
    (0..rng.usize(2..5))
        .map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())])
        .collect()
}

fn localized(parts: [String; 5]) -> LocalizedText {
    LocalizedText(
        Locale::ALL
            .iter()
            .copied()
            .zip(parts)
            .collect::<BTreeMap<_, _>>(),
    )
}

fn generate(count: usize) -> CatalogData {
    let mut rng = fastrand::Rng::with_seed(7);
    let categories: Vec<Category> = (0..20)
        .map(|i| Category {
            id: CategoryId(format!("cat-{i}")),
            name: localized(std::array::from_fn(|l| {
                format!("{} {i}", NOUNS[i % NOUNS.len()][l])
            })),
        })
        .collect();
    let products = (0..count)
        .map(|n| {
            let noun = NOUNS[rng.usize(..NOUNS.len())];
            let adjective = ADJECTIVES[rng.usize(..ADJECTIVES.len())];
            let brand = pseudo_word(&mut rng);
            let description: Vec<String> = (0..10).map(|_| pseudo_word(&mut rng)).collect();
            let description = description.join(" ");
            Product {
                id: ProductId(format!("p{n}")),
                category: categories[rng.usize(..categories.len())].id.clone(),
                name: localized(std::array::from_fn(|l| {
                    format!("{brand} {} {}", adjective[l], noun[l])
                })),
                description: localized(std::array::from_fn(|_| description.clone())),
                keywords: BTreeMap::new(),
                image: None,
                variants: (0..3)
                    .map(|v| Variant {
                        sku: Sku(format!("P{n}-{v}")),
                        name: localized(std::array::from_fn(|_| format!("variant {v}"))),
                        price_minor: i64::from(rng.u32(500..50_000)),
                        stock: rng.u32(0..20),
                        colour: Some(COLOURS[rng.usize(..COLOURS.len())].to_owned()),
                        size: Some(SIZES[rng.usize(..SIZES.len())].to_owned()),
                        image: None,
                    })
                    .collect(),
            }
        })
        .collect();
    CatalogData {
        currency: Currency::new("EUR").unwrap(),
        categories,
        products,
    }
}

// The allocator the binary uses, so the numbers are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |a| a.parse().expect("a product count"));
    let data = generate(count);
    let before = resident::resident_kib();
    let started = Instant::now();
    let catalog = Catalog::new(data).expect("valid generated catalog");
    let built = started.elapsed();
    let after = resident::resident_kib();
    println!("catalog: {count} products, {} variants", count * 3);
    println!(
        "index build (with validation): {:.2} s; resident memory {} MiB before, {} MiB after",
        built.as_secs_f64(),
        before / 1024,
        after / 1024
    );
    let rounds = 50;
    let mut latencies: Vec<Duration> = Vec::with_capacity(rounds * QUERIES.len());
    let mut hits = 0usize;
    for _ in 0..rounds {
        for query in QUERIES {
            let started = Instant::now();
            let (_, outcome) = search_text(&catalog, query, 10);
            latencies.push(started.elapsed());
            hits += outcome.products.len();
        }
    }
    latencies.sort();
    let at = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index].as_secs_f64() * 1e3
    };
    println!(
        "{} queries ({} distinct): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {:.1} results per query",
        latencies.len(),
        QUERIES.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        hits as f64 / latencies.len() as f64
    );
    for query in QUERIES {
        let started = Instant::now();
        let (_, outcome) = search_text(&catalog, query, 10);
        // The first three ids show a ranking change between two builds at a glance.
        let first: Vec<&str> = outcome
            .products
            .iter()
            .take(3)
            .map(|p| p.0.as_str())
            .collect();
        println!(
            "  {:>8.3} ms  {:>2} results  {query}  [{}]",
            started.elapsed().as_secs_f64() * 1e3,
            outcome.products.len(),
            first.join(" ")
        );
    }
    // A payment takes units out of stock by copying the catalog with the new levels
    // (`Catalog::with_stock`): what that costs at this size.
    let last = format!("P{}-0", count - 1);
    let started = Instant::now();
    let updated = catalog.with_stock(&[(flows::Sku(last), 0)]);
    println!(
        "stock update at payment (catalog copy): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    drop(updated);
}

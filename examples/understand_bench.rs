//! What understanding one message costs on the demo catalog: the language guess alone, and
//! the rules' whole reading (`understand`, which includes the search and, for an ask, the
//! check for what the shop does not carry):
//!
//!     cargo run --release --example understand_bench
//!
//! Prints the language model's build time (once per process) and p50/p99/max per message
//! over the quality sets' messages, repeated; then the mean for "cart", the load benchmark's
//! message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use flows::catalog::{Catalog, CatalogData};

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    format!(
        "p50 {:?}  p99 {:?}  max {:?}",
        at(0.5),
        at(0.99),
        samples.last().unwrap()
    )
}

fn main() {
    let raw = std::fs::read_to_string("config/demo/catalog.json").expect("run from the root");
    let data: CatalogData = serde_json::from_str(&raw).unwrap();
    let started = Instant::now();
    let catalog = Catalog::new(data).unwrap();
    println!(
        "catalog with index and language words: {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    flows::language::detect("warm up", None);
    println!("language model built: {:?}", started.elapsed());
    let sets = [
        include_str!("../flows/tests/quality/shopper_set.tsv"),
        include_str!("../flows/tests/quality/short_messages.tsv"),
    ];
    let messages: Vec<&str> = sets
        .iter()
        .flat_map(|set| set.lines())
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit('\t').next())
        .collect();
    let mut detect = Vec::new();
    let mut understand = Vec::new();
    for _ in 0..50 {
        for message in &messages {
            let t = Instant::now();
            std::hint::black_box(flows::language::detect(
                message,
                Some(catalog.language_words()),
            ));
            detect.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(flows::understand(message, &catalog));
            understand.push(t.elapsed());
        }
    }
    println!("{} messages x 50", messages.len());
    println!("language guess: {}", percentiles(detect));
    println!("understand:     {}", percentiles(understand));
    // The load benchmark's message (compare.sh sends "cart"): one word, so the mean over many
    // runs is steadier than its percentiles.
    let runs = 200_000;
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(flows::understand(std::hint::black_box("cart"), &catalog));
    }
    println!("understand \"cart\": {:?} mean", started.elapsed() / runs);
}

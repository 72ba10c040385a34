//! souk's integration tests: one test binary, one module per concern.
// Test helpers panic on purpose: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod architecture;
mod bad_input;
mod booking;
mod catalog_import;
mod concurrency;
mod config;
mod consent;
mod console;
mod crash;
mod data_rights;
#[cfg(feature = "discord")]
mod discord;
mod erasure;
#[cfg(feature = "discord")]
mod fake_discord;
mod fake_graph;
mod fake_openai;
mod fake_stripe;
mod fake_telegram;
mod golden;
mod greedy_clients;
mod kill;
mod locales;
mod meta;
mod metrics_families;
mod nlu;
mod orders;
mod payments;
mod poison;
mod postgres;
#[cfg(feature = "postgres")]
mod replicas;
mod restart;
mod store;
mod support;
mod telegram;
mod webchat;

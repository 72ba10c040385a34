//! The command line: `souk serve` and `souk check-config`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "souk",
    version,
    about = "Sell and serve customers through chat."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: webhooks, web chat, workers, timers.
    Serve {
        /// Configuration file; SOUK__SECTION__KEY environment variables override it.
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
    /// Load and validate the configuration and catalog, print a summary, and exit.
    CheckConfig {
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
    /// The shop's catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Orders.
    Order {
        #[command(subcommand)]
        command: OrderCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Move an order on (fulfilled, shipped, delivered, cancelled, refunded); the customer
    /// is told in their channel and language. Talks to the running souk's admin API with
    /// the token in SOUK__ADMIN__TOKEN.
    SetStatus {
        id: String,
        status: String,
        /// The carrier's tracking link (https), sent to the customer with "shipped".
        #[arg(long)]
        tracking: Option<String>,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
        /// Where souk runs; default: http:// and `server.listen` of the configuration.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Replace the catalog with FILE (souk JSON, or a Shopify-style product CSV export).
    /// Every bad row is reported and nothing changes; a running souk loads the new
    /// catalog on SIGHUP.
    Import {
        file: PathBuf,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
        /// Only check the file; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

//! The command line: `souk serve`, `souk check-config`, and the catalog, order, operator
//! and store commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// A customer's data.
    Customer {
        #[command(subcommand)]
        command: CustomerCommand,
    },
    /// Reports from the store.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Operator accounts of the web console.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// The database's schema (PostgreSQL): `souk serve` applies pending migrations at start,
    /// under a lock; `--check` only says whether any are pending (exit status 1 if so).
    Migrate {
        #[arg(long)]
        check: bool,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
    /// The store as a whole.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every record of the sled store (`store.path`) into the PostgreSQL database of
    /// `[store.postgres]` (URL from SOUK__STORE__POSTGRES__URL), in one transaction. Run it
    /// while souk is stopped; the database's schema must hold no souk data yet. The sled
    /// store is left as it was.
    Copy {
        #[arg(long, value_enum)]
        from: CopySource,
        #[arg(long, value_enum)]
        to: CopyTarget,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
}

/// Where `souk store copy` reads: the embedded store only, for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopySource {
    Sled,
}

/// Where `souk store copy` writes: a database only, for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopyTarget {
    Postgres,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Abandoned-cart reminders: carts chased, reminders sent per step, recovered orders and
    /// revenue per step, opt-outs.
    Recovery {
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
    /// The shop's numbers per day and channel, FROM to TO (YYYY-MM-DD, in the shop's time
    /// zone, both included): conversations, chat-to-purchase conversion, orders, revenue,
    /// average order, recovered orders and revenue, appointments, no-shows, hand-offs. Run it
    /// while souk is stopped (sled), or any time on PostgreSQL.
    Kpis {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: KpiFormat,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KpiFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create an operator. The password is asked for on the terminal (not echoed), or read
    /// from the first line of standard input when that is not a terminal. Works on the store
    /// directly, so run it while souk is stopped (or add operators in the console as an admin).
    Add {
        /// Login name: lower-case letters, digits, dots, dashes, underscores.
        name: String,
        #[arg(long, default_value = "agent", value_parser = ["admin", "agent"])]
        role: String,
        /// The name customers are told ("Ana from our team"); default: NAME, capitalised.
        #[arg(long)]
        display_name: Option<String>,
        /// Replace an existing operator of that name (a new password; their sessions end).
        #[arg(long)]
        replace: bool,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
    /// Remove an operator; their console sessions end.
    Remove {
        name: String,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
    /// List the operators.
    List {
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Move an order on (fulfilled, shipped, delivered, cancelled, refund-needed, refunded);
    /// the customer is told in their channel and language. Talks to the running souk's admin API with
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
pub enum CustomerCommand {
    /// Everything souk holds on a customer and the chats linked to them, as one JSON
    /// document (or `--format text`, a readable summary). REFERENCE: the console's
    /// `C-4F3A9B`, a phone number, or `channel:platform-id`. Talks to the running souk's
    /// admin API with the token in SOUK__ADMIN__TOKEN.
    Export {
        reference: String,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Write here instead of to standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
        /// Where souk runs; default: http:// and `server.listen` of the configuration.
        #[arg(long)]
        url: Option<String>,
    },
    /// Erase everything souk holds on a customer and the chats linked to them: history,
    /// profile, identities, carts, notes, timers, queued sends. Paid orders and paid
    /// appointments stay for accounting, without the person (`privacy.order_years`). The
    /// customer gets a last message. Cannot be undone: asks for `--yes`.
    Erase {
        reference: String,
        /// Yes, erase: without it nothing happens.
        #[arg(long)]
        yes: bool,
        #[arg(long, default_value = "config/souk.toml")]
        config: PathBuf,
        /// Where souk runs; default: http:// and `server.listen` of the configuration.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Text,
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

/// Runs a command's store work from the command line (no runtime is running there). One
/// runtime for the whole command: a database pool belongs to the runtime that opened it.
pub fn block_on<T>(call: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    static RUNTIME: std::sync::OnceLock<Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    let runtime = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| anyhow::anyhow!("starting a runtime for the store: {error}"))?;
    Ok(runtime.block_on(call))
}

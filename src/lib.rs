//! souk: the imperative shell around the `flows` core. Configuration, HTTP, the store,
//! the driver (workers, outbox, timers), rendering and sending.

pub mod api_error;
pub mod app;
pub mod booking;
pub mod business_hours;
pub mod catalog_file;
pub mod catalog_import;
pub mod cli;
pub mod clock;
pub mod console;
pub mod data_rights;
pub mod discord;
pub mod driver;
pub mod html;
pub mod http;
pub mod knowledge_files;
pub mod kpi_gauges;
pub mod linking;
pub mod nlu;
pub mod operators;
pub mod order_moves;
pub mod payments;
pub mod render;
pub mod report;
pub mod send;
pub mod settings;
pub mod static_files;
pub mod store;
pub mod telegram;
pub mod telemetry;

pub use app::{App, AppOptions};
pub use settings::Settings;

//! The `souk` binary.

use std::process::ExitCode;

use clap::Parser;

use souk::cli::{
    CatalogCommand, Cli, Command, CopySource, CopyTarget, CustomerCommand, ExportFormat,
    OperatorCommand, OrderCommand, ReportCommand, StoreCommand,
};
use souk::{App, AppOptions, Settings, catalog_file, catalog_import, telemetry};

// See Cargo.toml: the store's write path is allocation-heavy.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    telemetry::init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => serve(&config),
        Command::CheckConfig { config } => check_config(&config),
        Command::Catalog {
            command:
                CatalogCommand::Import {
                    file,
                    config,
                    dry_run,
                },
        } => import_catalog(&file, &config, dry_run),
        Command::Order {
            command:
                OrderCommand::SetStatus {
                    id,
                    status,
                    tracking,
                    config,
                    url,
                },
        } => set_order_status(&config, url, &id, &status, tracking),
        Command::Operator {
            command:
                OperatorCommand::Add {
                    name,
                    role,
                    display_name,
                    replace,
                    config,
                },
        } => souk::operators::add(&config, &name, &role, display_name, replace),
        Command::Operator {
            command: OperatorCommand::List { config },
        } => souk::operators::list(&config),
        Command::Report {
            command: ReportCommand::Recovery { config },
        } => souk::report::recovery(&config),
        Command::Report {
            command:
                ReportCommand::Kpis {
                    from,
                    to,
                    format,
                    config,
                },
        } => souk::report::kpis(&config, &from, &to, format),
        Command::Operator {
            command: OperatorCommand::Remove { name, config },
        } => souk::operators::remove(&config, &name),
        Command::Migrate { check, config } => migrate(&config, check),
        Command::Customer {
            command:
                CustomerCommand::Export {
                    reference,
                    format,
                    output,
                    config,
                    url,
                },
        } => export_customer(&config, url, &reference, format, output),
        Command::Customer {
            command:
                CustomerCommand::Erase {
                    reference,
                    yes,
                    config,
                    url,
                },
        } => erase_customer(&config, url, &reference, yes),
        Command::Store {
            command:
                StoreCommand::Copy {
                    from: CopySource::Sled,
                    to: CopyTarget::Postgres,
                    config,
                },
        } => copy_store(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `souk migrate [--check]`: applies the database's pending migrations (opening the store
/// does), or lists them and fails when there are any.
fn migrate(path: &std::path::Path, check: bool) -> anyhow::Result<()> {
    let settings = Settings::load(path)?;
    let pending = souk::cli::block_on(souk::store::pending_migrations(&settings.store))??;
    if check {
        if pending.is_empty() {
            println!("store {}: schema up to date", settings.store.describe());
            return Ok(());
        }
        for migration in &pending {
            println!("pending: {migration}");
        }
        anyhow::bail!(
            "{} migration(s) pending; `souk migrate` or `souk serve` applies them",
            pending.len()
        );
    }
    souk::cli::block_on(souk::store::open(&settings.store))??;
    println!(
        "store {}: {} migration(s) applied, schema up to date",
        settings.store.describe(),
        pending.len()
    );
    Ok(())
}

/// `souk store copy --from sled --to postgres`: the whole sled store into the database, in
/// one transaction; prints what was copied.
fn copy_store(path: &std::path::Path) -> anyhow::Result<()> {
    let settings = Settings::load(path)?;
    let report = souk::cli::block_on(souk::store::copy_sled_to_postgres(&settings.store))??;
    let mut target = settings.store.clone();
    target.backend = souk::settings::StoreBackend::Postgres;
    println!(
        "copied {} records from sled at {} into {}:",
        report.total(),
        settings.store.path.display(),
        target.describe()
    );
    for (kind, count) in &report.counts {
        println!("  {kind}: {count}");
    }
    if report.skipped > 0 {
        println!(
            "  not copied: {} unreadable records (each is in the log above)",
            report.skipped
        );
    }
    println!(
        "set store.backend = \"postgres\" (or SOUK__STORE__BACKEND=postgres) and start souk; \
         the sled store is unchanged"
    );
    Ok(())
}

fn check_config(path: &std::path::Path) -> anyhow::Result<()> {
    let settings = Settings::load(path)?;
    let catalog = catalog_file::load_catalog(&settings.shop.catalog, &settings.shop.images)?;
    let variants: usize = catalog.products().iter().map(|p| p.variants.len()).sum();
    println!(
        "configuration OK: shop {:?}, listen {}, store {}, catalog {} categories, {} products, {} variants",
        settings.shop.name,
        settings.server.listen,
        settings.store.describe(),
        catalog.categories().len(),
        catalog.products().len(),
        variants
    );
    for (name, channel) in settings.meta_channels() {
        let state = if channel.enabled {
            "enabled, credentials present"
        } else {
            "disabled"
        };
        println!("channel {name}: {state}");
    }
    println!("channel webchat: enabled at /chat");
    for line in summary_lines(&settings) {
        println!("{line}");
    }
    Ok(())
}

/// What `check-config` reports beyond the shop and the Meta channels: payments, Telegram,
/// Discord, appointments and cart reminders, each as it will run.
fn summary_lines(settings: &Settings) -> Vec<String> {
    use souk::payments::ProviderKind;
    let present = |secret: bool| if secret { "set" } else { "MISSING" };
    let mut lines = Vec::new();
    let payments = &settings.payments;
    lines.push(match payments.provider {
        ProviderKind::None => "payments: none (orders wait to be paid some other way)".to_owned(),
        ProviderKind::Demo => format!(
            "payments: demo pay page at {}/pay/… (no money moves)",
            settings.link_base()
        ),
        ProviderKind::Stripe => format!(
            "payments: stripe at {}, secret key {}, webhook secret {}, customers return to {}",
            payments.stripe.api_base,
            present(payments.stripe.secret_key.is_some()),
            present(payments.stripe.webhook_secret.is_some()),
            payments
                .stripe
                .success_url
                .clone()
                .unwrap_or_else(|| format!("{}/pay/done", settings.link_base())),
        ),
    });
    let telegram = &settings.channels.telegram;
    lines.push(if telegram.enabled {
        let mode = if telegram.uses_webhook(settings.server.public_url.trim_end_matches('/')) {
            "webhook at /webhooks/telegram"
        } else {
            "long polling"
        };
        let invoices = if telegram.invoices().is_some() {
            "payments inside Telegram"
        } else {
            "payment links"
        };
        format!("channel telegram: enabled, {mode}, {invoices}")
    } else {
        "channel telegram: disabled".to_owned()
    });
    lines.push(if settings.channels.discord.enabled {
        if cfg!(feature = "discord") {
            "channel discord: enabled (gateway)".to_owned()
        } else {
            "channel discord: enabled, but this build has no Discord support".to_owned()
        }
    } else {
        "channel discord: disabled".to_owned()
    });
    lines.push(match settings.booking.flow_settings(settings.timezone()) {
        Ok(booking) if booking.enabled() => format!(
            "appointments: {} services, {} staff, from {}",
            booking.services.len(),
            booking.staff.len(),
            settings.booking.file.display()
        ),
        _ => "appointments: off".to_owned(),
    });
    lines.push(if settings.recovery.enabled {
        format!(
            "cart reminders: {} steps, quiet hours {}",
            settings.recovery.steps.len(),
            if settings.recovery.quiet_hours.is_empty() {
                "none"
            } else {
                settings.recovery.quiet_hours.as_str()
            }
        )
    } else {
        "cart reminders: off".to_owned()
    });
    lines.extend(settings.privacy.describe());
    lines
}

fn import_catalog(
    file: &std::path::Path,
    config: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    // Prices in a CSV are in the shop's currency: the one of the catalog it replaces.
    let current = catalog_file::load_catalog(&settings.shop.catalog, &settings.shop.images)?;
    let imported = match catalog_import::import(file, current.currency()) {
        Ok(imported) => imported,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{}: {problem}", file.display());
            }
            anyhow::bail!(
                "{} problem(s) in {}; the catalog is unchanged",
                problems.len(),
                file.display()
            );
        }
    };
    let catalog = catalog_file::validate(imported.data.clone(), &settings.shop.images)
        .map_err(|error| anyhow::anyhow!("{error:#}; the catalog is unchanged"))?;
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    let variants: usize = catalog.products().iter().map(|p| p.variants.len()).sum();
    let summary = format!(
        "{} categories, {} products, {} variants",
        catalog.categories().len(),
        catalog.products().len(),
        variants
    );
    if dry_run {
        println!(
            "{} is valid: {summary}; nothing written (--dry-run)",
            file.display()
        );
        return Ok(());
    }
    catalog_import::write_atomically(&settings.shop.catalog, &imported.data)?;
    println!(
        "imported {summary} into {}; a running souk loads it on SIGHUP (kill -HUP <pid>)",
        settings.shop.catalog.display()
    );
    Ok(())
}

fn set_order_status(
    config: &std::path::Path,
    url: Option<String>,
    id: &str,
    status: &str,
    tracking: Option<String>,
) -> anyhow::Result<()> {
    let (_, body) = admin_call(
        config,
        url,
        reqwest::Method::POST,
        (&["api", "admin", "orders", id, "status"], None),
        Some(serde_json::json!({"status": status, "tracking": tracking})),
    )?;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    println!(
        "order {id}: {} → {}; the customer is being told",
        body["from"].as_str().unwrap_or("?"),
        body["status"].as_str().unwrap_or(status)
    );
    Ok(())
}

/// `souk customer export`: asks the running souk's admin API, writes what it answers.
fn export_customer(
    config: &std::path::Path,
    url: Option<String>,
    reference: &str,
    format: ExportFormat,
    output: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let query = (format == ExportFormat::Text).then_some("format=text");
    let (_, body) = admin_call(
        config,
        url,
        reqwest::Method::GET,
        (&["api", "admin", "customers", reference, "export"], query),
        None,
    )?;
    match output {
        Some(path) => {
            std::fs::write(&path, &body)?;
            eprintln!("written to {}", path.display());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(&body)?;
        }
    }
    Ok(())
}

/// `souk customer erase`: asks the running souk's admin API to erase, says what it did.
fn erase_customer(
    config: &std::path::Path,
    url: Option<String>,
    reference: &str,
    yes: bool,
) -> anyhow::Result<()> {
    if !yes {
        anyhow::bail!(
            "erasing {reference} cannot be undone: their messages, details, carts, notes and \
             linked chats go (paid orders and appointments stay, without the person). Add --yes to erase."
        );
    }
    let (code, _) = admin_call(
        config,
        url,
        reqwest::Method::POST,
        (&["api", "admin", "customers", reference, "erase"], None),
        None,
    )?;
    if code == reqwest::StatusCode::ACCEPTED {
        println!("{reference}: erasure queued; it finishes as soon as their conversation is free");
    } else {
        println!("{reference}: erased; they were sent a last message saying so");
    }
    Ok(())
}

/// One call to the running souk's admin API with the token of SOUK__ADMIN__TOKEN: the
/// status and the body of a success, or the refusal's reason as the error. `path`: its
/// segments (each escaped) and the query.
fn admin_call(
    config: &std::path::Path,
    url: Option<String>,
    method: reqwest::Method,
    (segments, query): (&[&str], Option<&str>),
    json: Option<serde_json::Value>,
) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
    let settings = Settings::load(config)?;
    let Some(token) = settings.admin.token.clone() else {
        anyhow::bail!("set SOUK__ADMIN__TOKEN (the same token the running souk has)");
    };
    let base = url.unwrap_or_else(|| format!("http://{}", settings.server.listen));
    let mut endpoint = reqwest::Url::parse(base.trim_end_matches('/'))
        .map_err(|error| anyhow::anyhow!("{base} is not a URL: {error}"))?;
    endpoint
        .path_segments_mut()
        .map_err(|()| anyhow::anyhow!("{base} cannot take a path"))?
        .extend(segments);
    endpoint.set_query(query);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut request = reqwest::Client::new()
            .request(method, endpoint)
            .bearer_auth(token.expose());
        if let Some(json) = json {
            request = request.json(&json);
        }
        let response = request
            .send()
            .await
            .map_err(|error| anyhow::anyhow!("cannot reach souk at {base}: {error}"))?;
        let code = response.status();
        let body = response.bytes().await?;
        if !code.is_success() {
            let reason: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let reason = reason["error"]
                .as_str()
                .unwrap_or("no reason given")
                .to_owned();
            anyhow::bail!("souk refused ({code}): {reason}");
        }
        Ok((code, body.to_vec()))
    })
}

fn serve(path: &std::path::Path) -> anyhow::Result<()> {
    let settings = Settings::load(path)?;
    // Two runtimes: one serves HTTP (a platform event's ack is a signature check, a parse
    // and an append to the inbox log), the other runs the conversation work. The kernel
    // shares the cores between their threads, so an ack no longer waits for a batch of
    // steps that happened to run on its thread to yield (ARCHITECTURE.md, "Two runtimes").
    let work = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("souk-work")
        .build()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("souk-http")
        .build()?;
    let store_settings = settings.store.clone();
    let options = AppOptions {
        work: Some(work.handle().clone()),
        ..AppOptions::default()
    };
    let served = runtime.block_on(async move {
        let listen = settings.server.listen;
        let app = App::build(settings, options).await?;
        let listener = souk::http::serve::listen(listen)?;
        tracing::info!(
            "souk is listening on http://{}/chat",
            listener.local_addr()?
        );
        app.run(listener, shutdown_signal()).await
    });
    // Every task, and with them every handle on the store, ends with the runtimes. The
    // work runtime's tasks were drained by `run`; a thread still held (a wedged step, which
    // is why `run` fails) gets a second and is left behind, so the process can exit and
    // its restart set the step's event aside (dropping the runtime would wait for it
    // forever). The settle below only warns if the store is still held.
    drop(runtime);
    work.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    // Only the embedded store has anything to settle.
    if store_settings.backend != souk::settings::StoreBackend::Sled {
        return Ok(());
    }
    match souk::store::settle(&store_settings) {
        Ok(took) => tracing::info!(
            ms = took.as_millis() as u64,
            "store settled: the next start opens from a fresh snapshot"
        ),
        // Only the next start's speed is at stake.
        Err(error) => tracing::warn!(%error, "could not settle the store"),
    }
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM (service managers, containers).
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

//! Wiring: builds the store, core context, senders and background tasks from settings, and
//! runs the HTTP server with one shutdown path.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use flows::{Channel, Context, FlowSettings, Span};

use crate::catalog_file::load_catalog_with_digest;
use crate::driver::group_commit::GroupCommit;
use crate::driver::holding::Holding;
use crate::driver::replica::{ReplicaTask, run_replica};
use crate::driver::{
    Driver, Ingest, Shared, Worker, run_outbox, run_payment_links, run_read_ahead, run_timers,
    run_worker,
};
use crate::http::{
    AppParts, AppState, HealthParts, HealthState, PageParts, PageState, WebChatParts, WebChatState,
    WebhookParts, WebhookState, router,
};
use crate::payments::demo::DemoProvider;
use crate::payments::stripe::StripeClient;
use crate::payments::{PaymentProvider, ProviderKind};
use crate::render::Renderer;
use crate::send::meta::MetaSender;
use crate::send::webchat::{WebChatHub, WebChatSender};
use crate::send::{ChannelSender, Senders};
use crate::settings::Settings;
use crate::store::Store;
use crate::{clock, telemetry};

/// Replaces channel senders, for tests that need a channel that fails on purpose.
#[derive(Default)]
pub struct AppOptions {
    pub senders: Vec<(Channel, Arc<dyn ChannelSender>)>,
    /// Runs before every step (tests make a step panic or hang with it).
    pub step_hook: Option<crate::driver::poison::StepHook>,
    /// Where the conversation work runs (the workers, their group commit, the outbox, the
    /// timers, the read-ahead and payment links): `souk serve` gives it a runtime of its
    /// own, so a platform event's ack never waits on its thread behind a batch of steps
    /// (ARCHITECTURE.md, "Two runtimes"). `None`: the runtime `build` runs on (tests).
    pub work: Option<tokio::runtime::Handle>,
}

/// Background tasks; dropping the set aborts them (an abrupt stop, as in a crash).
#[derive(Default)]
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

pub struct App {
    state: AppState,
    shared: Arc<Shared>,
    workers: Tasks,
    timers: Tasks,
    outbox: Tasks,
    maintenance: Tasks,
    stop_timers: CancellationToken,
    drain_workers: CancellationToken,
    stop_outbox: CancellationToken,
    /// Cancelled when a step has wedged its worker: souk stops for a restart.
    wedged: CancellationToken,
    /// The replica's lease keeper (none on the embedded store); stops last, giving the
    /// leases back once everything taken under them is done.
    replica: Tasks,
    stop_replica: CancellationToken,
}

fn flow_settings(settings: &Settings) -> FlowSettings {
    FlowSettings {
        shop_name: settings.shop.name.clone(),
        session_timeout: Span::minutes(settings.conversation.session_timeout_minutes),
        page_size: settings.conversation.page_size,
        max_quantity: settings.conversation.max_quantity,
        nlu_enabled: settings.nlu.enabled(),
        // The core waits for a slot and a call (each up to the timeout) and the hand-back,
        // then answers with the rules.
        nlu_wait: Span::seconds(
            i64::try_from(2 * settings.nlu.timeout_ms / 1_000 + 5).unwrap_or(60),
        ),
        delivery: settings.checkout.delivery,
        pickup_points: settings.checkout.pickup_points.clone(),
        // Validated at start-up; an invalid file cannot reach here.
        booking: settings
            .booking
            .flow_settings(settings.timezone())
            .unwrap_or_default(),
        // Validated at start-up; an invalid sequence cannot reach here.
        recovery: settings
            .recovery
            .flow_settings(settings.timezone())
            .unwrap_or_default(),
        handoff: flows::HandoffSettings {
            wait_timeout: Span::minutes(settings.handoff.wait_timeout_minutes),
            expected_wait_minutes: settings.handoff.expected_wait_minutes,
            resume_message: settings.handoff.resume_message,
            // Validated at start-up; an invalid list cannot reach here.
            on_duty: settings
                .business_hours()
                .map(crate::business_hours::BusinessHours::on_duty)
                .unwrap_or_else(|_| flows::OnDuty::always()),
            ..flows::HandoffSettings::default()
        },
        marketing: settings.privacy.ask_marketing_consent,
        text_versions: consent_versions(settings),
    }
}

/// The wording versions of the consent questions, per language: the first cart reminder
/// (it asks about the later ones) and the news-and-offers question.
fn consent_versions(
    settings: &Settings,
) -> std::collections::BTreeMap<(flows::TextKey, flows::Locale), String> {
    let renderer = crate::render::Renderer;
    let first_reminder = settings
        .recovery
        .flow_settings(settings.timezone())
        .ok()
        .and_then(|recovery| recovery.steps.first().map(|step| step.key));
    let mut versions = std::collections::BTreeMap::new();
    for key in first_reminder
        .into_iter()
        .chain([flows::TextKey::MarketingAsk])
    {
        for locale in flows::Locale::ALL {
            versions.insert((key, locale), renderer.version(locale, key));
        }
    }
    versions
}

impl App {
    pub async fn build(settings: Settings, options: AppOptions) -> anyhow::Result<App> {
        // The recorder first: what the start-up replay of the inbox counts (an erasure
        // finished, events applied) was lost when it came after.
        let metrics = telemetry::metrics_handle();
        let work = options
            .work
            .clone()
            .unwrap_or_else(tokio::runtime::Handle::current);
        let settings = Arc::new(settings);
        let (catalog, digest) =
            load_catalog_with_digest(&settings.shop.catalog, &settings.shop.images)?;
        let store: Arc<dyn Store> = crate::store::open(&settings.store)
            .await
            .with_context(|| format!("opening the store ({})", settings.store.describe()))?;
        let catalog = with_sales(&store, catalog, &digest).await?;
        let together = bought_together(&store).await?;
        let calendar = crate::booking::load(store.as_ref()).await?;
        let knowledge = match &settings.shop.knowledge {
            Some(folder) => Arc::new(crate::knowledge_files::load_knowledge(folder)?),
            None => Arc::default(),
        };
        // The workers' queues exist before the workers: the ingest that feeds them, and that
        // the workers feed events back through (an oversold payment, a link's answer), can
        // then be part of what they share.
        let mut queues = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..settings.workers.shards {
            let (sender, receiver) = mpsc::channel(settings.workers.queue_depth);
            queues.push(sender);
            receivers.push(receiver);
        }
        // On a shared database this process is one replica among several; see
        // `driver/replica.rs`.
        let holding = Arc::new(if store.shared_by_replicas() {
            let id = replica_name(&settings);
            tracing::info!(replica = %id, "one replica among several on a shared database");
            Holding::replica(
                id,
                Duration::from_secs(settings.store.postgres.lease_seconds),
            )
        } else {
            Holding::alone()
        });
        let stop_replica = CancellationToken::new();
        let (relay, relay_task) =
            crate::driver::live::start(store.clone(), holding.replica_id(), stop_replica.clone());
        // Listening before the first lease round: nothing announced after it is missed.
        let notices = store.listen().await?;
        let driver = Driver::new(queues, holding.clone());
        let group_commit = GroupCommit::start(store.clone(), &work);
        // On a database, accepting events (what a platform waits for) runs in a lane of its
        // own: a short transaction beside the steps' and deliveries' longer ones, instead of
        // queueing behind them, on the runtime that serves the webhooks. sled has one
        // writer, and one lane keeps its fsyncs shared; its platform events skip the lane
        // (they go to the inbox log), what has no dedup key waits for the work runtime.
        let ingest_commit = match settings.store.backend {
            crate::store::settings::Backend::Postgres => {
                GroupCommit::start(store.clone(), &tokio::runtime::Handle::current())
            }
            crate::store::settings::Backend::Sled => group_commit.clone(),
        };
        let ingest = Ingest::new(store.clone(), driver.clone(), ingest_commit);
        let shared = Arc::new(Shared {
            applied: crate::driver::applied::Applied::default(),
            store: store.clone(),
            ctx: std::sync::RwLock::new(Arc::new(Context {
                catalog,
                settings: flow_settings(&settings),
                together,
                calendar: calendar.clone(),
                knowledge,
            })),
            ctx_writer: std::sync::Mutex::new(()),
            settings: settings.clone(),
            renderer: Renderer,
            outbox_wakeup: Notify::new(),
            outbox_feed: std::sync::Mutex::new(Vec::new()),
            timer_wakeup: Notify::new(),
            payment_wakeup: Notify::new(),
            ingest: ingest.clone(),
            group_commit,
            console_feed: crate::console::ConsoleFeed::new(relay.clone()),
            holding: holding.clone(),
            relay: relay.clone(),
            nlu: crate::nlu::Nlu::from_settings(&settings.nlu)?,
            verify_inbox: AtomicBool::new(false),
            poison: crate::driver::poison::PoisonGuard::new(
                settings.workers.shards,
                Duration::from_secs(settings.workers.step_budget_seconds),
                options.step_hook.clone(),
            ),
        });

        let hub = Arc::new(WebChatHub::new(relay));
        let mut senders = Senders::default();
        senders.insert(Channel::WebChat, Arc::new(WebChatSender::new(hub.clone())));
        for (channel, meta) in [
            (Channel::WhatsApp, &settings.channels.whatsapp),
            (Channel::Messenger, &settings.channels.messenger),
            (Channel::Instagram, &settings.channels.instagram),
        ] {
            if meta.enabled {
                let sender = MetaSender::new(
                    channel,
                    meta.clone(),
                    settings.server.public_url.clone(),
                    store.clone(),
                )?;
                senders.insert(channel, Arc::new(sender));
            }
        }
        if settings.channels.telegram.enabled {
            let sender = crate::telegram::sender::TelegramSender::new(
                &settings.channels.telegram,
                settings.server.public_url.clone(),
                store.clone(),
            )?;
            senders.insert(Channel::Telegram, Arc::new(sender));
        }
        #[cfg(feature = "discord")]
        if settings.channels.discord.enabled {
            let http = Arc::new(crate::discord::sender::http(&settings.channels.discord));
            let sender = crate::discord::sender::DiscordSender::new(
                http,
                settings.server.public_url.clone(),
                store.clone(),
            );
            senders.insert(Channel::Discord, Arc::new(sender));
        }
        for (channel, sender) in options.senders {
            senders.insert(channel, sender);
        }

        let drain_workers = CancellationToken::new();
        let mut workers = Tasks::default();
        for (shard, receiver) in receivers.into_iter().enumerate() {
            let worker = Worker {
                shard,
                shared: shared.clone(),
            };
            workers
                .0
                .push(work.spawn(run_worker(worker, receiver, drain_workers.clone())));
        }

        // Events accepted before a crash or stop are applied before anything new; their
        // steps are watched for taking the process down again (`driver/poison.rs`).
        store.forget_settled_attempts().await?;
        let replica = ReplicaTask {
            shared: shared.clone(),
            driver: driver.clone(),
            hub: hub.clone(),
            lease: Duration::from_secs(settings.store.postgres.lease_seconds),
        };
        // A replica takes its shards' events (a former holder's included) with its leases.
        let pending = if holding.replica_id().is_some() {
            crate::driver::replica::first_round(&replica).await?;
            Vec::new()
        } else {
            store.pending_inbox().await?
        };
        if !pending.is_empty() {
            tracing::info!(
                count = pending.len(),
                "re-driving events accepted before the last stop"
            );
        }
        shared
            .poison
            .mark_redriven(pending.iter().map(|entry| entry.seq));
        for entry in pending {
            driver.dispatch(entry).await?;
        }

        let replica_task = Tasks(
            notices
                .map(|notices| tokio::spawn(run_replica(replica, notices, stop_replica.clone())))
                .into_iter()
                .chain(relay_task)
                .collect(),
        );
        let stop_outbox = CancellationToken::new();
        let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
        let outbox = Tasks(vec![work.spawn(run_outbox(
            shared.clone(),
            senders,
            stop_outbox.clone(),
            grace,
        ))]);
        let stop_timers = CancellationToken::new();
        let wedged = CancellationToken::new();
        let timers = Tasks(vec![
            // The watch stays on the serving runtime: a step that wedges the work runtime's
            // threads cannot stall the one task that notices it.
            tokio::spawn(crate::driver::poison::run_step_watch(
                shared.clone(),
                stop_timers.clone(),
                wedged.clone(),
            )),
            work.spawn(run_timers(
                shared.clone(),
                driver.clone(),
                stop_timers.clone(),
            )),
            work.spawn(run_read_ahead(shared.clone(), stop_timers.clone())),
        ]);
        let provider = payment_provider(&settings, &store)?;
        let (telegram, telegram_task) =
            start_telegram(&settings, &shared, &ingest, stop_timers.clone())?;
        let makers = crate::driver::payment_links::LinkMakers {
            provider,
            telegram: match settings.channels.telegram.invoices() {
                Some(token) => Some(Arc::new(crate::payments::telegram::TelegramInvoices {
                    bot: crate::telegram::sender::bot(&settings.channels.telegram)?,
                    provider_token: token.clone(),
                })),
                None => None,
            },
        };
        let maintenance = Tasks(
            vec![
                work.spawn(run_payment_links(
                    shared.clone(),
                    makers,
                    ingest.clone(),
                    stop_timers.clone(),
                )),
                tokio::spawn(prune_expired(shared.clone(), stop_timers.clone())),
                tokio::spawn(crate::data_rights::retention::run_daily(
                    shared.clone(),
                    stop_timers.clone(),
                )),
                tokio::spawn(crate::kpi_gauges::run(shared.clone(), stop_timers.clone())),
                tokio::spawn(recover_store(
                    shared.clone(),
                    driver.clone(),
                    stop_timers.clone(),
                )),
                tokio::spawn(reload_catalog_on_hangup(
                    shared.clone(),
                    stop_timers.clone(),
                )),
            ]
            .into_iter()
            .chain(telegram_task)
            .chain(start_discord(&settings, &ingest, stop_timers.clone()))
            .chain(shared.context().settings.booking.enabled().then(|| {
                tokio::spawn(crate::booking::refresh(
                    store.clone(),
                    calendar.clone(),
                    stop_timers.clone(),
                ))
            }))
            .collect(),
        );

        crate::console::offer_setup_link(store.as_ref(), &settings.link_base()).await?;
        let canned = if settings.console.canned_replies.is_dir() {
            crate::console::CannedReplies::load(&settings.console.canned_replies)?
        } else {
            crate::console::CannedReplies::empty()
        };
        let webhook_budget =
            crate::http::webhook_guard::WebhookBudget::new(settings.server.webhook_inflight_bytes);
        let webchat_sessions = Arc::new(crate::http::webchat_sessions::PendingSessions::new(
            settings.server.webchat_sessions_per_address,
        ));
        let console_feed = shared.console_feed.clone();
        let renderer = Renderer;
        // One token: when shutdown begins, the web chat's and the console's streams end.
        let shutdown = CancellationToken::new();
        let state = AppState::new(AppParts {
            webhooks: WebhookState::new(WebhookParts {
                settings: settings.clone(),
                ingest: ingest.clone(),
                console_feed: console_feed.clone(),
                telegram,
                webhook_budget,
            }),
            webchat: WebChatState::new(WebChatParts {
                settings: settings.clone(),
                store: store.clone(),
                ingest: ingest.clone(),
                hub,
                renderer: renderer.clone(),
                shutdown: shutdown.clone(),
                webchat_sessions,
            }),
            pages: PageState::new(PageParts {
                settings: settings.clone(),
                store: store.clone(),
                ingest: ingest.clone(),
                renderer: renderer.clone(),
                console_feed: console_feed.clone(),
                shared: shared.clone(),
            }),
            health: HealthState::new(HealthParts {
                store: store.clone(),
                metrics,
                ready: Arc::new(AtomicBool::new(true)),
            }),
            console: crate::console::ConsoleState {
                settings,
                store,
                ingest,
                renderer,
                shutdown,
                console_feed,
                shared: shared.clone(),
                login_limiter: Arc::default(),
                canned: Arc::new(canned),
            },
        });
        Ok(App {
            state,
            shared,
            workers,
            timers,
            outbox,
            maintenance,
            stop_timers,
            drain_workers,
            stop_outbox,
            wedged,
            replica: replica_task,
            stop_replica,
        })
    }

    pub fn router(&self) -> axum::Router {
        router(self.state.clone())
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.health.store.clone()
    }

    /// Serves until `shutdown` resolves, then stops in order: stop accepting, let requests
    /// finish, apply every accepted event, send what is due, flush the store.
    pub async fn run(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.pages.settings.server.shutdown_grace_seconds);
        let stopping = self.state.webchat.shutdown.clone();
        let ready = self.state.health.ready.clone();
        let wedged = self.wedged.clone();
        let signal = async move {
            tokio::select! {
                () = shutdown => {}
                () = wedged.cancelled() => {}
            }
            tracing::info!("shutting down");
            ready.store(false, Ordering::Release);
            stopping.cancel();
        };
        let server = &self.state.pages.settings.server;
        let limits = crate::http::serve::ServeLimits {
            header_timeout: Duration::from_secs(server.header_timeout_seconds),
            max_connections: crate::http::serve::connection_budget(server.max_connections),
            grace,
        };
        crate::http::serve::serve(listener, self.router(), limits, signal).await;

        self.stop_timers.cancel();
        join_all(&mut self.timers, grace).await;
        join_all(&mut self.maintenance, grace).await;
        self.drain_workers.cancel();
        join_all(&mut self.workers, grace).await;
        self.stop_outbox.cancel();
        join_all(&mut self.outbox, grace + Duration::from_secs(1)).await;
        self.stop_replica.cancel();
        join_all(&mut self.replica, grace).await;
        self.shared.store.flush().await?;
        if self.wedged.is_cancelled() {
            anyhow::bail!("a step wedged its worker; stopped so that a restart can set it aside");
        }
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

/// This replica's name: the configured one, else a fresh random one.
fn replica_name(settings: &Settings) -> String {
    let configured = &settings.store.postgres.replica_id;
    if configured.is_empty() {
        format!("r-{}", &clock::random_hex_128()[..12])
    } else {
        configured.clone()
    }
}

/// Loads the catalog file again; a file that does not validate leaves the current catalog
/// in place. Returns the number of products now served.
pub async fn reload_catalog(shared: &Shared) -> anyhow::Result<usize> {
    let (path, images) = (
        shared.settings.shop.catalog.clone(),
        shared.settings.shop.images.clone(),
    );
    // Reading and validating the file is blocking work.
    let (catalog, digest) =
        tokio::task::spawn_blocking(move || load_catalog_with_digest(&path, &images)).await??;
    let catalog = with_sales(&shared.store, catalog, &digest).await?;
    let products = catalog.products().len();
    shared.replace_catalog(catalog);
    Ok(products)
}

/// The catalog's stock minus what was sold since its file was written. A new file (a new
/// digest) brings its own stock numbers and the count of sales starts again.
async fn with_sales(
    store: &Arc<dyn Store>,
    catalog: flows::Catalog,
    digest: &str,
) -> anyhow::Result<flows::Catalog> {
    let levels: Vec<(flows::Sku, u32)> = catalog
        .products()
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| (v.sku.clone(), v.stock)))
        .collect();
    let sold = store.stock_sold(digest, &levels).await?;
    if sold.is_empty() {
        return Ok(catalog);
    }
    Ok(catalog.with_stock(&flows::stock::remaining(&levels, &sold)))
}

/// Products paid for together, from every paid order in the store.
async fn bought_together(store: &Arc<dyn Store>) -> anyhow::Result<flows::BoughtTogether> {
    let mut together = flows::BoughtTogether::default();
    for order in store.orders().await? {
        if order.status.money_taken() {
            together.record(order.lines.iter().map(|line| &line.product));
        }
    }
    Ok(together)
}

fn payment_provider(
    settings: &Settings,
    store: &Arc<dyn Store>,
) -> anyhow::Result<Option<Arc<PaymentProvider>>> {
    let payments = &settings.payments;
    // Links must work from the customer's phone: the public URL, else where we listen.
    let base = settings.link_base();
    Ok(match payments.provider {
        ProviderKind::None => None,
        ProviderKind::Demo => Some(Arc::new(PaymentProvider::Demo(DemoProvider::new(
            store.clone(),
            &base,
        )))),
        ProviderKind::Stripe => Some(Arc::new(PaymentProvider::Stripe(StripeClient::new(
            &payments.stripe,
            &base,
            payments.link_expiry_minutes,
        )?))),
    })
}

/// SIGHUP reloads the catalog (after `souk catalog import`), without a restart.
async fn reload_catalog_on_hangup(shared: Arc<Shared>, stop: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGHUP; catalog reload needs a restart");
                return;
            }
        };
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                received = hangups.recv() => {
                    if received.is_none() {
                        return;
                    }
                    match reload_catalog(&shared).await {
                        Ok(products) => tracing::info!(products, "catalog reloaded"),
                        Err(error) => tracing::error!(error = %format!("{error:#}"), "catalog reload refused; the current catalog stays"),
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    stop.cancelled().await;
}

async fn join_all(tasks: &mut Tasks, limit: Duration) {
    for task in tasks.0.drain(..) {
        if tokio::time::timeout(limit, task).await.is_err() {
            tracing::warn!("a background task did not stop in time");
        }
    }
}

/// The Discord gateway client, when the channel is on.
#[cfg(feature = "discord")]
fn start_discord(
    settings: &Settings,
    ingest: &Ingest,
    stop: CancellationToken,
) -> Option<JoinHandle<()>> {
    let discord = &settings.channels.discord;
    if !discord.enabled {
        return None;
    }
    let ingress = Arc::new(crate::discord::ingress::DiscordIngress {
        ingest: ingest.clone(),
        http: Arc::new(crate::discord::sender::http(discord)),
        default_locale: settings.shop.default_locale,
    });
    Some(tokio::spawn(crate::discord::gateway::run_gateway(
        discord.clone(),
        ingress,
        stop,
    )))
}

#[cfg(not(feature = "discord"))]
fn start_discord(_: &Settings, _: &Ingest, _: CancellationToken) -> Option<JoinHandle<()>> {
    None
}

/// Telegram's update handling, and the task that brings updates: long polling, or the
/// webhook's registration when souk has a public URL.
fn start_telegram(
    settings: &Settings,
    shared: &Arc<Shared>,
    ingest: &Ingest,
    stop: CancellationToken,
) -> anyhow::Result<(
    crate::telegram::ingress::SharedIngress,
    Option<JoinHandle<()>>,
)> {
    use crate::telegram::{ingress::TelegramIngress, polling, sender};
    let telegram = &settings.channels.telegram;
    if !telegram.enabled {
        return Ok((None, None));
    }
    let ingress = Arc::new(TelegramIngress {
        ingest: ingest.clone(),
        bot: sender::bot(telegram)?,
        default_locale: settings.shop.default_locale,
        shared: shared.clone(),
    });
    let public_url = settings.server.public_url.trim_end_matches('/');
    let task = if telegram.uses_webhook(public_url) {
        let secret = telegram
            .webhook_secret
            .as_ref()
            .map(|s| s.expose().to_owned())
            .unwrap_or_default();
        tokio::spawn(polling::register_webhook(
            ingress.clone(),
            format!("{public_url}/webhooks/telegram"),
            secret,
            stop,
        ))
    } else {
        tokio::spawn(polling::run_polling(
            ingress.clone(),
            telegram.poll_timeout_seconds,
            stop,
        ))
    };
    Ok((Some(ingress), Some(task)))
}

/// While the store refuses writes (a full disk), tries every second to reopen it; once it
/// takes writes again, the events still in the inbox (their commits failed meanwhile) go to
/// their workers again, as at a start.
async fn recover_store(shared: Arc<Shared>, driver: Driver, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        if shared.store.healthy() {
            continue;
        }
        let store = &shared.store;
        let recovered = async {
            if !store.recover().await? {
                return Ok::<_, crate::store::StoreError>(None);
            }
            store.pending_inbox().await.map(Some)
        }
        .await;
        let pending = match recovered {
            Ok(Some(pending)) => pending,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "the store is not back yet");
                continue;
            }
        };
        shared.verify_inbox.store(true, Ordering::Release);
        tracing::info!(
            count = pending.len(),
            "store back: re-driving events whose commits failed"
        );
        for entry in pending {
            if driver.dispatch(entry).await.is_err() {
                return;
            }
        }
        shared.outbox_wakeup.notify_one();
        shared.timer_wakeup.notify_one();
        shared.payment_wakeup.notify_one();
    }
}

/// Hourly: provider message ids past the dedup retention, console sessions past their
/// expiry.
async fn prune_expired(shared: Arc<Shared>, stop: CancellationToken) {
    let retention =
        Span::hours(i64::try_from(shared.settings.store.dedup_retention_hours).unwrap_or(24 * 365));
    loop {
        let before = flows::Timestamp(clock::now().millis().saturating_sub(retention.as_millis()));
        match shared.store.prune_processed(before).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "forgot old dedup keys"),
            Err(error) => tracing::error!(%error, "pruning dedup keys failed"),
        }
        match shared.store.prune_console_sessions(clock::now()).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(
                pruned,
                "dropped expired console sessions, devices and invitations"
            ),
            Err(error) => tracing::error!(%error, "pruning console sessions failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(3_600)) => {}
        }
    }
}

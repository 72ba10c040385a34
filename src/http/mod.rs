//! HTTP: the `router()` factory (testable without a socket) and the shared handler state.

pub mod admin;
mod assets;
mod bookings;
mod health;
mod meta;
mod payments;
pub mod serve;
mod telegram;
mod webchat;
pub mod webchat_sessions;
pub mod webhook_guard;

pub use crate::api_error::ApiError;
pub use crate::html::{escape_html, protect};
pub use assets::CHAT_PAGE_LABELS;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRef;
use axum::response::Redirect;
use axum::routing::{get, post};
use flows::Channel;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::driver::Ingest;
use crate::render::{MEDIA_PREFIX, Renderer};
use crate::send::webchat::WebChatHub;
use crate::settings::Settings;
use crate::store::Store;

/// Everything the HTTP layer serves with, as the parts its handlers take: each handler
/// extracts only its part (`State<WebhookState>` and so on, through `FromRef`), so what a
/// route can touch is in its signature.
/// Each part sits behind one `Arc`: axum clones a route's state, and its middleware's, for
/// every request, and one reference count is cheaper than a dozen (the clones and drops of
/// the parts' fields were about 4% of souk's CPU on the webhook benchmark).
macro_rules! one_arc {
    ($($state:ident => $parts:ident),* $(,)?) => {$(
        #[derive(Clone)]
        pub struct $state(Arc<$parts>);

        impl $state {
            pub fn new(parts: $parts) -> $state {
                $state(Arc::new(parts))
            }
        }

        impl std::ops::Deref for $state {
            type Target = $parts;
            fn deref(&self) -> &$parts {
                &self.0
            }
        }
    )*};
}

one_arc!(
    AppState => AppParts,
    WebhookState => WebhookParts,
    WebChatState => WebChatParts,
    PageState => PageParts,
    HealthState => HealthParts,
);

pub struct AppParts {
    pub webhooks: WebhookState,
    pub webchat: WebChatState,
    pub pages: PageState,
    pub health: HealthState,
    pub console: crate::console::ConsoleState,
}

/// The platforms' webhooks: their settings and secrets, where accepted events go, and the
/// guard's byte budget.
pub struct WebhookParts {
    pub settings: Arc<Settings>,
    pub ingest: Ingest,
    /// Conversations that changed, for open consoles.
    pub console_feed: crate::console::ConsoleFeed,
    /// Telegram's update handling, when the channel is on.
    pub telegram: crate::telegram::ingress::SharedIngress,
    /// Bytes of webhook bodies held at once (`webhook_guard.rs`).
    pub webhook_budget: webhook_guard::WebhookBudget,
}

/// The shop's own web chat: sessions, messages, the live event stream.
pub struct WebChatParts {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub ingest: Ingest,
    pub hub: Arc<WebChatHub>,
    pub renderer: Renderer,
    /// Cancelled when shutdown begins; long-lived streams end on it.
    pub shutdown: CancellationToken,
    /// Web chat sessions that have not sent anything yet.
    pub webchat_sessions: Arc<webchat_sessions::PendingSessions>,
}

/// Pages and small APIs: the chat page, payment pages and the payment provider's webhook,
/// calendar files, the order-status API.
pub struct PageParts {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub ingest: Ingest,
    pub renderer: Renderer,
    pub console_feed: crate::console::ConsoleFeed,
    /// The running catalog and flow settings.
    pub shared: Arc<crate::driver::Shared>,
}

/// Liveness, readiness and metrics.
pub struct HealthParts {
    pub store: Arc<dyn Store>,
    pub metrics: PrometheusHandle,
    pub ready: Arc<AtomicBool>,
}

macro_rules! part_of_app_state {
    ($($part:ty => $field:ident),* $(,)?) => {$(
        impl FromRef<AppState> for $part {
            fn from_ref(state: &AppState) -> $part {
                state.$field.clone()
            }
        }
    )*};
}

part_of_app_state!(
    WebhookState => webhooks,
    WebChatState => webchat,
    PageState => pages,
    HealthState => health,
);

/// GET (handshake) and POST (events) of one Meta product's webhook.
fn meta_route(
    state: &WebhookState,
    channel: Channel,
    body_limit: usize,
) -> axum::routing::MethodRouter<AppState> {
    guarded(
        state,
        get(move |state, query| meta::verify(state, channel, query))
            .post(move |state, headers, body| meta::receive(state, channel, headers, body)),
        body_limit,
    )
}

/// A webhook route behind its guard: signature header, length, byte budget and body deadline
/// are checked before the body is read (`webhook_guard.rs`).
fn guarded(
    state: &WebhookState,
    route: axum::routing::MethodRouter<AppState>,
    body_limit: usize,
) -> axum::routing::MethodRouter<AppState> {
    route
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            webhook_guard::guard,
        ))
}

/// A span per request with the path only: query strings can carry secrets (Meta's
/// `hub.verify_token`), so they are never recorded.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
}

pub fn router(state: AppState) -> Router {
    let settings = state.pages.settings.clone();
    let images = ServeDir::new(&settings.shop.images);
    let body_limit = settings.server.body_limit_bytes;
    let webhook_limit = settings.server.webhook_body_limit_bytes;
    let hooks = &state.webhooks;
    Router::new()
        .route("/", get(|| async { Redirect::to("/chat") }))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/chat", get(assets::page))
        .route("/chat/assets/{file}", get(assets::asset))
        .route("/chat/api/sessions", post(webchat::create_session))
        .route("/chat/api/messages", post(webchat::post_message))
        .route("/chat/api/events", get(webchat::events))
        .route("/chat/api/history", get(webchat::history))
        .route(
            "/webhooks/whatsapp",
            meta_route(hooks, Channel::WhatsApp, webhook_limit),
        )
        .route(
            "/webhooks/messenger",
            meta_route(hooks, Channel::Messenger, webhook_limit),
        )
        .route(
            "/webhooks/instagram",
            meta_route(hooks, Channel::Instagram, webhook_limit),
        )
        .route(
            "/webhooks/telegram",
            guarded(hooks, post(telegram::receive), webhook_limit),
        )
        .route(
            "/webhooks/payments/stripe",
            guarded(hooks, post(payments::stripe_webhook), webhook_limit),
        )
        .route(
            "/pay/{token}",
            get(payments::pay_page).post(payments::pay_submit),
        )
        .route("/pay/done", get(payments::returned))
        .route("/bookings/{file}", get(bookings::calendar_file))
        .route(
            "/api/admin/orders/{id}/status",
            post(admin::set_order_status),
        )
        .route(
            "/api/admin/customers/{reference}/export",
            get(admin::export_customer),
        )
        .route(
            "/api/admin/customers/{reference}/erase",
            post(admin::erase_customer),
        )
        .route("/api/admin/marketing", post(admin::send_campaign))
        .route("/pay/cancelled", get(payments::returned))
        .merge(crate::console::router(state.console.clone()))
        .nest_service(MEDIA_PREFIX.trim_end_matches('/'), images)
        .layer(DefaultBodyLimit::max(body_limit))
        // Every other body must also keep coming: a client that stops sending mid-body is
        // cut off instead of holding its connection and buffer.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            std::time::Duration::from_secs(settings.server.body_timeout_seconds),
        ))
        // gzip or brotli as the client asks; event streams, images and tiny bodies as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

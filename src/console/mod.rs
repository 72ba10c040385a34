//! The operators' web console at `/console`: log in, watch every conversation live, take one
//! over, reply through the customer's channel, hand back. The HTTP contract is in
//! `docs/console-api.md`; ownership itself lives in the core (`flows::Handoff`).

mod actions;
mod canned;
mod dead_letters;
mod describe;
mod feed;
mod hashing;
mod list;
mod numbers;
pub use list::reference;
mod login;
mod media;
mod orders;
pub mod password;
mod rate_limit;
mod session;
mod set_aside;
mod staff;
mod state;
mod view;
mod window;

pub use actions::shown_name;
pub use canned::CannedReplies;
pub use feed::ConsoleFeed;
pub use login::{offer_setup_link, valid_name};
pub use rate_limit::LoginLimiter;
pub use session::digest as session_digest;
pub use state::ConsoleState;

use axum::Router;
use axum::extract::{Extension, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use session::Authed;

const CONSOLE_HTML: &str = include_str!("assets/console.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");

static CONSOLE_JS_PATH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::static_files::hashed("/console/assets/console.js", CONSOLE_JS)
});
static CONSOLE_CSS_PATH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::static_files::hashed("/console/assets/console.css", CONSOLE_CSS)
});
static CONSOLE_PAGE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| with_asset_paths(CONSOLE_HTML));

/// A console page naming its script and style by their content-hashed paths.
pub fn with_asset_paths(html: &str) -> String {
    html.replace("/console/assets/console.js", &CONSOLE_JS_PATH)
        .replace("/console/assets/console.css", &CONSOLE_CSS_PATH)
}

/// The console's routes with their state given: they fit any application's router.
pub fn router<S: Clone + Send + Sync + 'static>(state: ConsoleState) -> Router<S> {
    let conversation = "/console/api/conversations/{customer}";
    let api = Router::new()
        .route("/console/api/me", get(me))
        .route(
            "/console/api/operators",
            get(list::operators).post(list::add_operator),
        )
        .route("/console/api/operators/{name}/remove", post(staff::remove))
        .route("/console/api/operators/{name}/reset", post(staff::reset))
        .route("/console/api/operators/{name}/role", post(staff::set_role))
        .route("/console/api/orders/{id}", get(orders::order))
        .route("/console/api/orders/{id}/status", post(orders::set_status))
        .route("/console/api/products", get(list::products))
        .route("/console/api/set-aside", get(set_aside::list))
        .route("/console/api/audit", get(actions::audit_log))
        .route("/console/api/kpis", get(numbers::kpis))
        .route("/console/api/set-aside/{seq}/retry", post(set_aside::retry))
        .route("/console/api/dead-letters", get(dead_letters::list))
        .route(
            "/console/api/dead-letters/{id}/resend",
            post(dead_letters::resend),
        )
        .route("/console/api/conversations", get(list::conversations))
        .route(conversation, get(view::conversation))
        .route(&format!("{conversation}/canned"), get(canned::replies))
        .route(&format!("{conversation}/takeover"), post(actions::takeover))
        .route(&format!("{conversation}/reply"), post(actions::reply))
        .route(
            &format!("{conversation}/translate"),
            post(actions::translate),
        )
        .route(&format!("{conversation}/export"), get(actions::export))
        .route(&format!("{conversation}/erase"), post(actions::erase))
        .route(
            &format!("{conversation}/handback"),
            post(actions::hand_back),
        )
        .route(&format!("{conversation}/assign"), post(actions::assign))
        .route(&format!("{conversation}/notes"), post(actions::add_note))
        .route(&format!("{conversation}/read"), post(actions::mark_read))
        .route(&format!("{conversation}/unlink"), post(actions::unlink))
        .route(
            &format!("{conversation}/bookings/{{booking}}/no-show"),
            post(actions::mark_no_show),
        )
        .route(
            &format!("{conversation}/product"),
            post(actions::send_product),
        )
        .route(
            &format!("{conversation}/payment-link"),
            post(actions::send_payment_link),
        )
        .route(
            "/console/api/media/whatsapp/{media_id}",
            get(media::whatsapp),
        )
        .route(
            "/console/api/media/{customer}/{url}",
            get(media::attachment),
        )
        .route("/console/api/events", get(feed::events))
        .route("/console/logout", post(login::logout))
        .route_layer(from_fn_with_state(state.clone(), session::require_api));
    let pages = Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/assets/console.js", get(script))
        .route(&CONSOLE_JS_PATH, get(script_hashed))
        .route_layer(from_fn_with_state(state.clone(), session::require_page));
    let public = Router::new()
        .route("/console/login", get(login::login_page).post(login::login))
        .route("/console/setup", get(login::setup_page).post(login::setup))
        .route("/console/assets/console.css", get(style))
        .route(&CONSOLE_CSS_PATH, get(style_hashed));
    api.merge(pages)
        .merge(public)
        .route_layer(from_fn(security_headers))
        .with_state(state)
}

/// The pages' guard rails on every console response, and nothing cached: answers hold
/// customers' data.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A response with a policy of its own (media: `sandbox`) keeps it.
    let own_policy = headers.remove(header::CONTENT_SECURITY_POLICY);
    crate::html::protect(headers);
    if let Some(policy) = own_policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        CONSOLE_PAGE.as_str(),
    )
        .into_response()
}

/// The script under its plain name, for a page of an older release: not kept.
async fn script() -> Response {
    crate::static_files::serve(CONSOLE_JS, "text/javascript; charset=utf-8", "no-store")
}

/// Only for logged-in operators, so only their browser keeps it.
async fn script_hashed() -> Response {
    crate::static_files::serve(
        CONSOLE_JS,
        "text/javascript; charset=utf-8",
        crate::static_files::IMMUTABLE_PRIVATE,
    )
}

async fn style() -> Response {
    crate::static_files::serve(
        CONSOLE_CSS,
        "text/css; charset=utf-8",
        "public, max-age=300",
    )
}

async fn style_hashed() -> Response {
    crate::static_files::serve(
        CONSOLE_CSS,
        "text/css; charset=utf-8",
        crate::static_files::IMMUTABLE,
    )
}

async fn me(
    axum::extract::State(state): axum::extract::State<ConsoleState>,
    Extension(authed): Extension<Authed>,
) -> axum::Json<Value> {
    // With a language model: the operators' language, for translations both ways.
    let translate = actions::translator(&state).map(|_| {
        let language = state.settings.console.operator_language;
        json!({ "language": language.code(), "name": language.native_name() })
    });
    axum::Json(json!({
        "name": authed.operator.name,
        "display_name": shown_name(&authed.operator),
        "role": authed.operator.role.name(),
        "csrf": authed.session.csrf,
        "translate": translate,
    }))
}

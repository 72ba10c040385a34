//! Logging in and out, and the first-start set-up link that creates the first admin.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Extension, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use flows::{Span, Timestamp};

use super::ConsoleState;
use super::hashing;
use super::rate_limit::AttemptKeys;
use super::session::{self, Authed};
use crate::api_error::ApiError;
use crate::clock;
use crate::html::escape_html;
use crate::store::{ConsoleSession, Operator, Role, Store};

const LOGIN_PAGE: &str = include_str!("assets/login.html");
const SETUP_PAGE: &str = include_str!("assets/setup.html");
const INVITE_PAGE: &str = include_str!("assets/invite.html");
/// How long the set-up link logged at first start works.
const SETUP_LINK_HOURS: i64 = 24;

fn page(template: &str, error: Option<&str>, token: &str) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape_html(e)))
        .unwrap_or_default();
    super::with_asset_paths(template)
        .replace("<!--error-->", &error)
        .replace("{{token}}", &escape_html(token))
}

pub async fn login_page() -> Html<String> {
    Html(page(LOGIN_PAGE, None, ""))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// Names are lower-case words: they appear in conversations ("Ana from our team") and URLs.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn login_error(status: StatusCode, message: &str) -> Response {
    (status, Html(page(LOGIN_PAGE, Some(message), ""))).into_response()
}

pub async fn login(
    State(state): State<ConsoleState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !session::same_origin(&state, &headers) {
        return login_error(StatusCode::FORBIDDEN, "Cross-origin login refused.");
    }
    let Ok(Form(form)) = form else {
        return login_error(StatusCode::BAD_REQUEST, "Enter your name and password.");
    };
    let name = form.name.trim().to_lowercase();
    let known_device = match known_device(&state, &headers, &name).await {
        Ok(known) => known,
        Err(error) => return error.into_response(),
    };
    let keys = AttemptKeys::new(
        &name,
        peer.map(|Extension(ConnectInfo(peer))| peer.ip()),
        known_device,
    );
    if let Err(wait) = state.login_limiter.begin(&keys, Instant::now()) {
        metrics::counter!("souk_console_logins_total", "result" => "limited").increment(1);
        let mut response = login_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts. Please wait a few minutes and try again.",
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let operator = if valid_name(&name) {
        match state.store.operator(&name).await {
            Ok(operator) => operator,
            Err(error) => return ApiError::from(error).into_response(),
        }
    } else {
        None
    };
    let stored = operator.as_ref().map(|op| op.password_hash.clone());
    let operator = match hashing::verify(form.password, stored).await {
        Ok(true) => operator,
        Ok(false) => None,
        Err(error) => {
            // Not checked, so not counted against the name.
            state.login_limiter.succeeded(&keys);
            return error.into_response();
        }
    };
    let Some(operator) = operator else {
        metrics::counter!("souk_console_logins_total", "result" => "failed").increment(1);
        return login_error(StatusCode::UNAUTHORIZED, "Wrong name or password.");
    };
    state.login_limiter.succeeded(&keys);
    metrics::counter!("souk_console_logins_total", "result" => "ok").increment(1);
    tracing::info!(operator = %operator.name, "console login");
    let cookies = match start_session(&state, &operator.name).await {
        Ok(session) => remember_device(&state, &operator.name)
            .await
            .map(|device| (session, device)),
        Err(error) => Err(error),
    };
    match cookies {
        Ok((session, device)) => {
            let mut response = Redirect::to("/console").into_response();
            response.headers_mut().append(header::SET_COOKIE, session);
            response.headers_mut().append(header::SET_COOKIE, device);
            response
        }
        Err(error) => error.into_response(),
    }
}

/// How long a browser stays known after a login from it.
const KNOWN_DEVICE_DAYS: i64 = 90;

/// Whether this browser carries a known-device cookie of a login as `name`.
async fn known_device(
    state: &ConsoleState,
    headers: &HeaderMap,
    name: &str,
) -> Result<bool, ApiError> {
    let Some(token) = session::cookie(headers, session::DEVICE_COOKIE) else {
        return Ok(false);
    };
    Ok(state
        .store
        .known_device(&session::digest(token))
        .await?
        .is_some_and(|device| device.operator == name && device.expires_at > clock::now()))
}

/// Marks this browser as one `operator` logged in from; returns its cookie.
async fn remember_device(state: &ConsoleState, operator: &str) -> Result<HeaderValue, ApiError> {
    let token = session::random_token()?;
    let device = crate::store::KnownDevice {
        operator: operator.to_owned(),
        expires_at: clock::now().plus(Span::hours(24 * KNOWN_DEVICE_DAYS)),
    };
    state
        .store
        .put_known_device(&session::digest(&token), &device)
        .await?;
    Ok(session::device_cookie(
        state,
        &token,
        KNOWN_DEVICE_DAYS * 24 * 3600,
    ))
}

/// A new session for `operator`; returns its cookie.
async fn start_session(state: &ConsoleState, operator: &str) -> Result<HeaderValue, ApiError> {
    let token = session::random_token()?;
    let hours = state.settings.console.session_hours;
    let now = clock::now();
    let record = ConsoleSession {
        operator: operator.to_owned(),
        csrf: session::random_token()?,
        created_at: now,
        expires_at: now.plus(Span::hours(hours)),
    };
    state
        .store
        .put_console_session(&session::digest(&token), &record)
        .await?;
    Ok(session::set_cookie(state, &token, hours * 3600))
}

pub async fn logout(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
) -> Result<Response, ApiError> {
    state.store.delete_console_session(&authed.digest).await?;
    tracing::info!(operator = %authed.operator.name, "console logout");
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie(&state))],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
    /// An admin's invitation or reset link (`staff.rs`).
    #[serde(default)]
    invite: String,
}

pub async fn setup_page(Query(query): Query<SetupQuery>) -> Html<String> {
    if !query.invite.is_empty() {
        return Html(page(INVITE_PAGE, None, &query.invite));
    }
    Html(page(SETUP_PAGE, None, &query.token))
}

/// A colleague's invitation or reset link: sets that operator's password, once.
async fn accept_invite(state: &ConsoleState, invite: &str, password: String) -> Response {
    let retry = |status: StatusCode, message: &str| {
        (status, Html(page(INVITE_PAGE, Some(message), invite))).into_response()
    };
    let hashed = match hashing::hash(password).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => return retry(StatusCode::UNPROCESSABLE_ENTITY, &error.to_string()),
        Err(error) => return error.into_response(),
    };
    let taken = match state.store.take_invite(&session::digest(invite)).await {
        Ok(taken) => taken,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let operator = match taken.filter(|invite| invite.expires_at > clock::now()) {
        Some(invite) => state.store.operator(&invite.operator).await.ok().flatten(),
        None => None,
    };
    let Some(mut operator) = operator else {
        return (
            StatusCode::FORBIDDEN,
            Html(page(
                INVITE_PAGE,
                Some("This link is not valid any more. Ask an admin for a new one."),
                "",
            )),
        )
            .into_response();
    };
    operator.password_hash = hashed;
    if let Err(error) = state.store.put_operator(&operator, true).await {
        return ApiError::from(error).into_response();
    }
    tracing::info!(operator = %operator.name, "operator set a password through an invitation");
    match start_session(state, &operator.name).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    invite: String,
}

pub async fn setup(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    form: Result<Form<SetupForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            Html(page(SETUP_PAGE, Some("Fill in every field."), "")),
        )
            .into_response();
    };
    let retry = |status: StatusCode, message: &str| {
        (status, Html(page(SETUP_PAGE, Some(message), &form.token))).into_response()
    };
    if !session::same_origin(&state, &headers) {
        return retry(StatusCode::FORBIDDEN, "Cross-origin request refused.");
    }
    if !form.invite.is_empty() {
        return accept_invite(&state, &form.invite, form.password.clone()).await;
    }
    let name = form.name.trim().to_lowercase();
    if !valid_name(&name) {
        return retry(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The name must be 1–64 lower-case letters, digits, dots, dashes or underscores.",
        );
    }
    // Cheap checks before the expensive hash: the link must be live and nobody may have an
    // account yet.
    let digest = session::digest(&form.token);
    let live = async |store: &dyn Store| -> Result<bool, ApiError> {
        Ok(store
            .setup_token(&digest)
            .await?
            .is_some_and(|expires_at| expires_at > clock::now())
            && store.operators().await?.is_empty())
    };
    let refused = || {
        (
            StatusCode::FORBIDDEN,
            Html(page(
                SETUP_PAGE,
                Some("This set-up link is not valid any more. Use `souk operator add`."),
                "",
            )),
        )
            .into_response()
    };
    match live(state.store.as_ref()).await {
        Ok(true) => {}
        Ok(false) => return refused(),
        Err(error) => return error.into_response(),
    }
    let hashed = match hashing::hash(form.password.clone()).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => return retry(StatusCode::UNPROCESSABLE_ENTITY, &error.to_string()),
        Err(error) => return error.into_response(),
    };
    // Taking the token is atomic and only one token exists at a time, so of two
    // concurrent set-ups exactly one creates the admin.
    let created = async {
        let Some(expires_at) = state.store.take_setup_token(&digest).await? else {
            return Ok(false);
        };
        if expires_at <= clock::now() || !state.store.operators().await?.is_empty() {
            return Ok(false);
        }
        let operator = Operator {
            name: name.clone(),
            // The one name the console and customers know them by ("Ana Ionescu").
            display_name: form.display_name.trim().chars().take(80).collect(),
            role: Role::Admin,
            password_hash: hashed,
            created_at: clock::now(),
        };
        Ok::<_, ApiError>(state.store.put_operator(&operator, false).await?)
    }
    .await;
    match created {
        Ok(true) => {}
        Ok(false) => return refused(),
        Err(error) => return error.into_response(),
    }
    tracing::info!(operator = %name, "first console admin created through the set-up link");
    match start_session(&state, &name).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response(),
        Err(error) => error.into_response(),
    }
}

/// At start with no operator: a one-time link to create the first admin, instead of any
/// default password. Logged, because whoever runs the binary reads its log.
/// Returns the link (for tests); `None` when operators exist.
pub async fn offer_setup_link(store: &dyn Store, base_url: &str) -> anyhow::Result<Option<String>> {
    if !store.operators().await?.is_empty() {
        return Ok(None);
    }
    let token = session::random_token().map_err(|e| anyhow::anyhow!(e.message))?;
    let expires_at: Timestamp = clock::now().plus(Span::hours(SETUP_LINK_HOURS));
    // Replaces any earlier link: one live token at a time.
    store
        .put_setup_token(&session::digest(&token), expires_at)
        .await?;
    let link = format!("{base_url}/console/setup?token={token}");
    tracing::warn!(
        "no console operator yet: open {link} within {SETUP_LINK_HOURS} hours to create the \
         first admin (or run `souk operator add NAME --role admin`)"
    );
    Ok(Some(link))
}

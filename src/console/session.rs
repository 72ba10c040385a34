//! Who is logged in: an opaque cookie token whose SHA-256 names a stored session, a CSRF
//! token per session checked on every state-changing request, and same-origin checks.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ConsoleState;
use crate::api_error::ApiError;
use crate::clock;
use crate::store::{ConsoleSession, Operator};

pub const COOKIE: &str = "souk_console";
/// Marks a browser an operator logged in from (`login.rs`, the lockout exemption).
pub const DEVICE_COOKIE: &str = "souk_device";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The logged-in operator, put in the request's extensions by the session checks.
#[derive(Clone, Debug)]
pub struct Authed {
    pub operator: Operator,
    pub session: ConsoleSession,
    pub digest: [u8; 32],
}

impl Authed {
    /// 403 with `refusal` ("only admins …") unless the operator is an admin.
    pub fn require_admin(&self, refusal: &'static str) -> Result<(), ApiError> {
        if self.operator.role == crate::store::Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::FORBIDDEN, refusal))
        }
    }
}

/// 256 random bits, hex: cookie tokens, CSRF tokens and set-up links.
pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(hex::encode(bytes))
}

pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The session of this request's cookie, if it is valid now.
pub async fn current(
    state: &ConsoleState,
    headers: &HeaderMap,
) -> Result<Option<Authed>, ApiError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let digest = digest(token);
    let Some(session) = state.store.console_session(&digest).await? else {
        return Ok(None);
    };
    if session.expires_at <= clock::now() {
        state.store.delete_console_session(&digest).await?;
        return Ok(None);
    }
    // An operator removed since logging in is logged out.
    let Some(operator) = state.store.operator(&session.operator).await? else {
        return Ok(None);
    };
    Ok(Some(Authed {
        operator,
        session,
        digest,
    }))
}

fn secure(state: &ConsoleState) -> &'static str {
    if state.settings.server.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

pub fn device_cookie(state: &ConsoleState, token: &str, max_age_seconds: i64) -> HeaderValue {
    let value = format!(
        "{DEVICE_COOKIE}={token}; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        secure(state)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn set_cookie(state: &ConsoleState, token: &str, max_age_seconds: i64) -> HeaderValue {
    let value = format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        secure(state)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(state: &ConsoleState) -> HeaderValue {
    let value = format!(
        "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure(state)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A browser sends `Origin` on cross-site requests; one naming another site is refused
/// even before the CSRF token is looked at. Behind a proxy (`server.public_url` set) the
/// origin must be exactly that one, scheme and port included; otherwise its host must be
/// the request's `Host`.
pub fn same_origin(state: &ConsoleState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    // Browsers send `Origin: null` for a form posted from a page whose referrer policy is
    // `no-referrer` (and from sandboxed or file pages). `Sec-Fetch-Site` is set by the
    // browser itself, never by a page's script, and says whether it came from our origin.
    if origin == "null" {
        return headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() == b"same-origin");
    }
    let origin = origin.trim_end_matches('/');
    if let Ok(public) = reqwest::Url::parse(&state.settings.server.public_url) {
        return origin.eq_ignore_ascii_case(&public.origin().ascii_serialization());
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

fn csrf_ok(headers: &HeaderMap, session: &ConsoleSession) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        // Digests compared, not the tokens: the comparison's timing says nothing useful.
        .is_some_and(|given| digest(given) == digest(&session.csrf))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Guards `/console/api/…` and `/console/logout`: 401 without a session, 403 without the
/// CSRF token (or from another origin) on anything that changes state.
pub async fn require_api(
    State(state): State<ConsoleState>,
    mut request: Request,
    next: Next,
) -> Response {
    let authed = match current(&state, request.headers()).await {
        Ok(Some(authed)) => authed,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "log in to the console first"})),
            )
                .into_response();
        }
        Err(error) => return error.into_response(),
    };
    if changes_state(request.method()) {
        if !same_origin(&state, request.headers()) {
            return ApiError::new(StatusCode::FORBIDDEN, "cross-origin request refused")
                .into_response();
        }
        if !csrf_ok(request.headers(), &authed.session) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "missing or wrong X-CSRF-Token header",
            )
            .into_response();
        }
    }
    request.extensions_mut().insert(authed);
    next.run(request).await
}

/// Guards the console's page and script: without a session, to the login page.
pub async fn require_page(
    State(state): State<ConsoleState>,
    request: Request,
    next: Next,
) -> Response {
    match current(&state, request.headers()).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => Redirect::to("/console/login").into_response(),
        Err(error) => error.into_response(),
    }
}

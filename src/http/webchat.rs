//! The web chat API: sessions, messages in, replies out as server-sent events, history.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_stream::wrappers::BroadcastStream;

use flows::{
    Channel, ChoiceAction, Customer, CustomerId, Event, Identity, Inbound, InboundMessage, Locale,
    TextKey,
};

use super::WebChatState;
use super::webchat_sessions::{PENDING_TTL, Refused};
use crate::api_error::ApiError;
use crate::clock;
use crate::render::dates::format_datetime;
use crate::store::{HistoryEntry, InboxEntry};

/// The store only ever sees a digest of the token: a leaked store does not leak sessions.
fn session_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn identity_of(token: &str) -> Identity {
    Identity::new(Channel::WebChat, session_digest(token))
}

/// A session token's conversation: in the store once it sent something, else waiting in
/// memory with the language it asked for (`webchat_sessions.rs`).
enum Session {
    Stored(CustomerId),
    Pending(Locale),
}

async fn resolve_session(state: &WebChatState, token: &str) -> Result<(Session, String), ApiError> {
    if !adapters::webchat::valid_session_token(token) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown session"));
    }
    let identity = identity_of(token);
    let found = state.store.find_identity(&identity).await?;
    let digest = identity.external_id;
    if let Some(customer) = found {
        return Ok((Session::Stored(customer), digest));
    }
    if let Some(locale) = state.webchat_sessions.locale(&digest, Instant::now()) {
        return Ok((Session::Pending(locale), digest));
    }
    // Made by another replica (a shared store keeps new sessions for all of them).
    let since = clock::now().plus(flows::Span(
        -i64::try_from(PENDING_TTL.as_millis()).unwrap_or(i64::MAX),
    ));
    match state.store.pending_session(&digest, since).await? {
        Some(locale) => Ok((Session::Pending(locale), digest)),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "unknown session")),
    }
}

/// The customer of a session, created in the store with its first message.
async fn customer_of(
    state: &WebChatState,
    session: Session,
    digest: &str,
) -> Result<CustomerId, ApiError> {
    let locale = match session {
        Session::Stored(customer) => return Ok(customer),
        Session::Pending(locale) => locale,
    };
    let identity = Identity::new(Channel::WebChat, digest.to_owned());
    let customer = Customer {
        id: CustomerId(clock::random_hex_128()),
        identities: vec![identity.clone()],
        display_name: None,
        locale: Some(locale),
        created_at: clock::now(),
    };
    // Atomic per identity: two first messages at once make one customer.
    let customer = state.store.resolve_identity(&identity, customer).await?;
    state.webchat_sessions.persisted(digest);
    Ok(customer)
}

/// A new session token for a visitor asking in `locale` from `address`, within the limits
/// on new chats.
async fn new_session(
    state: &WebChatState,
    locale: Locale,
    address: Option<std::net::IpAddr>,
) -> Result<String, ApiError> {
    let token = clock::random_hex_128();
    match state
        .webchat_sessions
        .create(session_digest(&token), locale, address, Instant::now())
    {
        Ok(()) => {}
        Err(Refused::TooMany(wait)) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many new chats from this address; try again in {} s",
                    wait.as_secs().max(1)
                ),
            ));
        }
        Err(Refused::Full) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many new chats right now; please retry",
            ));
        }
    }
    if state.store.shared_by_replicas() {
        state
            .store
            .put_pending_session(&session_digest(&token), locale, clock::now())
            .await?;
    }
    metrics::counter!("souk_webchat_sessions_total").increment(1);
    Ok(token)
}

fn locale_or_default(state: &WebChatState, tag: Option<&str>) -> Locale {
    tag.and_then(Locale::from_tag)
        .unwrap_or(state.settings.shop.default_locale)
}

pub async fn create_session(
    State(state): State<WebChatState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = adapters::webchat::parse_session(&body)?;
    let locale = locale_or_default(&state, request.locale.as_deref());
    let address = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
    let token = new_session(&state, locale, address).await?;
    Ok(Json(json!({ "session": token })))
}

pub async fn post_message(
    State(state): State<WebChatState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let message = adapters::webchat::parse_message(&body)?;
    let (session, digest) = resolve_session(&state, &message.session).await?;
    let customer = customer_of(&state, session, &digest).await?;
    // With a client id, a retried POST is recognised and applied once; the id doubles as
    // the message's public id so the page can match replies to it.
    let (public_id, dedup_key) = match message.client_id {
        Some(client_id) => (
            client_id.clone(),
            Some(format!("webchat:{digest}:{client_id}")),
        ),
        None => (clock::random_hex_128(), None),
    };
    let entry = InboxEntry {
        claim: None,
        seq: 0,
        public_id: public_id.clone(),
        dedup_key,
        customer,
        event: Event::Inbound({
            let mut inbound = Inbound::new(Channel::WebChat, message.message);
            // A hint from the browser: a name chrono-tz does not know is ignored.
            inbound.context.time_zone = message
                .time_zone
                .filter(|zone| zone.parse::<chrono_tz::Tz>().is_ok());
            inbound
        }),
        received_at: clock::now(),
    };
    let fresh = state.ingest.accept(entry).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": public_id, "duplicate": !fresh })),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SessionQuery {
    session: String,
}

/// How a page opens its stream: on its session (`history=1`: the conversation so far
/// comes first, as one `history` event), or `new=1` with the browser's `locale` and
/// `time_zone`: a new session is made, sent as a `session` event, and greeted, all in this
/// one request (a first visit then costs the page one round trip, not five).
#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    history: Option<u8>,
    #[serde(default)]
    new: Option<u8>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
}

pub async fn events(
    State(state): State<WebChatState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: axum::http::HeaderMap,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let Query(query) = query?;
    // A new session is a lasting record: only our own page may make one this way, not
    // another site's page (an <img> or a stream it points here, with its visitors' addresses).
    if query.new == Some(1) && !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a new chat starts from the chat page",
        ));
    }
    let mut first: Vec<SseEvent> = Vec::new();
    let receiver = match (&query.session, query.new) {
        (Some(token), _) => {
            let (session, digest) = resolve_session(&state, token).await?;
            // Subscribed before the history is read: a reply in between comes twice at
            // worst, and the page keeps one of each id.
            let receiver = state.hub.subscribe(&digest);
            if query.history == Some(1) {
                let messages = match session {
                    Session::Stored(customer) => history_messages(&state, &customer).await?,
                    Session::Pending(_) => Vec::new(),
                };
                first.push(history_event(messages));
            }
            receiver
        }
        (None, Some(1)) => {
            let locale = locale_or_default(&state, query.locale.as_deref());
            let address = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
            let token = new_session(&state, locale, address).await?;
            let digest = session_digest(&token);
            let receiver = state.hub.subscribe(&digest);
            let customer = customer_of(&state, Session::Pending(locale), &digest).await?;
            let mut inbound =
                Inbound::new(Channel::WebChat, InboundMessage::Action("start".into()));
            inbound.context.time_zone = query
                .time_zone
                .filter(|zone| zone.parse::<chrono_tz::Tz>().is_ok());
            let start = clock::random_hex_128();
            state
                .ingest
                .accept(InboxEntry {
                    claim: None,
                    seq: 0,
                    public_id: start.clone(),
                    dedup_key: Some(format!("webchat:{digest}:{start}")),
                    customer,
                    event: Event::Inbound(inbound),
                    received_at: clock::now(),
                })
                .await?;
            first.push(
                SseEvent::default()
                    .event("session")
                    .data(json!({ "session": token }).to_string()),
            );
            first.push(history_event(Vec::new()));
            receiver
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "give a session, or new=1 for a new one",
            ));
        }
    };
    let shutdown = state.shutdown.clone();
    // A tab that fell too far behind gets its stream ended: the browser reconnects and the
    // page catches up from the history, so nothing is silently skipped.
    let live = BroadcastStream::new(receiver)
        .take_while(|push| std::future::ready(push.is_ok()))
        .filter_map(|push| async move { push.ok() })
        .map(|push| {
            SseEvent::default()
                .event("reply")
                .id(push.id.to_string())
                .data(push.json.as_ref())
        });
    let stream = futures_util::stream::iter(first)
        .chain(live)
        .map(Ok)
        .take_until(async move { shutdown.cancelled().await });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// What the browser says of the request's origin (`Sec-Fetch-Site`): from our own page, or
/// typed or scripted outside a browser (no header). Anything else is another site.
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    match headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => true,
        Some(site) => site == "same-origin" || site == "none",
    }
}

fn history_event(messages: Vec<Value>) -> SseEvent {
    SseEvent::default()
        .event("history")
        .data(json!({ "messages": messages }).to_string())
}

/// The label a button had, so the history shows "Add to cart" rather than "add:mug".
fn remember_labels(
    rendered: &adapters::rendered::RenderedReply,
    labels: &mut HashMap<String, String>,
) {
    let card_actions = rendered.cards.iter().flat_map(|card| {
        card.actions
            .iter()
            .map(move |a| (a.id.clone(), format!("{} · {}", a.label, card.title)))
    });
    let cart_actions = rendered.cart.iter().flat_map(|cart| {
        cart.lines.iter().flat_map(|line| {
            line.actions
                .iter()
                .map(move |a| (a.id.clone(), format!("{} · {}", a.label, line.title)))
        })
    });
    let plain = rendered
        .choices
        .iter()
        .map(|c| (c.id.clone(), c.label.clone()));
    labels.extend(plain.chain(card_actions).chain(cart_actions));
}

/// Buttons that are always on the page (menu, cart) have no reply to take a label from.
fn standing_label(state: &WebChatState, action: &str) -> Option<String> {
    let key = match ChoiceAction::parse(action)? {
        ChoiceAction::Menu => TextKey::ChoiceMenu,
        ChoiceAction::Cart => TextKey::ChoiceCart,
        ChoiceAction::Help => TextKey::ChoiceHelp,
        ChoiceAction::Browse => TextKey::ChoiceBrowse,
        ChoiceAction::Checkout => TextKey::ChoiceCheckout,
        ChoiceAction::Human => TextKey::ChoiceHuman,
        ChoiceAction::Language => TextKey::ChoiceLanguage,
        _ => return None,
    };
    Some(state.renderer.key(state.settings.shop.default_locale, key))
}

pub async fn history(
    State(state): State<WebChatState>,
    query: Result<Query<SessionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let customer = match resolve_session(&state, &query.session).await? {
        (Session::Stored(customer), _) => customer,
        // Nothing said yet, nothing to show.
        (Session::Pending(_), _) => return Ok(Json(json!({ "messages": [] }))),
    };
    let messages = history_messages(&state, &customer).await?;
    Ok(Json(json!({ "messages": messages })))
}

/// The conversation as the page shows it: what the customer said and the shop's replies.
async fn history_messages(
    state: &WebChatState,
    customer: &CustomerId,
) -> Result<Vec<Value>, ApiError> {
    let entries = state.store.history(customer, 200).await?;
    let zone = state.settings.timezone();
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut messages = Vec::with_capacity(entries.len());
    for entry in entries {
        match entry {
            HistoryEntry::In {
                public_id,
                event,
                at,
                ..
            } => {
                let (text, action) = match event {
                    Event::Inbound(Inbound {
                        message: InboundMessage::Text(text),
                        ..
                    }) => (Some(text), None),
                    Event::Inbound(Inbound {
                        message: InboundMessage::Action(action),
                        ..
                    }) => (None, Some(action)),
                    _ => (None, None),
                };
                // The page's own greeting request is not something the customer said.
                if action.as_deref() == Some("start") {
                    continue;
                }
                let action_label = action
                    .as_ref()
                    .and_then(|a| labels.get(a).cloned().or_else(|| standing_label(state, a)));
                messages.push(json!({
                    "from": "customer", "id": public_id, "text": text, "action": action,
                    "action_label": action_label, "time": format_datetime(at, zone, state.settings.shop.default_locale),
                }));
            }
            HistoryEntry::Out {
                outbox_id,
                locale,
                reply,
                at,
                ..
            } => {
                let rendered = state.renderer.reply(locale, &reply);
                remember_labels(&rendered, &mut labels);
                let time = format_datetime(at, zone, locale);
                messages.push(adapters::webchat::reply_json(
                    &rendered, outbox_id, None, &time,
                ));
            }
            // The team's own records are not part of the customer's transcript.
            HistoryEntry::Held { .. }
            | HistoryEntry::Operator { .. }
            | HistoryEntry::Note { .. }
            | HistoryEntry::Handoff { .. }
            | HistoryEntry::Reading { .. } => {}
        }
    }
    Ok(messages)
}

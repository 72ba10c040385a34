//! What operators do to a conversation. Each action that concerns the customer is an event
//! through the conversation's own worker, like a customer message: the core alone decides
//! who owns a conversation, so two operators taking over at once are ordered by the worker
//! and exactly one wins. The handler waits until its event is applied, then answers with
//! the outcome.

use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use flows::{Conversation, CustomerId, Event, Handoff, OperatorId, ProductId};

use super::ConsoleState;
use super::session::Authed;
use super::window::reply_window;
use crate::api_error::ApiError;
use crate::clock;
use crate::driver::submit::Waited;
use crate::store::{HistoryEntry, InboxEntry, Operator, Role};

/// Longest message an operator may send in one go (WhatsApp's text limit).
const MAX_REPLY_CHARS: usize = 4096;
/// How long a handler waits for its event to be applied before answering 503.
const APPLY_TIMEOUT: Duration = Duration::from_secs(10);

fn conflict(message: impl Into<String>, owner: Option<&OperatorId>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, message).with_owner(owner)
}

async fn load(state: &ConsoleState, customer: &CustomerId) -> Result<Conversation, ApiError> {
    state
        .store
        .conversation(customer)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such conversation"))
}

/// The operator's name as customers read it.
pub fn shown_name(operator: &Operator) -> String {
    if operator.display_name.trim().is_empty() {
        let mut chars = operator.name.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        operator.display_name.trim().to_owned()
    }
}

/// Puts an operator event in the conversation's inbox, hands it to its worker and waits
/// until the worker has applied it; returns the conversation as it is then.
async fn apply(
    state: &ConsoleState,
    customer: &CustomerId,
    event: Event,
) -> Result<Conversation, ApiError> {
    let kind = match &event {
        Event::OperatorTookOver { .. } => "takeover",
        Event::OperatorMessage { .. } => "reply",
        Event::OperatorReassigned { .. } => "assign",
        Event::OperatorHandedBack { .. } => "handback",
        Event::OperatorSentProduct { .. } => "product",
        Event::OperatorSentPaymentLink { .. } => "payment_link",
        Event::OperatorMarkedNoShow { .. } => "no_show",
        _ => "other",
    };
    metrics::counter!("souk_console_actions_total", "action" => kind).increment(1);
    let entry = InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("console-{}", clock::random_hex_128()),
        dedup_key: None,
        customer: customer.clone(),
        event,
        received_at: clock::now(),
    };
    match crate::driver::submit::submit_and_wait(
        &state.ingest,
        &state.shared.applied,
        entry,
        APPLY_TIMEOUT,
    )
    .await?
    {
        Waited::Applied => load(state, customer).await,
        waited => Err(crate::api_error::not_applied(waited)),
    }
}

pub async fn takeover(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
) -> Result<Response, ApiError> {
    let customer = CustomerId(customer);
    let me = OperatorId(authed.operator.name.clone());
    let before = load(&state, &customer).await?;
    if let Some(owner) = before.handoff.owner() {
        return owned_outcome(owner, &me);
    }
    let event = Event::OperatorTookOver {
        operator: me.clone(),
        name: shown_name(&authed.operator),
    };
    let after = apply(&state, &customer, event).await?;
    match after.handoff.owner() {
        Some(owner) => {
            if owner == &me {
                crate::data_rights::audit::record(
                    state.store.as_ref(),
                    &me.0,
                    "takeover",
                    Some(&customer),
                    "",
                )
                .await?;
            }
            owned_outcome(owner, &me)
        }
        None => Err(ApiError::internal("takeover was not applied")),
    }
}

fn owned_outcome(owner: &OperatorId, me: &OperatorId) -> Result<Response, ApiError> {
    if owner == me {
        Ok(Json(json!({ "owner": owner })).into_response())
    } else {
        Err(conflict(
            format!("{owner} already owns this conversation"),
            Some(owner),
        ))
    }
}

/// The core applies an owner's action only while they own the conversation; if it changed
/// hands between the check and the worker, the action did nothing and the operator hears so.
fn still_owner(after: &Conversation, me: &OperatorId) -> Result<(), ApiError> {
    match after.handoff.owner() {
        Some(owner) if owner == me => Ok(()),
        owner => Err(conflict(
            "the conversation changed hands before this was applied; nothing was sent",
            owner,
        )),
    }
}

/// The caller must own the conversation.
fn require_owner(conversation: &Conversation, me: &OperatorId) -> Result<(), ApiError> {
    match conversation.handoff.owner() {
        Some(owner) if owner == me => Ok(()),
        Some(owner) => Err(conflict(
            format!("{owner} owns this conversation"),
            Some(owner),
        )),
        None => Err(conflict("take the conversation over first", None)),
    }
}

/// A reply or a note.
#[derive(Deserialize)]
pub struct TextBody {
    text: String,
    /// A reply: send it translated into the customer's language (the original is kept).
    #[serde(default)]
    translate: bool,
}

/// The body's text, trimmed, between 1 and `MAX_REPLY_CHARS` characters.
fn checked_text(
    body: Result<Json<TextBody>, axum::extract::rejection::JsonRejection>,
) -> Result<String, ApiError> {
    Ok(checked_body(body)?.0)
}

/// The body's text (as `checked_text`) and whether it asks to be translated.
fn checked_body(
    body: Result<Json<TextBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(String, bool), ApiError> {
    let Json(body) = body?;
    let text = body.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_REPLY_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("write 1 to {MAX_REPLY_CHARS} characters"),
        ));
    }
    Ok((text, body.translate))
}

/// The language model, when one is configured and translations are on.
pub fn translator(state: &ConsoleState) -> Option<&std::sync::Arc<crate::nlu::Nlu>> {
    state
        .shared
        .nlu
        .as_ref()
        .filter(|nlu| nlu.settings().translate)
}

fn translate_failed(
    direction: &'static str,
    error: crate::nlu::translate::TranslateError,
) -> ApiError {
    metrics::counter!("souk_translations_total", "direction" => direction, "ok" => "false")
        .increment(1);
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("could not translate: {error}; try again, or send it as written"),
    )
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// The audit log, newest first (admins only): `?customer=ID` for one customer's, `?limit=`
/// (default 200, at most 1,000).
pub async fn audit_log(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    axum::extract::Query(query): axum::extract::Query<AuditQuery>,
) -> Result<Response, ApiError> {
    authed.require_admin("only an admin can read the audit log")?;
    let customer = query.customer.map(CustomerId);
    let limit = query.limit.unwrap_or(200).clamp(1, 1_000);
    let entries = state.store.audit_entries(customer.as_ref(), limit).await?;
    Ok(Json(json!({ "entries": entries })).into_response())
}

/// Everything souk holds on the customer (admins only): JSON, or `?format=text`.
pub async fn export(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    axum::extract::Query(query): axum::extract::Query<crate::data_rights::response::ExportQuery>,
) -> Result<Response, ApiError> {
    authed.require_admin("only an admin can export a customer's data")?;
    let customer = CustomerId(customer);
    load(&state, &customer).await?;
    crate::data_rights::response::export_response(
        &state.store,
        &state.renderer,
        &authed.operator.name,
        &customer,
        query.format(),
    )
    .await
}

/// Erases the customer and every chat linked to them (admins).
pub async fn erase(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
) -> Result<Response, ApiError> {
    authed.require_admin("only an admin can erase a customer's data")?;
    let customer = CustomerId(customer);
    load(&state, &customer).await?;
    crate::data_rights::response::erase_response(
        &state.ingest,
        &state.shared.applied,
        &authed.operator.name,
        &customer,
    )
    .await
}

/// A customer's message in the operators' language.
pub async fn translate(
    State(state): State<ConsoleState>,
    Path(customer): Path<String>,
    body: Result<Json<TextBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let text = checked_text(body)?;
    let Some(nlu) = translator(&state) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no language model is configured for translations",
        ));
    };
    let customer = CustomerId(customer);
    // Only for a conversation that exists: the budget is that conversation's.
    load(&state, &customer).await?;
    let to = state.settings.console.operator_language;
    // The team's reading is counted apart from the customer's own conversation, so reading
    // a long history cannot use up what the customer's messages need.
    let budget = CustomerId(format!("console:{customer}"));
    let translated = nlu
        .translate(&text, to, &budget)
        .await
        .map_err(|error| translate_failed("to_operator", error))?;
    metrics::counter!("souk_translations_total", "direction" => "to_operator", "ok" => "true")
        .increment(1);
    Ok(Json(json!({ "text": translated, "language": to.code() })).into_response())
}

/// The first `⟨placeholder⟩` left in a reply (lower-case letters between the marks).
fn unfilled_gap(text: &str) -> Option<&str> {
    let start = text.find('⟨')?;
    let rest = &text[start..];
    let end = rest.find('⟩')? + '⟩'.len_utf8();
    let inner = &rest['⟨'.len_utf8()..end - '⟩'.len_utf8()];
    (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_lowercase())).then(|| &rest[..end])
}

pub async fn reply(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    body: Result<Json<TextBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let (text, translated) = checked_body(body)?;
    // A canned reply's unfilled placeholder (`⟨name⟩`) must not reach the customer.
    if let Some(gap) = unfilled_gap(&text) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("fill in {gap} before sending"),
        ));
    }
    let customer = CustomerId(customer);
    let me = OperatorId(authed.operator.name.clone());
    let conversation = load(&state, &customer).await?;
    require_owner(&conversation, &me)?;
    let window = reply_window(&state.settings, &conversation, clock::now());
    if let Some(refusal) = window.refusal {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, refusal));
    }
    let (text, original) = if translated {
        let Some(nlu) = translator(&state) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no language model is configured for translations",
            ));
        };
        let into = nlu
            .translate(&text, conversation.locale, &customer)
            .await
            .map_err(|error| translate_failed("to_customer", error))?;
        metrics::counter!("souk_translations_total", "direction" => "to_customer", "ok" => "true")
            .increment(1);
        (into, Some(text))
    } else {
        (text, None)
    };
    let event = Event::OperatorMessage {
        operator: me.clone(),
        text,
        original,
    };
    let after = apply(&state, &customer, event).await?;
    still_owner(&after, &me)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "note": window.note }))).into_response())
}

#[derive(Deserialize, Default)]
pub struct HandBackBody {
    #[serde(default)]
    resolved: bool,
}

pub async fn hand_back(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    body: Option<Json<HandBackBody>>,
) -> Result<Response, ApiError> {
    let resolved = body.map(|Json(b)| b.resolved).unwrap_or_default();
    let customer = CustomerId(customer);
    let me = OperatorId(authed.operator.name.clone());
    let conversation = load(&state, &customer).await?;
    // A waiting conversation may be dismissed by anyone; an owned one only by its owner.
    if !conversation.handoff.is_waiting() {
        require_owner(&conversation, &me)?;
    }
    let event = Event::OperatorHandedBack {
        operator: me.clone(),
        resolved,
    };
    let after = apply(&state, &customer, event).await?;
    if after.handoff.owner() == Some(&me) {
        return Err(conflict("the hand back was not applied", Some(&me)));
    }
    let detail = if resolved { "resolved" } else { "" };
    crate::data_rights::audit::record(
        state.store.as_ref(),
        &me.0,
        "hand_back",
        Some(&customer),
        detail,
    )
    .await?;
    Ok(Json(json!({ "state": after.handoff.name() })).into_response())
}

#[derive(Deserialize)]
pub struct AssignBody {
    operator: String,
}

pub async fn assign(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    body: Result<Json<AssignBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let target = state
        .store
        .operator(&body.operator)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such operator"))?;
    let customer = CustomerId(customer);
    let me = OperatorId(authed.operator.name.clone());
    let to = OperatorId(target.name.clone());
    let conversation = load(&state, &customer).await?;
    let event = match &conversation.handoff {
        // The owner passes it on; an admin may move anyone's.
        Handoff::Human { operator, .. }
            if *operator == me || authed.operator.role == Role::Admin =>
        {
            Event::OperatorReassigned {
                from: operator.clone(),
                to: to.clone(),
                name: shown_name(&target),
            }
        }
        Handoff::Human { operator, .. } => {
            return Err(conflict(
                format!("{operator} owns this conversation"),
                Some(operator),
            ));
        }
        Handoff::Bot | Handoff::Waiting { .. } => Event::OperatorTookOver {
            operator: to.clone(),
            name: shown_name(&target),
        },
    };
    let after = apply(&state, &customer, event).await?;
    match after.handoff.owner() {
        Some(owner) if *owner == to => Ok(Json(json!({ "owner": owner })).into_response()),
        owner => Err(conflict("the conversation changed hands meanwhile", owner)),
    }
}

pub async fn add_note(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    body: Result<Json<TextBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let text = checked_text(body)?;
    let customer = CustomerId(customer);
    load(&state, &customer).await?;
    let note = HistoryEntry::Note {
        at: clock::now(),
        operator: OperatorId(authed.operator.name.clone()),
        text,
    };
    state.store.append_history(&customer, &note).await?;
    state.console_feed.publish(&customer);
    Ok(StatusCode::CREATED.into_response())
}

#[derive(Deserialize)]
pub struct UnlinkBody {
    customer: String,
}

/// Undoes a link (admins): the linked chat becomes a customer of its own again.
pub async fn unlink(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    body: Result<Json<UnlinkBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    authed.require_admin("only admins undo links")?;
    let Json(body) = body?;
    let into = CustomerId(customer);
    let from = CustomerId(body.customer);
    if !state.store.unmerge_customers(&from, &into).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such link"));
    }
    tracing::info!(%from, %into, by = %authed.operator.name, "link undone");
    crate::data_rights::audit::record(
        state.store.as_ref(),
        &authed.operator.name,
        "unlink",
        Some(&into),
        format!("{from} split off"),
    )
    .await?;
    state.console_feed.publish(&into);
    state.console_feed.publish(&from);
    Ok(Json(json!({ "customer": from })).into_response())
}

pub async fn mark_read(
    State(state): State<ConsoleState>,
    Path(customer): Path<String>,
) -> Result<Response, ApiError> {
    let customer = CustomerId(customer);
    state.store.mark_read(&customer).await?;
    state.console_feed.publish(&customer);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct ProductBody {
    product: String,
}

pub async fn send_product(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
    body: Result<Json<ProductBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let product = ProductId(body.product);
    if state.shared.context().catalog.product(&product).is_none() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such product"));
    }
    let customer = CustomerId(customer);
    let me = OperatorId(authed.operator.name.clone());
    let conversation = load(&state, &customer).await?;
    require_owner(&conversation, &me)?;
    refuse_closed_window(&state, &conversation)?;
    let event = Event::OperatorSentProduct {
        operator: me.clone(),
        product,
    };
    let after = apply(&state, &customer, event).await?;
    still_owner(&after, &me)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

pub async fn send_payment_link(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(customer): Path<String>,
) -> Result<Response, ApiError> {
    let customer = CustomerId(customer);
    let me = OperatorId(authed.operator.name.clone());
    let conversation = load(&state, &customer).await?;
    require_owner(&conversation, &me)?;
    if conversation.cart.is_empty() {
        return Err(conflict("the cart is empty", None));
    }
    if conversation.profile.name.is_none() || conversation.profile.contact.is_none() {
        return Err(conflict(
            "the customer has not given a name and a phone or e-mail yet: ask for them, or hand \
             back so the bot's checkout asks",
            None,
        ));
    }
    refuse_closed_window(&state, &conversation)?;
    let placed_before = conversation.orders.placed;
    let event = Event::OperatorSentPaymentLink {
        operator: me.clone(),
    };
    let after = apply(&state, &customer, event).await?;
    still_owner(&after, &me)?;
    if after.orders.placed == placed_before {
        return Err(conflict(
            "no order was placed: the cart changed or its stock ran out (the customer was shown \
             the cart)",
            None,
        ));
    }
    let order = after.orders.recent.last().map(|order| order.id.clone());
    Ok((StatusCode::ACCEPTED, Json(json!({ "order": order }))).into_response())
}

/// Any operator may record that the customer did not come, once the appointment began.
pub async fn mark_no_show(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path((customer, booking)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let customer = CustomerId(customer);
    let booking = flows::booking::BookingId(booking);
    let conversation = load(&state, &customer).await?;
    let Some(found) = conversation
        .appointments
        .list
        .iter()
        .find(|b| b.id == booking)
    else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such booking"));
    };
    if found.status != flows::booking::BookingStatus::Booked {
        return Err(conflict(
            "the booking is not open (cancelled, moved or marked)",
            None,
        ));
    }
    if found.start > clock::now() {
        return Err(conflict("the appointment has not started yet", None));
    }
    let event = Event::OperatorMarkedNoShow {
        operator: OperatorId(authed.operator.name.clone()),
        booking,
    };
    let after = apply(&state, &customer, event).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "no_shows": after.appointments.no_shows })),
    )
        .into_response())
}

fn refuse_closed_window(state: &ConsoleState, conversation: &Conversation) -> Result<(), ApiError> {
    match reply_window(&state.settings, conversation, clock::now()).refusal {
        Some(refusal) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, refusal)),
        None => Ok(()),
    }
}

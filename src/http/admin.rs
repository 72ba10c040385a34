//! The shop's own API, for `souk order set-status` now and the console later. Bearer token
//! from `SOUK__ADMIN__TOKEN`; without one the routes do not exist (404).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use flows::OrderId;

use super::PageState;
use crate::api_error::ApiError;

/// Compared as SHA-256 digests: equal-length inputs, and nothing about the token itself
/// leaks through how long the comparison takes.
fn authorized(state: &PageState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.settings.admin.token else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "the admin API is off"));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.expose().as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid admin token is required",
        ))
    }
}

/// The customer a reference names, or 404.
async fn customer_at(state: &PageState, reference: &str) -> Result<flows::CustomerId, ApiError> {
    crate::data_rights::lookup::find(state.store.as_ref(), reference)
        .await?
        .map_err(|error| {
            let status = match error {
                crate::data_rights::lookup::LookupError::Ambiguous(_) => StatusCode::CONFLICT,
                _ => StatusCode::NOT_FOUND,
            };
            ApiError::new(status, error.to_string())
        })
}

/// `GET /api/admin/customers/{reference}/export[?format=text]`: everything souk holds on
/// the customer a reference names (`C-4F3A9B`, a phone number, `channel:platform-id`).
pub async fn export_customer(
    State(state): State<PageState>,
    Path(reference): Path<String>,
    axum::extract::Query(query): axum::extract::Query<crate::data_rights::response::ExportQuery>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    authorized(&state, &headers)?;
    let customer = customer_at(&state, &reference).await?;
    crate::data_rights::response::export_response(
        &state.store,
        &state.renderer,
        crate::data_rights::audit::ADMIN_API,
        &customer,
        query.format(),
    )
    .await
}

/// `POST /api/admin/customers/{reference}/erase`: erases the customer a reference names
/// and every chat linked to them (paid orders and appointments stay, stripped).
pub async fn erase_customer(
    State(state): State<PageState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    authorized(&state, &headers)?;
    let customer = customer_at(&state, &reference).await?;
    crate::data_rights::response::erase_response(
        &state.ingest,
        &state.shared.applied,
        crate::data_rights::audit::ADMIN_API,
        &customer,
    )
    .await
}

/// A campaign: a name (its messages are sent once per customer) and its text per language.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    campaign: String,
    text: std::collections::BTreeMap<String, String>,
}

/// Longest campaign text per language: one chat message.
const CAMPAIGN_TEXT_MAX: usize = 1_000;

/// `POST /api/admin/marketing` `{"campaign": "spring-2027", "text": {"en": "…", "ro": "…"}}`:
/// hands the message to every conversation; each sends it only if the customer's latest
/// answer to news and offers is yes (and the channel takes it now). A campaign name goes
/// once to each customer, however often it is posted. 202 with how many were handed it.
pub async fn send_campaign(
    State(state): State<PageState>,
    headers: HeaderMap,
    body: Result<Json<Campaign>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorized(&state, &headers)?;
    let Json(campaign) = body?;
    let name = campaign.campaign.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "campaign: 1 to 64 letters, digits, - or _",
        ));
    }
    let mut text = std::collections::BTreeMap::new();
    for (code, words) in campaign.text {
        let Some(locale) = flows::Locale::ALL.into_iter().find(|l| l.code() == code) else {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("text: {code:?} is not a shipped language"),
            ));
        };
        let words = words.trim();
        if words.is_empty() || words.chars().count() > CAMPAIGN_TEXT_MAX {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("text.{code}: 1 to {CAMPAIGN_TEXT_MAX} characters"),
            ));
        }
        text.insert(locale, words.to_owned());
    }
    if !text.contains_key(&flows::Locale::En)
        && !text.contains_key(&state.settings.shop.default_locale)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text: give at least English or the shop's default language (the others fall back to it)",
        ));
    }
    let text = flows::text::LocalizedText(text);
    // Handed only to conversations whose latest answer is yes (the core checks again when
    // it steps the message): no durable write for the others.
    let mut customers = Vec::new();
    for row in state.store.summaries().await? {
        let consented = state
            .store
            .conversation(&row.customer)
            .await?
            .is_some_and(|c| c.consents.current(flows::consent::Purpose::Marketing) == Some(true));
        if consented {
            customers.push(row);
        }
    }
    for row in &customers {
        let event = flows::Event::Marketing {
            campaign: name.to_owned(),
            text: text.clone(),
        };
        let key = format!("marketing:{name}:{}", row.customer);
        state
            .ingest
            .accept_keyed(key, row.customer.clone(), event)
            .await?;
    }
    crate::data_rights::audit::record(
        state.store.as_ref(),
        crate::data_rights::audit::ADMIN_API,
        "marketing",
        None,
        name,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "campaign": name, "handed_to": customers.len() })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: String,
    #[serde(default)]
    tracking: Option<String>,
}

/// `POST /api/admin/orders/{id}/status` `{"status": "shipped", "tracking": "https://…"}`:
/// checked against the stored order, then handed to the order's conversation, which updates
/// the order and tells the customer in their channel and language.
pub async fn set_order_status(
    State(state): State<PageState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(change): Json<StatusChange>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorized(&state, &headers)?;
    let answer = crate::order_moves::change_order_status(
        state.store.as_ref(),
        &state.ingest,
        OrderId(id.clone()),
        &change.status,
        change.tracking,
        None,
    )
    .await?;
    let customer = answer["customer"]
        .as_str()
        .map(|c| flows::CustomerId(c.to_owned()));
    crate::data_rights::audit::record(
        state.store.as_ref(),
        crate::data_rights::audit::ADMIN_API,
        "order_status",
        customer.as_ref(),
        format!("{id} → {}", change.status),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

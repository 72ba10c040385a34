//! The conversation list: every conversation across channels, newest activity first, with
//! filters (needs a person, mine, per channel) and search by name, phone or text.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Extension, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use flows::{Channel, Customer, Handoff};

use super::ConsoleState;
use super::describe;
use super::session::Authed;
use crate::api_error::ApiError;
use crate::store::{ConversationSummary, ListFilter, ListPage, ListQuery as StoreQuery};

/// Rows per answer: enough for a shift's queue; search narrows the rest.
const MAX_ROWS: usize = 200;
/// How long a text search may read history: the list refreshes on every change, and a
/// large shop's history must not stall it (names and phone numbers are always searched).
const SEARCH_BUDGET: std::time::Duration = std::time::Duration::from_millis(150);

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

pub async fn conversations(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let names = describe::StaffNames::load(state.store.as_ref()).await?;
    let (rows, waiting) = list(&state, &authed.operator.name, &params, &names).await?;
    // Whatever the filter shows, the page's title counts everyone waiting for a person.
    Ok(Json(json!({ "conversations": rows, "waiting": waiting })))
}

async fn list(
    state: &ConsoleState,
    me: &str,
    params: &ListParams,
    names: &describe::StaffNames,
) -> Result<(Vec<Value>, usize), ApiError> {
    let channel = match params
        .channel
        .as_deref()
        .filter(|c| !c.is_empty() && *c != "all")
    {
        Some(name) => Some(
            Channel::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        format!("unknown channel {name:?}"),
                    )
                })?,
        ),
        None => None,
    };
    let needle = params
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    let query = StoreQuery {
        filter: match params.filter.as_deref() {
            Some("waiting") => ListFilter::Waiting,
            Some("mine") => ListFilter::OwnedBy(me.to_owned()),
            _ => ListFilter::All,
        },
        channel,
        // A search narrows the rows here, after the store's filter: it needs them all.
        limit: needle.is_none().then_some(MAX_ROWS),
    };
    let ListPage { rows, waiting } = state.store.conversations(&query).await?;
    let by_text = match &needle {
        // Text search reads every message: only for a real word, not a letter.
        Some(needle) if needle.chars().count() >= 2 => {
            let deadline = std::time::Instant::now() + SEARCH_BUDGET;
            let (found, complete) = state.store.customers_who_wrote(needle, deadline).await?;
            if !complete {
                tracing::info!(needle = %needle.len(), "text search stopped at its time budget");
            }
            found.into_iter().collect()
        }
        _ => HashSet::new(),
    };
    let mut out = Vec::new();
    for row in rows {
        if out.len() >= MAX_ROWS {
            break;
        }
        let customer = state.store.customer(&row.customer).await?;
        if let Some(needle) = &needle
            && !by_text.contains(&row.customer)
            && !customer_matches(customer.as_ref(), &row, needle)
        {
            continue;
        }
        out.push(summary_json(state, &row, customer.as_ref(), names).await?);
    }
    Ok((out, waiting))
}

fn customer_matches(customer: Option<&Customer>, row: &ConversationSummary, needle: &str) -> bool {
    let digits: String = needle.chars().filter(char::is_ascii_digit).collect();
    let given = [&row.name, &row.contact, &row.address];
    row.customer.0.to_lowercase().contains(needle)
        || reference(&row.customer).to_lowercase().contains(needle)
        || given
            .iter()
            .filter_map(|value| value.as_deref())
            .any(|value| {
                value.to_lowercase().contains(needle)
                    || (digits.len() >= 4 && value.replace([' ', '-'], "").contains(&digits))
            })
        || customer.is_some_and(|customer| {
            customer
                .display_name
                .as_ref()
                .is_some_and(|name| name.to_lowercase().contains(needle))
                || customer.identities.iter().any(|identity| {
                    identity.external_id.to_lowercase().contains(needle)
                        || (digits.len() >= 4 && identity.external_id.contains(&digits))
                })
        })
}

/// A short, readable reference for a customer ("C-4F3A9B"), from their id: what staff say
/// to each other instead of a 32-character id.
pub fn reference(customer: &flows::CustomerId) -> String {
    let head: String = customer
        .0
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect();
    format!("C-{}", head.to_uppercase())
}

/// The best name souk knows for a customer: the one they gave at checkout or booking, else
/// the platform's profile name.
fn best_name(row: &ConversationSummary, customer: Option<&Customer>) -> Option<String> {
    row.name
        .clone()
        .or_else(|| customer.and_then(|c| c.display_name.clone()))
        .filter(|name| !name.trim().is_empty())
}

/// How a customer is named outside the list (the best known name, else the short
/// reference), for admins' lists of problems.
pub async fn customer_label(
    store: &dyn crate::store::Store,
    id: &flows::CustomerId,
) -> Result<String, crate::store::StoreError> {
    let customer = store.customer(id).await?;
    let name = match store.summary(id).await? {
        Some(row) => best_name(&row, customer.as_ref()),
        None => customer
            .and_then(|c| c.display_name)
            .filter(|n| !n.trim().is_empty()),
    };
    Ok(name.unwrap_or_else(|| reference(id)))
}

/// One row as the page shows it.
pub async fn summary_json(
    state: &ConsoleState,
    row: &ConversationSummary,
    customer: Option<&Customer>,
    names: &describe::StaffNames,
) -> Result<Value, ApiError> {
    let last = state
        .store
        .history(&row.customer, 1)
        .await?
        .first()
        .map(|entry| describe::preview(state, entry, names));
    let (state_name, waiting_since, reason, owner) = match &row.handoff {
        Handoff::Bot => ("bot", None, None, None),
        Handoff::Waiting { since, reason, .. } => {
            ("waiting", Some(since.millis()), Some(*reason), None)
        }
        Handoff::Human { operator, .. } => ("human", None, None, Some(operator.0.clone())),
    };
    Ok(json!({
        "customer": row.customer,
        "name": best_name(row, customer),
        "reference": reference(&row.customer),
        "contact": row.contact,
        "address": row.address,
        "channels": row.channels.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "last": last,
        "state": state_name,
        "waiting_since": waiting_since,
        "reason": reason,
        "owner": owner,
        "owner_name": row.handoff.owner().map(|o| names.of(o)),
        "unread": row.unread,
    }))
}

pub async fn operators(State(state): State<ConsoleState>) -> Result<Json<Value>, ApiError> {
    let operators: Vec<Value> = state
        .store
        .operators()
        .await?
        .into_iter()
        .map(|op| {
            json!({
                "name": op.name,
                "display_name": super::shown_name(&op),
                "role": op.role.name(),
                "awaiting_set_up": op.password_hash == super::staff::NO_PASSWORD,
            })
        })
        .collect();
    Ok(Json(json!({ "operators": operators })))
}

#[derive(Deserialize)]
pub struct ProductQuery {
    #[serde(default)]
    q: String,
}

/// For the "send a product" picker: the catalog's own search, in the shop's language.
pub async fn products(
    State(state): State<ConsoleState>,
    Query(query): Query<ProductQuery>,
) -> Json<Value> {
    let ctx = state.shared.context();
    let locale = state.settings.shop.default_locale;
    let q = query.q.trim().to_lowercase();
    let products: Vec<Value> = ctx
        .catalog
        .products()
        .iter()
        .filter(|p| {
            q.is_empty()
                || p.id.0.to_lowercase().contains(&q)
                || p.name.get(locale).to_lowercase().contains(&q)
        })
        .take(20)
        .map(|p| json!({ "id": p.id, "name": p.name.get(locale) }))
        .collect();
    Json(json!({ "products": products }))
}

#[derive(Deserialize)]
pub struct NewOperator {
    name: String,
    #[serde(default)]
    display_name: String,
    role: String,
    /// Empty: the colleague sets it through a one-time link in the answer.
    #[serde(default)]
    password: String,
}

/// Admins add colleagues here while souk runs (`souk operator add` needs it stopped).
pub async fn add_operator(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    body: Result<Json<NewOperator>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    use axum::http::StatusCode;
    authed.require_admin("only admins add operators")?;
    let Json(body) = body?;
    let name = body.name.trim().to_lowercase();
    if !super::valid_name(&name) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the name must be 1–64 lower-case letters, digits, dots, dashes or underscores",
        ));
    }
    let role = crate::store::Role::parse(&body.role).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the role is admin or agent",
        )
    })?;
    if state.store.operator(&name).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{name} exists"),
        ));
    }
    let invited = body.password.is_empty();
    let hash = if invited {
        super::staff::NO_PASSWORD.to_owned()
    } else {
        super::hashing::hash(body.password)
            .await?
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?
    };
    let operator = crate::store::Operator {
        name: name.clone(),
        display_name: body.display_name.trim().to_owned(),
        role,
        password_hash: hash,
        created_at: crate::clock::now(),
    };
    if !state.store.put_operator(&operator, false).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{name} exists"),
        ));
    }
    tracing::info!(operator = %name, by = %authed.operator.name, "operator added");
    let setup_link = if invited {
        Some(super::staff::invite_link(&state, &name).await?)
    } else {
        None
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": name, "role": role.name(), "setup_link": setup_link })),
    ))
}

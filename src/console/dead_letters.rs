//! Replies souk gave up sending (the platform refused them for good, or kept failing), for
//! admins: to whom, what, why, and "Send again" for a fresh round of tries once the cause is
//! fixed (a token renewed, a template approved, the customer writing again).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ConsoleState;
use super::session::Authed;
use crate::api_error::ApiError;
use crate::clock;

/// The newest shown; the count says how many there are in all.
const LISTED: usize = 100;
/// Characters of a reply's text shown in the list.
const PREVIEW_CHARS: usize = 200;
const ADMINS_ONLY: &str = "only admins see and resend failed replies";

pub async fn list(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin(ADMINS_ONLY)?;
    let (total, letters) = state.store.recent_dead_letters(LISTED).await?;
    let mut rows: Vec<Value> = Vec::with_capacity(letters.len());
    for letter in &letters {
        let entry = &letter.entry;
        let text = state.renderer.reply(entry.locale, &entry.reply).text;
        let who = super::list::customer_label(state.store.as_ref(), &entry.customer).await?;
        rows.push(json!({
                "id": entry.id,
                "customer": entry.customer.0,
                "who": who,
                "channel": entry.channel.name(),
                "created_at": entry.created_at.millis(),
                "failed_at": letter.failed_at.millis(),
                "attempts": entry.attempts,
                "reason": letter.reason,
                "text": adapters::text_limits::cut(&text, PREVIEW_CHARS),
        }));
    }
    Ok(Json(json!({ "total": total, "letters": rows })))
}

pub async fn resend(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(id): Path<u64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authed.require_admin(ADMINS_ONLY)?;
    let revived = state
        .store
        .revive_dead_letter(id, clock::now())
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such failed reply"))?;
    tracing::info!(outbox = id, operator = %authed.operator.name, "failed reply queued again");
    let customer = revived.customer.clone();
    // The sender takes new work from its feed, as it does for a step's replies.
    state
        .shared
        .outbox_feed
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(revived);
    state.shared.outbox_wakeup.notify_one();
    state.console_feed.publish(&customer);
    Ok((StatusCode::ACCEPTED, Json(json!({ "resent": id }))))
}

//! Admins manage the team in the page: invite a colleague (a one-time set-up link instead
//! of a password typed for them), reset a colleague's password (a new link; their sessions
//! end), change a role, remove. The team always keeps an admin.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use flows::Span;

use super::ConsoleState;
use super::session::{self, Authed};
use crate::api_error::ApiError;
use crate::clock;
use crate::store::{Invite, Operator, Role};

/// How long an invitation or reset link works.
pub const INVITE_HOURS: i64 = 72;

/// Stored in place of a password hash until the operator sets one: no password matches it.
pub const NO_PASSWORD: &str = "!awaiting-set-up";

/// A new one-time link for `operator` to set their password.
pub async fn invite_link(state: &ConsoleState, operator: &str) -> Result<String, ApiError> {
    let token = session::random_token()?;
    // One live link per operator: an older one (sent to the wrong person, or superseded by
    // a reset) stops working.
    state.store.revoke_invites(operator).await?;
    let invite = Invite {
        operator: operator.to_owned(),
        expires_at: clock::now().plus(Span::hours(INVITE_HOURS)),
    };
    state
        .store
        .put_invite(&session::digest(&token), &invite)
        .await?;
    Ok(format!(
        "{}/console/setup?invite={token}",
        state.settings.link_base()
    ))
}

async fn existing(state: &ConsoleState, name: &str) -> Result<Operator, ApiError> {
    state
        .store
        .operator(name)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no operator {name}")))
}

/// Refuses a change that would leave the team without an admin.
async fn keeps_an_admin(state: &ConsoleState, changing: &str) -> Result<(), ApiError> {
    let others = state
        .store
        .operators()
        .await?
        .iter()
        .filter(|op| op.role == Role::Admin && op.name != changing)
        .count();
    if others == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the team must keep at least one admin",
        ));
    }
    Ok(())
}

pub async fn remove(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin("only admins manage the team")?;
    let operator = existing(&state, &name).await?;
    if operator.name == authed.operator.name {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "you cannot remove yourself",
        ));
    }
    if operator.role == Role::Admin {
        keeps_an_admin(&state, &operator.name).await?;
    }
    state.store.remove_operator(&operator.name).await?;
    state.store.revoke_invites(&operator.name).await?;
    tracing::info!(operator = %operator.name, by = %authed.operator.name, "operator removed");
    Ok(Json(json!({ "removed": operator.name })))
}

pub async fn reset(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin("only admins manage the team")?;
    let mut operator = existing(&state, &name).await?;
    operator.password_hash = NO_PASSWORD.to_owned();
    // Replacing the record ends the operator's sessions.
    state.store.put_operator(&operator, true).await?;
    let link = invite_link(&state, &operator.name).await?;
    tracing::info!(operator = %operator.name, by = %authed.operator.name, "operator password reset");
    Ok(Json(json!({ "name": operator.name, "setup_link": link })))
}

#[derive(Deserialize)]
pub struct RoleBody {
    role: String,
}

pub async fn set_role(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(name): Path<String>,
    body: Result<Json<RoleBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin("only admins manage the team")?;
    let Json(body) = body?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the role is admin or agent",
        )
    })?;
    let mut operator = existing(&state, &name).await?;
    if operator.role == Role::Admin && role != Role::Admin {
        keeps_an_admin(&state, &operator.name).await?;
    }
    operator.role = role;
    state.store.put_operator(&operator, true).await?;
    tracing::info!(operator = %operator.name, role = role.name(), by = %authed.operator.name, "operator role changed");
    Ok(Json(json!({ "name": operator.name, "role": role.name() })))
}

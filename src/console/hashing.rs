//! Password hashing off the async threads, two at a time: each argon2id run takes ~19 MiB
//! and tens of milliseconds, so unbounded parallel logins could exhaust memory. Beyond that,
//! a request is turned away (503) instead of queued.

use std::sync::LazyLock;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use super::password::{self, PasswordError};
use crate::api_error::ApiError;

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too many logins at once, please retry in a moment",
    )
}

/// Checks a password against a stored hash (or against nothing, for an unknown name).
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    let _permit = HASHING.try_acquire().map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => password::verify(&password, &stored),
        None => {
            password::verify_against_nothing(&password);
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

pub async fn hash(password: String) -> Result<Result<String, PasswordError>, ApiError> {
    let _permit = HASHING.try_acquire().map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(ApiError::internal)
}

//! The HTTP API's one error type (the web chat, webhooks, the admin API and the console):
//! a status and a message the client can act on, as JSON. Internal details are logged,
//! never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The console's conflicts name who owns the conversation.
    pub owner: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            owner: None,
        }
    }

    pub fn with_owner(mut self, owner: Option<&flows::OperatorId>) -> ApiError {
        self.owner = owner.map(|o| o.0.clone());
        self
    }

    /// For failures that are ours, not the client's: logged in full, reported briefly.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "request failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily unavailable, please retry",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.owner {
            Some(owner) => json!({ "error": self.message, "owner": owner }),
            None => json!({ "error": self.message }),
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<adapters::webchat::WebChatError> for ApiError {
    fn from(error: adapters::webchat::WebChatError) -> ApiError {
        use adapters::webchat::WebChatError;
        let status = match error {
            WebChatError::Malformed(_) => StatusCode::BAD_REQUEST,
            WebChatError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<crate::driver::IngestError> for ApiError {
    fn from(error: crate::driver::IngestError) -> ApiError {
        ApiError::internal(error)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        ApiError::internal(error)
    }
}

/// A body or query the client got wrong: the rejection's own status (400 bad syntax, 415
/// wrong content type, 422 wrong shape) and its explanation.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

/// The answer for an event submitted and waited for (`driver::submit`) that did not apply.
pub fn not_applied(waited: crate::driver::submit::Waited) -> ApiError {
    match waited {
        crate::driver::submit::Waited::SetAside => {
            ApiError::internal("the action failed again and again and was set aside for an admin")
        }
        _ => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "the conversation is busy; the action is queued and will apply shortly",
        ),
    }
}

//! One chat-completions call over HTTP: the request and response in async-openai's types,
//! carried by our reqwest client (its timeout, our TLS). No retries here: a failed call gets
//! the rules' answer at once, which beats a customer waiting through a backoff.

use std::time::Duration;

use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse};

use super::settings::NluSettings;
use crate::settings::Secret;

/// The most of a response read: a tool call is small; a huge body is a broken server.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("rate limited (429)")]
    RateLimited,
    #[error("server error ({0})")]
    Server(u16),
    #[error("refused ({0})")]
    Refused(u16),
    #[error("timed out")]
    Timeout,
    #[error("could not connect")]
    Connect,
    #[error("unreadable response: {0}")]
    BadBody(String),
}

impl CallError {
    /// Whether the endpoint itself failed (down, overloaded, unreachable, its key refused):
    /// what opens the breaker. A refusal of one request (400: a content filter, a prompt
    /// too long) is that request's, not the endpoint's: one customer's messages must not
    /// turn the model off for everyone.
    pub fn is_endpoint_failure(&self) -> bool {
        match self {
            CallError::Refused(status) => matches!(status, 401 | 403 | 404),
            _ => true,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            CallError::RateLimited => "rate_limited",
            CallError::Server(_) => "server_error",
            CallError::Refused(_) => "refused",
            CallError::Timeout => "timeout",
            CallError::Connect => "connect",
            CallError::BadBody(_) => "bad_body",
        }
    }
}

pub struct ModelClient {
    http: reqwest::Client,
    url: String,
    key: Option<Secret>,
}

impl ModelClient {
    pub fn new(settings: &NluSettings) -> anyhow::Result<ModelClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms.min(5_000)))
            .build()?;
        Ok(ModelClient {
            http,
            url: format!("{}/chat/completions", settings.api_base),
            key: settings.api_key.clone(),
        })
    }

    pub async fn complete(
        &self,
        request: &CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, CallError> {
        let mut call = self.http.post(&self.url).json(request);
        if let Some(key) = &self.key {
            call = call.bearer_auth(key.expose());
        }
        let response = call.send().await.map_err(|e| {
            if e.is_timeout() {
                CallError::Timeout
            } else {
                CallError::Connect
            }
        })?;
        let status = response.status();
        if status.as_u16() == 429 {
            return Err(CallError::RateLimited);
        }
        if status.is_server_error() {
            return Err(CallError::Server(status.as_u16()));
        }
        if !status.is_success() {
            return Err(CallError::Refused(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
        {
            return Err(CallError::BadBody("too large".into()));
        }
        let body = read_bounded(response).await?;
        serde_json::from_slice(&body).map_err(|e| CallError::BadBody(e.to_string()))
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, CallError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(CallError::BadBody("too large".into()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(CallError::Timeout),
            // Without the URL: an endpoint's address may carry credentials.
            Err(e) => return Err(CallError::BadBody(e.without_url().to_string())),
        }
    }
}

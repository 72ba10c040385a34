//! Customers' media for the console. WhatsApp media needs the access token to download, so
//! souk fetches it (Graph: media id → short-lived URL → bytes) and hands it on; Messenger and
//! Instagram attachments arrive as https URLs the browser can open itself.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use flows::Channel;
use serde::Deserialize;

use crate::http::{ApiError, AppState};

/// Larger files are refused rather than held in memory (WhatsApp's documents go to 100 MB).
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Where the console downloads a media item from, if it can.
pub fn console_url(channel: Channel, media_id: &str) -> Option<String> {
    match channel {
        Channel::WhatsApp
            if !media_id.is_empty()
                && media_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Some(format!("/console/api/media/whatsapp/{media_id}"))
        }
        Channel::Messenger | Channel::Instagram if media_id.starts_with("https://") => {
            Some(media_id.to_owned())
        }
        _ => None,
    }
}

#[derive(Deserialize)]
struct MediaInfo {
    url: String,
    #[serde(default)]
    mime_type: Option<String>,
}

/// Types the browser may show inline; anything else downloads as an opaque file, so a
/// customer's "image" cannot run as a page of our origin.
fn inline_type(mime: &str) -> Option<&'static str> {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => Some("image/jpeg"),
        "image/png" => Some("image/png"),
        "image/webp" => Some("image/webp"),
        "image/gif" => Some("image/gif"),
        _ => None,
    }
}

pub async fn whatsapp(
    State(state): State<AppState>,
    Path(media_id): Path<String>,
) -> Result<Response, ApiError> {
    if console_url(Channel::WhatsApp, &media_id).is_none() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "not a media id"));
    }
    let settings = &state.settings.channels.whatsapp;
    let token = settings
        .access_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "WhatsApp is not configured"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(ApiError::internal)?;
    let info_url = format!(
        "{}/{}/{}",
        settings.api_base.trim_end_matches('/'),
        settings.api_version,
        media_id
    );
    let unavailable = |what: &str| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("WhatsApp did not give the media ({what})"),
        )
    };
    let info: MediaInfo = client
        .get(&info_url)
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|_| unavailable("lookup failed"))?
        .error_for_status()
        .map_err(|e| unavailable(&e.status().map(|s| s.to_string()).unwrap_or_default()))?
        .json()
        .await
        .map_err(|_| unavailable("unexpected answer"))?;
    let response = client
        .get(&info.url)
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|_| unavailable("download failed"))?
        .error_for_status()
        .map_err(|_| unavailable("download refused"))?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BYTES as u64)
    {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the file is over 16 MB",
        ));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|_| unavailable("download cut"))?;
    if bytes.len() > MAX_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the file is over 16 MB",
        ));
    }
    let mime = info.mime_type.unwrap_or_default();
    let (content_type, disposition) = match inline_type(&mime) {
        Some(kind) => (kind, "inline".to_owned()),
        None => (
            "application/octet-stream",
            format!("attachment; filename=\"whatsapp-{media_id}\""),
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}

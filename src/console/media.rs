//! Customers' media for the console, always through souk. WhatsApp media needs the access
//! token (Graph: media id → short-lived URL → bytes); Messenger and Instagram attachments
//! arrive as https URLs in signed webhooks, and souk fetches only a URL that such a webhook
//! gave for that customer, so the route cannot be used to reach anything else.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use flows::{Channel, CustomerId, Event, InboundMessage, MediaKind};
use serde::Deserialize;

use super::ConsoleState;
use crate::api_error::ApiError;
use crate::store::HistoryEntry;

/// Larger files are refused rather than held in memory (WhatsApp's documents go to 100 MB).
const MAX_BYTES: usize = 16 * 1024 * 1024;
/// How many of a customer's latest records are searched for the attachment asked for.
const MEDIA_LOOKBACK: usize = 2000;

/// Where the console downloads a media item from, if it can.
pub fn console_url(customer: &CustomerId, channel: Channel, media_id: &str) -> Option<String> {
    match channel {
        Channel::WhatsApp if whatsapp_id(media_id) => {
            Some(format!("/console/api/media/whatsapp/{media_id}"))
        }
        // Hex keeps any URL one plain path segment.
        Channel::Messenger | Channel::Instagram if media_id.starts_with("https://") => Some(
            format!("/console/api/media/{customer}/{}", hex::encode(media_id)),
        ),
        _ => None,
    }
}

fn whatsapp_id(media_id: &str) -> bool {
    !media_id.is_empty()
        && media_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
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

/// Fetches at a time; more wait their turn briefly, then get 503.
static FETCHES: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(8));

async fn fetch_permit() -> Result<tokio::sync::SemaphorePermit<'static>, ApiError> {
    tokio::time::timeout(Duration::from_secs(5), FETCHES.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "media downloads are busy"))
}

fn client() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        // Only the address the platform named: a redirect could lead anywhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ApiError::internal)
}

fn unavailable(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        format!("the platform did not give the media ({what})"),
    )
}

/// Reads the body chunk by chunk and stops past `MAX_BYTES`, whatever the headers claim.
async fn bounded_body(mut response: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the file is over 16 MB");
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| unavailable("download cut"))?
    {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Images inline; anything else as an opaque download, sandboxed if opened anyway.
fn hand_on(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    let (content_type, disposition) = match inline_type(mime) {
        Some(kind) => (kind, "inline".to_owned()),
        None => (
            "application/octet-stream",
            format!("attachment; filename=\"{name}\""),
        ),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// `GET /console/api/media/whatsapp/{media id}`.
pub async fn whatsapp(
    State(state): State<ConsoleState>,
    Path(media_id): Path<String>,
) -> Result<Response, ApiError> {
    if !whatsapp_id(&media_id) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "not a media id"));
    }
    let settings = &state.settings.channels.whatsapp;
    let token = settings
        .access_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "WhatsApp is not configured"))?;
    let _permit = fetch_permit().await?;
    let client = client()?;
    let info_url = format!(
        "{}/{}/{}",
        settings.api_base.trim_end_matches('/'),
        settings.api_version,
        media_id
    );
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
    let bytes = bounded_body(response).await?;
    let mime = info.mime_type.unwrap_or_default();
    Ok(hand_on(bytes, &mime, &format!("whatsapp-{media_id}")))
}

/// `GET /console/api/media/{customer}/{hex url}`: a Messenger or Instagram attachment.
pub async fn attachment(
    State(state): State<ConsoleState>,
    Path((customer, hex_url)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such attachment");
    let url = hex::decode(&hex_url)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|url| url.starts_with("https://"))
        .ok_or_else(not_found)?;
    if !allowed_host(&url, &state.settings.console.attachment_hosts) {
        return Err(not_found());
    }
    let customer = CustomerId(customer);
    let history = state.store.history(&customer, MEDIA_LOOKBACK).await?;
    if !history.iter().any(|entry| gave_url(entry, &url)) {
        return Err(not_found());
    }
    let _permit = fetch_permit().await?;
    let response = client()?
        .get(&url)
        .send()
        .await
        .map_err(|_| unavailable("download failed"))?
        .error_for_status()
        .map_err(|_| unavailable("download refused"))?;
    let mime = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = bounded_body(response).await?;
    Ok(hand_on(bytes, &mime, "attachment"))
}

/// Whether a stored customer message carried this URL as a file of its own (not a shared
/// post or story, whose URLs point at pages).
fn gave_url(entry: &HistoryEntry, url: &str) -> bool {
    let HistoryEntry::In {
        event: Event::Inbound(inbound),
        ..
    } = entry
    else {
        return false;
    };
    matches!(
        &inbound.message,
        InboundMessage::Media { kind, media_id: Some(id), .. }
            if id == url && is_file(*kind)
    )
}

fn is_file(kind: MediaKind) -> bool {
    match kind {
        MediaKind::Image
        | MediaKind::Audio
        | MediaKind::Video
        | MediaKind::Document
        | MediaKind::Sticker => true,
        MediaKind::StoryMention | MediaKind::Share => false,
    }
}

/// An https URL on one of `hosts` or their subdomains.
fn allowed_host(url: &str, hosts: &[String]) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    url.scheme() == "https"
        && hosts.iter().any(|allowed| {
            host == allowed
                || host
                    .strip_suffix(allowed.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::allowed_host;

    #[test]
    fn only_listed_hosts_over_https() {
        let hosts = vec!["fbcdn.net".to_owned()];
        assert!(allowed_host(
            "https://scontent.xx.fbcdn.net/v/t1/1.jpg",
            &hosts
        ));
        assert!(allowed_host("https://fbcdn.net/a", &hosts));
        assert!(!allowed_host("https://evilfbcdn.net/a", &hosts));
        assert!(!allowed_host("https://fbcdn.net.evil.example/a", &hosts));
        assert!(!allowed_host("http://scontent.fbcdn.net/a", &hosts));
        assert!(!allowed_host("https://169.254.169.254/latest", &hosts));
    }
}

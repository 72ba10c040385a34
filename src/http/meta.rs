//! Webhooks of WhatsApp, Messenger and Instagram: the subscription handshake (GET) and event
//! delivery (POST). A POST is verified on its raw bytes, parsed, deduplicated, persisted and
//! flushed, and only then answered 200; the conversation work happens afterwards.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use adapters::meta::inbound::{MetaEvent, WebhookBatch};
use adapters::meta::{messenger_in, signature, verify_subscription, whatsapp_in};
use flows::{Channel, Customer, CustomerId, Event, Identity, Inbound, Timestamp};

use super::WebhookState;
use crate::api_error::ApiError;
use crate::clock;
use crate::settings::MetaChannelSettings;
use crate::store::{DeliveryRecord, InboxEntry, Ingested, Store, StoreError};

fn settings(state: &WebhookState, channel: Channel) -> Option<&MetaChannelSettings> {
    let channels = &state.settings.channels;
    let settings = match channel {
        Channel::WhatsApp => &channels.whatsapp,
        Channel::Messenger => &channels.messenger,
        Channel::Instagram => &channels.instagram,
        _ => return None,
    };
    settings.enabled.then_some(settings)
}

fn not_enabled() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "this channel is not enabled")
}

pub async fn verify(
    state: State<WebhookState>,
    channel: Channel,
    query: Query<HashMap<String, String>>,
) -> Response {
    let Some(settings) = settings(&state, channel) else {
        return not_enabled().into_response();
    };
    let expected = settings
        .verify_token
        .as_ref()
        .map(|t| t.expose())
        .unwrap_or_default();
    let get = |key: &str| query.get(key).map(String::as_str);
    match verify_subscription(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        expected,
    ) {
        Some(challenge) => (StatusCode::OK, challenge.to_owned()).into_response(),
        None => (StatusCode::FORBIDDEN, "verification failed").into_response(),
    }
}

pub async fn receive(
    state: State<WebhookState>,
    channel: Channel,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings = settings(&state, channel).ok_or_else(not_enabled)?;
    let secret = settings
        .app_secret
        .as_ref()
        .map(|s| s.expose())
        .unwrap_or_default();
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(error) = signature::verify(secret.as_bytes(), &body, header) {
        metrics::counter!("souk_webhook_rejected_total", "channel" => channel.name(), "reason" => "signature").increment(1);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, error.to_string()));
    }
    let batch = match channel {
        Channel::WhatsApp => whatsapp_in::parse(&body),
        Channel::Instagram => messenger_in::parse(messenger_in::Product::Instagram, &body),
        _ => messenger_in::parse(messenger_in::Product::Messenger, &body),
    }
    .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {error}")))?;

    let ingest = state.ingest.clone();
    let feed = state.console_feed.clone();
    let default_locale = state.settings.shop.default_locale;
    // Detached from the request: if the platform hangs up (we are slow under back-pressure),
    // the request future is dropped, but what was persisted must still reach its workers —
    // a retry of it would be dropped as a duplicate.
    let work = tokio::spawn(async move {
        // Inline: statuses and identity changes are short store writes.
        let mut changed = Vec::new();
        let messages = record(
            ingest.store().as_ref(),
            channel,
            batch,
            default_locale,
            &mut changed,
        )
        .await?;
        for customer in &changed {
            feed.publish(customer);
        }
        // Acknowledge only what is on disk: the messages go into the next group commit, one
        // transaction and one fsync shared with every concurrent request.
        for ingested in ingest.persist(messages).await? {
            let kind = match ingested {
                Ingested::New(entry) => {
                    metrics::counter!("souk_events_received_total", "channel" => channel.name())
                        .increment(1);
                    ingest.dispatch(entry).await?;
                    "message"
                }
                Ingested::Duplicate => "duplicate",
            };
            metrics::counter!("souk_webhook_events_total", "channel" => channel.name(), "kind" => kind)
                .increment(1);
        }
        Ok::<(), ApiError>(())
    });
    work.await.map_err(ApiError::internal)??;
    Ok((StatusCode::OK, "EVENT_RECEIVED").into_response())
}

/// Records the batch's statuses (naming the conversations they change in `changed`) and
/// identity changes and returns its messages as inbox entries; the caller persists those
/// and waits for the group flush, so a crash loses nothing the platform was told we
/// received.
async fn record(
    store: &dyn Store,
    channel: Channel,
    batch: WebhookBatch,
    default_locale: flows::Locale,
    changed: &mut Vec<CustomerId>,
) -> Result<Vec<InboxEntry>, StoreError> {
    let now = clock::now();
    let mut messages = Vec::new();
    for event in batch.events {
        let kind = match event {
            MetaEvent::Message(message) => {
                let identity = Identity::new(channel, message.sender.clone());
                let customer = Customer {
                    id: CustomerId(clock::random_hex_128()),
                    identities: vec![identity.clone()],
                    display_name: message.name.clone(),
                    locale: Some(default_locale),
                    created_at: now,
                };
                let customer = store.resolve_identity(&identity, customer).await?;
                let entry = InboxEntry {
                    claim: None,
                    seq: 0,
                    public_id: message.dedup_key.clone(),
                    dedup_key: Some(message.dedup_key),
                    customer,
                    event: Event::Inbound(Inbound {
                        channel,
                        message: message.message,
                        context: flows::InboundContext {
                            sent_at: (message.timestamp_ms > 0)
                                .then_some(Timestamp(message.timestamp_ms)),
                            ..message.context
                        },
                    }),
                    received_at: now,
                };
                messages.push(entry);
                // Counted once persisted, as a message or a duplicate.
                continue;
            }
            MetaEvent::Status(status) => {
                let record = DeliveryRecord {
                    channel,
                    platform_id: status.message_id,
                    state: status.state.name().to_owned(),
                    at: Timestamp(status.timestamp_ms),
                    error: status.error.map(|(code, title)| format!("{code}: {title}")),
                };
                if store
                    .record_delivery(&status.dedup_key, &record, now)
                    .await?
                {
                    // The console shows the new tick in the chat of the customer the
                    // message went to (the status names them; it is cached).
                    let to = Identity::new(channel, status.recipient);
                    if let Some(customer) = store.find_identity(&to).await? {
                        changed.push(customer);
                    }
                    "status"
                } else {
                    "duplicate"
                }
            }
            MetaEvent::IdentityChange { old_id, new_id } => {
                store
                    .move_identity(
                        &Identity::new(channel, old_id),
                        &Identity::new(channel, new_id),
                    )
                    .await?;
                "identity_change"
            }
            MetaEvent::Echo { .. } => "echo",
            MetaEvent::Unknown { kind } => {
                tracing::info!(%channel, %kind, "webhook event of a kind we do not handle; acknowledged");
                "unknown"
            }
        };
        metrics::counter!("souk_webhook_events_total", "channel" => channel.name(), "kind" => kind)
            .increment(1);
    }
    Ok(messages)
}

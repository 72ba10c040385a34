//! Long polling, for a shop without a public URL: `getUpdates` waits up to
//! `poll_timeout_seconds` for news; each update is applied like a webhook call, and asking
//! for `offset = last + 1` confirms everything before it to Telegram. After a crash the
//! unconfirmed updates come again and are dropped by their `update_id`.

use std::sync::Arc;
use std::time::Duration;

use teloxide::payloads::setters::*;
use teloxide::prelude::Requester;
use teloxide::types::AllowedUpdate;
use tokio_util::sync::CancellationToken;

use adapters::telegram::inbound::from_update;

use super::ingress::TelegramIngress;

/// The update kinds souk acts on; Telegram filters the rest out.
pub fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::PreCheckoutQuery,
        AllowedUpdate::MyChatMember,
    ]
}

pub async fn run_polling(
    ingress: Arc<TelegramIngress>,
    timeout_seconds: u32,
    stop: CancellationToken,
) {
    // A webhook left from an earlier set-up makes getUpdates fail.
    if let Err(error) = ingress.bot.delete_webhook().await {
        tracing::warn!(%error, "could not remove a Telegram webhook before polling");
    }
    let mut offset: Option<i32> = None;
    let mut failures: u32 = 0;
    loop {
        let mut request = ingress
            .bot
            .get_updates()
            .timeout(timeout_seconds)
            .allowed_updates(allowed_updates());
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let updates = tokio::select! {
            () = stop.cancelled() => return,
            updates = request.into_future() => updates,
        };
        match updates {
            Ok(updates) => {
                failures = 0;
                for update in updates {
                    let next = i32::try_from(update.id.0)
                        .unwrap_or(i32::MAX)
                        .saturating_add(1);
                    match ingress.handle(from_update(update)).await {
                        Ok(kind) => {
                            metrics::counter!("souk_webhook_events_total", "channel" => "telegram", "kind" => kind).increment(1);
                            offset = Some(next);
                        }
                        Err(error) => {
                            // Not confirmed: Telegram gives it again on the next call.
                            tracing::error!(%error, "could not accept a Telegram update; will retry");
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let wait = Duration::from_secs(u64::from(failures.min(5)).pow(2))
                    .min(Duration::from_secs(30));
                tracing::warn!(%error, ?wait, "Telegram getUpdates failed");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// Points Telegram at our webhook (with the secret and the kinds we want), retrying until
/// it is accepted: Telegram may be unreachable when souk starts.
pub async fn register_webhook(
    ingress: Arc<TelegramIngress>,
    url: String,
    secret: String,
    stop: CancellationToken,
) {
    let Ok(url) = reqwest::Url::parse(&url) else {
        tracing::error!("the Telegram webhook URL is not valid");
        return;
    };
    let mut wait = Duration::from_secs(1);
    loop {
        let result = ingress
            .bot
            .set_webhook(url.clone())
            .secret_token(secret.clone())
            .allowed_updates(allowed_updates())
            .await;
        match result {
            Ok(_) => {
                tracing::info!("Telegram webhook registered");
                return;
            }
            Err(error) => tracing::warn!(%error, ?wait, "registering the Telegram webhook failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(300));
    }
}

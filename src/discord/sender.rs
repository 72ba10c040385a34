//! Sends replies to a customer's direct-message channel through serenity's HTTP client,
//! which keeps Discord's per-route rate-limit buckets. A user who blocks DMs from the bot
//! (50007) is recorded and gets nothing until they write again.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serenity::http::{Http, HttpBuilder, HttpError};
use serenity::model::id::{ChannelId, UserId};
use tokio::sync::Mutex;

use adapters::discord::outbound::{RenderOptions, render};
use flows::{Channel, Identity};

use super::settings::DiscordSettings;
use crate::send::action_tokens::StoredTokens;
use crate::send::{ChannelSender, Outgoing, SendError, SendResult};
use crate::store::Store;

/// "Cannot send messages to this user".
const CANNOT_DM: isize = 50007;

/// serenity's HTTP client for the bot, sent to `api_proxy` when one is configured.
pub fn http(settings: &DiscordSettings) -> Http {
    let token = settings
        .bot_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .unwrap_or_default();
    let mut builder = HttpBuilder::new(token);
    if let Some(proxy) = &settings.api_proxy {
        // serenity sends through a proxy only with its own rate limiter off: the proxy is
        // the one place that keeps the buckets (as twilight-http-proxy does).
        builder = builder.proxy(proxy.clone()).ratelimiter_disabled(true);
    }
    builder.build()
}

pub struct DiscordSender {
    http: Arc<Http>,
    store: Arc<dyn Store>,
    public_url: String,
    /// User → their DM channel with the bot (stable, so asked once per run).
    dm_channels: Mutex<HashMap<u64, ChannelId>>,
}

impl DiscordSender {
    pub fn new(http: Arc<Http>, public_url: String, store: Arc<dyn Store>) -> DiscordSender {
        DiscordSender {
            http,
            store,
            public_url,
            dm_channels: Mutex::new(HashMap::new()),
        }
    }

    async fn dm_channel(&self, user: u64) -> Result<ChannelId, serenity::Error> {
        if let Some(channel) = self.dm_channels.lock().await.get(&user) {
            return Ok(*channel);
        }
        let channel = UserId::new(user).create_dm_channel(&self.http).await?.id;
        self.dm_channels.lock().await.insert(user, channel);
        Ok(channel)
    }

    async fn classify(&self, user: &str, error: serenity::Error, parts_sent: u32) -> SendError {
        match error {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
                let status = response.status_code.as_u16();
                if response.error.code == CANNOT_DM || status == 403 {
                    let identity = Identity::new(Channel::Discord, user);
                    if let Err(error) = self.store.set_blocked(&identity, true).await {
                        tracing::error!(%error, "could not record a blocked Discord user");
                    }
                    return SendError::Permanent(
                        "the customer does not accept direct messages from the bot".into(),
                    );
                }
                if status == 429 || status >= 500 {
                    return SendError::Retryable {
                        reason: format!("Discord answered {status}"),
                        retry_after: None,
                        parts_sent,
                    };
                }
                SendError::Permanent(format!(
                    "Discord refused ({status} {}): {}",
                    response.error.code, response.error.message
                ))
            }
            serenity::Error::Http(HttpError::Request(_)) => SendError::Retryable {
                reason: "Discord could not be reached".into(),
                retry_after: None,
                parts_sent,
            },
            other => SendError::Permanent(format!("Discord: {other}")),
        }
    }
}

impl ChannelSender for DiscordSender {
    fn send(&self, outgoing: Outgoing) -> BoxFuture<'_, SendResult> {
        Box::pin(async move {
            let user = outgoing.entry.recipient.clone();
            let identity = Identity::new(Channel::Discord, user.as_str());
            if self.store.is_blocked(&identity).await.unwrap_or(false) {
                return Err(SendError::Permanent(
                    "the customer does not accept direct messages; nothing is sent until they write again".into(),
                ));
            }
            let user_id = user
                .parse::<u64>()
                .ok()
                .filter(|id| *id != 0)
                .ok_or_else(|| SendError::Permanent(format!("not a Discord user id: {user}")))?;
            let parts_sent = outgoing.entry.parts_sent;
            let channel = match self.dm_channel(user_id).await {
                Ok(channel) => channel,
                Err(error) => return Err(self.classify(&user, error, parts_sent).await),
            };
            let mut tokens = StoredTokens::new(self.store.as_ref());
            let messages = render(
                &outgoing.rendered,
                &RenderOptions {
                    public_base_url: &self.public_url,
                },
                &mut |action: &str| tokens.shorten(action),
            );
            tokens.stored(parts_sent).await?;
            let already = usize::try_from(parts_sent).unwrap_or(0);
            let mut ids = Vec::new();
            for (index, message) in messages.into_iter().enumerate().skip(already) {
                let sent_so_far = u32::try_from(index).unwrap_or(u32::MAX);
                match channel.send_message(&self.http, message).await {
                    Ok(sent) => ids.push(sent.id.get().to_string()),
                    Err(error) => return Err(self.classify(&user, error, sent_so_far).await),
                }
            }
            Ok(ids)
        })
    }
}

//! Sends replies through the Bot API with teloxide's typed client. Paced to Telegram's
//! limits (about 30 messages a second overall, one a second per chat); a 429 pauses every
//! send of the bot for its `retry_after` (Telegram throttles the bot, not the chat), and
//! "bot was blocked" stops sending to that chat until the customer writes again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use teloxide::payloads::setters::*;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, InputFile, Message};
use teloxide::{ApiError, Bot, RequestError};
use tokio::sync::Mutex;
use tokio::time::Instant;

use adapters::telegram::outbound::{RenderOptions, TelegramMessage, render};
use flows::{Channel, Identity};

use super::settings::TelegramSettings;
use crate::send::action_tokens::StoredTokens;
use crate::send::pacer::{Pacer, RecipientGap};
use crate::send::{ChannelSender, Outgoing, SendError, SendResult};
use crate::store::Store;

pub struct TelegramSender {
    bot: Bot,
    store: Arc<dyn Store>,
    public_url: String,
    pacer: Pacer,
    chats: RecipientGap,
    /// Until when Telegram told the bot to wait (429).
    paused_until: Mutex<Option<Instant>>,
}

/// The bot client for `settings`, with its API address (tests use a fake).
pub fn bot(settings: &TelegramSettings) -> anyhow::Result<Bot> {
    let client = reqwest::Client::builder()
        .timeout(
            Duration::from_millis(settings.request_timeout_ms.max(1))
                + Duration::from_secs(u64::from(settings.poll_timeout_seconds)),
        )
        .build()?;
    let token = settings
        .bot_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .unwrap_or_default();
    let url = reqwest::Url::parse(&settings.api_url)?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

impl TelegramSender {
    pub fn new(
        settings: &TelegramSettings,
        public_url: String,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<TelegramSender> {
        Ok(TelegramSender {
            bot: bot(settings)?,
            store,
            public_url,
            pacer: Pacer::per_second(settings.messages_per_second),
            chats: RecipientGap::new(Duration::from_millis(settings.chat_gap_ms)),
            paused_until: Mutex::new(None),
        })
    }

    async fn wait_out_pause(&self) {
        let until = *self.paused_until.lock().await;
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    async fn send_one(
        &self,
        chat: ChatId,
        message: &TelegramMessage,
    ) -> Result<Message, RequestError> {
        match message.clone() {
            TelegramMessage::Text { text, keyboard } => {
                let request = self.bot.send_message(chat, text);
                match keyboard {
                    Some(keyboard) => request.reply_markup(keyboard).await,
                    None => request.await,
                }
            }
            TelegramMessage::Photo {
                photo,
                caption,
                keyboard,
            } => {
                let request = self
                    .bot
                    .send_photo(chat, InputFile::url(photo))
                    .caption(caption);
                match keyboard {
                    Some(keyboard) => request.reply_markup(keyboard).await,
                    None => request.await,
                }
            }
        }
    }

    /// Our classes of Telegram's answers; a blocked chat is also recorded.
    async fn classify(&self, chat: &str, error: RequestError, parts_sent: u32) -> SendError {
        match error {
            RequestError::RetryAfter(seconds) => {
                let wait = seconds.duration();
                *self.paused_until.lock().await = Some(Instant::now() + wait);
                metrics::counter!("souk_telegram_throttled_total").increment(1);
                SendError::Retryable {
                    reason: format!("Telegram asked to wait {}s", wait.as_secs()),
                    retry_after: Some(wait),
                    parts_sent,
                }
            }
            RequestError::Api(ApiError::BotBlocked | ApiError::UserDeactivated) => {
                let identity = Identity::new(Channel::Telegram, chat);
                if let Err(error) = self.store.set_blocked(&identity, true).await {
                    tracing::error!(%error, "could not record a blocked chat");
                }
                SendError::Permanent("the customer blocked the bot (or left Telegram)".into())
            }
            RequestError::Api(error) => SendError::Permanent(format!("Telegram refused: {error}")),
            RequestError::MigrateToChatId(_) => {
                SendError::Permanent("the chat became a supergroup; not a customer chat".into())
            }
            RequestError::Network(error) => SendError::Retryable {
                reason: format!("network: {}", error.without_url_text()),
                retry_after: None,
                parts_sent,
            },
            RequestError::InvalidJson { .. } | RequestError::Io(_) => SendError::Retryable {
                reason: "Telegram's answer could not be read".into(),
                retry_after: None,
                parts_sent,
            },
        }
    }
}

trait WithoutUrlText {
    fn without_url_text(&self) -> String;
}

impl WithoutUrlText for reqwest::Error {
    /// reqwest's message names the URL, which holds the bot token: never log it.
    fn without_url_text(&self) -> String {
        if self.is_timeout() {
            "timed out".into()
        } else if self.is_connect() {
            "could not connect".into()
        } else {
            "request failed".into()
        }
    }
}

impl ChannelSender for TelegramSender {
    fn send(&self, outgoing: Outgoing) -> BoxFuture<'_, SendResult> {
        Box::pin(async move {
            let recipient = outgoing.entry.recipient.clone();
            let identity = Identity::new(Channel::Telegram, recipient.as_str());
            if self.store.is_blocked(&identity).await.unwrap_or(false) {
                return Err(SendError::Permanent(
                    "the customer blocked the bot; nothing is sent until they write again".into(),
                ));
            }
            let chat = recipient.parse::<i64>().map(ChatId).map_err(|_| {
                SendError::Permanent(format!("not a Telegram chat id: {recipient}"))
            })?;
            let mut tokens = StoredTokens::new(self.store.as_ref());
            let messages = render(
                &outgoing.rendered,
                &RenderOptions {
                    public_base_url: &self.public_url,
                },
                &mut |action: &str| tokens.shorten(action),
            );
            tokens.stored(outgoing.entry.parts_sent).await?;
            let already = usize::try_from(outgoing.entry.parts_sent).unwrap_or(0);
            let mut ids = Vec::new();
            for (index, message) in messages.iter().enumerate().skip(already) {
                let parts_sent = u32::try_from(index).unwrap_or(u32::MAX);
                self.wait_out_pause().await;
                self.chats.wait(&recipient).await;
                self.pacer.wait().await;
                match self.send_one(chat, message).await {
                    Ok(sent) => ids.push(format!("{}:{}", chat.0, sent.id.0)),
                    Err(error) => return Err(self.classify(&recipient, error, parts_sent).await),
                }
            }
            Ok(ids)
        })
    }
}

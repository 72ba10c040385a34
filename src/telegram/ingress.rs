//! What a Telegram update does, whether it came by webhook or by long polling: customer
//! messages and button presses become inbox events of that chat's customer (deduplicated by
//! `update_id`); every callback query is answered at once and its keyboard retired, so a
//! button cannot be pressed twice; blocks are recorded.

use std::sync::Arc;

use teloxide::Bot;
use teloxide::payloads::setters::*;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, MessageId};

use adapters::telegram::inbound::{Callback, CustomerMessage, TelegramEvent};
use flows::{
    Channel, Customer, CustomerId, Event, Identity, Inbound, InboundMessage, Locale, Timestamp,
};

use crate::clock;
use crate::driver::{Ingest, IngestError};
use crate::store::{InboxEntry, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// Everything an update needs; shared by the webhook route and the polling task.
#[derive(Clone)]
pub struct TelegramIngress {
    pub ingest: Ingest,
    pub bot: Bot,
    pub default_locale: Locale,
}

impl TelegramIngress {
    /// Applies one update; returns its kind for metrics. Answered platform calls (callback
    /// answers, keyboard edits) run detached: they must not hold up the update.
    pub async fn handle(&self, event: TelegramEvent) -> Result<&'static str, IngressError> {
        match event {
            TelegramEvent::Message(message) => {
                self.customer_message(&message).await?;
                Ok("message")
            }
            TelegramEvent::Callback(callback) => {
                self.button(callback).await?;
                Ok("callback")
            }
            TelegramEvent::Blocked { chat_id, blocked } => {
                let identity = Identity::new(Channel::Telegram, chat_id.to_string());
                self.ingest.store().set_blocked(&identity, blocked)?;
                tracing::info!(
                    blocked,
                    "a Telegram customer changed whether the bot may write"
                );
                Ok("blocked")
            }
            TelegramEvent::PreCheckout(query) => {
                // No invoices are sent yet, so none can be paid: say so within Telegram's
                // ten seconds rather than let the payment hang.
                let bot = self.bot.clone();
                tokio::spawn(async move {
                    let answer = bot
                        .answer_pre_checkout_query(teloxide::types::PreCheckoutQueryId(query.query_id), false)
                        .error_message("This payment is not available. Please use the payment link in the chat.")
                        .await;
                    if let Err(error) = answer {
                        tracing::warn!(%error, "answering a pre-checkout query failed");
                    }
                });
                Ok("pre_checkout")
            }
            TelegramEvent::Payment(payment) => {
                tracing::warn!(
                    chat = payment.chat_id,
                    "a Telegram payment arrived but no invoice was sent; acknowledged"
                );
                Ok("payment")
            }
            TelegramEvent::Ignored { kind } => {
                tracing::info!(
                    kind,
                    "Telegram update of a kind we do not act on; acknowledged"
                );
                Ok("ignored")
            }
        }
    }

    fn customer_of(
        &self,
        chat_id: i64,
        name: Option<String>,
        language: Option<&str>,
    ) -> Result<CustomerId, StoreError> {
        let identity = Identity::new(Channel::Telegram, chat_id.to_string());
        let store = self.ingest.store();
        // Writing again lifts a block recorded earlier.
        if store.is_blocked(&identity)? {
            store.set_blocked(&identity, false)?;
        }
        let locale = language
            .and_then(Locale::from_tag)
            .unwrap_or(self.default_locale);
        let customer = Customer {
            id: CustomerId(clock::random_hex_128()),
            identities: vec![identity.clone()],
            display_name: name,
            locale: Some(locale),
            created_at: clock::now(),
        };
        store.resolve_identity(&identity, customer)
    }

    async fn customer_message(&self, message: &CustomerMessage) -> Result<(), IngressError> {
        let customer = self.customer_of(
            message.chat_id,
            message.name.clone(),
            message.language.as_deref(),
        )?;
        let mut inbound = Inbound::new(Channel::Telegram, message.message.clone());
        // Telegram stamps seconds; never later than our clock.
        let sent = Timestamp(message.date.saturating_mul(1000));
        inbound.context.sent_at = Some(sent.min(clock::now()));
        self.accept(message.update_id, customer, Event::Inbound(inbound))
            .await
    }

    async fn button(&self, callback: Callback) -> Result<(), IngressError> {
        self.retire_keyboard(&callback);
        let Some(data) = callback.data.clone() else {
            return Ok(());
        };
        // Long ids travel as tokens; an unknown token is a stale button, which the core
        // answers as such.
        let action = if data.starts_with('~') {
            self.ingest.store().callback_token(&data)?.unwrap_or(data)
        } else {
            data
        };
        let customer = self.customer_of(callback.chat_id, None, None)?;
        let inbound = Inbound::new(Channel::Telegram, InboundMessage::Action(action));
        self.accept(callback.update_id, customer, Event::Inbound(inbound))
            .await
    }

    /// Answers the query (the spinner stops) and removes the keyboard it came from.
    fn retire_keyboard(&self, callback: &Callback) {
        let bot = self.bot.clone();
        let query = callback.query_id.clone();
        let target = callback
            .message_id
            .map(|id| (ChatId(callback.chat_id), MessageId(id)));
        tokio::spawn(async move {
            if let Err(error) = bot
                .answer_callback_query(teloxide::types::CallbackQueryId(query))
                .await
            {
                tracing::warn!(%error, "answering a Telegram button press failed");
            }
            if let Some((chat, message)) = target
                && let Err(error) = bot.edit_message_reply_markup(chat, message).await
            {
                tracing::info!(%error, "could not retire a Telegram keyboard");
            }
        });
    }

    async fn accept(
        &self,
        update_id: u32,
        customer: CustomerId,
        event: Event,
    ) -> Result<(), IngressError> {
        let key = format!("tg:{update_id}");
        let entry = InboxEntry {
            seq: 0,
            public_id: key.clone(),
            dedup_key: Some(key),
            customer,
            event,
            received_at: clock::now(),
        };
        self.ingest.accept(entry).await?;
        Ok(())
    }
}

/// Shared by the app: `None` when Telegram is off.
pub type SharedIngress = Option<Arc<TelegramIngress>>;

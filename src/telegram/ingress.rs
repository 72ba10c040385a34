//! What a Telegram update does, whether it came by webhook or by long polling: customer
//! messages and button presses become inbox events of that chat's customer (deduplicated by
//! `update_id`); every callback query is answered at once and its keyboard retired, so a
//! button cannot be pressed twice; blocks are recorded; a pre-checkout query is answered
//! after re-checking the order, and a payment confirms it.

use std::sync::Arc;

use teloxide::Bot;
use teloxide::payloads::setters::*;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, MessageId};

use adapters::telegram::inbound::{Callback, CustomerMessage, Payment, PreCheckout, TelegramEvent};
use flows::{
    Channel, CustomerId, Event, Identity, Inbound, InboundMessage, Locale, OrderStatus, Text,
    TextKey, Timestamp,
};

use crate::payments::telegram::order_of;

use crate::clock;
use crate::driver::{Ingest, IngestError};
use crate::store::StoreError;

/// Everything an update needs; shared by the webhook route and the polling task.
#[derive(Clone)]
pub struct TelegramIngress {
    pub ingest: Ingest,
    pub bot: Bot,
    pub default_locale: Locale,
    /// The running catalog (stock at pre-checkout).
    pub shared: Arc<crate::driver::Shared>,
}

impl TelegramIngress {
    /// Applies one update; returns its kind for metrics. Answered platform calls (callback
    /// answers, keyboard edits) run detached: they must not hold up the update.
    pub async fn handle(&self, event: TelegramEvent) -> Result<&'static str, IngestError> {
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
                self.ingest.store().set_blocked(&identity, blocked).await?;
                tracing::info!(
                    blocked,
                    "a Telegram customer changed whether the bot may write"
                );
                Ok("blocked")
            }
            TelegramEvent::PreCheckout(query) => {
                self.pre_checkout(query).await?;
                Ok("pre_checkout")
            }
            TelegramEvent::Payment(payment) => {
                self.paid(payment).await?;
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

    /// Telegram asks before taking the money (answer within 10 seconds): the order must
    /// still await payment, for exactly this amount, and its stock must still be there.
    async fn pre_checkout(&self, query: PreCheckout) -> Result<(), IngestError> {
        let refusal = self.refusal(&query).await?;
        let id = teloxide::types::PreCheckoutQueryId(query.query_id.clone());
        let answer = match &refusal {
            None => self.bot.answer_pre_checkout_query(id, true).await,
            Some(reason) => {
                self.bot
                    .answer_pre_checkout_query(id, false)
                    .error_message(reason.clone())
                    .await
            }
        };
        let ok = if refusal.is_none() { "yes" } else { "no" };
        metrics::counter!("souk_telegram_pre_checkouts_total", "ok" => ok).increment(1);
        if let Err(error) = answer {
            tracing::warn!(%error, "answering a Telegram pre-checkout query failed");
        }
        Ok(())
    }

    /// Why this payment must not go ahead (in the customer's language), if it must not.
    async fn refusal(&self, query: &PreCheckout) -> Result<Option<String>, StoreError> {
        let store = self.ingest.store();
        let customer = store
            .find_identity(&Identity::new(Channel::Telegram, query.chat_id.to_string()))
            .await?;
        let conversation = match customer {
            Some(customer) => store.conversation(&customer).await.ok().flatten(),
            None => None,
        };
        let locale = conversation.map_or(self.default_locale, |c| c.locale);
        let say = |text: Text| Some(crate::render::Renderer.text(locale, &text));
        let order = match order_of(&query.payload) {
            Some(id) => store.order(&id).await?,
            None => None,
        };
        let Some(order) = order else {
            return Ok(say(Text::new(TextKey::PayNotPayable)));
        };
        let amount_matches = i64::from(query.total_amount) == order.total.minor
            && query.currency == order.total.currency.code();
        if order.status != OrderStatus::PendingPayment || !amount_matches {
            tracing::warn!(order = %order.id, status = %order.status, amount_matches, "Telegram pre-checkout refused");
            return Ok(say(Text::new(TextKey::PayNotPayable)));
        }
        let ctx = self.shared.context();
        let sold_out: Vec<String> = order
            .lines
            .iter()
            .filter(|line| {
                ctx.catalog
                    .variant(&line.sku)
                    .is_none_or(|(_, variant)| variant.stock < line.quantity)
            })
            .map(|line| line.title.clone())
            .collect();
        if !sold_out.is_empty() {
            return Ok(say(
                Text::new(TextKey::PaySoldOut).str("products", sold_out.join(", "))
            ));
        }
        Ok(None)
    }

    /// Telegram took the money: the order is confirmed through its conversation, once per
    /// charge however often the update comes.
    async fn paid(&self, payment: Payment) -> Result<(), IngestError> {
        let store = self.ingest.store();
        let order = match order_of(&payment.payload) {
            Some(id) => store.order(&id).await?,
            None => None,
        };
        let Some(order) = order else {
            tracing::error!(charge = %payment.telegram_charge_id, "a Telegram payment for no order of ours; refund it by hand");
            return Ok(());
        };
        // Telegram checked the invoice souk sent, but an invoice made before the order changed
        // (or by another bot sharing the token) must not confirm it at another price.
        if i64::from(payment.total_amount) != order.total.minor
            || payment.currency != order.total.currency.code()
        {
            crate::payments::refuse_payment(
                store.as_ref(),
                &self.shared.console_feed,
                &order,
                "telegram",
                crate::payments::Refusal::WrongAmount,
                &format!(
                    "charge {} took {} {}, the order is {} {}",
                    payment.telegram_charge_id,
                    payment.total_amount,
                    payment.currency,
                    order.total.minor,
                    order.total.currency.code()
                ),
            )
            .await;
            return Ok(());
        }
        let event = Event::PaymentConfirmed {
            order: order.id.clone(),
        };
        let key = format!("tg-pay:{}", payment.telegram_charge_id);
        self.ingest
            .accept_keyed(key, order.customer.clone(), event)
            .await?;
        Ok(())
    }

    async fn customer_of(
        &self,
        chat_id: i64,
        name: Option<String>,
        language: Option<&str>,
    ) -> Result<CustomerId, StoreError> {
        let identity = Identity::new(Channel::Telegram, chat_id.to_string());
        let locale = language
            .and_then(Locale::from_tag)
            .unwrap_or(self.default_locale);
        self.ingest.customer_of(&identity, name, locale).await
    }

    async fn customer_message(&self, message: &CustomerMessage) -> Result<(), IngestError> {
        let customer = self
            .customer_of(
                message.chat_id,
                message.name.clone(),
                message.language.as_deref(),
            )
            .await?;
        // A deep link `t.me/<bot>?start=LK-…` carries a link code: read it as sent.
        let content = match message
            .start_parameter
            .as_deref()
            .and_then(flows::understanding::link_code)
        {
            Some(code) => InboundMessage::Text(code),
            None => message.message.clone(),
        };
        let mut inbound = Inbound::new(Channel::Telegram, content);
        // Telegram stamps seconds; never later than our clock.
        let sent = Timestamp(message.date.saturating_mul(1000));
        inbound.context.sent_at = Some(sent.min(clock::now()));
        inbound.context.own_phone.clone_from(&message.own_phone);
        self.accept(message.update_id, customer, Event::Inbound(inbound))
            .await
    }

    async fn button(&self, callback: Callback) -> Result<(), IngestError> {
        self.retire_keyboard(&callback);
        let Some(data) = callback.data.clone() else {
            return Ok(());
        };
        // Long ids travel as tokens; an unknown token is a stale button, which the core
        // answers as such.
        let action = if data.starts_with('~') {
            self.ingest
                .store()
                .callback_token(&data)
                .await?
                .unwrap_or(data)
        } else {
            data
        };
        let customer = self.customer_of(callback.chat_id, None, None).await?;
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
    ) -> Result<(), IngestError> {
        self.ingest
            .accept_keyed(format!("tg:{update_id}"), customer, event)
            .await?;
        Ok(())
    }
}

/// Shared by the app: `None` when Telegram is off.
pub type SharedIngress = Option<Arc<TelegramIngress>>;

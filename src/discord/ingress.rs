//! What a Discord event does: a customer's message becomes an inbox event of the customer
//! behind that Discord user (deduplicated by message id); a button or select press is
//! answered at once (the message is updated without its components, so it cannot be
//! pressed twice, well within Discord's 3 seconds) and becomes an action event.

use std::sync::Arc;

use serenity::builder::{
    Builder as _, CreateInteractionResponse, CreateInteractionResponseMessage,
};
use serenity::http::Http;
use serenity::model::id::InteractionId;

use adapters::discord::inbound::{ComponentPress, DiscordEvent, DiscordMessage};
use flows::{Channel, Event, Identity, Inbound, InboundMessage, Locale};

use crate::driver::{Ingest, IngestError};

#[derive(Clone)]
pub struct DiscordIngress {
    pub ingest: Ingest,
    pub http: Arc<Http>,
    pub default_locale: Locale,
}

/// Answers a press by updating its message without components: the press is acknowledged
/// and its buttons are gone.
pub async fn answer_press(http: &Http, press: &ComponentPress) -> Result<(), serenity::Error> {
    CreateInteractionResponse::UpdateMessage(
        CreateInteractionResponseMessage::new().components(Vec::new()),
    )
    .execute(
        http,
        (
            InteractionId::new(press.interaction_id.max(1)),
            &press.token,
        ),
    )
    .await
}

impl DiscordIngress {
    pub async fn handle(&self, event: DiscordEvent) -> Result<&'static str, IngestError> {
        match event {
            DiscordEvent::Message(message) => {
                self.customer_message(message).await?;
                Ok("message")
            }
            DiscordEvent::Component(press) => {
                if let Err(error) = answer_press(&self.http, &press).await {
                    tracing::warn!(%error, "answering a Discord button press failed");
                }
                self.press(press).await?;
                Ok("component")
            }
            DiscordEvent::Ignored { kind } => {
                tracing::debug!(kind, "Discord event we do not act on");
                Ok("ignored")
            }
        }
    }

    async fn customer_message(&self, message: DiscordMessage) -> Result<(), IngestError> {
        let identity = Identity::new(Channel::Discord, message.user_id.to_string());
        let customer = self
            .ingest
            .customer_of(&identity, Some(message.name), self.default_locale)
            .await?;
        let event = Event::Inbound(Inbound::new(Channel::Discord, message.message));
        self.ingest
            .accept_keyed(format!("dc:m:{}", message.message_id), customer, event)
            .await?;
        Ok(())
    }

    async fn press(&self, press: ComponentPress) -> Result<(), IngestError> {
        // Long ids travel as tokens; an unknown one is a stale button for the core.
        let action = if press.action.starts_with('~') {
            self.ingest
                .store()
                .callback_token(&press.action)
                .await?
                .unwrap_or(press.action)
        } else {
            press.action
        };
        let identity = Identity::new(Channel::Discord, press.user_id.to_string());
        let customer = self
            .ingest
            .customer_of(&identity, None, self.default_locale)
            .await?;
        let event = Event::Inbound(Inbound::new(
            Channel::Discord,
            InboundMessage::Action(action),
        ));
        self.ingest
            .accept_keyed(format!("dc:i:{}", press.interaction_id), customer, event)
            .await?;
        Ok(())
    }
}

//! What happens to a conversation: the only input of `Conversation::step`.

use serde::{Deserialize, Serialize};

use crate::customer::Channel;
use crate::order::{OrderId, OrderStatus};
use crate::time::Timestamp;
use crate::understanding::Intent;
use crate::vocabulary::OperatorId;
pub use crate::vocabulary::TimerKind;

// Inbound is the common case and is moved once per step; boxing it would add an allocation
// to every message to save a few bytes on the rare events.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The customer wrote or pressed something.
    Inbound(Inbound),
    /// The answer to an `Action::RequestNlu`. `None` when the model failed or was unsure: the
    /// core then treats the text as not understood, exactly as without a model.
    NluResult {
        intent: Option<Intent>,
        /// The request this answers (`Action::RequestNlu::request`); a late answer to an
        /// earlier one is not acted on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<u32>,
    },
    TimerFired(TimerKind),
    PaymentLinkReady {
        order: OrderId,
        url: String,
    },
    PaymentConfirmed {
        order: OrderId,
    },
    PaymentFailed {
        order: OrderId,
        #[serde(default)]
        reason: PaymentFailure,
    },
    /// The payment of an order took units that were no longer in stock.
    OrderOversold {
        order: OrderId,
        skus: Vec<crate::catalog::Sku>,
    },
    /// The shop moved an order on (shipped, delivered, cancelled, refunded…).
    OrderStatusChanged {
        order: OrderId,
        status: OrderStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<String>,
        /// Who moved it: an operator's display name (none from the command line).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An operator takes the conversation from the bot (or from the waiting queue). `name`
    /// is what the customer is told ("Maria from our team").
    OperatorTookOver {
        operator: OperatorId,
        name: String,
    },
    /// The owning operator writes to the customer. `original`: what the operator wrote,
    /// when `text` is its translation into the customer's language (kept in the history).
    OperatorMessage {
        operator: OperatorId,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        original: Option<String>,
    },
    /// The owner gives the conversation to another operator.
    OperatorReassigned {
        from: OperatorId,
        to: OperatorId,
        name: String,
    },
    /// The owner hands back to the bot; `resolved` closes the case without a resume message.
    OperatorHandedBack {
        operator: OperatorId,
        #[serde(default)]
        resolved: bool,
    },
    /// The owner sends a product card.
    OperatorSentProduct {
        operator: OperatorId,
        product: crate::catalog::ProductId,
    },
    /// The owner turns the cart into an order and sends its payment link, with the name and
    /// contact the customer gave before.
    OperatorSentPaymentLink {
        operator: OperatorId,
    },
    /// The link code the customer asked for, valid for `minutes`.
    LinkCodeIssued {
        code: String,
        minutes: u32,
    },
    /// What came of a link code sent from another channel. On success the other chat's
    /// customer has been merged into this one.
    Linked(LinkOutcome),
    /// The store's answer to a hold or a booking.
    Booking(crate::booking::BookingOutcome),
    /// An operator recorded that the customer did not come to an appointment.
    OperatorMarkedNoShow {
        operator: OperatorId,
        booking: crate::booking::BookingId,
    },
    /// The shop (an admin in the console, the admin API, `souk customer erase`) erases
    /// everything held on this customer. Like `TimerFired(Erasure)`, carried out by the
    /// shell in the customer's worker; the core never steps it. `by`: who asked.
    EraseRequested {
        by: String,
    },
    /// A message of the shop's campaign (news, offers); the core sends it only to a
    /// customer whose latest answer to marketing is yes.
    Marketing {
        campaign: String,
        text: crate::text::LocalizedText,
    },
}

/// The outcome of redeeming a link code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum LinkOutcome {
    /// Linked; `other_cart` is what the other chat's cart held.
    Done {
        #[serde(default)]
        other_cart: Vec<crate::cart::CartLine>,
    },
    /// No such code (mistyped, or never issued).
    Unknown,
    Expired,
    Used,
    /// The code came from this very customer.
    SameCustomer,
    /// Too many wrong codes lately: wait.
    TooManyTries,
    /// No other chat uses the phone number the customer shared.
    NoMatch,
    /// A code went to the other chat of the number the customer named: it proves the chat
    /// is theirs when they send it here.
    CodeSent,
}

impl Event {
    /// Events an operator caused: their replies are the operator's, never held.
    /// The operator behind an operator's event (for a reassignment, the one who gave it).
    pub fn operator(&self) -> Option<&OperatorId> {
        match self {
            Event::OperatorTookOver { operator, .. }
            | Event::OperatorMessage { operator, .. }
            | Event::OperatorHandedBack { operator, .. }
            | Event::OperatorSentProduct { operator, .. }
            | Event::OperatorSentPaymentLink { operator }
            | Event::OperatorMarkedNoShow { operator, .. } => Some(operator),
            Event::OperatorReassigned { from, .. } => Some(from),
            _ => None,
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Event::OperatorTookOver { .. }
                | Event::OperatorMessage { .. }
                | Event::OperatorReassigned { .. }
                | Event::OperatorHandedBack { .. }
                | Event::OperatorSentProduct { .. }
                | Event::OperatorSentPaymentLink { .. }
                | Event::OperatorMarkedNoShow { .. }
        )
    }
}

/// Why a payment did not complete; the customer is told differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentFailure {
    /// The provider refused the payment (card declined, authentication failed).
    #[default]
    Declined,
    /// The payment page expired before the customer paid.
    Expired,
    /// No link could be made (the provider kept failing or refused the request).
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub channel: Channel,
    pub message: InboundMessage,
    /// What the platform told us around the message. Absent in version-1 records.
    #[serde(default, skip_serializing_if = "InboundContext::is_empty")]
    pub context: InboundContext,
}

impl Inbound {
    pub fn new(channel: Channel, message: InboundMessage) -> Inbound {
        Inbound {
            channel,
            message,
            context: InboundContext::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InboundContext {
    /// The platform id of our message the customer replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// A catalog item the customer asked about (WhatsApp `referred_product`): our SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_product: Option<String>,
    /// The ad or link that brought the customer (click-to-chat ads, m.me refs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<AdReferral>,
    /// The Instagram story the customer replied to (its media URL, else its id), so the
    /// console can show what the reply is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    /// When the platform says the customer sent it. Messaging windows count from here, not
    /// from when a delayed delivery reached us.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// The customer's own phone number, as the platform vouches for it (Telegram's "share
    /// my contact"): it may link them to the chat of the same number on another channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_phone: Option<String>,
    /// The customer's time zone (IANA name) where the channel tells it (the web chat's
    /// browser): appointment times are then shown in it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The customer's text was longer than the channel allows and was cut to it: how many
    /// characters it had (the history says so; the rest was never read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_from_chars: Option<u64>,
}

impl InboundContext {
    pub fn is_empty(&self) -> bool {
        self.reply_to.is_none()
            && self.referred_product.is_none()
            && self.referral.is_none()
            && self.story.is_none()
            && self.sent_at.is_none()
            && self.own_phone.is_none()
            && self.time_zone.is_none()
            && self.cut_from_chars.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdReferral {
    /// "ad", "post", "SHORTLINK", "ADS"… as the platform says.
    pub source_type: String,
    pub source_id: Option<String>,
    pub source_url: Option<String>,
    pub headline: Option<String>,
    /// Click id for ad attribution (WhatsApp `ctwa_clid`) or the m.me `ref`.
    pub click_id: Option<String>,
}

/// One line of a cart the customer sent from a platform catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    /// The platform's `product_retailer_id`; the shop uses its SKUs there.
    pub retailer_id: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    /// An Instagram story that mentions the shop.
    StoryMention,
    /// A shared post, reel or link.
    Share,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundMessage {
    Text(String),
    /// A button, postback or list pick: the raw action id we put on it. Raw because it comes
    /// from outside and may be stale or forged; the core parses it.
    Action(String),
    Location {
        latitude: f64,
        longitude: f64,
    },
    Contact {
        phone: Option<String>,
        name: Option<String>,
    },
    Media {
        kind: MediaKind,
        caption: Option<String>,
        /// The platform's media id, for the console to download later.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime: Option<String>,
    },
    /// A cart sent from the platform's catalog (WhatsApp `order`): becomes our cart.
    CatalogOrder {
        items: Vec<CatalogItem>,
    },
    /// A reaction to one of our messages; `None` removes it. Recorded, not answered.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    /// The customer deleted a message. Recorded, not answered.
    Unsend {
        message_id: String,
    },
}

impl InboundMessage {
    /// A shared location, when it is one on Earth: finite, latitude within ±90° and
    /// longitude within ±180°. Anything else (a platform's bug, a forged webhook) names no
    /// place and is not passed on as one.
    pub fn location(latitude: f64, longitude: f64) -> Option<InboundMessage> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            InboundMessage::Location {
                latitude,
                longitude,
            },
        )
    }
}

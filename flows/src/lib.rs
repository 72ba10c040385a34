//! `flows`: souk's functional core. The domain model and the conversation state machine,
//! with no IO, no async, no clock and no randomness: `Conversation::step` is a pure function
//! of the conversation, the context, one event and the current time.

pub mod action;
pub mod booking;
pub mod cart;
pub mod catalog;
pub mod consent;
pub mod contact;
pub mod context;
pub mod conversation;
mod conversation_record;
pub mod customer;
pub mod discount;
pub mod erasure;
pub mod event;
mod flow;
pub mod handoff;
pub mod knowledge;
pub mod kpis;
pub mod language;
pub mod locale;
pub mod merge;
pub mod money;
pub mod order;
pub mod reach;
pub mod recommend;
pub mod recovery;
pub mod search;
pub mod stock;
pub mod summary;
pub mod text;
pub mod time;
pub mod understanding;
pub mod vocabulary;
pub mod words;

pub use action::{
    Action, Card, CartView, CartViewLine, Choice, ChoiceAction, HandoffReason, Link, Reply,
};
pub use cart::{Cart, CartLine};
pub use catalog::{
    Catalog, CatalogData, CatalogError, Category, CategoryId, Product, ProductId, Sku, Variant,
};
pub use context::{Context, FlowSettings};
pub use conversation::{
    BrowseStep, CheckoutStep, Conversation, FlowState, ProductStep, Profile, Step,
};
pub use customer::{Channel, Customer, CustomerId, Identity};
pub use event::{
    AdReferral, CatalogItem, Event, Inbound, InboundContext, InboundMessage, LinkOutcome,
    MediaKind, PaymentFailure, TimerKind,
};
pub use handoff::{Handoff, HandoffSettings, OnDuty, OperatorId, WaitMode};
pub use locale::Locale;
pub use money::{Currency, Money};
pub use order::{ContactPoint, Fulfilment, Order, OrderChange, OrderId, OrderLine, OrderStatus};
pub use recommend::BoughtTogether;
pub use text::{Arg, Label, LocalizedText, Text, TextKey};
pub use time::{Span, Timestamp};
pub use understanding::{Intent, understand};

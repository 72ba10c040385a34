//! One file per flow. Each adds methods to `Conversation`; `conversation.rs` dispatches.

mod booking;
mod booking_changes;
mod booking_deposit;
mod browse;
mod cart;
mod checkout;
mod consent;
mod discount;
mod erasure;
mod fallback;
mod fulfilment;
mod handoff;
mod knowledge;
mod language;
mod linking;
mod navigation;
mod nlu;
mod orders;
mod product;
mod recovery;
mod welcome;

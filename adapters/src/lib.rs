//! `adapters`: one module per chat channel. Each verifies, parses and renders; none keeps
//! state or touches the store. Platform payloads in, `flows` events out; rendered replies
//! in, platform payloads out.

#[cfg(feature = "discord")]
pub mod discord;
pub mod meta;
pub mod payments;
pub mod rendered;
pub mod telegram;
pub mod text_limits;
pub mod webchat;

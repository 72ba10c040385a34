//! Discord: gateway messages and component interactions (serenity's model types) → one
//! `DiscordEvent` each, and rendered replies → serenity message builders within Discord's
//! limits. Pure functions; the shell's serenity client receives and sends.

pub mod inbound;
pub mod outbound;

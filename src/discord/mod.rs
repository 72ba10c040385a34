//! The Discord channel's shell: settings, what an event does (ingress, including answering
//! a button within Discord's 3 seconds), sending, and the gateway client that receives.
//! Everything but the settings needs the `discord` feature (serenity).

#[cfg(feature = "discord")]
pub mod gateway;
#[cfg(feature = "discord")]
pub mod ingress;
#[cfg(feature = "discord")]
pub mod sender;
pub mod settings;

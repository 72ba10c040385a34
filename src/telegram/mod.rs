//! The Telegram channel's shell: settings, what an update does (ingress), sending, and the
//! long-polling loop used when souk has no public URL for a webhook.

pub mod ingress;
pub mod polling;
pub mod sender;
pub mod settings;

//! Telegram Bot API: updates (webhook bodies or `getUpdates` results) → one `TelegramEvent`
//! each, and rendered replies → Bot API requests. Types and parsing are teloxide's; the
//! conversation loop is `flows`'.

pub mod inbound;
pub mod outbound;

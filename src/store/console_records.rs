//! What the operator console keeps: operator accounts, login sessions, the one-time set-up
//! token, and a small per-conversation summary the conversation list is read from.

use serde::{Deserialize, Serialize};

use flows::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything an agent can, and manages operators.
    Admin,
    /// Works conversations.
    Agent,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// The login name, also the operator's id in conversations.
    pub name: String,
    /// What customers are told ("Ana from our team"); empty: the name, capitalised.
    #[serde(default)]
    pub display_name: String,
    pub role: Role,
    /// An argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// A logged-in browser. Stored under the SHA-256 of its cookie token, so a copy of the store
/// does not hold usable cookies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    pub operator: String,
    /// Sent back in `X-CSRF-Token` on every state-changing request.
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A one-time link an admin made for a colleague (a new operator, or a reset): whoever
/// opens it before it expires sets that operator's password. Stored under its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub operator: String,
    pub expires_at: Timestamp,
}

/// A browser an operator logged in from before (its cookie's digest is the key): a login
/// from it is not held back by the per-name limit, so strangers guessing an operator's
/// password from many addresses cannot lock the operator out (OWASP's device cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownDevice {
    pub operator: String,
    pub expires_at: Timestamp,
}

/// One row of the conversation list: its rules are the core's (`flows::summary`).
pub use flows::summary::ConversationSummary;

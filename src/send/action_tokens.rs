//! Button ids longer than a platform allows (Telegram's 64 bytes of callback data,
//! Discord's 100-character custom ids) travel as short tokens; the store maps each token
//! back to its action when the button is pressed.

use sha2::{Digest, Sha256};

use super::SendError;
use crate::store::Store;

/// Derived from the action, so rendering or pressing the same button again maps to one
/// stored pair. `~` marks it; action ids never start with it.
pub fn token_for(action: &str) -> String {
    let digest = Sha256::digest(action.as_bytes());
    format!("~{}", hex::encode(&digest[..12]))
}

/// Hands out tokens while a reply renders, storing each pair; a store failure makes the
/// send retryable rather than send a button nobody can resolve.
pub struct StoredTokens<'a> {
    store: &'a dyn Store,
    failed: Option<String>,
}

impl<'a> StoredTokens<'a> {
    pub fn new(store: &'a dyn Store) -> StoredTokens<'a> {
        StoredTokens {
            store,
            failed: None,
        }
    }

    pub fn shorten(&mut self, action: &str) -> String {
        let token = token_for(action);
        if let Err(error) = self.store.put_callback_token(&token, action) {
            self.failed = Some(error.to_string());
        }
        token
    }

    /// Whether every token was stored.
    pub fn stored(self, parts_sent: u32) -> Result<(), SendError> {
        match self.failed {
            Some(error) => Err(SendError::Retryable {
                reason: format!("store: {error}"),
                retry_after: None,
                parts_sent,
            }),
            None => Ok(()),
        }
    }
}

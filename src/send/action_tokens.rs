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

/// Hands out tokens while a reply renders and stores the pairs before it is sent; a store
/// failure makes the send retryable rather than send a button nobody can resolve.
pub struct StoredTokens<'a> {
    store: &'a dyn Store,
    pending: Vec<(String, String)>,
}

impl<'a> StoredTokens<'a> {
    pub fn new(store: &'a dyn Store) -> StoredTokens<'a> {
        StoredTokens {
            store,
            pending: Vec::new(),
        }
    }

    pub fn shorten(&mut self, action: &str) -> String {
        let token = token_for(action);
        self.pending.push((token.clone(), action.to_owned()));
        token
    }

    /// Stores every token handed out; call before sending what they are in.
    pub async fn stored(self, parts_sent: u32) -> Result<(), SendError> {
        for (token, action) in &self.pending {
            if let Err(error) = self.store.put_callback_token(token, action).await {
                return Err(SendError::Retryable {
                    reason: format!("store: {error}"),
                    retry_after: None,
                    parts_sent,
                });
            }
        }
        Ok(())
    }
}

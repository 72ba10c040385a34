//! Looking up the customer behind a chat identity is the one read every inbound message
//! makes before it is stored. Lookups that arrive while one is running share the next query
//! (`identity = ANY(…)`), as writes share a group-commit round: under load, one round trip
//! answers dozens of webhooks instead of one each.

use std::collections::HashMap;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::db;
use crate::store::{StoreError, StoreResult};
use flows::CustomerId;

/// An answer; an error keeps whether a retry can help (`StoreError` is not `Clone`).
type Answer = oneshot::Sender<Result<Option<CustomerId>, (bool, String)>>;

/// Lookups one query answers at most.
const MOST: usize = 512;

pub(super) struct IdentityReads {
    queue: mpsc::UnboundedSender<(String, Answer)>,
}

impl IdentityReads {
    /// Starts the reader; it ends when the store (this handle) is dropped.
    pub(super) fn start(pool: PgPool) -> IdentityReads {
        let (queue, mut requests) = mpsc::unbounded_channel::<(String, Answer)>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MOST);
            while requests.recv_many(&mut batch, MOST).await > 0 {
                let mut keys: Vec<&str> = batch.iter().map(|(key, _)| key.as_str()).collect();
                keys.sort_unstable();
                keys.dedup();
                let found: Result<HashMap<String, String>, (bool, String)> =
                    sqlx::query_as::<_, (String, String)>(
                        "SELECT identity, customer FROM identities WHERE identity = ANY($1)",
                    )
                    .bind(&keys)
                    .fetch_all(&pool)
                    .await
                    .map(|rows| rows.into_iter().collect())
                    .map_err(|error| match db(error) {
                        StoreError::Unavailable(why) | StoreError::Conflict(why) => (true, why),
                        other => (false, other.to_string()),
                    });
                for (key, answer) in batch.drain(..) {
                    let _ = answer.send(match &found {
                        Ok(found) => Ok(found.get(&key).cloned().map(CustomerId)),
                        Err(error) => Err(error.clone()),
                    });
                }
            }
        });
        IdentityReads { queue }
    }

    pub(super) async fn customer_of(&self, key: String) -> StoreResult<Option<CustomerId>> {
        let (answer, wait) = oneshot::channel();
        self.queue
            .send((key, answer))
            .map_err(|_| StoreError::Unavailable("the identity reader stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Unavailable("the identity reader stopped".into()))?
            .map_err(|(retryable, why)| {
                if retryable {
                    StoreError::Unavailable(why)
                } else {
                    StoreError::Engine(why)
                }
            })
    }
}

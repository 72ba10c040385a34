//! Replicas talk through PostgreSQL's LISTEN/NOTIFY. Channel names are database-wide, so
//! they carry the schema: two shops sharing one database do not hear each other. Two
//! channels: `inbox` (payload: the shards, comma separated, that received events their
//! holder must take) and `live` (what the live views need, as the shell wrote it).
//! A notification is sent at its transaction's commit, and only then.

use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use super::{PgStore, db};
use crate::store::{Notice, StoreResult};

/// Notices waiting for the shell; beyond this the listener waits (the connection buffers).
const BACKLOG: usize = 1024;

pub(super) async fn notify_inbox(connection: &mut PgConnection, shards: &[i32]) -> StoreResult<()> {
    let payload = shards
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query("SELECT pg_notify('souk.' || current_schema() || '.inbox', $1)")
        .bind(payload)
        .execute(connection)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn announce(store: &PgStore, payload: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify('souk.' || current_schema() || '.live', $1)")
        .bind(payload)
        .execute(store.pool())
        .await
        .map_err(db)?;
    Ok(())
}

fn parse_shards(payload: &str) -> Vec<u32> {
    payload
        .split(',')
        .filter_map(|shard| shard.trim().parse().ok())
        .collect()
}

/// Listens on a connection of its own until the receiver is dropped. A lost connection is
/// re-opened (the pool retries) and reported as `Notice::Missed`.
pub(super) async fn listen(store: &PgStore) -> StoreResult<mpsc::Receiver<Notice>> {
    let (schema,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(store.pool())
        .await
        .map_err(db)?;
    let inbox = format!("souk.{schema}.inbox");
    let live = format!("souk.{schema}.live");
    let mut listener = PgListener::connect_with(store.pool()).await.map_err(db)?;
    listener
        .listen_all([inbox.as_str(), live.as_str()])
        .await
        .map_err(db)?;
    let (sender, receiver) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        loop {
            let notice = tokio::select! {
                () = sender.closed() => return,
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) if notification.channel() == inbox => {
                        Notice::Inbox(parse_shards(notification.payload()))
                    }
                    Ok(Some(notification)) => Notice::Live(notification.payload().to_owned()),
                    Ok(None) => Notice::Missed,
                    Err(error) => {
                        tracing::warn!(%error, "listening for other replicas failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        Notice::Missed
                    }
                },
            };
            if sender.send(notice).await.is_err() {
                return;
            }
        }
    });
    Ok(receiver)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shard_lists_parse_and_skip_junk() {
        assert_eq!(super::parse_shards("3,17, 9,x,"), vec![3, 17, 9]);
    }
}

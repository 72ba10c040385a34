//! The serenity gateway client: it keeps the WebSocket (hello, heartbeats, resumes) and
//! hands us messages and interactions, which `DiscordIngress` applies. Only direct messages
//! and the configured shop channel are served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Message, Ready};
use serenity::client::ClientBuilder;
use tokio_util::sync::CancellationToken;

use adapters::discord::inbound::{from_interaction, from_message};

use super::ingress::DiscordIngress;
use super::settings::DiscordSettings;

struct Handler {
    ingress: Arc<DiscordIngress>,
    shop_channel: Option<u64>,
    /// Our own user id, learnt at `ready`: our messages come back through the gateway.
    bot_user: AtomicU64,
}

impl Handler {
    async fn apply(&self, event: adapters::discord::inbound::DiscordEvent) {
        match self.ingress.handle(event).await {
            Ok(kind) => {
                metrics::counter!("souk_webhook_events_total", "channel" => "discord", "kind" => kind)
                    .increment(1);
            }
            // The gateway does not redeliver: log loudly; the customer can write again.
            Err(error) => tracing::error!(%error, "could not accept a Discord event"),
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        self.bot_user.store(ready.user.id.get(), Ordering::Relaxed);
        tracing::info!(user = %ready.user.name, "connected to the Discord gateway");
    }

    async fn message(&self, _: Context, message: Message) {
        let bot = Some(self.bot_user.load(Ordering::Relaxed)).filter(|id| *id != 0);
        self.apply(from_message(&message, bot, self.shop_channel))
            .await;
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        self.apply(from_interaction(&interaction)).await;
    }
}

/// Runs the gateway until `stop`; serenity reconnects by itself.
pub async fn run_gateway(
    settings: DiscordSettings,
    ingress: Arc<DiscordIngress>,
    stop: CancellationToken,
) {
    let intents = GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT;
    let handler = Handler {
        ingress: ingress.clone(),
        shop_channel: settings.shop_channel_id,
        bot_user: AtomicU64::new(0),
    };
    let http = super::sender::http(&settings);
    let mut client = match ClientBuilder::new_with_http(http, intents)
        .event_handler(handler)
        .await
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot start the Discord client");
            return;
        }
    };
    let shards = client.shard_manager.clone();
    tokio::select! {
        result = client.start() => {
            if let Err(error) = result {
                tracing::error!(%error, "the Discord gateway stopped");
            }
        }
        () = stop.cancelled() => shards.shutdown_all().await,
    }
}

//! Discord sending through a fake HTTP API with serenity's client: replies go to the
//! customer's DM channel (opened once), a user who refuses DMs is recorded and skipped, and
//! a button press is answered by removing the buttons.

use std::sync::Arc;

use serde_json::json;

use adapters::discord::inbound::ComponentPress;
use adapters::rendered::{RenderedChoice, RenderedReply};
use flows::{Channel, CustomerId, Identity, Locale, Reply, TextKey, Timestamp};
use souk::discord::ingress::answer_press;
use souk::discord::sender::{DiscordSender, http};
use souk::discord::settings::DiscordSettings;
use souk::send::{ChannelSender, Outgoing, SendError};
use souk::settings::Secret;
use souk::store::{OutboxEntry, Store};

use crate::fake_discord::FakeDiscord;

const TOKEN: &str = "discord-bot-token";
const USER: u64 = 80_351_110_224_678_912;

fn settings(fake: &FakeDiscord) -> DiscordSettings {
    DiscordSettings {
        enabled: true,
        bot_token: Some(Secret::new(TOKEN)),
        shop_channel_id: None,
        api_proxy: Some(fake.base.clone()),
    }
}

fn outgoing(id: u64, text: &str) -> Outgoing {
    Outgoing {
        entry: OutboxEntry {
            id,
            customer: CustomerId("c1".into()),
            channel: Channel::Discord,
            recipient: USER.to_string(),
            locale: Locale::En,
            reply: Reply::key(TextKey::Menu),
            reply_to: None,
            attempts: 0,
            next_attempt_at: Timestamp(0),
            created_at: Timestamp(0),
            last_error: None,
            parts_sent: 0,
            last_inbound_at: None,
        },
        rendered: RenderedReply {
            lang: Locale::En,
            right_to_left: false,
            text: text.into(),
            choices: vec![
                RenderedChoice {
                    id: "browse".into(),
                    label: "Browse products".into(),
                },
                RenderedChoice {
                    id: "cart".into(),
                    label: "View cart".into(),
                },
            ],
            cards: Vec::new(),
            cart: None,
            link: None,
        },
        time: String::new(),
    }
}

async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = crate::support::open_store(dir.path()).await;
    (dir, store)
}

#[tokio::test]
async fn replies_go_to_the_customers_direct_messages() {
    let fake = FakeDiscord::start().await;
    let (_dir, store) = store().await;
    let sender = DiscordSender::new(Arc::new(http(&settings(&fake))), String::new(), store);
    let ids = sender
        .send(outgoing(1, "What would you like to do?"))
        .await
        .expect("sent");
    assert_eq!(ids.len(), 1);
    sender
        .send(outgoing(2, "Here you are"))
        .await
        .expect("sent");
    let calls = fake.calls();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    let dm = format!("/channels/9{USER}/messages");
    assert_eq!(
        paths,
        ["/users/@me/channels", dm.as_str(), dm.as_str()],
        "the DM channel is opened once"
    );
    assert_eq!(calls[0].body["recipient_id"], USER.to_string());
    assert_eq!(calls[1].authorization, format!("Bot {TOKEN}"));
    assert_eq!(calls[1].body["content"], "What would you like to do?");
    let buttons = &calls[1].body["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], "browse");
    assert_eq!(buttons[1]["label"], "View cart");
}

#[tokio::test]
async fn a_user_who_refuses_direct_messages_is_recorded_and_skipped() {
    let fake = FakeDiscord::start().await;
    let (_dir, store) = store().await;
    let sender = DiscordSender::new(
        Arc::new(http(&settings(&fake))),
        String::new(),
        store.clone(),
    );
    fake.refuse_next_dm();
    let error = sender
        .send(outgoing(1, "hello"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, SendError::Permanent(reason) if reason.contains("direct messages")),
        "{error:?}"
    );
    let identity = Identity::new(Channel::Discord, USER.to_string());
    assert!(store.is_blocked(&identity).await.expect("read"));
    let before = fake.calls().len();
    assert!(sender.send(outgoing(2, "again")).await.is_err());
    assert_eq!(
        fake.calls().len(),
        before,
        "nothing is sent to them any more"
    );
}

#[tokio::test]
async fn a_button_press_is_answered_by_removing_its_buttons() {
    let fake = FakeDiscord::start().await;
    let http = http(&settings(&fake));
    let press = ComponentPress {
        interaction_id: 846_462_639_134_605_312,
        token: "unique_interaction_token".into(),
        user_id: USER,
        channel_id: 345_626_669_114_982_999,
        action: "browse".into(),
    };
    answer_press(&http, &press).await.expect("answered");
    let calls = fake.calls();
    assert_eq!(
        calls[0].path,
        "/interactions/846462639134605312/unique_interaction_token/callback"
    );
    // Type 7: update the message the button was on; no components left on it.
    assert_eq!(calls[0].body["type"], 7);
    assert_eq!(calls[0].body["data"]["components"], json!([]));
    assert_eq!(calls[0].authorization, format!("Bot {TOKEN}"));
}

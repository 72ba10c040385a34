//! Every recorded Discord payload in `tests/fixtures/discord/` parses into the expected
//! event, or is acknowledged and ignored by design; and replies render within Discord's
//! limits, at their boundaries.

#![cfg(feature = "discord")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use adapters::discord::inbound::{DiscordEvent, parse_gateway, parse_interaction, parse_message};
use adapters::discord::outbound::{
    BUTTONS_PER_ROW, CONTENT_LIMIT, CUSTOM_ID_LIMIT, EMBED_TOTAL_LIMIT, RenderOptions, render,
};
use adapters::rendered::{RenderedCard, RenderedChoice, RenderedLink, RenderedReply};
use flows::{InboundMessage, Locale};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/discord");
    std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn summary(event: &DiscordEvent) -> String {
    match event {
        DiscordEvent::Message(m) => {
            let what = match &m.message {
                InboundMessage::Text(t) => format!("text {t:?}"),
                other => format!("{other:?}"),
            };
            format!(
                "message {} from {} ({}) in {}: {what}",
                m.message_id, m.user_id, m.name, m.channel_id
            )
        }
        DiscordEvent::Component(c) => {
            format!(
                "component {} by {} in {}: {:?}",
                c.interaction_id, c.user_id, c.channel_id, c.action
            )
        }
        DiscordEvent::Ignored { kind } => format!("ignored {kind}"),
    }
}

/// How a file is read: a gateway frame, the `d` of a dispatch named so, or an interaction.
enum Read {
    Gateway,
    Dispatch(&'static str),
    Interaction,
}

fn read(file: &str, how: &Read) -> DiscordEvent {
    let raw = fixture(file);
    let result = match how {
        Read::Gateway => parse_gateway(&raw, None, None),
        Read::Dispatch(name) => {
            let d: Value = serde_json::from_slice(&raw).expect("json");
            let frame = json!({"op": 0, "s": 1, "t": name, "d": d}).to_string();
            parse_gateway(frame.as_bytes(), None, None)
        }
        Read::Interaction => parse_interaction(&raw),
    };
    result.unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_fixture() {
    use Read::*;
    let table: &[(&str, Read, &str)] = &[
        (
            "gateway_event_envelope_op0.json",
            Gateway,
            "ignored other_dispatch",
        ),
        (
            "gateway_hello_op10.json",
            Gateway,
            "ignored gateway_control",
        ),
        (
            "gateway_invalid_session_op9.json",
            Gateway,
            "ignored gateway_control",
        ),
        (
            "gateway_message_create_d_fake.json",
            Dispatch("MESSAGE_CREATE"),
            "ignored bot_message",
        ),
        (
            "gateway_message_create_d_minimal.json",
            Dispatch("MESSAGE_CREATE"),
            "message 302917639565475840 from 114941315417899012 (zeyla) in 244567637332328449: text \"a\"",
        ),
        (
            "gateway_message_create_d_type7_member_join.json",
            Dispatch("MESSAGE_CREATE"),
            "ignored system_message",
        ),
        (
            "gateway_message_reaction_add_d_custom_emoji.json",
            Dispatch("MESSAGE_REACTION_ADD"),
            "ignored other_dispatch",
        ),
        (
            "interaction_application_command_slash.json",
            Interaction,
            "ignored command",
        ),
        (
            "interaction_application_command_user.json",
            Interaction,
            "ignored command",
        ),
        (
            "interaction_autocomplete.json",
            Interaction,
            "ignored autocomplete",
        ),
        (
            "interaction_message_component_button.json",
            Interaction,
            "component 846462639134605312 by 53908232506183680 in 345626669114982999: \"click_one\"",
        ),
        (
            "interaction_message_component_string_select.json",
            Interaction,
            "component 847587388497854464 by 53908232506183680 in 772908445358620702: \"mage\"",
        ),
        (
            "message_object_example.json",
            Dispatch("MESSAGE_CREATE"),
            "message 334385199974967042 from 53908099506183680 (Mason) in 290926798999357250: text \"Supa Hot\"",
        ),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/discord");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut covered: Vec<&str> = table.iter().map(|(file, _, _)| *file).collect();
    // An outbound body: checked against our rendering below.
    covered.push("message_with_action_row_buttons_outbound.json");
    covered.sort_unstable();
    assert_eq!(files, covered, "every fixture has a row");
    for (file, how, expected) in table {
        assert_eq!(summary(&read(file, how)), *expected, "{file}");
    }
    // A message in a guild channel other than the shop's is not for us; in the shop's it is.
    let raw = fixture("message_object_example.json");
    let mut guild: Value = serde_json::from_slice(&raw).expect("json");
    guild["guild_id"] = json!("290926798999357249");
    let bytes = guild.to_string();
    assert_eq!(
        summary(&parse_message(bytes.as_bytes(), None, None).expect("ok")),
        "ignored other_channel"
    );
    let shop = Some(290_926_798_999_357_250);
    assert!(matches!(
        parse_message(bytes.as_bytes(), None, shop).expect("ok"),
        DiscordEvent::Message(_)
    ));
    assert!(parse_gateway(b"{not json", None, None).is_err());
}

fn reply(text: &str, choices: usize) -> RenderedReply {
    RenderedReply {
        lang: Locale::En,
        right_to_left: false,
        text: text.into(),
        choices: (0..choices)
            .map(|i| RenderedChoice {
                id: format!("c{i}"),
                label: format!("Choice {i}"),
            })
            .collect(),
        cards: Vec::new(),
        cart: None,
        link: None,
    }
}

fn no_tokens(id: &str) -> String {
    panic!("{id} needed no token")
}

fn json_of(messages: &[serenity::builder::CreateMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| serde_json::to_value(m).expect("json"))
        .collect()
}

#[test]
fn buttons_have_the_documented_shape() {
    let mut r = reply("This is a message with components", 0);
    r.choices.push(RenderedChoice {
        id: "click_one".into(),
        label: "Click me!".into(),
    });
    let sent = json_of(&render(
        &r,
        &RenderOptions {
            public_base_url: "",
        },
        &mut no_tokens,
    ));
    let documented: Value =
        serde_json::from_slice(&fixture("message_with_action_row_buttons_outbound.json"))
            .expect("json");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["content"], documented["content"]);
    // serenity also states the default `"disabled": false`; otherwise the same.
    let mut components = sent[0]["components"].clone();
    for row in components.as_array_mut().expect("rows") {
        for button in row["components"].as_array_mut().expect("buttons") {
            let disabled = button.as_object_mut().expect("button").remove("disabled");
            assert_eq!(disabled, Some(Value::Bool(false)));
        }
    }
    assert_eq!(components, documented["components"]);
}

#[test]
fn limits_at_their_boundaries() {
    let options = RenderOptions {
        public_base_url: "https://shop.example",
    };
    // 2000 characters fit one message; 2001 need two, buttons on the last.
    let exact = json_of(&render(
        &reply(&"é".repeat(CONTENT_LIMIT), 3),
        &options,
        &mut no_tokens,
    ));
    assert_eq!(exact.len(), 1);
    let over = json_of(&render(
        &reply(&"é".repeat(CONTENT_LIMIT + 1), 3),
        &options,
        &mut no_tokens,
    ));
    assert_eq!(over.len(), 2);
    assert!(over[0].get("components").is_none());
    assert_eq!(
        over[1]["components"][0]["components"]
            .as_array()
            .expect("row")
            .len(),
        3
    );
    // 25 buttons fill five rows of five; more are cut, never a sixth row.
    for (choices, rows) in [(5, 1), (6, 2), (25, 5), (30, 5)] {
        let sent = json_of(&render(&reply("pick", choices), &options, &mut no_tokens));
        let rows_sent = sent[0]["components"].as_array().expect("rows");
        assert_eq!(rows_sent.len(), rows, "{choices} choices");
        assert!(
            rows_sent
                .iter()
                .all(|r| r["components"].as_array().expect("b").len() <= BUTTONS_PER_ROW)
        );
    }
    // Custom ids: 100 characters pass, 101 become a token.
    let mut r = reply("pick", 0);
    for len in [CUSTOM_ID_LIMIT, CUSTOM_ID_LIMIT + 1] {
        r.choices.push(RenderedChoice {
            id: "x".repeat(len),
            label: "X".into(),
        });
    }
    let mut asked = Vec::new();
    let sent = json_of(&render(&r, &options, &mut |id: &str| {
        asked.push(id.len());
        "~token".into()
    }));
    assert_eq!(asked, [CUSTOM_ID_LIMIT + 1]);
    assert_eq!(
        sent[0]["components"][0]["components"][1]["custom_id"],
        "~token"
    );
    // Eleven cards: ten embeds in one message, the eleventh in the next; 6000 characters
    // at most across one message's embeds; card actions as one select.
    let mut r = reply("Here are our dresses", 2);
    r.cards = (0..11)
        .map(|i| RenderedCard {
            id: format!("p{i}"),
            title: "T".repeat(300),
            subtitle: "S".repeat(4000),
            price: "10.00 EUR".into(),
            image: Some(format!("/media/products/p{i}.svg")),
            badge: None,
            actions: vec![RenderedChoice {
                id: format!("prod:p{i}"),
                label: "Details".into(),
            }],
        })
        .collect();
    r.link = Some(RenderedLink {
        url: "https://pay.example/1".into(),
        label: "Pay".into(),
    });
    let sent = json_of(&render(&r, &options, &mut no_tokens));
    assert_eq!(sent.len(), 2);
    let embeds = sent[0]["embeds"].as_array().expect("embeds");
    assert_eq!(embeds.len(), 10);
    let total: usize = embeds
        .iter()
        .map(|e| {
            e["title"].as_str().unwrap_or("").chars().count()
                + e["description"].as_str().unwrap_or("").chars().count()
        })
        .sum();
    assert!(total <= EMBED_TOTAL_LIMIT, "{total}");
    assert_eq!(
        embeds[0]["title"].as_str().expect("title").chars().count(),
        256
    );
    assert_eq!(
        embeds[0]["thumbnail"]["url"],
        "https://shop.example/media/products/p0.svg"
    );
    let rows = sent[1]["components"].as_array().expect("rows");
    assert_eq!(
        rows[0]["components"][0]["options"]
            .as_array()
            .expect("options")
            .len(),
        11
    );
    let link = &rows[1]["components"][2];
    assert_eq!(link["url"], "https://pay.example/1");
    assert_eq!(link["style"], 5, "a link button");
}

//! Every recorded WhatsApp, Messenger and Instagram payload in `tests/fixtures/` parses into
//! the expected normalized events. One row per file; the summary names the fields that matter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use adapters::meta::inbound::{MetaEvent, WebhookBatch};
use adapters::meta::{messenger_in, whatsapp_in};
use flows::InboundMessage;

fn fixture(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn message(m: &InboundMessage) -> String {
    match m {
        InboundMessage::Text(t) => format!("text {t:?}"),
        InboundMessage::Action(a) => format!("action {a:?}"),
        InboundMessage::Location {
            latitude,
            longitude,
        } => format!("location {latitude},{longitude}"),
        InboundMessage::Contact { phone, name } => format!("contact {phone:?} {name:?}"),
        InboundMessage::Media {
            kind,
            caption,
            media_id,
            mime,
        } => {
            format!("media {kind:?} caption={caption:?} id={media_id:?} mime={mime:?}")
        }
        InboundMessage::CatalogOrder { items } => {
            let items: Vec<String> = items
                .iter()
                .map(|i| format!("{}x{}", i.retailer_id, i.quantity))
                .collect();
            format!("order [{}]", items.join(" "))
        }
        InboundMessage::Reaction { message_id, emoji } => {
            format!("reaction {message_id} {emoji:?}")
        }
        InboundMessage::Unsend { message_id } => format!("unsend {message_id}"),
    }
}

fn summary(batch: &WebhookBatch) -> Vec<String> {
    batch
        .events
        .iter()
        .map(|event| match event {
            MetaEvent::Message(m) => {
                let mut line = format!(
                    "msg {} from={} {}",
                    m.dedup_key,
                    m.sender,
                    message(&m.message)
                );
                if let Some(name) = &m.name {
                    line.push_str(&format!(" name={name:?}"));
                }
                if let Some(reply_to) = &m.context.reply_to {
                    line.push_str(&format!(" reply_to={reply_to}"));
                }
                if let Some(story) = &m.context.story {
                    line.push_str(&format!(" story={story}"));
                }
                if let Some(product) = &m.context.referred_product {
                    line.push_str(&format!(" product={product}"));
                }
                if let Some(referral) = &m.context.referral {
                    line.push_str(&format!(
                        " referral={}/{:?}/{:?}",
                        referral.source_type, referral.source_id, referral.click_id
                    ));
                }
                line
            }
            MetaEvent::Status(s) => format!(
                "status {} {} to={} error={:?}",
                s.message_id,
                s.state.name(),
                s.recipient,
                s.error.as_ref().map(|e| e.0)
            ),
            MetaEvent::IdentityChange { old_id, new_id } => {
                format!("identity {old_id} -> {new_id}")
            }
            MetaEvent::Echo { mid } => format!("echo {mid}"),
            MetaEvent::Unknown { kind } => format!("unknown {kind}"),
        })
        .collect()
}

fn check(rows: &[(&str, &[&str])], parse: impl Fn(&[u8]) -> WebhookBatch, folder: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(folder);
    let mut listed: Vec<String> = rows.iter().map(|(file, _)| (*file).to_owned()).collect();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    present.sort();
    // `PRINT_ROWS=1` prints the table as parsed today, to review and paste after a change.
    if std::env::var_os("PRINT_ROWS").is_some() {
        for file in &present {
            let got = summary(&parse(&fixture(&format!("{folder}/{file}"))));
            println!("ROW        ({file:?}, &{got:?}),");
        }
        return;
    }
    assert_eq!(listed, present, "every fixture of {folder} has a row");
    let mut failures = Vec::new();
    for (file, expected) in rows {
        let got = summary(&parse(&fixture(&format!("{folder}/{file}"))));
        if got != *expected {
            failures.push(format!(
                "{folder}/{file}:\n  expected {expected:#?}\n  got      {got:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn whatsapp_fixtures() {
    let rows: &[(&str, &[&str])] = &[
        (
            "audio.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Audio caption=None id=Some(\"1234567890987654321\") mime=Some(\"audio/ogg; codecs=opus\") name=\"Test Name\"",
            ],
        ),
        (
            "audio_voice.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Audio caption=None id=Some(\"1234567890987654321\") mime=Some(\"audio/ogg; codecs=opus\") name=\"Test Name\"",
            ],
        ),
        (
            "button_template_quick_reply.json",
            &[
                "msg wa:wamid.xsidjw from=972987654321 action \"callback_data\" name=\"Test Name\" reply_to=wamid.xyzxyz==",
            ],
        ),
        (
            "contacts.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 contact Some(\"+1 555-555-5555\") Some(\"Chandler Bing\") name=\"Test Name\"",
            ],
        ),
        (
            "document.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Document caption=Some(\"caption\") id=Some(\"1234567890987654321\") mime=Some(\"application/pdf\") name=\"Test Name\"",
            ],
        ),
        (
            "image.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Image caption=None id=Some(\"65463453\") mime=Some(\"image/jpeg\") name=\"Test Name\"",
            ],
        ),
        (
            "interactive_button_reply.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 action \"callback_data\" name=\"Test Name\" reply_to=wamid.xyzxyz",
            ],
        ),
        (
            "interactive_list_reply.json",
            &[
                "msg wa:wamid.zyzxyz from=972987654321 action \"callback_data\" name=\"Test Name\" reply_to=wamid.xyzxyz",
            ],
        ),
        (
            "interactive_nfm_reply_flow_completion.json",
            &["unknown message:interactive"],
        ),
        (
            "interactive_unsupported_with_errors.json",
            &["unknown message:interactive", "unknown errors"],
        ),
        (
            "location_chosen.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 location 37.4611978,-122.2164385 name=\"Test Name\"",
            ],
        ),
        (
            "location_current.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 location 12.25089,43.90539 name=\"Test Name\"",
            ],
        ),
        (
            "message_revoked.json",
            &[
                "msg wa:<WHATSAPP_MESSAGE_ID> from=<WHATSAPP_USER_PHONE_NUMBER> unsend <ORIGINAL_WHATSAPP_MESSAGE_ID>",
            ],
        ),
        (
            "order.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 order [HAMBURGERx3 FRENCH_FRIESx2 SODAx2] name=\"Test Name\"",
            ],
        ),
        (
            "reaction.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 reaction wamid.yzxyzx= Some(\"😮\") name=\"Test Name\"",
            ],
        ),
        (
            "reaction_removed_empty.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 reaction wamid.yzxyzx= None name=\"Test Name\"",
            ],
        ),
        (
            "referral_ctwa_ad.json",
            &[
                "msg wa:wamid.ID from=972987654321 text \"BODY\" name=\"Test Name\" referral=ad or post/Some(\"ADID\")/Some(\"CTWA_CLID\")",
            ],
        ),
        (
            "smb_message_echoes_text.json",
            &["echo <WHATSAPP_MESSAGE_ID>"],
        ),
        (
            "status_delivered.json",
            &["status wamid.xyzxyz delivered to=972987654321 error=None"],
        ),
        (
            "status_failed_errors.json",
            &["status wamid.xyzxyz failed to=972987654321 error=Some(130472)"],
        ),
        (
            "status_played.json",
            &["status wamid.xyzxyz played to=972987654321 error=None"],
        ),
        (
            "status_read.json",
            &["status wamid.xyzxyz read to=972987654321 error=None"],
        ),
        (
            "status_sent.json",
            &["status wamid.xyzxyz sent to=972987654321 error=None"],
        ),
        (
            "status_sent_biz_opaque_callback_data.json",
            &["status wamid.xyzxyz sent to=972987654321 error=None"],
        ),
        (
            "sticker_animated.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Sticker caption=None id=Some(\"1234567890987654321\") mime=Some(\"image/webp\") name=\"Test Name\"",
            ],
        ),
        (
            "sticker_static.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Sticker caption=None id=Some(\"1234567890987654321\") mime=Some(\"image/webp\") name=\"Test Name\"",
            ],
        ),
        (
            "system_identity_change.json",
            &["unknown system:customer_identity_changed"],
        ),
        (
            "text.json",
            &["msg wa:wamid.xyzxyz from=972987654321 text \"Body Text\" name=\"Test Name\""],
        ),
        (
            "text_forwarded.json",
            &["msg wa:wamid.xyzxyz from=972987654321 text \"forwarded text\" name=\"Test Name\""],
        ),
        (
            "text_reply_context.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 text \"replied text\" name=\"Test Name\" reply_to=wamid.xyzxyz==",
            ],
        ),
        ("unsupported.json", &["unknown message:unsupported"]),
        (
            "video.json",
            &[
                "msg wa:wamid.xyzxyz from=972987654321 media Video caption=Some(\"caption\") id=Some(\"765756756\") mime=Some(\"video/mp4\") name=\"Test Name\"",
            ],
        ),
    ];
    check(rows, |b| whatsapp_in::parse(b).unwrap(), "whatsapp");
}

#[test]
fn messenger_fixtures() {
    let rows: &[(&str, &[&str])] = &[
        (
            "attachment_image_with_prior_message.json",
            &[
                "msg fb:mid.1458696618141:b4ef9d19ec21086067 from=USER_ID media Image caption=None id=Some(\"http://image.url\") mime=None",
            ],
        ),
        (
            "delivery_with_mids.json",
            &["status mid.1458668856218:ed81099e15d3f4f233 delivered to=USER_ID error=None"],
        ),
        (
            "echo_template_attachment.json",
            &["echo mid.1480199999925:83392d9f65"],
        ),
        (
            "echo_text_with_metadata.json",
            &["echo mid.1457764197618:41d102a3e1ae206a38"],
        ),
        ("optin_user_ref.json", &["unknown optin"]),
        (
            "postback.json",
            &[
                "msg fb-postback:<PSID>:1458692752478:<USER_DEFINED_PAYLOAD> from=<PSID> action \"<USER_DEFINED_PAYLOAD>\"",
            ],
        ),
        (
            "quick_reply.json",
            &[
                "msg fb:mid.1457764197618:41d102a3e1ae206a38 from=USER_ID action \"DEVELOPER_DEFINED_PAYLOAD\"",
            ],
        ),
        (
            "read_watermark.json",
            &["status watermark:USER_ID:1458668856253 read to=USER_ID error=None"],
        ),
        (
            "referral_ad.json",
            &[
                "msg fb-referral:<USER_ID>:1458692752478 from=<USER_ID> action \"start\" referral=ADS/Some(\"<ID OF THE AD>\")/Some(\"<REF DATA IF SPECIFIED IN THE AD>\")",
            ],
        ),
        (
            "signed_text_message_sha1.json",
            &[
                "msg fb:mid.1475942721728:3b9e3646712f9bed52 from=1256217357730577 text \"34wrr3wr\"",
            ],
        ),
        (
            "text_message.json",
            &[
                "msg fb:mid.1457764197618:41d102a3e1ae206a38 from=USER_ID text \"hello, text message world!\"",
            ],
        ),
        (
            "webhook_batched_two_entries.json",
            &[
                "msg fb:mid.1486464322190:cb04e5a654 from=1412611362105802 text \"test 1\"",
                "msg fb:mid.1486464322190:cb04e5a656 from=1412611362105802 text \"test 2\"",
            ],
        ),
        (
            "webhook_text_message.json",
            &["msg fb:mid.1486464322190:cb04e5a654 from=1412611362105802 text \"text\""],
        ),
    ];
    check(
        rows,
        |b| messenger_in::parse(messenger_in::Product::Messenger, b).unwrap(),
        "messenger",
    );
}

#[test]
fn instagram_fixtures() {
    let rows: &[(&str, &[&str])] = &[
        (
            "messaging_seen_factory.json",
            &["status message-id-1 read to=Sender-id-1 error=None"],
        ),
        (
            "share_attachment_factory.json",
            &[
                "msg ig:message-id-1 from=Sender-id-1 media Share caption=None id=Some(\"https://www.example.com/test.jpeg\") mime=None",
            ],
        ),
        ("standby_text_factory.json", &["unknown standby"]),
        (
            "story_mention_factory.json",
            &[
                "msg ig:message-id-1 from=Sender-id-1 media StoryMention caption=None id=Some(\"https://www.example.com/test.jpeg\") mime=None",
            ],
        ),
        (
            "story_reply_factory.json",
            &[
                "msg ig:message-id-1 from=Sender-id-1 text \"This is the story reply\" story=https://chatwoot-assets.local/sample.png",
            ],
        ),
    ];
    check(
        rows,
        |b| messenger_in::parse(messenger_in::Product::Instagram, b).unwrap(),
        "instagram",
    );
}

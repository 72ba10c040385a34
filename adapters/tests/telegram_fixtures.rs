//! Every recorded Telegram update in `tests/fixtures/telegram/` parses into the expected
//! event, or is acknowledged and ignored by design. One row per file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use adapters::telegram::inbound::{TelegramEvent, from_message, parse};
use flows::InboundMessage;

fn fixture(name: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/telegram");
    std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn summary(event: &TelegramEvent) -> String {
    match event {
        TelegramEvent::Message(m) => {
            let what = match &m.message {
                InboundMessage::Text(t) => format!("text {t:?}"),
                InboundMessage::Action(a) => format!("action {a:?}"),
                InboundMessage::Media {
                    kind,
                    caption,
                    mime,
                    ..
                } => format!("{kind:?} caption={caption:?} mime={mime:?}"),
                InboundMessage::Location {
                    latitude,
                    longitude,
                } => format!("location {latitude},{longitude}"),
                InboundMessage::Contact { phone, name } => format!("contact {phone:?} {name:?}"),
                other => format!("{other:?}"),
            };
            format!(
                "message #{} chat {} from {:?}: {what} start={:?}",
                m.update_id, m.chat_id, m.name, m.start_parameter
            )
        }
        TelegramEvent::Callback(c) => format!(
            "callback #{} {} chat {} message {:?} data {:?}",
            c.update_id, c.query_id, c.chat_id, c.message_id, c.data
        ),
        TelegramEvent::PreCheckout(p) => format!(
            "pre-checkout #{} {} chat {} {} {} payload {:?}",
            p.update_id, p.query_id, p.chat_id, p.total_amount, p.currency, p.payload
        ),
        TelegramEvent::Payment(p) => format!(
            "payment #{} chat {} {} {} payload {:?}",
            p.update_id, p.chat_id, p.total_amount, p.currency, p.payload
        ),
        TelegramEvent::Blocked { chat_id, blocked } => format!("blocked={blocked} chat {chat_id}"),
        TelegramEvent::Ignored { kind } => format!("ignored {kind}"),
    }
}

#[test]
fn every_update_fixture() {
    let table: &[(&str, &str)] = &[
        (
            "callback_query_inline_message.json",
            "callback #10000 4382bfdwdsb323b2d9 chat 1111111 message None data Some(\"Data from button callback\")",
        ),
        ("edited_message.json", "ignored edited_message"),
        (
            "forwarded_message.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): text \"message text\" start=None",
        ),
        (
            "message.json",
            "message #128526 chat 12345678 from Some(\"FirstName LastName\"): text \"Hi, world!\" start=None",
        ),
        (
            "message_bot_command_supergroup.json",
            "ignored group_message",
        ),
        (
            "message_entities_bold_italic.json",
            "message #10000 chat 1111111 from Some(\"Test Firstname Test Lastname\"): text \"Bold and italics\" start=None",
        ),
        (
            "message_start_command.json",
            "message #10000 chat 1111111 from Some(\"Test Firstname Test Lastname\"): action \"start\" start=None",
        ),
        (
            "message_text_private_chat_teloxide.json",
            "message #892252934 chat 218485655 from Some(\"Waffle\"): text \"hello there\" start=None",
        ),
        (
            "message_with_audio.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): Audio caption=None mime=Some(\"audio/mpeg3\") start=None",
        ),
        (
            "message_with_document.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): Document caption=Some(\"doc description\") mime=Some(\"application/vnd.openxmlformats-officedocument.wordprocessingml.document\") start=None",
        ),
        (
            "message_with_location.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): location 55.693416,37.624605 start=None",
        ),
        (
            "message_with_photo.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): Image caption=Some(\"photo description\") mime=Some(\"image/jpeg\") start=None",
        ),
        (
            "message_with_sticker.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): Sticker caption=None mime=None start=None",
        ),
        (
            "message_with_successful_payment.json",
            "payment #167784957 chat 12345678 6250 USD payload \"HAPPY FRIDAYS COUPON\"",
        ),
        (
            "message_with_video.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): Video caption=Some(\"description\") mime=Some(\"video/quicktime\") start=None",
        ),
        (
            "message_with_voice.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): Audio caption=None mime=Some(\"audio/ogg\") start=None",
        ),
        (
            "my_chat_member_bot_blocked_kicked.json",
            "blocked=true chat 0",
        ),
        (
            "pre_checkout_query.json",
            "pre-checkout #167784956 262181558630368727 chat 12345678 6250 USD payload \"HAPPY FRIDAYS COUPON\"",
        ),
        (
            "reply_message.json",
            "message #123456789 chat 12345678 from Some(\"Name\"): text \"Reply to quoted message\" start=None",
        ),
        ("unknown_update_kind.json", "ignored unknown"),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/telegram");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut covered: Vec<&str> = table.iter().map(|(file, _)| *file).collect();
    covered.push("message_object_with_invoice.json");
    covered.sort_unstable();
    assert_eq!(files, covered, "every fixture has a row");
    for (file, expected) in table {
        let event = parse(&fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(summary(&event), *expected, "{file}");
    }
}

/// A bare Message (an invoice the bot sent), not an update: nothing a customer said.
#[test]
fn a_bare_invoice_message_reads_as_a_message_we_sent() {
    let message: teloxide::types::Message =
        serde_json::from_slice(&fixture("message_object_with_invoice.json")).expect("message");
    assert!(message.invoice().is_some());
    assert_eq!(
        from_message(1, &message),
        TelegramEvent::Ignored {
            kind: "service_message"
        }
    );
}

#[test]
fn malformed_json_is_an_error_not_an_event() {
    assert!(parse(b"{not json").is_err());
    assert!(parse(b"[]").is_err());
}

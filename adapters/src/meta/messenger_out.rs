//! Messenger and Instagram outbound: a `RenderedReply` becomes Send API bodies for
//! `POST /{page-id}/messages`, in send order.
//!
//! Both products take the same shapes; Instagram only allows shorter text. Limits are enforced
//! here with graceful degradation: long text is split, cards go out in several carousels, and
//! choices that no quick reply can carry become numbered lines. Payloads are never shortened,
//! since a shortened payload would be a different action.

use serde_json::{Map, Value, json};

use crate::rendered::{RenderedCard, RenderedChoice, RenderedReply};

use super::limits::{
    ELLIPSIS, INSTAGRAM, MESSENGER, MessengerLimits, lead_and_body, or_ellipsis, split_text,
    truncate_chars,
};
use super::whatsapp_out::{absolute_url, text_with_cart, with_numbered_choices};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessengerProduct {
    Messenger,
    Instagram,
}

impl MessengerProduct {
    pub const fn limits(self) -> MessengerLimits {
        match self {
            MessengerProduct::Messenger => MESSENGER,
            MessengerProduct::Instagram => INSTAGRAM,
        }
    }
}

pub struct MessengerRenderOptions<'a> {
    /// The PSID (Messenger) or IGSID (Instagram) of the customer.
    pub recipient: &'a str,
    /// Our public origin: relative image and link paths are made absolute with it. Empty =>
    /// relative ones are omitted.
    pub public_base_url: &'a str,
    /// "RESPONSE" inside the 24 h window, "MESSAGE_TAG" outside it.
    pub messaging_type: &'a str,
    /// The message tag, sent only when set.
    pub tag: Option<&'a str>,
}

/// The request bodies for one reply, in send order: card carousels first, then the text.
pub fn render_messenger(
    product: MessengerProduct,
    reply: &RenderedReply,
    options: &MessengerRenderOptions,
) -> Vec<Value> {
    let limits = product.limits();
    let mut messages = generic_templates(&reply.cards, &limits, options.public_base_url);
    messages.extend(main_messages(reply, &limits, options.public_base_url));
    messages
        .into_iter()
        .map(|message| envelope(options, message))
        .collect()
}

/// `{"recipient":{"id"},"messaging_type","tag"?,"message"}`.
fn envelope(options: &MessengerRenderOptions, message: Value) -> Value {
    let mut body = Map::new();
    body.insert("recipient".into(), json!({"id": options.recipient}));
    body.insert("messaging_type".into(), options.messaging_type.into());
    if let Some(tag) = options.tag {
        body.insert("tag".into(), tag.into());
    }
    body.insert("message".into(), message);
    Value::Object(body)
}

// ---- cards ----

/// One carousel per `generic_elements_max` cards, so no product is dropped.
fn generic_templates(cards: &[RenderedCard], limits: &MessengerLimits, base: &str) -> Vec<Value> {
    cards
        .chunks(limits.generic_elements_max.max(1))
        .map(|cards| {
            let elements: Vec<Value> = cards
                .iter()
                .map(|card| element(card, limits, base))
                .collect();
            template(json!({"template_type": "generic", "elements": elements}))
        })
        .collect()
}

fn template(payload: Value) -> Value {
    json!({"attachment": {"type": "template", "payload": payload}})
}

/// Optional fields are left out rather than sent empty, which the Send API rejects.
fn element(card: &RenderedCard, limits: &MessengerLimits, base: &str) -> Value {
    let title = truncate_chars(&or_ellipsis(&card.title), limits.generic_title_max);
    let mut element = json!({"title": title});
    let subtitle = [card.price.as_str(), card.subtitle.as_str()]
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    if !subtitle.is_empty() {
        element["subtitle"] = truncate_chars(&subtitle, limits.generic_subtitle_max).into();
    }
    if let Some(url) = card
        .image
        .as_deref()
        .and_then(|image| absolute_url(image, base))
    {
        element["image_url"] = url.into();
    }
    let buttons = postbacks(&card.actions, limits);
    if !buttons.is_empty() {
        element["buttons"] = buttons.into();
    }
    element
}

/// Actions whose payload would have to be shortened are skipped, never sent altered.
fn postbacks(actions: &[RenderedChoice], limits: &MessengerLimits) -> Vec<Value> {
    actions
        .iter()
        .filter(|action| fits_payload(action, limits))
        .take(limits.generic_buttons_max)
        .map(|action| {
            let title = truncate_chars(&action.label, limits.button_title_max);
            json!({"type": "postback", "title": title, "payload": action.id})
        })
        .collect()
}

fn fits_payload(choice: &RenderedChoice, limits: &MessengerLimits) -> bool {
    !choice.id.is_empty()
        && choice.id.chars().count() <= limits.payload_max
        && !choice.label.trim().is_empty()
}

// ---- the main message ----

fn main_messages(reply: &RenderedReply, limits: &MessengerLimits, base: &str) -> Vec<Value> {
    let link = reply
        .link
        .as_ref()
        .and_then(|link| absolute_url(&link.url, base).map(|url| (url, link.label.as_str())));
    // The button template carries no quick replies here, so with a link the choices are numbered.
    let quick =
        !reply.choices.is_empty() && link.is_none() && fits_quick_replies(&reply.choices, limits);
    let mut text = text_with_cart(&reply.text, reply.cart.as_ref());
    if !reply.choices.is_empty() && !quick {
        text = with_numbered_choices(&text, &reply.choices);
    }
    if let Some((url, label)) = link {
        return button_template(&text, &url, label, limits);
    }
    let quick_replies = quick.then(|| quick_replies(&reply.choices, limits));
    text_messages(&text, quick_replies, !reply.cards.is_empty(), limits)
}

fn fits_quick_replies(choices: &[RenderedChoice], limits: &MessengerLimits) -> bool {
    choices.len() <= limits.quick_replies_max
        && choices.iter().all(|choice| fits_payload(choice, limits))
}

fn quick_replies(choices: &[RenderedChoice], limits: &MessengerLimits) -> Vec<Value> {
    choices
        .iter()
        .map(|choice| {
            let title = truncate_chars(&choice.label, limits.quick_reply_title_max);
            json!({"content_type": "text", "title": title, "payload": choice.id})
        })
        .collect()
}

/// Text split to the product's limit, quick replies on the last part (they show under the
/// newest message only). Blank text after cards is not sent; anything else gets "…" at least.
fn text_messages(
    text: &str,
    quick_replies: Option<Vec<Value>>,
    after_cards: bool,
    limits: &MessengerLimits,
) -> Vec<Value> {
    let mut chunks = split_text(text, limits.text_max);
    if chunks.is_empty() && (quick_replies.is_some() || !after_cards) {
        chunks.push(ELLIPSIS.to_string());
    }
    let mut messages: Vec<Value> = chunks
        .into_iter()
        .map(|chunk| json!({"text": chunk}))
        .collect();
    if let (Some(last), Some(replies)) = (messages.last_mut(), quick_replies) {
        last["quick_replies"] = replies.into();
    }
    messages
}

/// The link as a one-button template; text beyond the template's limit goes first as plain text.
fn button_template(text: &str, url: &str, label: &str, limits: &MessengerLimits) -> Vec<Value> {
    let (lead, body) = lead_and_body(text, limits.button_template_text_max, limits.text_max);
    let title = truncate_chars(&or_ellipsis(label), limits.button_title_max);
    let button = json!({"type": "web_url", "url": url, "title": title});
    let mut messages: Vec<Value> = lead
        .into_iter()
        .map(|chunk| json!({"text": chunk}))
        .collect();
    messages.push(template(
        json!({"template_type": "button", "text": body, "buttons": [button]}),
    ));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::test_replies::{choice, choices, reply, with_choices};
    use crate::rendered::{RenderedCart, RenderedCartLine, RenderedLink};

    fn options() -> MessengerRenderOptions<'static> {
        MessengerRenderOptions {
            recipient: "psid-1",
            public_base_url: "https://shop.example",
            messaging_type: "RESPONSE",
            tag: None,
        }
    }

    fn card(i: usize) -> RenderedCard {
        RenderedCard {
            id: format!("sku-{i}"),
            title: format!("Mug {i}"),
            subtitle: "Stoneware".to_owned(),
            price: "€12.00".to_owned(),
            image: Some(format!("/media/products/mug-{i}.svg")),
            badge: None,
            actions: vec![choice(&format!("add:sku-{i}"), "Add to cart")],
        }
    }

    fn with_cards(n: usize) -> RenderedReply {
        RenderedReply {
            cards: (1..=n).map(card).collect(),
            ..reply("Our mugs")
        }
    }

    fn link(url: &str, label: &str) -> Option<RenderedLink> {
        Some(RenderedLink {
            url: url.to_owned(),
            label: label.to_owned(),
        })
    }

    /// Renders and checks every known field against the product's limits.
    fn render(
        product: MessengerProduct,
        reply: &RenderedReply,
        options: &MessengerRenderOptions,
    ) -> Vec<Value> {
        let messages = render_messenger(product, reply, options);
        let limits = product.limits();
        for message in &messages {
            assert_eq!(message["recipient"], json!({"id": options.recipient}));
            assert_eq!(message["messaging_type"], options.messaging_type);
            check_limits(&message["message"], "", &limits);
        }
        messages
    }

    fn messenger(reply: &RenderedReply) -> Vec<Value> {
        render(MessengerProduct::Messenger, reply, &options())
    }

    fn instagram(reply: &RenderedReply) -> Vec<Value> {
        render(MessengerProduct::Instagram, reply, &options())
    }

    fn string_limit(path: &str, limits: &MessengerLimits) -> Option<usize> {
        Some(match path {
            "text" => limits.text_max,
            "quick_replies[].title" => limits.quick_reply_title_max,
            "quick_replies[].payload" => limits.payload_max,
            "attachment.payload.elements[].title" => limits.generic_title_max,
            "attachment.payload.elements[].subtitle" => limits.generic_subtitle_max,
            "attachment.payload.elements[].buttons[].title" => limits.button_title_max,
            "attachment.payload.elements[].buttons[].payload" => limits.payload_max,
            "attachment.payload.text" => limits.button_template_text_max,
            "attachment.payload.buttons[].title" => limits.button_title_max,
            _ => return None,
        })
    }

    fn array_limit(path: &str, limits: &MessengerLimits) -> Option<usize> {
        Some(match path {
            "quick_replies" => limits.quick_replies_max,
            "attachment.payload.elements" => limits.generic_elements_max,
            "attachment.payload.elements[].buttons" => limits.generic_buttons_max,
            "attachment.payload.buttons" => limits.button_template_buttons_max,
            _ => return None,
        })
    }

    /// Walks one `message`; `path` names a field by its keys, with "[]" for array items.
    fn check_limits(value: &Value, path: &str, limits: &MessengerLimits) {
        match value {
            Value::Object(fields) => {
                for (key, field) in fields {
                    let path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    check_limits(field, &path, limits);
                }
            }
            Value::Array(items) => {
                if let Some(max) = array_limit(path, limits) {
                    assert!(
                        !items.is_empty() && items.len() <= max,
                        "{path}: {} items",
                        items.len()
                    );
                }
                for item in items {
                    check_limits(item, &format!("{path}[]"), limits);
                }
            }
            Value::String(text) => {
                if let Some(max) = string_limit(path, limits) {
                    assert!(!text.trim().is_empty(), "{path} is blank");
                    assert!(
                        text.chars().count() <= max,
                        "{path}: {} > {max}",
                        text.chars().count()
                    );
                }
            }
            _ => {}
        }
    }

    fn quick_reply_count(message: &Value) -> Option<usize> {
        message["message"]["quick_replies"].as_array().map(Vec::len)
    }

    fn payload(message: &Value) -> &Value {
        &message["message"]["attachment"]["payload"]
    }

    #[test]
    fn text_has_the_envelope_and_no_tag_unless_given() {
        assert_eq!(
            messenger(&reply("Hi")),
            vec![
                json!({"recipient": {"id": "psid-1"}, "messaging_type": "RESPONSE", "message": {"text": "Hi"}})
            ]
        );
        let tagged = MessengerRenderOptions {
            messaging_type: "MESSAGE_TAG",
            tag: Some("POST_PURCHASE_UPDATE"),
            ..options()
        };
        let messages = render(MessengerProduct::Messenger, &reply("Shipped"), &tagged);
        assert_eq!(messages[0]["tag"], "POST_PURCHASE_UPDATE");
        assert_eq!(messages[0]["messaging_type"], "MESSAGE_TAG");
    }

    #[test]
    fn messenger_text_of_2000_is_one_message_and_2001_two() {
        assert_eq!(messenger(&reply(&"m".repeat(2000))).len(), 1);
        assert_eq!(messenger(&reply(&"m".repeat(2001))).len(), 2);
    }

    #[test]
    fn instagram_text_of_1000_is_one_message_and_1001_two() {
        assert_eq!(instagram(&reply(&"i".repeat(1000))).len(), 1);
        assert_eq!(instagram(&reply(&"i".repeat(1001))).len(), 2);
        assert_eq!(messenger(&reply(&"i".repeat(1001))).len(), 1);
    }

    #[test]
    fn text_is_counted_in_chars_not_bytes() {
        assert_eq!(messenger(&reply(&"🛒".repeat(2000))).len(), 1);
        assert_eq!(instagram(&reply(&"ש".repeat(1000))).len(), 1);
        assert_eq!(instagram(&reply(&"ש".repeat(1001))).len(), 2);
    }

    #[test]
    fn thirteen_choices_are_quick_replies_and_fourteen_numbered_lines() {
        let messages = messenger(&with_choices("Pick", choices(13)));
        assert_eq!(quick_reply_count(&messages[0]), Some(13));
        assert_eq!(
            messages[0]["message"]["quick_replies"][12],
            json!({"content_type": "text", "title": "Option 13", "payload": "pick:13"})
        );
        let messages = messenger(&with_choices("Pick", choices(14)));
        assert_eq!(messages.len(), 1);
        assert_eq!(quick_reply_count(&messages[0]), None);
        let text = messages[0]["message"]["text"].as_str().expect("text");
        assert!(text.starts_with("Pick\n\n1. Option 1\n"));
        assert!(text.ends_with("\n14. Option 14"));
    }

    #[test]
    fn quick_replies_go_on_the_last_part_of_split_text() {
        let messages = instagram(&with_choices(&"q".repeat(1001), choices(2)));
        assert_eq!(messages.len(), 2);
        assert_eq!(quick_reply_count(&messages[0]), None);
        assert_eq!(quick_reply_count(&messages[1]), Some(2));
    }

    #[test]
    fn quick_reply_titles_are_cut_at_20_chars() {
        let messages = messenger(&with_choices(
            "Pick",
            vec![choice("a", &"t".repeat(20)), choice("b", &"t".repeat(21))],
        ));
        let replies = &messages[0]["message"]["quick_replies"];
        assert_eq!(replies[0]["title"], "t".repeat(20));
        assert_eq!(replies[1]["title"], format!("{}…", "t".repeat(19)));
        assert_eq!(replies[1]["payload"], "b");
        let messages = messenger(&with_choices("בחר", vec![choice("a", &"ה".repeat(20))]));
        assert_eq!(
            messages[0]["message"]["quick_replies"][0]["title"],
            "ה".repeat(20)
        );
    }

    #[test]
    fn payloads_over_1000_fall_back_to_numbered_lines() {
        let messages = messenger(&with_choices(
            "Sure?",
            vec![choice(&"p".repeat(1000), "Yes")],
        ));
        assert_eq!(quick_reply_count(&messages[0]), Some(1));
        let messages = messenger(&with_choices(
            "Sure?",
            vec![choice(&"p".repeat(1001), "Yes"), choice("no", "No")],
        ));
        assert_eq!(
            messages[0]["message"],
            json!({"text": "Sure?\n\n1. Yes\n2. No"})
        );
    }

    #[test]
    fn empty_text_with_choices_gets_an_ellipsis() {
        let messages = messenger(&with_choices("", choices(2)));
        assert_eq!(messages[0]["message"]["text"], "…");
        assert_eq!(messenger(&reply(""))[0]["message"]["text"], "…");
    }

    #[test]
    fn ten_cards_are_one_carousel_and_eleven_two() {
        let messages = messenger(&with_cards(10));
        assert_eq!(messages.len(), 2);
        assert_eq!(
            payload(&messages[0])["elements"].as_array().map(Vec::len),
            Some(10)
        );
        assert_eq!(messages[1]["message"]["text"], "Our mugs");
        let messages = messenger(&with_cards(11));
        assert_eq!(messages.len(), 3);
        assert_eq!(
            payload(&messages[1])["elements"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(payload(&messages[1])["elements"][0]["title"], "Mug 11");
    }

    #[test]
    fn a_card_is_a_generic_element_with_absolute_image_and_postbacks() {
        let messages = instagram(&with_cards(1));
        assert_eq!(
            messages[0]["message"],
            json!({"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": [{
                "title": "Mug 1",
                "subtitle": "€12.00 · Stoneware",
                "image_url": "https://shop.example/media/products/mug-1.svg",
                "buttons": [{"type": "postback", "title": "Add to cart", "payload": "add:sku-1"}],
            }]}}})
        );
    }

    #[test]
    fn card_images_are_left_out_without_a_base_url() {
        let no_base = MessengerRenderOptions {
            public_base_url: "",
            ..options()
        };
        let messages = render(MessengerProduct::Messenger, &with_cards(1), &no_base);
        assert!(
            payload(&messages[0])["elements"][0]
                .get("image_url")
                .is_none()
        );
    }

    #[test]
    fn element_titles_cut_at_80_and_buttons_at_three() {
        let mut reply = with_cards(2);
        reply.cards[0].title = "t".repeat(80);
        reply.cards[1].title = "t".repeat(81);
        reply.cards[1].subtitle = "s".repeat(100);
        reply.cards[1].actions = (1..=5)
            .map(|i| choice(&format!("a{i}"), &"b".repeat(21)))
            .collect();
        let messages = messenger(&reply);
        let elements = &payload(&messages[0])["elements"];
        assert_eq!(elements[0]["title"], "t".repeat(80));
        assert_eq!(elements[1]["title"], format!("{}…", "t".repeat(79)));
        assert_eq!(elements[1]["buttons"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            elements[1]["buttons"][0]["title"],
            format!("{}…", "b".repeat(19))
        );
    }

    #[test]
    fn blank_text_after_cards_sends_no_text() {
        let reply = RenderedReply {
            text: String::new(),
            ..with_cards(1)
        };
        assert_eq!(messenger(&reply).len(), 1);
    }

    #[test]
    fn a_link_is_a_button_template() {
        let reply = RenderedReply {
            link: link("/pay/abc", "Pay now"),
            ..reply("Ready to pay")
        };
        let messages = messenger(&reply);
        assert_eq!(
            messages[0]["message"],
            json!({"attachment": {"type": "template", "payload": {
                "template_type": "button",
                "text": "Ready to pay",
                "buttons": [{"type": "web_url", "url": "https://shop.example/pay/abc", "title": "Pay now"}],
            }}})
        );
    }

    #[test]
    fn button_template_text_of_640_fits_and_641_sends_the_lead_first() {
        let at = RenderedReply {
            link: link("https://pay.example", "Pay"),
            ..reply(&"x".repeat(640))
        };
        assert_eq!(messenger(&at).len(), 1);
        let over_text = format!("Lead\n{}", "x".repeat(636));
        assert_eq!(over_text.chars().count(), 641);
        let over = RenderedReply {
            link: link("https://pay.example", "Pay"),
            ..reply(&over_text)
        };
        let messages = messenger(&over);
        assert_eq!(messages[0]["message"], json!({"text": "Lead"}));
        assert_eq!(payload(&messages[1])["text"], "x".repeat(636));
    }

    #[test]
    fn link_button_titles_cut_at_20_and_choices_are_numbered() {
        let paying = RenderedReply {
            link: link("https://pay.example", &"l".repeat(21)),
            choices: choices(2),
            ..reply("Pay")
        };
        let messages = instagram(&paying);
        let template = payload(&messages[0]);
        assert_eq!(
            template["buttons"][0]["title"],
            format!("{}…", "l".repeat(19))
        );
        assert_eq!(template["text"], "Pay\n\n1. Option 1\n2. Option 2");
        let paying = RenderedReply {
            link: link("https://pay.example", &"l".repeat(20)),
            ..reply("Pay")
        };
        assert_eq!(
            payload(&messenger(&paying)[0])["buttons"][0]["title"],
            "l".repeat(20)
        );
    }

    #[test]
    fn the_cart_is_appended_to_the_text() {
        let cart = RenderedCart {
            title: "Cart".to_owned(),
            lines: vec![RenderedCartLine {
                sku: "mug".to_owned(),
                title: "Mug".to_owned(),
                variant: "Blue".to_owned(),
                quantity: 2,
                unit_price: "€12.00".to_owned(),
                line_total: "€24.00".to_owned(),
                actions: vec![],
            }],
            total_label: "Total".to_owned(),
            total: "€24.00".to_owned(),
        };
        let messages = messenger(&RenderedReply {
            cart: Some(cart),
            ..reply("Your cart")
        });
        assert_eq!(
            messages[0]["message"]["text"],
            "Your cart\n\n2 × Mug (Blue) — €24.00\nTotal: €24.00"
        );
    }
}

//! WhatsApp Cloud API outbound: a `RenderedReply` becomes the bodies for
//! `POST /{phone-number-id}/messages`, in send order.
//!
//! Every limit is enforced here, degrading gracefully instead of sending a request Meta would
//! reject: long text is split, too many or too long choices fall back from buttons to a list to
//! numbered lines, and ids are never shortened (a shortened id would be a different action).

use serde_json::{Map, Value, json};

use crate::rendered::{
    RenderedCard, RenderedCart, RenderedCartLine, RenderedChoice, RenderedReply,
};

use super::limits::{WHATSAPP, lead_and_body, or_ellipsis, split_text, truncate_chars};

pub struct WhatsAppRenderOptions<'a> {
    /// The customer's WhatsApp id (phone number).
    pub to: &'a str,
    /// Our public origin, e.g. "https://shop.example": relative image paths such as
    /// "/media/products/x.svg" are made absolute with it. Empty => relative images are omitted.
    pub public_base_url: &'a str,
    /// With a catalog, cards go out as native product messages instead of image buttons.
    pub catalog_id: Option<&'a str>,
    /// Localized label of the button that opens a list, e.g. "Options".
    pub list_button_label: &'a str,
}

/// The request bodies for one reply, in send order: cards first, then the main message.
pub fn render_whatsapp(reply: &RenderedReply, options: &WhatsAppRenderOptions) -> Vec<Value> {
    let mut messages = render_cards(reply, options);
    messages.extend(render_main(reply, options));
    messages
}

/// How the reply's choices fit WhatsApp's interactive messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChoiceShape {
    NoChoices,
    Buttons,
    List,
    Numbered,
}

fn choice_shape(choices: &[RenderedChoice]) -> ChoiceShape {
    if choices.is_empty() {
        ChoiceShape::NoChoices
    } else if choices.len() <= WHATSAPP.buttons_max && choices.iter().all(fits_button) {
        ChoiceShape::Buttons
    } else if choices.len() <= WHATSAPP.list_rows_max && choices.iter().all(fits_row) {
        ChoiceShape::List
    } else {
        ChoiceShape::Numbered
    }
}

/// A button title is never truncated: two long labels could end up looking the same.
fn fits_button(choice: &RenderedChoice) -> bool {
    fits_id(&choice.id, WHATSAPP.button_id_max)
        && !choice.label.trim().is_empty()
        && choice.label.chars().count() <= WHATSAPP.button_title_max
}

/// A row title may be truncated: the full label goes into the row's description.
fn fits_row(choice: &RenderedChoice) -> bool {
    fits_id(&choice.id, WHATSAPP.list_row_id_max) && !choice.label.trim().is_empty()
}

fn fits_id(id: &str, max: usize) -> bool {
    !id.is_empty() && id.chars().count() <= max
}

// ---- envelopes ----

/// `{"messaging_product","recipient_type","to","type":kind, kind: content}`.
fn envelope(to: &str, kind: &str, content: Value) -> Value {
    let mut body = Map::new();
    body.insert("messaging_product".into(), "whatsapp".into());
    body.insert("recipient_type".into(), "individual".into());
    body.insert("to".into(), to.into());
    body.insert("type".into(), kind.into());
    body.insert(kind.into(), content);
    Value::Object(body)
}

fn interactive(to: &str, content: Value) -> Value {
    envelope(to, "interactive", content)
}

/// Link previews are off: our links are buttons, and a preview of a pasted URL is noise.
fn text_message(to: &str, body: &str) -> Value {
    envelope(to, "text", json!({"body": body, "preview_url": false}))
}

fn text_messages(to: &str, text: &str) -> Vec<Value> {
    split_text(text, WHATSAPP.text_max)
        .iter()
        .map(|chunk| text_message(to, chunk))
        .collect()
}

/// An interactive message whose body is the tail of `text`; the part that does not fit the
/// body goes first as plain text messages.
fn with_body(to: &str, text: &str, build: impl FnOnce(String) -> Value) -> Vec<Value> {
    let (lead, body) = lead_and_body(text, WHATSAPP.body_max, WHATSAPP.text_max);
    let mut messages: Vec<Value> = lead.iter().map(|chunk| text_message(to, chunk)).collect();
    messages.push(interactive(to, build(body)));
    messages
}

// ---- cards ----

fn render_cards(reply: &RenderedReply, options: &WhatsAppRenderOptions) -> Vec<Value> {
    if reply.cards.is_empty() {
        return Vec::new();
    }
    match options.catalog_id.filter(|id| !id.is_empty()) {
        Some(catalog_id) => catalog_messages(reply, catalog_id, options),
        None => reply
            .cards
            .iter()
            .map(|card| card_message(card, options))
            .collect(),
    }
}

/// Native catalog messages; the card actions are left out because WhatsApp's product view
/// has its own add-to-cart.
fn catalog_messages(
    reply: &RenderedReply,
    catalog_id: &str,
    options: &WhatsAppRenderOptions,
) -> Vec<Value> {
    if let [card] = reply.cards.as_slice() {
        let action = json!({"catalog_id": catalog_id, "product_retailer_id": card.id});
        return vec![interactive(
            options.to,
            json!({"type": "product", "action": action}),
        )];
    }
    // More products than one message holds go out as several lists rather than being dropped.
    reply
        .cards
        .chunks(WHATSAPP.product_list_max.max(1))
        .map(|cards| product_list(reply, cards, catalog_id, options))
        .collect()
}

fn product_list(
    reply: &RenderedReply,
    cards: &[RenderedCard],
    catalog_id: &str,
    options: &WhatsAppRenderOptions,
) -> Value {
    let items: Vec<Value> = cards
        .iter()
        .map(|card| json!({"product_retailer_id": card.id}))
        .collect();
    let mut section = json!({"product_items": items});
    if let Some(title) = section_title(options.list_button_label) {
        section["title"] = title.into();
    }
    // The header is required and one line: the text's first line, else the list label.
    let first_line = reply
        .text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(options.list_button_label);
    let header = truncate_chars(&or_ellipsis(first_line), WHATSAPP.header_text_max);
    let body = truncate_chars(&or_ellipsis(&reply.text), WHATSAPP.body_max);
    interactive(
        options.to,
        json!({
            "type": "product_list",
            "header": {"type": "text", "text": header},
            "body": {"text": body},
            "action": {"catalog_id": catalog_id, "sections": [section]},
        }),
    )
}

fn section_title(label: &str) -> Option<String> {
    (!label.trim().is_empty()).then(|| truncate_chars(label, WHATSAPP.list_section_title_max))
}

/// A card with actions is an image-headed button message; without actions, an image with a
/// caption; without an image either, plain text.
fn card_message(card: &RenderedCard, options: &WhatsAppRenderOptions) -> Value {
    let text = or_ellipsis(&card_text(card));
    let image = card
        .image
        .as_deref()
        .and_then(|image| absolute_url(image, options.public_base_url));
    let buttons = card_buttons(&card.actions);
    match (buttons.is_empty(), image) {
        (false, image) => {
            let body = truncate_chars(&text, WHATSAPP.body_max);
            let mut content =
                json!({"type": "button", "body": {"text": body}, "action": {"buttons": buttons}});
            if let Some(link) = image {
                content["header"] = json!({"type": "image", "image": {"link": link}});
            }
            interactive(options.to, content)
        }
        (true, Some(link)) => {
            let caption = truncate_chars(&text, WHATSAPP.caption_max);
            envelope(
                options.to,
                "image",
                json!({"link": link, "caption": caption}),
            )
        }
        (true, None) => text_message(options.to, &truncate_chars(&text, WHATSAPP.text_max)),
    }
}

/// "{title} — {price}", then the subtitle and the badge on their own lines, skipping blanks.
fn card_text(card: &RenderedCard) -> String {
    let headline = match card.price.trim() {
        "" => card.title.clone(),
        price => format!("{} — {price}", card.title),
    };
    let badge = card.badge.as_deref().unwrap_or("");
    [headline.as_str(), card.subtitle.as_str(), badge]
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Actions whose id would have to be shortened are skipped, never sent altered.
fn card_buttons(actions: &[RenderedChoice]) -> Vec<Value> {
    actions
        .iter()
        .filter(|action| {
            fits_id(&action.id, WHATSAPP.button_id_max) && !action.label.trim().is_empty()
        })
        .take(WHATSAPP.buttons_max)
        .map(reply_button)
        .collect()
}

fn reply_button(choice: &RenderedChoice) -> Value {
    let title = truncate_chars(&choice.label, WHATSAPP.button_title_max);
    json!({"type": "reply", "reply": {"id": choice.id, "title": title}})
}

// ---- the main message ----

fn render_main(reply: &RenderedReply, options: &WhatsAppRenderOptions) -> Vec<Value> {
    let text = text_with_cart(&reply.text, reply.cart.as_ref());
    let link = reply.link.as_ref().and_then(|link| {
        absolute_url(&link.url, options.public_base_url).map(|url| (url, link.label.as_str()))
    });
    let shape = choice_shape(&reply.choices);
    let to = options.to;
    if let Some((url, label)) = link {
        // A cta_url message has no room for reply buttons: the choices become numbered lines.
        let text = match shape {
            ChoiceShape::NoChoices => text,
            _ => with_numbered_choices(&text, &reply.choices),
        };
        return with_body(to, &text, |body| cta_url(body, &url, label));
    }
    match shape {
        ChoiceShape::NoChoices => plain_text(to, &text, !reply.cards.is_empty()),
        ChoiceShape::Buttons => with_body(to, &text, |body| buttons(body, &reply.choices)),
        ChoiceShape::List => with_body(to, &text, |body| {
            list(body, &reply.choices, options.list_button_label)
        }),
        ChoiceShape::Numbered => text_messages(to, &with_numbered_choices(&text, &reply.choices)),
    }
}

/// Blank text after cards says nothing, so nothing is sent; a reply with nothing at all still
/// gets "…" so the customer sees an answer.
fn plain_text(to: &str, text: &str, after_cards: bool) -> Vec<Value> {
    let messages = text_messages(to, text);
    if messages.is_empty() && !after_cards {
        return vec![text_message(to, &or_ellipsis(text))];
    }
    messages
}

fn buttons(body: String, choices: &[RenderedChoice]) -> Value {
    let buttons: Vec<Value> = choices.iter().map(reply_button).collect();
    json!({"type": "button", "body": {"text": body}, "action": {"buttons": buttons}})
}

fn list(body: String, choices: &[RenderedChoice], label: &str) -> Value {
    let rows: Vec<Value> = choices.iter().map(list_row).collect();
    let mut section = json!({"rows": rows});
    if let Some(title) = section_title(label) {
        section["title"] = title.into();
    }
    let button = truncate_chars(&or_ellipsis(label), WHATSAPP.list_button_label_max);
    json!({"type": "list", "body": {"text": body}, "action": {"button": button, "sections": [section]}})
}

/// A label too long for a row title is cut there and shown whole in the description.
fn list_row(choice: &RenderedChoice) -> Value {
    let title = truncate_chars(&choice.label, WHATSAPP.list_row_title_max);
    let mut row = json!({"id": choice.id, "title": title});
    if title != choice.label {
        row["description"] =
            truncate_chars(&choice.label, WHATSAPP.list_row_description_max).into();
    }
    row
}

fn cta_url(body: String, url: &str, label: &str) -> Value {
    let display_text = truncate_chars(&or_ellipsis(label), WHATSAPP.cta_display_text_max);
    json!({
        "type": "cta_url",
        "body": {"text": body},
        "action": {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}},
    })
}

// ---- text helpers shared with the Messenger renderer ----

/// The reply text with the cart appended after a blank line: one line per item, then the total.
pub(crate) fn text_with_cart(text: &str, cart: Option<&RenderedCart>) -> String {
    let Some(cart) = cart else {
        return text.to_owned();
    };
    let mut lines: Vec<String> = cart.lines.iter().map(cart_line).collect();
    lines.push(format!("{}: {}", cart.total_label, cart.total));
    append_block(text, &lines.join("\n"))
}

fn cart_line(line: &RenderedCartLine) -> String {
    match line.variant.trim() {
        "" => format!("{} × {} — {}", line.quantity, line.title, line.line_total),
        variant => format!(
            "{} × {} ({variant}) — {}",
            line.quantity, line.title, line.line_total
        ),
    }
}

/// Choices as "1. label" lines after the text: the fallback when no native control can hold
/// them; the customer answers with the number.
pub(crate) fn with_numbered_choices(text: &str, choices: &[RenderedChoice]) -> String {
    let lines: Vec<String> = choices
        .iter()
        .enumerate()
        .map(|(index, choice)| format!("{}. {}", index + 1, choice.label))
        .collect();
    append_block(text, &lines.join("\n"))
}

fn append_block(text: &str, block: &str) -> String {
    if text.trim().is_empty() {
        block.to_owned()
    } else {
        format!("{}\n\n{block}", text.trim_end())
    }
}

/// `url` as an absolute http(s) URL: absolute ones pass through, paths are joined to our
/// public base. None when there is no base to join with, since a relative URL is useless to
/// the platform.
pub(crate) fn absolute_url(url: &str, public_base_url: &str) -> Option<String> {
    let url = url.trim();
    if url.starts_with("https://") || url.starts_with("http://") {
        return Some(url.to_owned());
    }
    let base = public_base_url.trim().trim_end_matches('/');
    if base.is_empty() || url.is_empty() {
        return None;
    }
    Some(format!("{base}/{}", url.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::test_replies::{choice, choices, reply, with_choices};
    use crate::rendered::{RenderedCartLine, RenderedLink};

    const TO: &str = "15551234567";

    fn options() -> WhatsAppRenderOptions<'static> {
        WhatsAppRenderOptions {
            to: TO,
            public_base_url: "https://shop.example",
            catalog_id: None,
            list_button_label: "Options",
        }
    }

    fn card(i: usize) -> RenderedCard {
        RenderedCard {
            id: format!("sku-{i}"),
            title: format!("Mug {i}"),
            subtitle: "Stoneware, 350 ml".to_owned(),
            price: "€12.00".to_owned(),
            image: Some(format!("/media/products/mug-{i}.svg")),
            badge: None,
            actions: vec![
                choice(&format!("add:sku-{i}"), "Add to cart"),
                choice(&format!("info:sku-{i}"), "Details"),
            ],
        }
    }

    fn with_cards(n: usize) -> RenderedReply {
        RenderedReply {
            cards: (1..=n).map(card).collect(),
            ..reply("Our mugs")
        }
    }

    /// Renders and checks every known field against its limit before handing the bodies back.
    fn render(reply: &RenderedReply, options: &WhatsAppRenderOptions) -> Vec<Value> {
        let messages = render_whatsapp(reply, options);
        for message in &messages {
            assert_eq!(message["messaging_product"], "whatsapp");
            assert_eq!(message["recipient_type"], "individual");
            assert_eq!(message["to"], options.to);
            let kind = message["type"].as_str().expect("type");
            assert!(message.get(kind).is_some(), "{kind} content missing");
            check_limits(message, "");
        }
        messages
    }

    fn string_limit(path: &str) -> Option<usize> {
        Some(match path {
            "text.body" => WHATSAPP.text_max,
            "interactive.body.text" => WHATSAPP.body_max,
            "interactive.header.text" => WHATSAPP.header_text_max,
            "interactive.action.buttons[].reply.title" => WHATSAPP.button_title_max,
            "interactive.action.buttons[].reply.id" => WHATSAPP.button_id_max,
            "interactive.action.button" => WHATSAPP.list_button_label_max,
            "interactive.action.sections[].title" => WHATSAPP.list_section_title_max,
            "interactive.action.sections[].rows[].title" => WHATSAPP.list_row_title_max,
            "interactive.action.sections[].rows[].description" => WHATSAPP.list_row_description_max,
            "interactive.action.sections[].rows[].id" => WHATSAPP.list_row_id_max,
            "interactive.action.parameters.display_text" => WHATSAPP.cta_display_text_max,
            "image.caption" => WHATSAPP.caption_max,
            _ => return None,
        })
    }

    fn array_limit(path: &str) -> Option<usize> {
        Some(match path {
            "interactive.action.buttons" => WHATSAPP.buttons_max,
            "interactive.action.sections[].rows" => WHATSAPP.list_rows_max,
            "interactive.action.sections[].product_items" => WHATSAPP.product_list_max,
            // One section per message keeps the per-section counts equal to the totals.
            "interactive.action.sections" => 1,
            _ => return None,
        })
    }

    /// Walks the JSON; `path` names a field by its keys, with "[]" for array items.
    fn check_limits(value: &Value, path: &str) {
        match value {
            Value::Object(fields) => {
                for (key, field) in fields {
                    let path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    check_limits(field, &path);
                }
            }
            Value::Array(items) => {
                if let Some(max) = array_limit(path) {
                    assert!(
                        !items.is_empty() && items.len() <= max,
                        "{path}: {} items",
                        items.len()
                    );
                }
                for item in items {
                    check_limits(item, &format!("{path}[]"));
                }
            }
            Value::String(text) => {
                if let Some(max) = string_limit(path) {
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

    fn kinds(messages: &[Value]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match m["type"].as_str() {
                Some("interactive") => format!(
                    "interactive/{}",
                    m["interactive"]["type"].as_str().unwrap_or("?")
                ),
                other => other.unwrap_or("?").to_owned(),
            })
            .collect()
    }

    #[test]
    fn plain_text_is_one_text_message_without_preview() {
        let messages = render(&reply("Hello"), &options());
        assert_eq!(
            messages,
            vec![json!({
                "messaging_product": "whatsapp", "recipient_type": "individual", "to": TO,
                "type": "text", "text": {"body": "Hello", "preview_url": false},
            })]
        );
    }

    #[test]
    fn text_of_4096_is_one_message_and_4097_is_two() {
        assert_eq!(render(&reply(&"a".repeat(4096)), &options()).len(), 1);
        let messages = render(&reply(&"a".repeat(4097)), &options());
        assert_eq!(kinds(&messages), ["text", "text"]);
    }

    #[test]
    fn text_is_counted_in_chars_not_bytes() {
        let emoji = "🛍".repeat(4096);
        assert_eq!(render(&reply(&emoji), &options()).len(), 1);
        let hebrew = "ש".repeat(4097);
        assert_eq!(render(&reply(&hebrew), &options()).len(), 2);
    }

    #[test]
    fn empty_reply_still_sends_an_ellipsis() {
        let messages = render(&reply(""), &options());
        assert_eq!(messages[0]["text"]["body"], "…");
        let messages = render(&with_choices("", choices(2)), &options());
        assert_eq!(messages[0]["interactive"]["body"]["text"], "…");
    }

    #[test]
    fn three_choices_are_buttons_and_four_are_a_list() {
        let messages = render(&with_choices("Pick one", choices(3)), &options());
        assert_eq!(kinds(&messages), ["interactive/button"]);
        let buttons = &messages[0]["interactive"]["action"]["buttons"];
        assert_eq!(
            buttons[2],
            json!({"type": "reply", "reply": {"id": "pick:3", "title": "Option 3"}})
        );
        let messages = render(&with_choices("Pick one", choices(4)), &options());
        assert_eq!(kinds(&messages), ["interactive/list"]);
        let action = &messages[0]["interactive"]["action"];
        assert_eq!(action["button"], "Options");
        assert_eq!(action["sections"][0]["title"], "Options");
        assert_eq!(
            action["sections"][0]["rows"][3],
            json!({"id": "pick:4", "title": "Option 4"})
        );
    }

    #[test]
    fn ten_choices_are_a_list_and_eleven_are_numbered_text() {
        let messages = render(&with_choices("Pick one", choices(10)), &options());
        assert_eq!(kinds(&messages), ["interactive/list"]);
        let messages = render(&with_choices("Pick one", choices(11)), &options());
        assert_eq!(kinds(&messages), ["text"]);
        let body = messages[0]["text"]["body"].as_str().expect("body");
        assert!(body.starts_with("Pick one\n\n1. Option 1\n2. Option 2\n"));
        assert!(body.ends_with("\n11. Option 11"));
    }

    #[test]
    fn a_button_title_of_20_chars_fits_and_21_makes_a_list() {
        let messages = render(
            &with_choices("Pick", vec![choice("a", &"x".repeat(20))]),
            &options(),
        );
        assert_eq!(kinds(&messages), ["interactive/button"]);
        assert_eq!(
            messages[0]["interactive"]["action"]["buttons"][0]["reply"]["title"],
            "x".repeat(20)
        );
        let messages = render(
            &with_choices("Pick", vec![choice("a", &"x".repeat(21))]),
            &options(),
        );
        assert_eq!(kinds(&messages), ["interactive/list"]);
        let row = &messages[0]["interactive"]["action"]["sections"][0]["rows"][0];
        assert_eq!(row["title"], "x".repeat(21));
    }

    #[test]
    fn button_titles_count_chars_not_bytes() {
        let hebrew = "ה".repeat(20);
        let messages = render(
            &with_choices("בחר", vec![choice("a", &hebrew), choice("b", "😀😀")]),
            &options(),
        );
        assert_eq!(kinds(&messages), ["interactive/button"]);
    }

    #[test]
    fn a_row_title_of_24_fits_and_25_is_cut_with_the_label_in_the_description() {
        let mut picks = choices(3);
        picks.push(choice("long", &"y".repeat(24)));
        let messages = render(&with_choices("Pick", picks.clone()), &options());
        assert_eq!(
            messages[0]["interactive"]["action"]["sections"][0]["rows"][3],
            json!({"id": "long", "title": "y".repeat(24)})
        );
        picks[3] = choice("long", &"y".repeat(25));
        let messages = render(&with_choices("Pick", picks), &options());
        let row = &messages[0]["interactive"]["action"]["sections"][0]["rows"][3];
        assert_eq!(row["title"], format!("{}…", "y".repeat(23)));
        assert_eq!(row["description"], "y".repeat(25));
        let huge = choice("huge", &"z".repeat(100));
        let messages = render(&with_choices("Pick", vec![huge]), &options());
        let row = &messages[0]["interactive"]["action"]["sections"][0]["rows"][0];
        assert_eq!(row["description"], format!("{}…", "z".repeat(71)));
    }

    #[test]
    fn the_list_button_label_is_cut_to_20() {
        let options = WhatsAppRenderOptions {
            list_button_label: "Choose one of these options",
            ..options()
        };
        let messages = render(&with_choices("Pick", choices(5)), &options);
        let action = &messages[0]["interactive"]["action"];
        assert_eq!(
            action["button"].as_str().map(|s| s.chars().count()),
            Some(20)
        );
        assert_eq!(
            action["sections"][0]["title"]
                .as_str()
                .map(|s| s.chars().count()),
            Some(24)
        );
    }

    #[test]
    fn ids_over_the_limit_fall_back_to_numbered_text() {
        let at_limit = choice(&"i".repeat(256), "Yes");
        assert_eq!(
            kinds(&render(&with_choices("Sure?", vec![at_limit]), &options())),
            ["interactive/button"]
        );
        let over = choice(&"i".repeat(257), "Yes");
        let messages = render(
            &with_choices("Sure?", vec![over, choice("no", "No")]),
            &options(),
        );
        assert_eq!(kinds(&messages), ["text"]);
        assert_eq!(messages[0]["text"]["body"], "Sure?\n\n1. Yes\n2. No");
        // A list row id holds 200: one more, and the list degrades too.
        let mut picks = choices(4);
        picks[0].id = "r".repeat(200);
        assert_eq!(
            kinds(&render(&with_choices("Pick", picks.clone()), &options())),
            ["interactive/list"]
        );
        picks[0].id = "r".repeat(201);
        assert_eq!(
            kinds(&render(&with_choices("Pick", picks), &options())),
            ["text"]
        );
    }

    #[test]
    fn a_body_of_1024_fits_and_1025_sends_the_lead_as_text_first() {
        let messages = render(&with_choices(&"b".repeat(1024), choices(2)), &options());
        assert_eq!(kinds(&messages), ["interactive/button"]);
        assert_eq!(messages[0]["interactive"]["body"]["text"], "b".repeat(1024));
        let text = format!("Intro line\n{}", "b".repeat(1015));
        assert_eq!(text.chars().count(), 1026);
        let messages = render(&with_choices(&text, choices(2)), &options());
        assert_eq!(kinds(&messages), ["text", "interactive/button"]);
        assert_eq!(messages[0]["text"]["body"], "Intro line");
        assert_eq!(messages[1]["interactive"]["body"]["text"], "b".repeat(1015));
        let messages = render(&with_choices(&"b".repeat(1025), choices(5)), &options());
        assert_eq!(kinds(&messages), ["text", "interactive/list"]);
    }

    #[test]
    fn a_huge_body_becomes_several_texts_then_the_interactive() {
        let text = "word ".repeat(1500);
        let messages = render(&with_choices(&text, choices(2)), &options());
        assert_eq!(kinds(&messages), ["text", "text", "interactive/button"]);
    }

    #[test]
    fn a_link_is_a_cta_url_with_display_text_of_at_most_20() {
        let link = |label: &str| RenderedLink {
            url: "/pay/abc".to_owned(),
            label: label.to_owned(),
        };
        let reply_20 = RenderedReply {
            link: Some(link(&"p".repeat(20))),
            ..reply("Pay here")
        };
        let messages = render(&reply_20, &options());
        assert_eq!(
            messages[0]["interactive"],
            json!({
                "type": "cta_url",
                "body": {"text": "Pay here"},
                "action": {"name": "cta_url", "parameters": {"display_text": "p".repeat(20), "url": "https://shop.example/pay/abc"}},
            })
        );
        let reply_21 = RenderedReply {
            link: Some(link(&"p".repeat(21))),
            ..reply("Pay here")
        };
        let messages = render(&reply_21, &options());
        assert_eq!(
            messages[0]["interactive"]["action"]["parameters"]["display_text"],
            format!("{}…", "p".repeat(19))
        );
    }

    #[test]
    fn a_link_with_a_long_text_sends_the_overflow_first_and_numbers_choices() {
        let link = RenderedLink {
            url: "https://pay.example/x".to_owned(),
            label: "Pay".to_owned(),
        };
        let long = RenderedReply {
            link: Some(link.clone()),
            ..reply(&"w ".repeat(600))
        };
        assert_eq!(
            kinds(&render(&long, &options())),
            ["text", "interactive/cta_url"]
        );
        let both = RenderedReply {
            link: Some(link),
            choices: choices(2),
            ..reply("Pay or not")
        };
        let messages = render(&both, &options());
        assert_eq!(
            messages[0]["interactive"]["body"]["text"],
            "Pay or not\n\n1. Option 1\n2. Option 2"
        );
    }

    #[test]
    fn an_unusable_relative_link_degrades_to_text() {
        let link = RenderedLink {
            url: "/pay/abc".to_owned(),
            label: "Pay".to_owned(),
        };
        let options = WhatsAppRenderOptions {
            public_base_url: "",
            ..options()
        };
        let messages = render(
            &RenderedReply {
                link: Some(link),
                ..reply("Pay")
            },
            &options,
        );
        assert_eq!(kinds(&messages), ["text"]);
    }

    #[test]
    fn the_cart_is_appended_after_a_blank_line() {
        let line = |title: &str, variant: &str, quantity: u32, total: &str| RenderedCartLine {
            sku: title.to_lowercase(),
            title: title.to_owned(),
            variant: variant.to_owned(),
            quantity,
            unit_price: "€1".to_owned(),
            line_total: total.to_owned(),
            actions: vec![],
        };
        let cart = RenderedCart {
            title: "Your cart".to_owned(),
            lines: vec![
                line("Mug", "Blue", 2, "€24.00"),
                line("Tote", "", 1, "€9.00"),
            ],
            total_label: "Total".to_owned(),
            total: "€33.00".to_owned(),
        };
        let messages = render(
            &RenderedReply {
                cart: Some(cart),
                ..reply("Here it is")
            },
            &options(),
        );
        assert_eq!(
            messages[0]["text"]["body"],
            "Here it is\n\n2 × Mug (Blue) — €24.00\n1 × Tote — €9.00\nTotal: €33.00"
        );
    }

    #[test]
    fn cards_are_image_button_messages_before_the_text() {
        let messages = render(&with_cards(2), &options());
        assert_eq!(
            kinds(&messages),
            ["interactive/button", "interactive/button", "text"]
        );
        let first = &messages[0]["interactive"];
        assert_eq!(
            first["header"],
            json!({"type": "image", "image": {"link": "https://shop.example/media/products/mug-1.svg"}})
        );
        assert_eq!(first["body"]["text"], "Mug 1 — €12.00\nStoneware, 350 ml");
        assert_eq!(first["action"]["buttons"][0]["reply"]["id"], "add:sku-1");
    }

    #[test]
    fn card_images_need_a_base_url_unless_already_absolute() {
        let options = WhatsAppRenderOptions {
            public_base_url: "",
            ..options()
        };
        let messages = render(&with_cards(1), &options);
        assert!(messages[0]["interactive"].get("header").is_none());
        let mut reply = with_cards(1);
        reply.cards[0].image = Some("https://cdn.example/mug.png".to_owned());
        let messages = render(&reply, &options);
        assert_eq!(
            messages[0]["interactive"]["header"]["image"]["link"],
            "https://cdn.example/mug.png"
        );
    }

    #[test]
    fn cards_keep_at_most_three_buttons_and_skip_overlong_ids() {
        let mut reply = with_cards(1);
        reply.cards[0].actions = vec![
            choice(&"x".repeat(257), "Too long"),
            choice("a", "A"),
            choice("b", "B"),
            choice("c", "C"),
            choice("d", "D"),
        ];
        let messages = render(&reply, &options());
        let ids: Vec<&str> = messages[0]["interactive"]["action"]["buttons"]
            .as_array()
            .expect("buttons")
            .iter()
            .filter_map(|b| b["reply"]["id"].as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[test]
    fn cards_without_actions_are_images_or_text_and_carry_the_badge() {
        let mut reply = with_cards(2);
        for card in &mut reply.cards {
            card.actions.clear();
            card.badge = Some("New".to_owned());
        }
        reply.cards[1].image = None;
        reply.cards[1].title = "t".repeat(2000);
        let messages = render(&reply, &options());
        assert_eq!(kinds(&messages), ["image", "text", "text"]);
        assert_eq!(
            messages[0]["image"]["caption"],
            "Mug 1 — €12.00\nStoneware, 350 ml\nNew"
        );
        assert_eq!(
            messages[0]["image"]["link"],
            "https://shop.example/media/products/mug-1.svg"
        );
    }

    #[test]
    fn a_long_card_body_is_cut_to_1024() {
        let mut reply = with_cards(1);
        reply.cards[0].subtitle = "s".repeat(1100);
        let messages = render(&reply, &options());
        let body = messages[0]["interactive"]["body"]["text"]
            .as_str()
            .expect("body");
        assert_eq!(body.chars().count(), 1024);
        assert!(body.ends_with('…'));
    }

    #[test]
    fn blank_text_after_cards_sends_no_extra_message() {
        let reply = RenderedReply {
            text: String::new(),
            ..with_cards(1)
        };
        assert_eq!(kinds(&render(&reply, &options())), ["interactive/button"]);
    }

    #[test]
    fn one_catalog_card_is_a_product_message() {
        let options = WhatsAppRenderOptions {
            catalog_id: Some("cat-9"),
            ..options()
        };
        let messages = render(&with_cards(1), &options);
        assert_eq!(kinds(&messages), ["interactive/product", "text"]);
        assert_eq!(
            messages[0]["interactive"]["action"],
            json!({"catalog_id": "cat-9", "product_retailer_id": "sku-1"})
        );
    }

    #[test]
    fn catalog_cards_are_one_product_list_up_to_30_and_two_at_31() {
        let options = WhatsAppRenderOptions {
            catalog_id: Some("cat-9"),
            ..options()
        };
        let messages = render(&with_cards(30), &options);
        assert_eq!(kinds(&messages), ["interactive/product_list", "text"]);
        let list = &messages[0]["interactive"];
        assert_eq!(list["header"], json!({"type": "text", "text": "Our mugs"}));
        assert_eq!(list["body"]["text"], "Our mugs");
        assert_eq!(list["action"]["catalog_id"], "cat-9");
        assert_eq!(
            list["action"]["sections"][0]["product_items"][29],
            json!({"product_retailer_id": "sku-30"})
        );
        let messages = render(&with_cards(31), &options);
        assert_eq!(
            kinds(&messages),
            [
                "interactive/product_list",
                "interactive/product_list",
                "text"
            ]
        );
        assert_eq!(
            messages[1]["interactive"]["action"]["sections"][0]["product_items"],
            json!([{"product_retailer_id": "sku-31"}])
        );
    }

    #[test]
    fn a_product_list_header_is_the_first_line_cut_to_60() {
        let options = WhatsAppRenderOptions {
            catalog_id: Some("cat-9"),
            ..options()
        };
        let reply = RenderedReply {
            text: format!("{}\nsecond line", "h".repeat(70)),
            ..with_cards(2)
        };
        let messages = render(&reply, &options);
        assert_eq!(
            messages[0]["interactive"]["header"]["text"],
            format!("{}…", "h".repeat(59))
        );
        let reply = RenderedReply {
            text: String::new(),
            ..with_cards(2)
        };
        let messages = render(&reply, &options);
        assert_eq!(messages[0]["interactive"]["header"]["text"], "Options");
    }

    #[test]
    fn absolute_urls_join_base_and_path_once() {
        assert_eq!(
            absolute_url("/x.svg", "https://a.example/").as_deref(),
            Some("https://a.example/x.svg")
        );
        assert_eq!(
            absolute_url("x.svg", "https://a.example").as_deref(),
            Some("https://a.example/x.svg")
        );
        assert_eq!(
            absolute_url("http://b.example/y", "").as_deref(),
            Some("http://b.example/y")
        );
        assert_eq!(absolute_url("/x.svg", ""), None);
        assert_eq!(absolute_url("", "https://a.example"), None);
    }
}

//! A rendered reply → Telegram messages: text with an inline keyboard, product cards as a
//! photo with a caption and their own buttons, the cart as lines of text, links as URL
//! buttons. Limits (text 4096 characters, caption 1024, callback data 64 bytes) hold by
//! construction; callback data that would be longer is replaced by an opaque token the
//! caller stores.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use url::Url;

use crate::text_limits::{absolute_https, cut, split};

use crate::rendered::{RenderedCart, RenderedChoice, RenderedReply};

pub const TEXT_LIMIT: usize = 4096;
pub const CAPTION_LIMIT: usize = 1024;
pub const CALLBACK_DATA_LIMIT: usize = 64;
/// Labels wider than this get a row of their own.
const SHORT_LABEL: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub enum TelegramMessage {
    Text {
        text: String,
        keyboard: Option<InlineKeyboardMarkup>,
    },
    Photo {
        photo: Url,
        caption: String,
        keyboard: Option<InlineKeyboardMarkup>,
    },
}

pub struct RenderOptions<'a> {
    /// Our public origin, to make relative image paths absolute; empty: cards without one
    /// go out as text.
    pub public_base_url: &'a str,
}

/// The messages for one reply, in send order: cards, then the text with the reply's
/// buttons. `shorten` turns an action id longer than 64 bytes into a token that maps back to
/// it (the shell stores the pair).
pub fn render(
    reply: &RenderedReply,
    options: &RenderOptions,
    shorten: &mut dyn FnMut(&str) -> String,
) -> Vec<TelegramMessage> {
    let mut messages: Vec<TelegramMessage> = reply
        .cards
        .iter()
        .map(|card| {
            let mut caption = card.title.clone();
            for line in [
                &card.subtitle,
                &card.price,
                card.badge.as_ref().unwrap_or(&String::new()),
            ] {
                if !line.is_empty() {
                    caption.push('\n');
                    caption.push_str(line);
                }
            }
            let caption = cut(&caption, CAPTION_LIMIT);
            let keyboard = keyboard(&card.actions, None, shorten);
            match card
                .image
                .as_deref()
                .and_then(|i| absolute_https(i, options.public_base_url))
                .and_then(|url| Url::parse(&url).ok())
            {
                Some(photo) => TelegramMessage::Photo {
                    photo,
                    caption,
                    keyboard,
                },
                None => TelegramMessage::Text {
                    text: caption,
                    keyboard,
                },
            }
        })
        .collect();
    let mut text = reply.text.clone();
    if let Some(cart) = &reply.cart {
        text.push_str("\n\n");
        text.push_str(&cart_text(cart));
    }
    let link = reply
        .link
        .as_ref()
        .and_then(|link| Some((link.label.clone(), Url::parse(&link.url).ok()?)));
    let keyboard = keyboard(&reply.choices, link, shorten);
    let chunks = split(&text, TEXT_LIMIT);
    let last = chunks.len().saturating_sub(1);
    for (index, chunk) in chunks.into_iter().enumerate() {
        messages.push(TelegramMessage::Text {
            text: chunk,
            keyboard: if index == last {
                keyboard.clone()
            } else {
                None
            },
        });
    }
    messages
}

/// Buttons two to a row when their labels are short, else one; a link button last.
fn keyboard(
    choices: &[RenderedChoice],
    link: Option<(String, Url)>,
    shorten: &mut dyn FnMut(&str) -> String,
) -> Option<InlineKeyboardMarkup> {
    let buttons: Vec<InlineKeyboardButton> = choices
        .iter()
        .map(|choice| {
            let data = if choice.id.len() <= CALLBACK_DATA_LIMIT {
                choice.id.clone()
            } else {
                shorten(&choice.id)
            };
            InlineKeyboardButton::callback(choice.label.clone(), data)
        })
        .collect();
    let short = choices
        .iter()
        .all(|c| c.label.chars().count() <= SHORT_LABEL);
    let per_row = if short { 2 } else { 1 };
    let mut rows: Vec<Vec<InlineKeyboardButton>> =
        buttons.chunks(per_row).map(<[_]>::to_vec).collect();
    if let Some((label, url)) = link {
        rows.push(vec![InlineKeyboardButton::url(label, url)]);
    }
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

fn cart_text(cart: &RenderedCart) -> String {
    let mut text = cart.title.clone();
    for line in &cart.lines {
        text.push_str(&format!(
            "\n• {} × {} ({}) — {}",
            line.quantity, line.title, line.variant, line.line_total
        ));
    }
    text.push_str(&format!("\n{}: {}", cart.total_label, cart.total));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rendered::{RenderedCard, RenderedLink};
    use flows::Locale;

    fn reply(text: &str, choices: &[(&str, &str)]) -> RenderedReply {
        RenderedReply {
            lang: Locale::En,
            right_to_left: false,
            text: text.into(),
            choices: choices
                .iter()
                .map(|(id, label)| RenderedChoice {
                    id: (*id).into(),
                    label: (*label).into(),
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

    #[test]
    fn choices_become_an_inline_keyboard_on_the_last_piece() {
        let long = "word ".repeat(1000);
        let messages = render(
            &reply(
                &long,
                &[("cart", "Cart"), ("menu", "Menu"), ("help", "Help")],
            ),
            &RenderOptions {
                public_base_url: "",
            },
            &mut no_tokens,
        );
        assert_eq!(messages.len(), 2);
        let TelegramMessage::Text { text, keyboard } = &messages[0] else {
            panic!("text");
        };
        assert!(text.chars().count() <= TEXT_LIMIT && keyboard.is_none());
        let TelegramMessage::Text {
            keyboard: Some(keyboard),
            ..
        } = &messages[1]
        else {
            panic!("keyboard on the last piece");
        };
        let rows: Vec<usize> = keyboard.inline_keyboard.iter().map(Vec::len).collect();
        assert_eq!(rows, [2, 1]);
    }

    #[test]
    fn long_callback_data_is_replaced_by_a_token_at_the_boundary() {
        let at_limit = format!("add:{}", "x".repeat(CALLBACK_DATA_LIMIT - 4));
        let over = format!("add:{}", "x".repeat(CALLBACK_DATA_LIMIT - 3));
        let mut asked = Vec::new();
        let messages = render(
            &reply("pick", &[(&at_limit, "A"), (&over, "B")]),
            &RenderOptions {
                public_base_url: "",
            },
            &mut |id: &str| {
                asked.push(id.to_owned());
                "~0123456789abcdef".to_owned()
            },
        );
        assert_eq!(asked, [over]);
        let TelegramMessage::Text {
            keyboard: Some(keyboard),
            ..
        } = &messages[0]
        else {
            panic!("keyboard");
        };
        let json = serde_json::to_value(keyboard).expect("json");
        assert_eq!(
            json["inline_keyboard"][0][0]["callback_data"],
            at_limit.as_str()
        );
        assert_eq!(
            json["inline_keyboard"][0][1]["callback_data"],
            "~0123456789abcdef"
        );
    }

    #[test]
    fn cards_are_photos_with_captions_and_links_are_url_buttons() {
        let mut r = reply("Here", &[]);
        r.cards.push(RenderedCard {
            id: "mug".into(),
            title: "Mug".into(),
            subtitle: "Ceramic, 300 ml".into(),
            price: "15.00 EUR".into(),
            image: Some("/media/products/mug.svg".into()),
            badge: None,
            actions: vec![RenderedChoice {
                id: "add:mug".into(),
                label: "Add".into(),
            }],
        });
        r.link = Some(RenderedLink {
            url: "https://pay.example/s/1".into(),
            label: "Pay".into(),
        });
        let messages = render(
            &r,
            &RenderOptions {
                public_base_url: "https://shop.example",
            },
            &mut no_tokens,
        );
        let TelegramMessage::Photo { photo, caption, .. } = &messages[0] else {
            panic!("photo card");
        };
        assert_eq!(
            photo.as_str(),
            "https://shop.example/media/products/mug.svg"
        );
        assert_eq!(caption, "Mug\nCeramic, 300 ml\n15.00 EUR");
        let TelegramMessage::Text {
            keyboard: Some(keyboard),
            ..
        } = &messages[1]
        else {
            panic!("text with the link");
        };
        let json = serde_json::to_value(keyboard).expect("json");
        assert_eq!(
            json["inline_keyboard"][0][0]["url"],
            "https://pay.example/s/1"
        );
        // Without a public https origin, a relative image cannot be fetched by Telegram.
        let messages = render(
            &r,
            &RenderOptions {
                public_base_url: "",
            },
            &mut no_tokens,
        );
        assert!(matches!(messages[0], TelegramMessage::Text { .. }));
    }
}

//! A rendered reply → Discord messages (serenity builders): the text as `content` (2000
//! characters, split when longer), product cards as embeds (10 per message, 6000 characters
//! in all, title 256, description 4096), the reply's choices as buttons (5 per row) and the
//! cards' actions as one select menu (25 options), at most 5 rows; a link as a link button.
//! Custom ids over 100 characters become tokens the caller stores.

use serenity::builder::{
    CreateActionRow, CreateButton, CreateEmbed, CreateMessage, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption,
};

use crate::rendered::{RenderedCard, RenderedChoice, RenderedReply};
use crate::text_limits::{absolute_https, cut, split};

pub const CONTENT_LIMIT: usize = 2000;
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const EMBED_TOTAL_LIMIT: usize = 6000;
pub const EMBED_TITLE_LIMIT: usize = 256;
pub const EMBED_DESCRIPTION_LIMIT: usize = 4096;
pub const ROWS_PER_MESSAGE: usize = 5;
pub const BUTTONS_PER_ROW: usize = 5;
pub const SELECT_OPTIONS: usize = 25;
pub const CUSTOM_ID_LIMIT: usize = 100;
pub const LABEL_LIMIT: usize = 80;
/// The select's own custom id: its options' values are the action ids.
pub const CARD_SELECT_ID: &str = "cards";

pub struct RenderOptions<'a> {
    /// Our public origin, to make relative image paths absolute.
    pub public_base_url: &'a str,
}

/// The messages for one reply, in send order. `shorten` maps a custom id over 100
/// characters to a token (the shell stores the pair).
pub fn render(
    reply: &RenderedReply,
    options: &RenderOptions,
    shorten: &mut dyn FnMut(&str) -> String,
) -> Vec<CreateMessage> {
    let mut id = |raw: &str| {
        if raw.chars().count() <= CUSTOM_ID_LIMIT {
            raw.to_owned()
        } else {
            shorten(raw)
        }
    };
    let mut text = reply.text.clone();
    if let Some(cart) = &reply.cart {
        text.push_str(&format!("\n\n**{}**", cart.title));
        for line in &cart.lines {
            text.push_str(&format!(
                "\n• {} × {} ({}) — {}",
                line.quantity, line.title, line.variant, line.line_total
            ));
        }
        text.push_str(&format!("\n{}: {}", cart.total_label, cart.total));
    }
    let mut rows: Vec<CreateActionRow> = Vec::new();
    let card_options: Vec<CreateSelectMenuOption> = reply
        .cards
        .iter()
        .filter_map(|card| {
            let action = card.actions.first()?;
            Some(CreateSelectMenuOption::new(
                cut(&format!("{} — {}", card.title, action.label), LABEL_LIMIT),
                id(&action.id),
            ))
        })
        .take(SELECT_OPTIONS)
        .collect();
    if !card_options.is_empty() {
        rows.push(CreateActionRow::SelectMenu(CreateSelectMenu::new(
            CARD_SELECT_ID,
            CreateSelectMenuKind::String {
                options: card_options,
            },
        )));
    }
    let mut buttons: Vec<CreateButton> = reply
        .choices
        .iter()
        .map(|choice: &RenderedChoice| {
            CreateButton::new(id(&choice.id)).label(cut(&choice.label, LABEL_LIMIT))
        })
        .collect();
    if let Some(link) = &reply.link {
        buttons.push(CreateButton::new_link(link.url.clone()).label(cut(&link.label, LABEL_LIMIT)));
    }
    let room = (ROWS_PER_MESSAGE - rows.len()) * BUTTONS_PER_ROW;
    buttons.truncate(room);
    rows.extend(
        buttons
            .chunks(BUTTONS_PER_ROW)
            .map(|row| CreateActionRow::Buttons(row.to_vec())),
    );
    let embeds = embeds(&reply.cards, options.public_base_url);
    let pieces = split(&text, CONTENT_LIMIT);
    let mut messages: Vec<CreateMessage> = Vec::new();
    // Cards go with the first piece, in groups of ten; the buttons with the last message.
    let mut embed_groups = embeds.chunks(EMBEDS_PER_MESSAGE).map(<[_]>::to_vec);
    for (index, piece) in pieces.into_iter().enumerate() {
        let mut message = CreateMessage::new().content(piece);
        if index == 0
            && let Some(group) = embed_groups.next()
        {
            message = message.embeds(group);
        }
        messages.push(message);
    }
    for group in embed_groups {
        messages.push(CreateMessage::new().embeds(group));
    }
    if !rows.is_empty()
        && let Some(last) = messages.pop()
    {
        messages.push(last.components(rows));
    }
    messages
}

/// One embed per card, each within its limits and all within 6000 characters per message.
fn embeds(cards: &[RenderedCard], base: &str) -> Vec<CreateEmbed> {
    let mut budget = EMBED_TOTAL_LIMIT;
    let mut out = Vec::new();
    for (index, card) in cards.iter().enumerate() {
        if index % EMBEDS_PER_MESSAGE == 0 {
            budget = EMBED_TOTAL_LIMIT;
        }
        let title = cut(&card.title, EMBED_TITLE_LIMIT.min(budget));
        budget = budget.saturating_sub(title.chars().count());
        let mut description = card.price.clone();
        if !card.subtitle.is_empty() {
            description = format!("{}\n{}", card.subtitle, card.price);
        }
        if let Some(badge) = &card.badge {
            description.push_str(&format!("\n{badge}"));
        }
        let description = cut(&description, EMBED_DESCRIPTION_LIMIT.min(budget));
        budget = budget.saturating_sub(description.chars().count());
        let mut embed = CreateEmbed::new().title(title).description(description);
        if let Some(image) = card.image.as_deref().and_then(|i| absolute_https(i, base)) {
            embed = embed.thumbnail(image);
        }
        out.push(embed);
    }
    out
}

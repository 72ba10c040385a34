//! Turns the core's abstract replies into text in the customer's language with Fluent
//! (`locales/<lang>/main.ftl`, embedded at compile time) and formats money and dates.

pub mod dates;
pub mod money;

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};

use adapters::rendered::{
    RenderedCard, RenderedCart, RenderedCartLine, RenderedChoice, RenderedLink, RenderedReply,
};
use flows::{Arg, Choice, Label, Locale, Reply, Text, TextKey};

pub use money::format_money;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments confuse plain-text channels and tests;
        // the web chat sets `dir` per message instead.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

fn language(locale: Locale) -> LanguageIdentifier {
    locale.code().parse().unwrap_or_default()
}

/// Where product images are served from when the catalog names a local file.
pub const MEDIA_PREFIX: &str = "/media/products/";

#[derive(Debug, Clone, Default)]
pub struct Renderer;

impl Renderer {
    /// Looks a key up; a key missing in a locale falls back to English, and a key missing
    /// everywhere (prevented by the locale test) shows its id rather than nothing.
    pub fn text(&self, locale: Locale, text: &Text) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = text
            .args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Str(s) => FluentValue::from(s.clone()),
                    Arg::Int(n) => FluentValue::from(*n),
                    Arg::Money(m) => FluentValue::from(format_money(*m, locale)),
                    Arg::When { at, zone, also } => {
                        FluentValue::from(dates::format_when(*at, zone, also.as_deref(), locale))
                    }
                    Arg::Day(iso) => FluentValue::from(dates::format_day(iso, locale)),
                    Arg::Clock { at, zone, also } => {
                        FluentValue::from(dates::format_clock(*at, zone, also.as_deref()))
                    }
                };
                (Cow::Owned(name.clone()), value)
            })
            .collect();
        LOCALES
            .try_lookup_with_args(&language(locale), text.key.id(), &args)
            .unwrap_or_else(|| text.key.id().to_owned())
    }

    pub fn key(&self, locale: Locale, key: TextKey) -> String {
        self.text(locale, &Text::new(key))
    }

    /// A version of a message's wording in one language: the first 12 hex digits of the
    /// SHA-256 of the message as written (its arguments unfilled). Recorded with a consent
    /// question, it says which wording the customer saw, and changes when the wording does.
    pub fn version(&self, locale: Locale, key: TextKey) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.key(locale, key).as_bytes());
        hex::encode(&digest[..6])
    }

    /// A label of a page of ours (`locales/<lang>/page.ftl`), by its id; `None` when the
    /// id is unknown (the locale test keeps every listed id in every locale).
    pub fn page_label(&self, locale: Locale, id: &str) -> Option<String> {
        LOCALES.try_lookup(&language(locale), id)
    }

    fn label(&self, locale: Locale, label: &Label) -> String {
        match label {
            Label::Text(text) => self.text(locale, text),
            Label::Literal(literal) => literal.clone(),
            Label::Priced { name, price } => format!("{name} · {}", format_money(*price, locale)),
        }
    }

    fn choices(&self, locale: Locale, choices: &[Choice]) -> Vec<RenderedChoice> {
        choices
            .iter()
            .map(|choice| RenderedChoice {
                id: choice.action.id(),
                label: self.label(locale, &choice.label),
            })
            .collect()
    }

    pub fn reply(&self, locale: Locale, reply: &Reply) -> RenderedReply {
        let cards = reply
            .cards
            .iter()
            .map(|card| {
                let price = format_money(card.price, locale);
                RenderedCard {
                    id: card.product.0.clone(),
                    title: card.title.clone(),
                    subtitle: card.subtitle.clone(),
                    price: if card.price_is_from {
                        self.text(
                            locale,
                            &Text::new(TextKey::CardPriceFrom).str("price", price),
                        )
                    } else {
                        price
                    },
                    image: card.image.as_deref().map(image_url),
                    badge: card
                        .out_of_stock
                        .then(|| self.key(locale, TextKey::BadgeOutOfStock)),
                    actions: self.choices(locale, &card.actions),
                }
            })
            .collect();
        let cart = reply.cart.as_ref().map(|cart| RenderedCart {
            title: self.key(
                locale,
                if cart.is_order {
                    TextKey::OrderTitle
                } else {
                    TextKey::CartTitle
                },
            ),
            lines: cart
                .lines
                .iter()
                .map(|line| RenderedCartLine {
                    sku: line.sku.0.clone(),
                    title: line.title.clone(),
                    variant: line.variant.clone(),
                    quantity: line.quantity,
                    unit_price: format_money(line.unit_price, locale),
                    line_total: format_money(line.line_total, locale),
                    actions: self.choices(locale, &line.actions),
                })
                .collect(),
            total_label: self.key(locale, TextKey::CartTotal),
            total: format_money(cart.total, locale),
        });
        RenderedReply {
            lang: locale,
            right_to_left: locale.is_right_to_left(),
            text: self.text(locale, &reply.text),
            choices: self.choices(locale, &reply.choices),
            cards,
            cart,
            link: reply.link.as_ref().map(|link| RenderedLink {
                url: link.url.clone(),
                label: self.key(locale, link.label),
            }),
        }
    }
}

/// A catalog image is a file name in the shop's image folder or an absolute https URL.
fn image_url(image: &str) -> String {
    if image.starts_with("https://") {
        image.to_owned()
    } else {
        format!("{MEDIA_PREFIX}{image}")
    }
}

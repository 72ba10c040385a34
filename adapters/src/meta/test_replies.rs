//! Building blocks for the renderers' tests: rendered replies with N choices.

use flows::Locale;

use crate::rendered::{RenderedChoice, RenderedReply};

pub fn reply(text: &str) -> RenderedReply {
    RenderedReply {
        lang: Locale::En,
        right_to_left: false,
        text: text.to_owned(),
        choices: Vec::new(),
        cards: Vec::new(),
        cart: None,
        link: None,
    }
}

pub fn choice(id: &str, label: &str) -> RenderedChoice {
    RenderedChoice {
        id: id.to_owned(),
        label: label.to_owned(),
    }
}

pub fn choices(n: usize) -> Vec<RenderedChoice> {
    (1..=n)
        .map(|i| choice(&format!("pick:{i}"), &format!("Option {i}")))
        .collect()
}

pub fn with_choices(text: &str, choices: Vec<RenderedChoice>) -> RenderedReply {
    RenderedReply {
        choices,
        ..reply(text)
    }
}

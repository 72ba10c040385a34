//! A reply after localisation: every string is final text in the customer's language. The
//! shell produces it from the core's abstract `Reply`; each channel turns it into its payload.

use serde::Serialize;

use flows::Locale;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedReply {
    pub lang: Locale,
    pub right_to_left: bool,
    pub text: String,
    pub choices: Vec<RenderedChoice>,
    pub cards: Vec<RenderedCard>,
    pub cart: Option<RenderedCart>,
    pub link: Option<RenderedLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedChoice {
    /// The action id the platform sends back when the button is pressed.
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedCard {
    pub id: String,
    pub title: String,
    pub subtitle: String,
    pub price: String,
    /// Absolute URL or a path on our own host.
    pub image: Option<String>,
    pub badge: Option<String>,
    pub actions: Vec<RenderedChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedCart {
    pub title: String,
    pub lines: Vec<RenderedCartLine>,
    pub total_label: String,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedCartLine {
    pub sku: String,
    pub title: String,
    pub variant: String,
    pub quantity: u32,
    pub unit_price: String,
    pub line_total: String,
    pub actions: Vec<RenderedChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedLink {
    pub url: String,
    pub label: String,
}

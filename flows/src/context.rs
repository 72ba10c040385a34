//! What a step may read besides the conversation: the catalog and the shop's settings.

use crate::catalog::Catalog;
use crate::handoff::HandoffSettings;
use crate::recommend::BoughtTogether;
use crate::time::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSettings {
    pub shop_name: String,
    /// Silence after which a half-finished flow is reset (the cart is kept).
    pub session_timeout: Span,
    /// Product cards per page when browsing a category.
    pub page_size: usize,
    /// Most units of one variant in one cart line.
    pub max_quantity: u32,
    /// When true, text the rules cannot place is sent to the language model first.
    pub nlu_enabled: bool,
    /// How long the model's answer is waited for before the rules answer instead.
    pub nlu_wait: Span,
    /// Checkout asks for a delivery address.
    pub delivery: bool,
    /// Places the customer may collect the order from, as the shop names them.
    pub pickup_points: Vec<String>,
    pub handoff: HandoffSettings,
    pub recovery: crate::recovery::RecoverySettings,
    pub booking: crate::booking::BookingSettings,
    /// Ask for news-and-offers consent once, after the first paid order.
    pub marketing: bool,
    /// The version of each consent question's wording per language (a digest the shell
    /// computes from the messages), recorded with the question.
    pub text_versions:
        std::collections::BTreeMap<(crate::text::TextKey, crate::locale::Locale), String>,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            shop_name: "Souk".to_owned(),
            session_timeout: Span::hours(2),
            page_size: 5,
            max_quantity: 10,
            nlu_enabled: false,
            nlu_wait: Span::seconds(30),
            // A shop that ships nothing (vouchers, services) asks no address; the shell's
            // configuration turns delivery on by default.
            delivery: false,
            pickup_points: Vec::new(),
            handoff: HandoffSettings::default(),
            recovery: crate::recovery::RecoverySettings::default(),
            booking: crate::booking::BookingSettings::default(),
            marketing: false,
            text_versions: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Context {
    pub catalog: Catalog,
    pub settings: FlowSettings,
    /// Products paid for together, for recommendations after add-to-cart.
    pub together: BoughtTogether,
    /// Who is busy when (the shell's copy of the store's calendar), for free slots.
    pub calendar: crate::booking::CalendarView,
    /// What the shop says about itself: delivery, returns, opening hours.
    pub knowledge: std::sync::Arc<crate::knowledge::Knowledge>,
}

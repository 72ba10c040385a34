//! Customer-facing text is never a literal in Rust: replies carry a `TextKey` into
//! `locales/<lang>/main.ftl` plus arguments, and the shell renders them with Fluent.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::locale::Locale;
use crate::money::Money;
use crate::time::Timestamp;

/// A string given per language by shop data (product names, descriptions). Falls back to
/// English, then to any language, so a half-translated catalog still shows something.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalizedText(pub BTreeMap<Locale, String>);

impl LocalizedText {
    pub fn get(&self, locale: Locale) -> &str {
        self.0
            .get(&locale)
            .or_else(|| self.0.get(&Locale::En))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
}

macro_rules! text_keys {
    ($($variant:ident => $id:literal,)*) => {
        /// Every Fluent message id the core can emit. The locale test checks that each one
        /// exists in every shipped locale and that no locale carries an unused key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum TextKey { $($variant,)* }

        impl TextKey {
            pub const ALL: &'static [TextKey] = &[$(TextKey::$variant,)*];

            pub const fn id(self) -> &'static str {
                match self { $(TextKey::$variant => $id,)* }
            }
        }
    };
}

text_keys! {
    Welcome => "welcome",
    WelcomeBack => "welcome-back",
    Menu => "menu",
    Help => "help",
    HumanRequested => "human-requested",
    // The handoff to a person (`flow/handoff.rs`).
    HandoffAfterMisses => "handoff-after-misses",
    HandoffAfterPaymentFailures => "handoff-after-payment-failures",
    HandoffOffline => "handoff-offline",
    HandoffStillWaiting => "handoff-still-waiting",
    HandoffMessageKept => "handoff-message-kept",
    HandoffNobody => "handoff-nobody",
    HandoffLeaveMessage => "handoff-leave-message",
    OperatorJoined => "operator-joined",
    OperatorMessage => "operator-message",
    BotResumed => "bot-resumed",
    ChoiceContinueWithBot => "choice-continue-with-bot",
    ChoiceLeaveMessage => "choice-leave-message",
    Cancelled => "cancelled",
    LanguageChoose => "language-choose",
    LanguageSet => "language-set",
    NotUnderstood => "not-understood",
    StaleChoice => "stale-choice",
    UnsupportedMessage => "unsupported-message",
    ThanksReply => "thanks-reply",
    Categories => "categories",
    CategoryProducts => "category-products",
    ProductDetails => "product-details",
    ProductOutOfStock => "product-out-of-stock",
    SearchResults => "search-results",
    SearchRelaxed => "search-relaxed",
    ResultsPage => "results-page",
    SearchNoMatch => "search-no-match",
    NotCarried => "not-carried",
    KnowledgeAnswer => "knowledge-answer",
    HandoffUnansweredQuestion => "handoff-unanswered-question",
    NotCarriedInstead => "not-carried-instead",
    NotCarriedMentioned => "not-carried-mentioned",
    SimilarProducts => "similar-products",
    SimilarNone => "similar-none",
    PickVariant => "pick-variant",
    PickQuantity => "pick-quantity",
    QuantityInvalid => "quantity-invalid",
    NotEnoughStock => "not-enough-stock",
    AddedToCart => "added-to-cart",
    CartEmpty => "cart-empty",
    CartSummary => "cart-summary",
    CartCleared => "cart-cleared",
    CheckoutAskName => "checkout-ask-name",
    CheckoutNameInvalid => "checkout-name-invalid",
    CheckoutAskContact => "checkout-ask-contact",
    CheckoutContactInvalid => "checkout-contact-invalid",
    CheckoutConfirm => "checkout-confirm",
    CheckoutAskFulfilment => "checkout-ask-fulfilment",
    CheckoutAskAddress => "checkout-ask-address",
    CheckoutAddressInvalid => "checkout-address-invalid",
    CheckoutConfirmDelivery => "checkout-confirm-delivery",
    CheckoutConfirmPickup => "checkout-confirm-pickup",
    CheckoutStockChanged => "checkout-stock-changed",
    OrderPlaced => "order-placed",
    OrderAwaitingPayment => "order-awaiting-payment",
    PaymentLink => "payment-link",
    OrderPaid => "order-paid",
    // A payment for an order older than the conversation's recent list: its total is not
    // at hand, so the thanks does not name it.
    OrderPaidUnlisted => "order-paid-unlisted",
    PaymentFailed => "payment-failed",
    PaymentExpired => "payment-expired",
    PaymentUnavailable => "payment-unavailable",
    PaymentNewLink => "payment-new-link",
    OrderOversold => "order-oversold",
    OrderFulfilled => "order-fulfilled",
    OrderShipped => "order-shipped",
    OrderDelivered => "order-delivered",
    OrderCancelled => "order-cancelled",
    OrderRefundNeeded => "order-refund-needed",
    OrderRefunded => "order-refunded",
    OrderStatusLine => "order-status-line",
    OrdersNone => "orders-none",
    ChoiceBrowse => "choice-browse",
    ChoiceCart => "choice-cart",
    ChoiceHelp => "choice-help",
    ChoiceMenu => "choice-menu",
    ChoiceHuman => "choice-human",
    ChoiceLanguage => "choice-language",
    ChoiceDetails => "choice-details",
    ChoiceAdd => "choice-add",
    ChoiceMore => "choice-more",
    ChoiceBack => "choice-back",
    ChoiceCheckout => "choice-checkout",
    ChoiceRemove => "choice-remove",
    ChoiceClear => "choice-clear",
    ChoiceConfirm => "choice-confirm",
    ChoiceCancel => "choice-cancel",
    ChoicePay => "choice-pay",
    ChoicePayAgain => "choice-pay-again",
    ChoiceEditOrder => "choice-edit-order",
    ChoiceTrack => "choice-track",
    ChoiceOrders => "choice-orders",
    ChoiceSimilar => "choice-similar",
    ChoiceDelivery => "choice-delivery",
    ChoicePickup => "choice-pickup",
    ChoiceUseSavedAddress => "choice-use-saved-address",
    ChoiceUseSaved => "choice-use-saved",
    // Used by channel renderers, not the core: the button that opens a list of choices.
    ChoiceOptions => "choice-options",
    // The demo payment page (`/pay/{token}`), rendered by the shell.
    PayPageTitle => "pay-page-title",
    PayPageNote => "pay-page-note",
    PayPageDelivery => "pay-page-delivery",
    PayPagePickup => "pay-page-pickup",
    PaySoldOut => "pay-sold-out",
    PayNotPayable => "pay-not-payable",
    LinkCodeIssued => "link-code-issued",
    LinkDone => "link-done",
    LinkCartsDiffer => "link-carts-differ",
    LinkCodeUnknown => "link-code-unknown",
    LinkCodeExpired => "link-code-expired",
    LinkCodeUsed => "link-code-used",
    LinkSameCustomer => "link-same-customer",
    LinkTooManyTries => "link-too-many-tries",
    LinkPhoneUnknown => "link-phone-unknown",
    LinkCodeSent => "link-code-sent",
    PreferredChannelSet => "preferred-channel-set",
    ChoicePreferHere => "choice-prefer-here",
    RecoveryGentle => "recovery-gentle",
    RecoveryNextDay => "recovery-next-day",
    RecoveryLastCall => "recovery-last-call",
    RecoveryStopped => "recovery-stopped",
    RecoveryDiscount => "recovery-discount",
    BookingDeposit => "booking-deposit",
    ChoiceConfirmBooking => "choice-confirm-booking",
    BookingDepositPaid => "booking-deposit-paid",
    BookingDepositExpired => "booking-deposit-expired",
    DiscountApplied => "discount-applied",
    DiscountInOrder => "discount-in-order",
    DiscountUnknown => "discount-unknown",
    DiscountUsed => "discount-used",
    DiscountExpired => "discount-expired",
    ChoiceUseDiscount => "choice-use-discount",
    RecoveryConsentThanks => "recovery-consent-thanks",
    ChoiceRemindMe => "choice-remind-me",
    ChoiceStopReminders => "choice-stop-reminders",
    ChoiceMergeCarts => "choice-merge-carts",
    ChoiceKeepCart => "choice-keep-cart",
    PayPageButton => "pay-page-button",
    PayPageDecline => "pay-page-decline",
    PayPagePaid => "pay-page-paid",
    PayPageClosed => "pay-page-closed",
    PayPageReturn => "pay-page-return",
    BadgeOutOfStock => "badge-out-of-stock",
    CardPriceFrom => "card-price-from",
    CartTitle => "cart-title",
    OrderTitle => "order-title",
    CartTotal => "cart-total",
    // Appointment booking (`flow/booking.rs`).
    BookingServices => "booking-services",
    BookingDays => "booking-days",
    BookingNoDays => "booking-no-days",
    BookingTimes => "booking-times",
    BookingNoTimes => "booking-no-times",
    BookingAskName => "booking-ask-name",
    BookingAskContact => "booking-ask-contact",
    BookingConfirm => "booking-confirm",
    // Before the customer confirms: what it costs, and the deposit it takes.
    BookingConfirmPrice => "booking-confirm-price",
    BookingConfirmDeposit => "booking-confirm-deposit",
    BookingDone => "booking-done",
    BookingMoved => "booking-moved",
    BookingTaken => "booking-taken",
    BookingCancelled => "booking-cancelled",
    BookingTooLate => "booking-too-late",
    BookingReminder => "booking-reminder",
    BookingAttendThanks => "booking-attend-thanks",
    BookingItem => "booking-item",
    BookingNone => "booking-none",
    BookingGone => "booking-gone",
    ChoiceBook => "choice-book",
    ChoiceBookings => "choice-bookings",
    ChoiceReschedule => "choice-reschedule",
    ChoiceCancelBooking => "choice-cancel-booking",
    // A cancellation is asked to be confirmed: one stray tap must not give the time away.
    BookingCancelAsk => "booking-cancel-ask",
    ChoiceConfirmCancelBooking => "choice-confirm-cancel-booking",
    ChoiceKeepBooking => "choice-keep-booking",
    // More free times of a day than fit one message: pages of them.
    ChoiceEarlierTimes => "choice-earlier-times",
    ChoiceLaterTimes => "choice-later-times",
    ChoiceAttend => "choice-attend",
    ChoiceOtherDays => "choice-other-days",
    DayLabel => "day-label",
    TimeLabel => "time-label",
    LinkCalendar => "link-calendar",
    // "Delete my data": asked first, then done by the shell, which sends the last message.
    ErasureAsk => "erasure-ask",
    ErasureKept => "erasure-kept",
    ErasureDone => "erasure-done",
    ChoiceEraseConfirm => "choice-erase-confirm",
    ChoiceEraseKeep => "choice-erase-keep",
    // News and offers: asked once after the first paid order; the campaign's own words.
    MarketingAsk => "marketing-ask",
    MarketingThanks => "marketing-thanks",
    MarketingStopped => "marketing-stopped",
    MarketingMessage => "marketing-message",
    ChoiceMarketingYes => "choice-marketing-yes",
    ChoiceMarketingNo => "choice-marketing-no",
    ChoiceStopOffers => "choice-stop-offers",
}

/// An argument of a message. Money stays typed so the shell formats it per locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    Str(String),
    Int(i64),
    Money(Money),
    /// A date and time, written in the shop's zone; with `also`, the customer's zone too
    /// ("30 Mar 2026, 10:00 (08:00 Europe/London)").
    When {
        at: Timestamp,
        zone: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        also: Option<String>,
    },
    /// A date as the customer's language writes it ("Mon 30 Mar"); ISO `YYYY-MM-DD`.
    Day(String),
    /// The time of day only ("10:00"), in `zone`; with the customer's zone when it differs,
    /// theirs too ("10:00 (03:00)").
    Clock {
        at: Timestamp,
        zone: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        also: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub key: TextKey,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Arg>,
}

impl Text {
    pub fn new(key: TextKey) -> Text {
        Text {
            key,
            args: BTreeMap::new(),
        }
    }

    pub fn with(mut self, name: &str, arg: Arg) -> Text {
        self.args.insert(name.to_owned(), arg);
        self
    }

    pub fn str(self, name: &str, value: impl Into<String>) -> Text {
        self.with(name, Arg::Str(value.into()))
    }

    pub fn int(self, name: &str, value: impl Into<i64>) -> Text {
        self.with(name, Arg::Int(value.into()))
    }

    pub fn money(self, name: &str, value: Money) -> Text {
        self.with(name, Arg::Money(value))
    }
}

/// A button label: a message key, or a name that comes from shop data or is the same in
/// every language (a product name, "Română", "3").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Text(Text),
    Literal(String),
    /// A name from shop data with a price the shell formats for the customer's locale.
    Priced {
        name: String,
        price: Money,
    },
}

impl Label {
    pub fn key(key: TextKey) -> Label {
        Label::Text(Text::new(key))
    }
}

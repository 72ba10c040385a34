//! What the core asks the shell to do. Replies are abstract: a text key and arguments,
//! choices, product cards, a cart view, a link; each channel adapter renders them natively.

use serde::{Deserialize, Serialize};

use crate::catalog::{CategoryId, ProductId, Sku};
use crate::locale::Locale;
use crate::money::Money;
use crate::order::{Order, OrderId, OrderStatus};
use crate::text::{Label, Text, TextKey};
use crate::time::Timestamp;
pub use crate::vocabulary::HandoffReason;
use crate::vocabulary::TimerKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Send(Reply),
    SetTimer {
        kind: TimerKind,
        at: Timestamp,
    },
    CancelTimer(TimerKind),
    /// Ask the language model what `text` means; the answer comes back as
    /// `Event::NluResult` with the same `request` (numbered per conversation).
    RequestNlu {
        text: String,
        locale: Locale,
        request: u32,
    },
    PlaceOrder(Order),
    /// `attempt` numbers the links of one order: each gets its own idempotency key, so a
    /// retried request returns the same link and a new attempt a new one.
    CreatePaymentLink {
        order: OrderId,
        total: Money,
        #[serde(default)]
        attempt: u32,
    },
    /// The stored order moves to `status`. When it becomes paid the shell takes its units
    /// out of stock, in the same transaction, once.
    UpdateOrder {
        order: OrderId,
        status: OrderStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<String>,
        /// The operator's display name, for a change made by hand.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    NotifyOperators(HandoffReason),
    /// Make a one-time link code for this customer; the shell answers with
    /// `Event::LinkCodeIssued`.
    IssueLinkCode,
    /// The customer sent a link code from another channel; the shell checks it, links the
    /// two customers and answers with `Event::Linked` (to the surviving conversation).
    RedeemLinkCode(String),
    /// The customer shared their own phone number: the shell links them to the WhatsApp
    /// chat of that number, if there is one, and answers with `Event::Linked`.
    LinkByPhone(String),
    /// The customer named the number of their other chat: the shell sends a link code to
    /// that chat (if there is one) and answers with `Event::Linked`.
    SendLinkCodeToPhone(String),
    /// A reply the bot would have sent while an operator owns the conversation: recorded for
    /// the operator to see, never sent.
    HeldForOperator(Reply),
    /// Hold, book, cancel or mark an appointment in the store; holds and bookings are
    /// answered with `Event::Booking`.
    Booking(crate::booking::BookingRequest),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: Text,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<Card>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart: Option<CartView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// Written or caused by a person, not the bot: Messenger lets these out with the
    /// `HUMAN_AGENT` tag for 7 days after the customer's last message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_operator: bool,
    /// Which operator it is from, when `by_operator`: the console names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<crate::vocabulary::OperatorId>,
}

impl Reply {
    pub fn text(text: Text) -> Reply {
        Reply {
            text,
            choices: Vec::new(),
            cards: Vec::new(),
            cart: None,
            link: None,
            by_operator: false,
            operator: None,
        }
    }

    pub fn key(key: TextKey) -> Reply {
        Reply::text(Text::new(key))
    }

    pub fn choices(mut self, choices: Vec<Choice>) -> Reply {
        self.choices = choices;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub action: ChoiceAction,
    pub label: Label,
}

impl Choice {
    pub fn new(action: ChoiceAction, key: TextKey) -> Choice {
        Choice {
            action,
            label: Label::key(key),
        }
    }

    pub fn literal(action: ChoiceAction, label: impl Into<String>) -> Choice {
        Choice {
            action,
            label: Label::Literal(label.into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub product: ProductId,
    pub title: String,
    pub subtitle: String,
    pub price: Money,
    /// True when variants differ in price and `price` is the lowest.
    pub price_is_from: bool,
    pub image: Option<String>,
    pub out_of_stock: bool,
    pub actions: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartView {
    pub lines: Vec<CartViewLine>,
    pub total: Money,
    /// The lines of a placed order (a confirmation), not the cart being filled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_order: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartViewLine {
    pub sku: Sku,
    pub title: String,
    pub variant: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
    pub actions: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub url: String,
    pub label: TextKey,
}

/// The action behind a button. Serialized as a short string id (`cat:shoes:2`) that fits
/// every platform's payload limits; parsing is total, so a forged id is just `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceAction {
    Start,
    Menu,
    Help,
    Human,
    Language,
    SetLanguage(Locale),
    Browse,
    Category {
        category: CategoryId,
        page: u32,
    },
    /// Another page of the results shown last.
    ResultsPage(u32),
    Product(ProductId),
    Add(ProductId),
    Variant(Sku),
    /// A quantity for one SKU: a button from an older prompt cannot add a different product.
    Quantity {
        sku: Sku,
        quantity: u32,
    },
    Increase(Sku),
    Decrease(Sku),
    Remove(Sku),
    Cart,
    ClearCart,
    Checkout,
    UseSaved,
    Confirm,
    Back,
    Cancel,
    /// A new payment link for an order whose payment failed or expired.
    PayAgain(OrderId),
    /// Cancel an unpaid order and put its items back in the cart.
    EditOrder(OrderId),
    /// "Where is my order?"
    Orders,
    /// Products like this one.
    Similar(ProductId),
    /// Checkout: deliver to an address.
    Delivery,
    /// Checkout: collect at the pickup point with this index in the shop's list.
    Pickup(u32),
    UseSavedAddress,
    /// Stop waiting for a person and go on with the bot.
    ContinueWithBot,
    /// Leave a message for the team instead of waiting.
    LeaveMessage,
    /// After linking, add the other chat's cart to this one.
    MergeCarts,
    /// After linking, keep only this chat's cart.
    KeepCart,
    /// Send news (payments, shipping) to the channel this was pressed on.
    PreferHere,
    /// Yes to later cart reminders.
    RemindMe,
    /// No more cart reminders.
    StopReminders,
    /// Apply this discount code (a reminder's button).
    UseDiscount(String),
    /// Start booking an appointment.
    Book,
    /// The customer's upcoming appointments.
    Bookings,
    Service(crate::booking::ServiceId),
    /// A date, `YYYYMMDD` in the shop's calendar.
    Day(String),
    /// A start time (minutes since the epoch) with the staff member free then.
    Slot {
        staff: crate::booking::StaffId,
        minute: i64,
    },
    /// Yes to the booking summary.
    ConfirmBooking,
    Reschedule(crate::booking::BookingId),
    CancelBooking(crate::booking::BookingId),
    /// Another page of a day's free times ("Earlier" / "Later"): the day and the page.
    TimesPage {
        day: String,
        page: u32,
    },
    /// "Yes, cancel it", after `CancelBooking` asked.
    ConfirmCancelBooking(crate::booking::BookingId),
    /// "I'll be there", from a reminder.
    Attend(crate::booking::BookingId),
    /// "Delete my data": asks first.
    EraseData,
    /// "Yes, delete everything", only right after `EraseData` asked.
    ConfirmErase,
    /// "No, keep it", after `EraseData` asked.
    KeepData,
    /// Yes to news and offers.
    MarketingYes,
    /// No (more) news and offers.
    MarketingNo,
}

impl ChoiceAction {
    pub fn id(&self) -> String {
        match self {
            ChoiceAction::Start => "start".into(),
            ChoiceAction::Menu => "menu".into(),
            ChoiceAction::Help => "help".into(),
            ChoiceAction::Human => "human".into(),
            ChoiceAction::Language => "language".into(),
            ChoiceAction::SetLanguage(locale) => format!("lang:{}", locale.code()),
            ChoiceAction::Browse => "browse".into(),
            ChoiceAction::Category { category, page: 1 } => format!("cat:{category}"),
            ChoiceAction::Category { category, page } => format!("cat:{category}:{page}"),
            ChoiceAction::ResultsPage(page) => format!("results:{page}"),
            ChoiceAction::Product(id) => format!("prod:{id}"),
            ChoiceAction::Add(id) => format!("add:{id}"),
            ChoiceAction::Variant(sku) => format!("var:{sku}"),
            ChoiceAction::Quantity { sku, quantity } => format!("qty:{sku}:{quantity}"),
            ChoiceAction::Increase(sku) => format!("inc:{sku}"),
            ChoiceAction::Decrease(sku) => format!("dec:{sku}"),
            ChoiceAction::Remove(sku) => format!("rm:{sku}"),
            ChoiceAction::Cart => "cart".into(),
            ChoiceAction::ClearCart => "clear".into(),
            ChoiceAction::Checkout => "checkout".into(),
            ChoiceAction::UseSaved => "saved".into(),
            ChoiceAction::Confirm => "confirm".into(),
            ChoiceAction::Back => "back".into(),
            ChoiceAction::Cancel => "cancel".into(),
            ChoiceAction::PayAgain(order) => format!("payagain:{order}"),
            ChoiceAction::EditOrder(order) => format!("editorder:{order}"),
            ChoiceAction::Orders => "orders".into(),
            ChoiceAction::Similar(id) => format!("sim:{id}"),
            ChoiceAction::Delivery => "delivery".into(),
            ChoiceAction::Pickup(point) => format!("pickup:{point}"),
            ChoiceAction::UseSavedAddress => "savedaddr".into(),
            ChoiceAction::ContinueWithBot => "bot".into(),
            ChoiceAction::LeaveMessage => "leavemsg".into(),
            ChoiceAction::MergeCarts => "mergecarts".into(),
            ChoiceAction::KeepCart => "keepcart".into(),
            ChoiceAction::PreferHere => "preferhere".into(),
            ChoiceAction::RemindMe => "remindme".into(),
            ChoiceAction::UseDiscount(code) => format!("disc:{code}"),
            ChoiceAction::StopReminders => "stopreminders".into(),
            ChoiceAction::Book => "book".into(),
            ChoiceAction::Bookings => "bookings".into(),
            ChoiceAction::Service(id) => format!("svc:{id}"),
            ChoiceAction::Day(date) => format!("day:{date}"),
            ChoiceAction::Slot { staff, minute } => format!("slot:{staff}:{minute}"),
            ChoiceAction::ConfirmBooking => "bconfirm".into(),
            ChoiceAction::Reschedule(id) => format!("resched:{id}"),
            ChoiceAction::CancelBooking(id) => format!("bcancel:{id}"),
            ChoiceAction::TimesPage { day, page } => format!("tpage:{day}:{page}"),
            ChoiceAction::ConfirmCancelBooking(id) => format!("bcancelok:{id}"),
            ChoiceAction::Attend(id) => format!("attend:{id}"),
            ChoiceAction::EraseData => "erase".into(),
            ChoiceAction::ConfirmErase => "eraseok".into(),
            ChoiceAction::KeepData => "erasekeep".into(),
            ChoiceAction::MarketingYes => "newsyes".into(),
            ChoiceAction::MarketingNo => "newsno".into(),
        }
    }

    pub fn parse(id: &str) -> Option<ChoiceAction> {
        let mut parts = id.splitn(3, ':');
        let head = parts.next()?;
        let arg = parts.next();
        let extra = parts.next();
        let owned = |s: &str| -> Option<String> {
            let ok = !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            ok.then(|| s.to_owned())
        };
        let action = match (head, arg, extra) {
            ("start", None, None) => ChoiceAction::Start,
            ("menu", None, None) => ChoiceAction::Menu,
            ("help", None, None) => ChoiceAction::Help,
            ("human", None, None) => ChoiceAction::Human,
            ("language", None, None) => ChoiceAction::Language,
            ("lang", Some(code), None) => ChoiceAction::SetLanguage(Locale::from_tag(code)?),
            ("browse", None, None) => ChoiceAction::Browse,
            ("cat", Some(category), page) => ChoiceAction::Category {
                category: CategoryId(owned(category)?),
                page: match page {
                    None => 1,
                    Some(page) => page.parse().ok().filter(|p| *p >= 1)?,
                },
            },
            ("results", Some(page), None) => {
                ChoiceAction::ResultsPage(page.parse().ok().filter(|p: &u32| (2..100).contains(p))?)
            }
            ("prod", Some(id), None) => ChoiceAction::Product(ProductId(owned(id)?)),
            ("add", Some(id), None) => ChoiceAction::Add(ProductId(owned(id)?)),
            ("var", Some(sku), None) => ChoiceAction::Variant(Sku(owned(sku)?)),
            ("qty", Some(sku), Some(n)) => ChoiceAction::Quantity {
                sku: Sku(owned(sku)?),
                quantity: n.parse().ok()?,
            },
            ("inc", Some(sku), None) => ChoiceAction::Increase(Sku(owned(sku)?)),
            ("dec", Some(sku), None) => ChoiceAction::Decrease(Sku(owned(sku)?)),
            ("rm", Some(sku), None) => ChoiceAction::Remove(Sku(owned(sku)?)),
            ("cart", None, None) => ChoiceAction::Cart,
            ("clear", None, None) => ChoiceAction::ClearCart,
            ("checkout", None, None) => ChoiceAction::Checkout,
            ("saved", None, None) => ChoiceAction::UseSaved,
            ("confirm", None, None) => ChoiceAction::Confirm,
            ("back", None, None) => ChoiceAction::Back,
            ("cancel", None, None) => ChoiceAction::Cancel,
            ("payagain", Some(order), None) => ChoiceAction::PayAgain(OrderId(owned(order)?)),
            ("editorder", Some(order), None) => ChoiceAction::EditOrder(OrderId(owned(order)?)),
            ("orders", None, None) => ChoiceAction::Orders,
            ("sim", Some(id), None) => ChoiceAction::Similar(ProductId(owned(id)?)),
            ("delivery", None, None) => ChoiceAction::Delivery,
            ("pickup", Some(n), None) => ChoiceAction::Pickup(n.parse().ok()?),
            ("savedaddr", None, None) => ChoiceAction::UseSavedAddress,
            ("bot", None, None) => ChoiceAction::ContinueWithBot,
            ("leavemsg", None, None) => ChoiceAction::LeaveMessage,
            ("mergecarts", None, None) => ChoiceAction::MergeCarts,
            ("keepcart", None, None) => ChoiceAction::KeepCart,
            ("preferhere", None, None) => ChoiceAction::PreferHere,
            ("remindme", None, None) => ChoiceAction::RemindMe,
            ("disc", Some(code), None) => ChoiceAction::UseDiscount(owned(code)?),
            ("stopreminders", None, None) => ChoiceAction::StopReminders,
            ("book", None, None) => ChoiceAction::Book,
            ("bookings", None, None) => ChoiceAction::Bookings,
            ("svc", Some(id), None) => ChoiceAction::Service(crate::booking::ServiceId(owned(id)?)),
            ("day", Some(date), None)
                if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) =>
            {
                ChoiceAction::Day(date.to_owned())
            }
            ("slot", Some(staff), Some(minute)) => ChoiceAction::Slot {
                staff: crate::booking::StaffId(owned(staff)?),
                minute: minute.parse().ok().filter(|m: &i64| *m > 0)?,
            },
            ("bconfirm", None, None) => ChoiceAction::ConfirmBooking,
            ("resched", Some(id), None) => {
                ChoiceAction::Reschedule(crate::booking::BookingId(owned(id)?))
            }
            ("bcancel", Some(id), None) => {
                ChoiceAction::CancelBooking(crate::booking::BookingId(owned(id)?))
            }
            ("tpage", Some(day), Some(page)) => ChoiceAction::TimesPage {
                day: owned(day)?,
                page: page.parse().ok().filter(|p: &u32| *p < 100)?,
            },
            ("bcancelok", Some(id), None) => {
                ChoiceAction::ConfirmCancelBooking(crate::booking::BookingId(owned(id)?))
            }
            ("attend", Some(id), None) => {
                ChoiceAction::Attend(crate::booking::BookingId(owned(id)?))
            }
            ("erase", None, None) => ChoiceAction::EraseData,
            ("eraseok", None, None) => ChoiceAction::ConfirmErase,
            ("erasekeep", None, None) => ChoiceAction::KeepData,
            ("newsyes", None, None) => ChoiceAction::MarketingYes,
            ("newsno", None, None) => ChoiceAction::MarketingNo,
            _ => return None,
        };
        Some(action)
    }
}

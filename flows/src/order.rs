//! An order is a snapshot: unit prices and names are copied from the catalog when it is
//! placed, so later catalog edits never change what the customer agreed to pay.

use serde::{Deserialize, Serialize};

use crate::catalog::{ProductId, Sku};
use crate::customer::CustomerId;
use crate::money::Money;
use crate::time::Timestamp;
pub use crate::vocabulary::{ContactPoint, OrderId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub product: ProductId,
    /// Product and variant name in the customer's language at the time of the order.
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// Where an order is. Payment events move it to `Paid` (or `PaymentFailed`); the shop moves
/// it on by hand (`souk order set-status`, later the console) along `can_become`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    PaymentFailed,
    Fulfilled,
    Shipped,
    Delivered,
    Cancelled,
    /// The shop owes the customer money back (a cancelled paid order, a return) and has not
    /// paid it yet: a to-do for the shop, and the customer is told it is under way.
    RefundNeeded,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::PaymentFailed,
        OrderStatus::Fulfilled,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::RefundNeeded,
        OrderStatus::Refunded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::PaymentFailed => "payment_failed",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::RefundNeeded => "refund_needed",
            OrderStatus::Refunded => "refunded",
        }
    }

    /// Accepts `shipped`, `Shipped`, `pending-payment`.
    pub fn parse(text: &str) -> Option<OrderStatus> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.name() == wanted)
    }

    /// The customer's money was taken (and, for `Refunded`, given back): a second payment
    /// event for the order changes nothing.
    pub fn money_taken(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid
                | OrderStatus::Fulfilled
                | OrderStatus::Shipped
                | OrderStatus::Delivered
                | OrderStatus::RefundNeeded
                | OrderStatus::Refunded
        )
    }

    /// The changes the shop may make by hand. Payment is never set by hand: it comes from
    /// the payment provider. `Shipped` to `Shipped` is allowed to correct a tracking link.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::{
            Cancelled, Delivered, Fulfilled, Paid, PaymentFailed, PendingPayment, RefundNeeded,
            Refunded, Shipped,
        };
        match (self, next) {
            (PendingPayment | PaymentFailed, Cancelled) => true,
            (Paid, Fulfilled | Shipped | Delivered | Cancelled | RefundNeeded | Refunded) => true,
            (Fulfilled, Shipped | Delivered | Cancelled | RefundNeeded | Refunded) => true,
            (Shipped, Shipped | Delivered | RefundNeeded | Refunded) => true,
            (Delivered, RefundNeeded | Refunded) => true,
            // A paid order that was cancelled still holds the customer's money.
            (Cancelled, RefundNeeded | Refunded) => true,
            (RefundNeeded, Refunded) => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub customer: CustomerId,
    pub name: String,
    pub contact: ContactPoint,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub status: OrderStatus,
    pub placed_at: Timestamp,
    /// Delivery or pickup; absent on orders placed before the choice existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<Fulfilment>,
    /// The carrier's tracking link, once shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
    /// Payment links created for this order; each new one has its own idempotency key.
    #[serde(default)]
    pub payment_attempts: u32,
    /// Failed payments of this order; the second brings in a person.
    #[serde(default)]
    pub payment_failures: u32,
    /// SKUs whose stock this order's payment found already sold (set by the store, in the
    /// payment's transaction, so two payments for the last unit cannot both have it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oversold: Vec<Sku>,
    /// Placed after an abandoned-cart reminder: which one (0 = the first), for attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_step: Option<u32>,
    /// A reminder's discount code spent on it; `total` is after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<crate::discount::OrderDiscount>,
    /// A booking's deposit: this order collects it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<crate::vocabulary::BookingId>,
    /// Every status change after placing, oldest first, kept by the store as it applies them
    /// (the conversation's own copy leaves it empty). At most `OrderChange::KEPT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<OrderChange>,
}

/// One move of an order: when, to what, and who made it (an operator's display name; none
/// for the customer's checkout and the payment provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderChange {
    pub at: Timestamp,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
}

impl OrderChange {
    /// Bounds an order's record: a status flapping by hand cannot grow it without end. The
    /// oldest changes after the first go first.
    pub const KEPT: usize = 40;

    pub fn record(history: &mut Vec<OrderChange>, change: OrderChange) {
        if history.len() >= Self::KEPT {
            history.remove(1);
        }
        history.push(change);
    }
}

impl Order {
    /// Whether the customer ever paid for it: a cancelled order that was never paid has no
    /// refund to make. Orders from before the history existed are given the benefit.
    pub fn ever_paid(&self) -> bool {
        self.status.money_taken()
            || self.history.is_empty()
            || self
                .history
                .iter()
                .any(|change| change.status == OrderStatus::Paid)
    }
}

impl Order {
    /// The order as a store keeps it when placed: its history starts with the placing.
    pub fn as_placed(&self) -> Order {
        let mut placed = self.clone();
        if placed.history.is_empty() {
            placed.history.push(OrderChange {
                at: self.placed_at,
                status: self.status,
                by: None,
                tracking: None,
            });
        }
        placed
    }

    /// Units per SKU, as stock counts them.
    pub fn quantities(&self) -> impl Iterator<Item = (&Sku, u32)> {
        self.lines.iter().map(|line| (&line.sku, line.quantity))
    }
}

/// How the customer gets the goods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fulfilment {
    Delivery { address: String },
    Pickup { point: String },
}

/// The orders a conversation knows: how many were placed here, and the recent ones as
/// placed with their current status ("where is my order?" and payment events are answered
/// from here; the store keeps every order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderBook {
    pub placed: u32,
    pub recent: Vec<Order>,
}

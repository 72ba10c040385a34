//! After checkout: payment links and their outcome, the shop's status changes, and "where is
//! my order?". The conversation keeps its recent orders, so a duplicate or late payment event
//! is recognised here whatever the provider does.

use crate::action::{
    Action, CartView, CartViewLine, Choice, ChoiceAction, HandoffReason, Link, Reply,
};
use crate::catalog::Sku;
use crate::context::Context;
use crate::conversation::{CheckoutStep, Conversation, FlowState, Handled};
use crate::event::PaymentFailure;
use crate::order::{Order, OrderId, OrderStatus};
use crate::text::{Text, TextKey};
use crate::time::Timestamp;

/// Orders kept on the conversation; older ones live only in the store.
const RECENT_ORDERS: usize = 20;
/// Orders listed when the customer asks about them.
const ORDERS_SHOWN: usize = 3;

impl Conversation {
    pub(crate) fn remember_order(&mut self, order: Order) {
        self.orders.recent.retain(|known| known.id != order.id);
        self.orders.recent.push(order);
        if self.orders.recent.len() > RECENT_ORDERS {
            let excess = self.orders.recent.len() - RECENT_ORDERS;
            self.orders.recent.drain(..excess);
        }
    }

    fn order_mut(&mut self, id: &OrderId) -> Option<&mut Order> {
        self.orders.recent.iter_mut().find(|order| &order.id == id)
    }

    /// An order still waiting for its money: the only kind "pay again" and "change order"
    /// may touch.
    fn unpaid_order_mut(&mut self, id: &OrderId) -> Option<&mut Order> {
        self.order_mut(id).filter(|order| {
            matches!(
                order.status,
                OrderStatus::PaymentFailed | OrderStatus::PendingPayment
            )
        })
    }

    /// The titles of the order's lines the stock cannot cover now.
    fn lines_short_of_stock(ctx: &Context, order: &Order) -> Vec<String> {
        order
            .lines
            .iter()
            .filter(|line| {
                ctx.catalog
                    .variant(&line.sku)
                    .is_none_or(|(_, variant)| variant.stock < line.quantity)
            })
            .map(|line| line.title.clone())
            .collect()
    }

    /// The order's lines and total as the customer agreed to them (prices are the snapshot).
    pub(crate) fn order_view(order: &Order) -> CartView {
        CartView {
            lines: order
                .lines
                .iter()
                .map(|line| CartViewLine {
                    sku: line.sku.clone(),
                    title: line.title.clone(),
                    variant: String::new(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    line_total: line.unit_price.times(line.quantity),
                    actions: Vec::new(),
                })
                .collect(),
            total: order.total,
            is_order: true,
        }
    }

    pub(crate) fn on_payment_link(
        &mut self,
        _ctx: &Context,
        order: OrderId,
        url: String,
        out: &mut Vec<Action>,
    ) {
        // A link that arrives after the order was paid or cancelled is not worth a message.
        let settled = self
            .orders
            .recent
            .iter()
            .find(|known| known.id == order)
            .is_some_and(|known| known.status != OrderStatus::PendingPayment);
        if settled {
            return;
        }
        let mut reply = Reply::text(Text::new(TextKey::PaymentLink).str("order", order.0));
        reply.link = Some(Link {
            url,
            label: TextKey::ChoicePay,
        });
        self.say(out, reply);
    }

    pub(crate) fn on_payment_confirmed(
        &mut self,
        ctx: &Context,
        id: &OrderId,
        out: &mut Vec<Action>,
    ) {
        if let FlowState::Checkout(CheckoutStep::AwaitingPayment { order, .. }) = &self.state
            && order == id
        {
            self.state = FlowState::Idle;
        }
        let Some(order) = self.order_mut(id) else {
            // Not one we remember (older than the recent list): record it and thank them.
            out.push(Action::UpdateOrder {
                order: id.clone(),
                status: OrderStatus::Paid,
                tracking: None,
                by: None,
            });
            let text = Text::new(TextKey::OrderPaidUnlisted).str("order", id.0.clone());
            self.say(out, Reply::text(text).choices(Self::menu_for(ctx)));
            return;
        };
        // The same payment reported twice (a redelivered webhook, two event types for one
        // payment): the first one said everything.
        if order.status.money_taken() {
            return;
        }
        let was_cancelled = order.status == OrderStatus::Cancelled;
        order.status = OrderStatus::Paid;
        let order = order.clone();
        out.push(Action::UpdateOrder {
            order: order.id.clone(),
            status: OrderStatus::Paid,
            tracking: None,
            by: None,
        });
        if order.booking.is_some() {
            return self.on_deposit_paid(ctx, &order.id, out);
        }
        let mut reply = Reply::text(
            Text::new(TextKey::OrderPaid)
                .str("order", order.id.0.clone())
                .money("total", order.total),
        )
        .choices(vec![
            Choice::new(ChoiceAction::Orders, TextKey::ChoiceOrders),
            Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
        ]);
        reply.cart = Some(Self::order_view(&order));
        self.say(out, reply);
        if was_cancelled {
            // Its items went back to the cart when it was cancelled; they are bought now.
            for (sku, quantity) in order.quantities() {
                let left = self.cart.quantity_of(sku).saturating_sub(quantity);
                self.cart.set_quantity(sku, left);
            }
            out.push(Action::NotifyOperators(HandoffReason::PaidAfterCancel));
        }
    }

    pub(crate) fn on_payment_failed(
        &mut self,
        ctx: &Context,
        id: &OrderId,
        reason: PaymentFailure,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(order) = self.order_mut(id) else {
            return;
        };
        // Only a payment we still wait for can fail: after success, a late "expired" for an
        // older link of the same order means nothing; a repeated failure was already told.
        if order.status != OrderStatus::PendingPayment {
            return;
        }
        order.status = OrderStatus::PaymentFailed;
        order.payment_failures = order.payment_failures.saturating_add(1);
        let failed_twice = order.payment_failures >= 2;
        let id = order.id.clone();
        out.push(Action::UpdateOrder {
            order: id.clone(),
            status: OrderStatus::PaymentFailed,
            tracking: None,
            by: None,
        });
        if let FlowState::Checkout(CheckoutStep::AwaitingPayment { order, .. }) = &self.state
            && *order == id
        {
            self.state = FlowState::Idle;
        }
        if self.is_deposit(&id) && reason == PaymentFailure::Expired {
            return self.on_deposit_expired(ctx, &id, out);
        }
        let key = match reason {
            PaymentFailure::Declined => TextKey::PaymentFailed,
            PaymentFailure::Expired => TextKey::PaymentExpired,
            PaymentFailure::Unavailable => TextKey::PaymentUnavailable,
        };
        let text = Text::new(key).str("order", id.0.clone());
        // A deposit has no items to change: pay again or ask a person.
        let mut choices = vec![Choice::new(
            ChoiceAction::PayAgain(id.clone()),
            TextKey::ChoicePayAgain,
        )];
        if !self.is_deposit(&id) {
            choices.push(Choice::new(
                ChoiceAction::EditOrder(id),
                TextKey::ChoiceEditOrder,
            ));
        }
        choices.push(Choice::new(ChoiceAction::Human, TextKey::ChoiceHuman));
        self.say(out, Reply::text(text).choices(choices));
        if failed_twice {
            let _ = self.escalate(ctx, HandoffReason::PaymentFailedTwice, now, out);
        }
    }

    /// Stock is taken at payment, so someone else may have bought the last units after this
    /// order was placed; the store finds that out in the payment's transaction. The money is
    /// in: the customer is told and a person must sort it out.
    pub(crate) fn on_oversold(&mut self, id: &OrderId, skus: &[Sku], out: &mut Vec<Action>) {
        let Some(order) = self.order_mut(id) else {
            return;
        };
        if !order.oversold.is_empty() {
            return;
        }
        order.oversold = skus.to_vec();
        let titles: Vec<String> = order
            .lines
            .iter()
            .filter(|line| skus.contains(&line.sku))
            .map(|line| line.title.clone())
            .collect();
        let text = Text::new(TextKey::OrderOversold).str("products", titles.join(", "));
        self.say(out, Reply::text(text));
        out.push(Action::NotifyOperators(HandoffReason::Oversold));
    }

    /// A new link for the same order, once its items are checked against stock again.
    pub(crate) fn pay_again(
        &mut self,
        ctx: &Context,
        id: &OrderId,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(order) = self.unpaid_order_mut(id) else {
            return self.stale_choice(ctx, out);
        };
        // A deposit's line is no catalog item: there is no stock to check.
        if order.booking.is_none() && !Self::lines_short_of_stock(ctx, order).is_empty() {
            // The order can no longer be paid as agreed: the cart gets what is left.
            return self.edit_order(ctx, id, out);
        }
        order.status = OrderStatus::PendingPayment;
        order.payment_attempts = order.payment_attempts.saturating_add(1);
        let (order_id, total, attempt) = (order.id.clone(), order.total, order.payment_attempts);
        out.push(Action::UpdateOrder {
            order: order_id.clone(),
            status: OrderStatus::PendingPayment,
            tracking: None,
            by: None,
        });
        out.push(Action::CreatePaymentLink {
            order: order_id.clone(),
            total,
            attempt,
        });
        self.state = FlowState::Checkout(CheckoutStep::AwaitingPayment {
            order: order_id.clone(),
            total,
        });
        let text = Text::new(TextKey::PaymentNewLink).str("order", order_id.0);
        self.say(out, Reply::text(text));
        Handled::Yes
    }

    /// Cancels an unpaid order and puts what is still in stock back in the cart.
    pub(crate) fn edit_order(
        &mut self,
        ctx: &Context,
        id: &OrderId,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(order) = self.unpaid_order_mut(id).filter(|o| o.booking.is_none()) else {
            return self.stale_choice(ctx, out);
        };
        order.status = OrderStatus::Cancelled;
        let order = order.clone();
        out.push(Action::UpdateOrder {
            order: order.id.clone(),
            status: OrderStatus::Cancelled,
            tracking: None,
            by: None,
        });
        let mut changed = Vec::new();
        for line in &order.lines {
            let stock = ctx.catalog.variant(&line.sku).map_or(0, |(_, v)| v.stock);
            let wanted = self
                .cart
                .quantity_of(&line.sku)
                .saturating_add(line.quantity);
            let allowed = wanted.min(stock).min(ctx.settings.max_quantity);
            if allowed < wanted {
                changed.push(line.title.clone());
            }
            self.cart.set_quantity(&line.sku, allowed);
        }
        if !changed.is_empty() {
            let text = Text::new(TextKey::CheckoutStockChanged).str("products", changed.join(", "));
            self.say(out, Reply::text(text));
        }
        self.show_cart(ctx, out)
    }

    /// The shop moved an order on; the customer hears about the steps that concern them.
    pub(crate) fn on_order_status(
        &mut self,
        _ctx: &Context,
        id: &OrderId,
        (status, tracking): (OrderStatus, Option<String>),
        by: Option<String>,
        out: &mut Vec<Action>,
    ) {
        if let Some(order) = self.order_mut(id) {
            let repeated = order.status == status && order.tracking == tracking;
            // The shell checks the change against the stored order before it gets here;
            // the core holds the line too, so a replayed or raced change cannot undo one.
            if repeated || !order.status.can_become(status) {
                return;
            }
            order.status = status;
            if tracking.is_some() {
                order.tracking.clone_from(&tracking);
            }
        }
        out.push(Action::UpdateOrder {
            order: id.clone(),
            status,
            tracking: tracking.clone(),
            by,
        });
        let key = match status {
            OrderStatus::Fulfilled => TextKey::OrderFulfilled,
            OrderStatus::Shipped => TextKey::OrderShipped,
            OrderStatus::Delivered => TextKey::OrderDelivered,
            OrderStatus::Cancelled => TextKey::OrderCancelled,
            OrderStatus::RefundNeeded => TextKey::OrderRefundNeeded,
            OrderStatus::Refunded => TextKey::OrderRefunded,
            // Payment states come from the payment provider, not from here.
            OrderStatus::PendingPayment | OrderStatus::Paid | OrderStatus::PaymentFailed => {
                return;
            }
        };
        let mut reply = Reply::text(Text::new(key).str("order", id.0.clone()));
        if let Some(url) = tracking {
            reply.link = Some(Link {
                url,
                label: TextKey::ChoiceTrack,
            });
        }
        self.say(out, reply);
    }

    /// "Where is my order?": the latest few, newest first, each with what can be done.
    pub(crate) fn show_orders(&mut self, _ctx: &Context, out: &mut Vec<Action>) -> Handled {
        if self.orders.recent.is_empty() {
            let choices = vec![
                Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
                Choice::new(ChoiceAction::Human, TextKey::ChoiceHuman),
            ];
            self.say(out, Reply::key(TextKey::OrdersNone).choices(choices));
            return Handled::Yes;
        }
        let recent: Vec<Order> = self
            .orders
            .recent
            .iter()
            .rev()
            .take(ORDERS_SHOWN)
            .cloned()
            .collect();
        for order in recent {
            let text = Text::new(TextKey::OrderStatusLine)
                .str("order", order.id.0.clone())
                .str("status", order.status.name())
                .money("total", order.total);
            let mut reply = Reply::text(text);
            if let Some(url) = &order.tracking {
                reply.link = Some(Link {
                    url: url.clone(),
                    label: TextKey::ChoiceTrack,
                });
            }
            if matches!(
                order.status,
                OrderStatus::PendingPayment | OrderStatus::PaymentFailed
            ) {
                reply.choices = vec![Choice::new(
                    ChoiceAction::PayAgain(order.id.clone()),
                    TextKey::ChoicePayAgain,
                )];
                // A booking's deposit has no items to change.
                if order.booking.is_none() {
                    reply.choices.push(Choice::new(
                        ChoiceAction::EditOrder(order.id),
                        TextKey::ChoiceEditOrder,
                    ));
                }
            }
            self.say(out, reply);
        }
        Handled::Yes
    }
}

//! Checkout: name, contact, confirmation, then the order and a request for a payment link.
//! The payment itself is confirmed later by an event from the payment provider.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::contact::{parse_contact, parse_name};
use crate::context::Context;
use crate::conversation::{CheckoutStep, Conversation, FlowState, Handled};
use crate::order::{ContactPoint, Fulfilment, Order, OrderId, OrderLine, OrderStatus};
use crate::text::{Label, Text, TextKey};
use crate::time::Timestamp;

impl Conversation {
    pub(crate) fn start_checkout(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        if self.cart.is_empty()
            && let FlowState::Checkout(CheckoutStep::AwaitingPayment { order, total }) = &self.state
        {
            let text = Text::new(TextKey::OrderAwaitingPayment)
                .str("order", order.0.clone())
                .money("total", *total);
            let choices = vec![Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu)];
            self.say(out, Reply::text(text).choices(choices));
            return Handled::Yes;
        }
        if self.cart.is_empty() || self.stock_changed(ctx, out) {
            return self.show_cart(ctx, out);
        }
        self.ask_name(out)
    }

    /// Lowers quantities to what is in stock and says which products changed. True if any did.
    fn stock_changed(&mut self, ctx: &Context, out: &mut Vec<Action>) -> bool {
        let mut changed = Vec::new();
        for line in &mut self.cart.lines {
            let found = ctx.catalog.variant(&line.sku);
            let stock = found.map_or(0, |(_, v)| v.stock);
            if line.quantity > stock {
                // A SKU that left the catalog is named by its code: we no longer know more.
                changed.push(found.map_or_else(
                    || line.sku.0.clone(),
                    |(p, _)| p.name.get(self.locale).to_owned(),
                ));
                line.quantity = stock;
            }
        }
        self.cart.lines.retain(|line| line.quantity > 0);
        if changed.is_empty() {
            return false;
        }
        let text = Text::new(TextKey::CheckoutStockChanged).str("products", changed.join(", "));
        self.say(out, Reply::text(text));
        true
    }

    pub(crate) fn ask_name(&mut self, out: &mut Vec<Action>) -> Handled {
        self.state = FlowState::Checkout(CheckoutStep::AskName);
        let mut choices = Vec::new();
        if let (Some(name), Some(contact)) = (&self.profile.name, &self.profile.contact) {
            let label = Text::new(TextKey::ChoiceUseSaved)
                .str("name", name.clone())
                .str("contact", contact.as_str());
            choices.push(Choice {
                action: ChoiceAction::UseSaved,
                label: Label::Text(label),
            });
        }
        choices.push(Choice::new(ChoiceAction::Back, TextKey::ChoiceBack));
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        self.say(out, Reply::key(TextKey::CheckoutAskName).choices(choices));
        Handled::Yes
    }

    pub(crate) fn ask_contact(&mut self, name: String, out: &mut Vec<Action>) -> Handled {
        let text = Text::new(TextKey::CheckoutAskContact).str("name", name.clone());
        self.state = FlowState::Checkout(CheckoutStep::AskContact { name });
        let choices = vec![
            Choice::new(ChoiceAction::Back, TextKey::ChoiceBack),
            Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel),
        ];
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    pub(crate) fn ask_confirmation(
        &mut self,
        ctx: &Context,
        name: String,
        contact: ContactPoint,
        fulfilment: Option<Fulfilment>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let text = match &fulfilment {
            None => Text::new(TextKey::CheckoutConfirm),
            Some(Fulfilment::Delivery { address }) => {
                Text::new(TextKey::CheckoutConfirmDelivery).str("address", address.clone())
            }
            Some(Fulfilment::Pickup { point }) => {
                Text::new(TextKey::CheckoutConfirmPickup).str("point", point.clone())
            }
        };
        let (total, discount) = self.priced_cart(ctx, now, out);
        if let Some(discount) = &discount {
            self.say_discount(discount, out);
        }
        let text = text
            .str("name", name.clone())
            .str("contact", contact.as_str())
            .money("total", total);
        let choices = vec![
            Choice::new(ChoiceAction::Confirm, TextKey::ChoiceConfirm),
            Choice::new(ChoiceAction::Back, TextKey::ChoiceBack),
            Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel),
        ];
        let mut reply = Reply::text(text).choices(choices);
        reply.cart = Some(self.cart_view(ctx, false));
        self.state = FlowState::Checkout(CheckoutStep::Confirm {
            name,
            contact,
            fulfilment,
        });
        self.say(out, reply);
        Handled::Yes
    }

    /// Free text while we wait for a name or a contact.
    pub(crate) fn checkout_answer(
        &mut self,
        ctx: &Context,
        text: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match self.state.clone() {
            FlowState::Checkout(CheckoutStep::AskName) => match parse_name(text) {
                Some(name) => self.ask_contact(name, out),
                None => {
                    self.say(out, Reply::key(TextKey::CheckoutNameInvalid));
                    Handled::Yes
                }
            },
            FlowState::Checkout(CheckoutStep::AskContact { name }) => match parse_contact(text) {
                Some(contact) => self.ask_fulfilment(ctx, name, contact, now, out),
                None => {
                    self.say(out, Reply::key(TextKey::CheckoutContactInvalid));
                    Handled::Yes
                }
            },
            FlowState::Checkout(CheckoutStep::AskAddress { name, contact }) => {
                self.address_answer(ctx, name, contact, text, now, out)
            }
            _ => Handled::Missed,
        }
    }

    pub(crate) fn use_saved_details(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match (
            &self.state,
            self.profile.name.clone(),
            self.profile.contact.clone(),
        ) {
            (FlowState::Checkout(CheckoutStep::AskName), Some(name), Some(contact)) => {
                self.ask_fulfilment(ctx, name, contact, now, out)
            }
            _ => self.stale_choice(ctx, out),
        }
    }

    pub(crate) fn confirm_order(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let FlowState::Checkout(CheckoutStep::Confirm {
            name,
            contact,
            fulfilment,
        }) = self.state.clone()
        else {
            return self.stale_choice(ctx, out);
        };
        // Stock is checked again: it may have sold out while the customer typed.
        if self.cart.is_empty() || self.stock_changed(ctx, out) {
            return self.show_cart(ctx, out);
        }
        let lines: Vec<OrderLine> = self
            .cart
            .lines
            .iter()
            .filter_map(|line| {
                let (product, variant) = ctx.catalog.variant(&line.sku)?;
                Some(OrderLine {
                    sku: line.sku.clone(),
                    product: product.id.clone(),
                    title: format!(
                        "{} ({})",
                        product.name.get(self.locale),
                        variant.name.get(self.locale)
                    ),
                    quantity: line.quantity,
                    unit_price: ctx.catalog.money(variant.price_minor),
                })
            })
            .collect();
        // The code applied may have expired while the customer confirmed: then they see the
        // summary again, at the full price, and confirm that.
        let had_code = self.recovery.applied.is_some();
        let (total, discount) = self.priced_cart(ctx, now, out);
        if had_code && discount.is_none() {
            return self.ask_confirmation(ctx, name, contact, fulfilment, now, out);
        }
        let order_id = self.next_order_id();
        let order = Order {
            id: order_id.clone(),
            customer: self.customer.clone(),
            name: name.clone(),
            contact: contact.clone(),
            lines,
            total,
            status: OrderStatus::PendingPayment,
            placed_at: now,
            fulfilment: fulfilment.clone(),
            tracking: None,
            payment_attempts: 1,
            payment_failures: 0,
            oversold: Vec::new(),
            recovered_step: self.recovered_step(now),
            discount: discount.clone(),
            booking: None,
            history: Vec::new(),
        };
        if let Some(discount) = &discount {
            self.spend_discount(discount, &order_id);
        }
        self.remember_order(order.clone());
        out.push(Action::PlaceOrder(order));
        out.push(Action::CreatePaymentLink {
            order: order_id.clone(),
            total,
            attempt: 1,
        });
        if let Some(Fulfilment::Delivery { address }) = fulfilment {
            self.profile.address = Some(address);
        }
        self.profile.name = Some(name);
        self.profile.contact = Some(contact);
        self.cart.lines.clear();
        self.state = FlowState::Checkout(CheckoutStep::AwaitingPayment {
            order: order_id.clone(),
            total,
        });
        let text = Text::new(TextKey::OrderPlaced)
            .str("order", order_id.0)
            .money("total", total);
        self.say(out, Reply::text(text));
        Handled::Yes
    }

    /// Readable and unique: 16 hex digits (64 random bits) of the customer id and the
    /// customer's running number. Deterministic, because the core has no randomness; the
    /// store still refuses to overwrite an existing order id.
    pub(crate) fn next_order_id(&mut self) -> OrderId {
        self.orders.placed = self.orders.placed.saturating_add(1);
        OrderId(format!("{}-{}", self.order_prefix(), self.orders.placed))
    }

    fn order_prefix(&self) -> String {
        let prefix: String = self
            .customer
            .0
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect::<String>()
            .to_ascii_uppercase();
        if prefix.is_empty() {
            "ORDER".to_owned()
        } else {
            prefix
        }
    }
}

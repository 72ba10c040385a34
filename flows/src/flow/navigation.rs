//! "Back" and "cancel": where each state returns to.

use crate::action::Action;
use crate::action::{Choice, ChoiceAction, Reply};
use crate::context::Context;
use crate::conversation::{
    BrowseStep, CheckoutStep, Conversation, FlowState, Handled, ProductStep,
};
use crate::order::Fulfilment;
use crate::text::TextKey;

impl Conversation {
    pub(crate) fn back(
        &mut self,
        ctx: &Context,
        now: crate::time::Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match self.state.clone() {
            FlowState::Browsing(BrowseStep::Category { .. } | BrowseStep::Results { .. }) => {
                self.show_categories(ctx, out)
            }
            FlowState::Product(
                ProductStep::Details { product }
                | ProductStep::PickVariant { product }
                | ProductStep::PickQuantity { product, .. },
            ) => match ctx.catalog.product(&product) {
                Some(found)
                    if matches!(self.state, FlowState::Product(ProductStep::Details { .. })) =>
                {
                    let category = found.category.clone();
                    self.show_category(ctx, &category, 1, out)
                }
                Some(_) => self.show_product(ctx, &product, out),
                None => self.menu(ctx, out),
            },
            FlowState::Checkout(CheckoutStep::AskName) => self.show_cart(ctx, out),
            FlowState::Checkout(CheckoutStep::AskContact { .. }) => self.ask_name(out),
            FlowState::Checkout(CheckoutStep::AskFulfilment { name, .. }) => {
                self.ask_contact(name, out)
            }
            FlowState::Checkout(CheckoutStep::AskAddress { name, contact }) => {
                if ctx.settings.pickup_points.is_empty() {
                    self.ask_contact(name, out)
                } else {
                    self.ask_fulfilment(ctx, name, contact, now, out)
                }
            }
            FlowState::Checkout(CheckoutStep::Confirm {
                name,
                contact,
                fulfilment,
            }) => match fulfilment {
                Some(Fulfilment::Delivery { .. }) => self.ask_address(name, contact, out),
                Some(Fulfilment::Pickup { .. }) => {
                    self.ask_fulfilment(ctx, name, contact, now, out)
                }
                None => self.ask_contact(name, out),
            },
            FlowState::Booking(step) => self.booking_back(ctx, step, now, out),
            FlowState::Idle
            | FlowState::Browsing(BrowseStep::Categories)
            | FlowState::Cart
            | FlowState::Checkout(CheckoutStep::AwaitingPayment { .. }) => self.menu(ctx, out),
        }
    }

    /// Drops whatever is in progress but never the cart: cancelling is not emptying.
    pub(crate) fn cancel(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        // A time held for this customer is freed at once rather than when the hold lapses.
        if let FlowState::Booking(
            crate::booking::BookingStep::AskName { draft }
            | crate::booking::BookingStep::AskContact { draft, .. }
            | crate::booking::BookingStep::Confirm { draft, .. },
        ) = &self.state
        {
            out.push(Action::Booking(crate::booking::BookingRequest::Cancel {
                booking: draft.booking.clone(),
            }));
        }
        if !matches!(
            self.state,
            FlowState::Checkout(CheckoutStep::AwaitingPayment { .. })
        ) {
            self.state = FlowState::Idle;
        }
        let mut choices = Self::menu_for(ctx);
        if !self.cart.is_empty() {
            choices.insert(
                0,
                Choice::new(ChoiceAction::Checkout, TextKey::ChoiceCheckout),
            );
            choices.truncate(4);
        }
        self.say(out, Reply::key(TextKey::Cancelled).choices(choices));
        Handled::Yes
    }
}

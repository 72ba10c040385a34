//! Checkout's delivery step: deliver to an address (validated, remembered for next time) or
//! collect at one of the shop's pickup points. Skipped when the shop offers neither.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::contact::parse_address;
use crate::context::Context;
use crate::conversation::{CheckoutStep, Conversation, FlowState, Handled};
use crate::order::{ContactPoint, Fulfilment};
use crate::text::{Label, Text, TextKey};
use crate::time::Timestamp;

impl Conversation {
    /// Asks how the order reaches the customer; with only one way, takes it.
    pub(crate) fn ask_fulfilment(
        &mut self,
        ctx: &Context,
        name: String,
        contact: ContactPoint,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let points = &ctx.settings.pickup_points;
        match (ctx.settings.delivery, points.as_slice()) {
            (false, []) => return self.ask_confirmation(ctx, name, contact, None, now, out),
            (true, []) => return self.ask_address(name, contact, out),
            _ => {}
        }
        let mut choices = Vec::new();
        if ctx.settings.delivery {
            choices.push(Choice::new(ChoiceAction::Delivery, TextKey::ChoiceDelivery));
        }
        for (index, point) in points.iter().enumerate() {
            choices.push(Choice {
                action: ChoiceAction::Pickup(u32::try_from(index).unwrap_or(u32::MAX)),
                label: Label::Text(Text::new(TextKey::ChoicePickup).str("point", point.clone())),
            });
        }
        choices.push(Choice::new(ChoiceAction::Back, TextKey::ChoiceBack));
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        self.state = FlowState::Checkout(CheckoutStep::AskFulfilment { name, contact });
        self.say(
            out,
            Reply::key(TextKey::CheckoutAskFulfilment).choices(choices),
        );
        Handled::Yes
    }

    pub(crate) fn ask_address(
        &mut self,
        name: String,
        contact: ContactPoint,
        out: &mut Vec<Action>,
    ) -> Handled {
        let mut choices = Vec::new();
        if let Some(address) = &self.profile.address {
            let label = Text::new(TextKey::ChoiceUseSavedAddress).str("address", address.clone());
            choices.push(Choice {
                action: ChoiceAction::UseSavedAddress,
                label: Label::Text(label),
            });
        }
        choices.push(Choice::new(ChoiceAction::Back, TextKey::ChoiceBack));
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        self.state = FlowState::Checkout(CheckoutStep::AskAddress { name, contact });
        self.say(
            out,
            Reply::key(TextKey::CheckoutAskAddress).choices(choices),
        );
        Handled::Yes
    }

    pub(crate) fn choose_delivery(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        match self.state.clone() {
            FlowState::Checkout(CheckoutStep::AskFulfilment { name, contact })
                if ctx.settings.delivery =>
            {
                self.ask_address(name, contact, out)
            }
            _ => self.stale_choice(ctx, out),
        }
    }

    pub(crate) fn choose_pickup(
        &mut self,
        ctx: &Context,
        index: u32,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let point = usize::try_from(index)
            .ok()
            .and_then(|i| ctx.settings.pickup_points.get(i))
            .cloned();
        match (self.state.clone(), point) {
            (FlowState::Checkout(CheckoutStep::AskFulfilment { name, contact }), Some(point)) => {
                let fulfilment = Some(Fulfilment::Pickup { point });
                self.ask_confirmation(ctx, name, contact, fulfilment, now, out)
            }
            _ => self.stale_choice(ctx, out),
        }
    }

    pub(crate) fn use_saved_address(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match (self.state.clone(), self.profile.address.clone()) {
            (FlowState::Checkout(CheckoutStep::AskAddress { name, contact }), Some(address)) => {
                let fulfilment = Some(Fulfilment::Delivery { address });
                self.ask_confirmation(ctx, name, contact, fulfilment, now, out)
            }
            _ => self.stale_choice(ctx, out),
        }
    }

    /// Free text while the address is asked for.
    pub(crate) fn address_answer(
        &mut self,
        ctx: &Context,
        name: String,
        contact: ContactPoint,
        text: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match parse_address(text) {
            Some(address) => {
                let fulfilment = Some(Fulfilment::Delivery { address });
                self.ask_confirmation(ctx, name, contact, fulfilment, now, out)
            }
            None => {
                self.say(out, Reply::key(TextKey::CheckoutAddressInvalid));
                Handled::Yes
            }
        }
    }
}

//! One customer across channels. "Link my account" on one channel gives a one-time code;
//! sending it from another channel merges that chat's customer into this one (the shell
//! does the merge, atomically, and says how it went). Two carts are not mixed silently:
//! the customer chooses to add the other chat's cart or keep this one.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::cart::CartLine;
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::event::LinkOutcome;
use crate::text::{Text, TextKey};

impl Conversation {
    pub(crate) fn ask_link_code(&mut self, out: &mut Vec<Action>) -> Handled {
        out.push(Action::IssueLinkCode);
        Handled::Yes
    }

    pub(crate) fn redeem_link_code(&mut self, code: String, out: &mut Vec<Action>) -> Handled {
        out.push(Action::RedeemLinkCode(code));
        Handled::Yes
    }

    pub(crate) fn on_link_code(&mut self, code: &str, minutes: u32, out: &mut Vec<Action>) {
        let text = Text::new(TextKey::LinkCodeIssued)
            .str("code", code.to_owned())
            .int("minutes", i64::from(minutes));
        self.say(out, Reply::text(text));
    }

    pub(crate) fn on_linked(&mut self, ctx: &Context, outcome: LinkOutcome, out: &mut Vec<Action>) {
        let key = match outcome {
            LinkOutcome::Done { other_cart } => return self.linked(ctx, other_cart, out),
            LinkOutcome::Unknown => TextKey::LinkCodeUnknown,
            LinkOutcome::Expired => TextKey::LinkCodeExpired,
            LinkOutcome::Used => TextKey::LinkCodeUsed,
            LinkOutcome::SameCustomer => TextKey::LinkSameCustomer,
            LinkOutcome::TooManyTries => TextKey::LinkTooManyTries,
            LinkOutcome::NoMatch => TextKey::LinkPhoneUnknown,
            LinkOutcome::CodeSent => TextKey::LinkCodeSent,
        };
        self.say(out, Reply::key(key));
    }

    /// Linked: the other chat's cart is taken over when this one is empty, and otherwise
    /// offered to be added.
    fn linked(&mut self, ctx: &Context, other_cart: Vec<CartLine>, out: &mut Vec<Action>) {
        let other: Vec<CartLine> = other_cart
            .into_iter()
            .filter(|line| ctx.catalog.variant(&line.sku).is_some() && line.quantity > 0)
            .collect();
        if other.is_empty() || self.cart.is_empty() {
            for line in other {
                self.cart.set_quantity(&line.sku, line.quantity);
            }
            let text = Text::new(TextKey::LinkDone).int("items", i64::from(self.cart.item_count()));
            let choices = vec![Choice::new(
                ChoiceAction::PreferHere,
                TextKey::ChoicePreferHere,
            )];
            self.say(out, Reply::text(text).choices(choices));
            return;
        }
        let items: u32 = other.iter().map(|line| line.quantity).sum();
        self.pending_cart = other;
        let text = Text::new(TextKey::LinkCartsDiffer)
            .int("items", i64::from(self.cart.item_count()))
            .int("other", i64::from(items));
        let choices = vec![
            Choice::new(ChoiceAction::MergeCarts, TextKey::ChoiceMergeCarts),
            Choice::new(ChoiceAction::KeepCart, TextKey::ChoiceKeepCart),
        ];
        self.say(out, Reply::text(text).choices(choices));
    }

    /// News goes to the channel the customer is writing from now (set when the message
    /// arrived), whichever they write from later.
    pub(crate) fn prefer_here(&mut self, out: &mut Vec<Action>) -> Handled {
        self.reach.preferred_channel = self.reach.last_channel;
        self.say(out, Reply::key(TextKey::PreferredChannelSet));
        Handled::Yes
    }

    /// Adds the other chat's cart, line by line, within the quantity limit per line.
    pub(crate) fn merge_carts(
        &mut self,
        ctx: &Context,
        keep: bool,
        out: &mut Vec<Action>,
    ) -> Handled {
        let pending = std::mem::take(&mut self.pending_cart);
        if pending.is_empty() {
            return self.stale_choice(ctx, out);
        }
        if !keep {
            for line in pending {
                let sum = self
                    .cart
                    .quantity_of(&line.sku)
                    .saturating_add(line.quantity)
                    .min(ctx.settings.max_quantity);
                self.cart.set_quantity(&line.sku, sum);
            }
        }
        self.show_cart(ctx, out)
    }
}

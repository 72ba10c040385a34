//! A reminder's discount code: offered with the reminder, applied when the customer sends
//! it or presses its button, shown in the checkout summary, spent on the order (the total
//! recomputed), refused when unknown, used or expired.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::discount::{self, DiscountCode, OrderDiscount, Refusal, StepDiscount};
use crate::money::Money;
use crate::text::{Text, TextKey};
use crate::time::Timestamp;

impl Conversation {
    /// Mints the step's code and offers it, with a button that applies it.
    pub(crate) fn offer_discount(
        &mut self,
        ctx: &Context,
        step: u32,
        offer: StepDiscount,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.recovery.codes_minted = self.recovery.codes_minted.saturating_add(1);
        let code = discount::mint(&self.customer, self.recovery.codes_minted);
        let expires_at = now.plus(offer.valid_for);
        self.recovery.codes.push(DiscountCode {
            code: code.clone(),
            percent: offer.percent,
            step,
            expires_at,
            used_by: None,
        });
        let text = Text::new(TextKey::RecoveryDiscount)
            .str("code", code.clone())
            .int("percent", offer.percent)
            .with("until", self.when_arg(ctx, expires_at));
        let choices = vec![
            Choice::new(ChoiceAction::UseDiscount(code), TextKey::ChoiceUseDiscount),
            Choice::new(ChoiceAction::Checkout, TextKey::ChoiceCheckout),
        ];
        self.say(out, Reply::text(text).choices(choices));
    }

    fn refuse_discount(&mut self, refusal: Refusal, out: &mut Vec<Action>) -> Handled {
        let key = match refusal {
            Refusal::Unknown => TextKey::DiscountUnknown,
            Refusal::Used => TextKey::DiscountUsed,
            Refusal::Expired => TextKey::DiscountExpired,
        };
        let choices = vec![
            Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        self.say(out, Reply::key(key).choices(choices));
        Handled::Yes
    }

    /// The customer sent a code (or pressed its button).
    pub(crate) fn apply_discount(
        &mut self,
        ctx: &Context,
        code: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let percent = match discount::check(&self.recovery.codes, code, now) {
            Ok(found) => found.percent,
            Err(refusal) => return self.refuse_discount(refusal, out),
        };
        self.recovery.applied = Some(code.to_owned());
        let total = self.cart.total(&ctx.catalog);
        let after = Money::new(
            total.minor - discount::amount_off(total, percent).minor,
            total.currency,
        );
        let text = Text::new(TextKey::DiscountApplied)
            .str("code", code.to_owned())
            .int("percent", percent)
            .money("total", after);
        let choices = vec![
            Choice::new(ChoiceAction::Checkout, TextKey::ChoiceCheckout),
            Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart),
        ];
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    /// The cart's total at `now`, after the applied code if it is still good. A code that
    /// went bad since it was applied is dropped and the customer told why.
    pub(crate) fn priced_cart(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> (Money, Option<OrderDiscount>) {
        let total = self.cart.total(&ctx.catalog);
        let Some(code) = self.recovery.applied.clone() else {
            return (total, None);
        };
        match discount::check(&self.recovery.codes, &code, now) {
            Ok(found) => {
                let amount = discount::amount_off(total, found.percent);
                let discount = OrderDiscount {
                    code,
                    percent: found.percent,
                    amount,
                };
                (
                    Money::new(total.minor - amount.minor, total.currency),
                    Some(discount),
                )
            }
            Err(refusal) => {
                self.recovery.applied = None;
                self.refuse_discount(refusal, out);
                (total, None)
            }
        }
    }

    /// The summary line of a discount in the checkout.
    pub(crate) fn say_discount(&mut self, discount: &OrderDiscount, out: &mut Vec<Action>) {
        let text = Text::new(TextKey::DiscountInOrder)
            .str("code", discount.code.clone())
            .int("percent", discount.percent)
            .money("amount", discount.amount);
        self.say(out, Reply::text(text));
    }

    /// The order took the code: it cannot be used again.
    pub(crate) fn spend_discount(
        &mut self,
        discount: &OrderDiscount,
        order: &crate::order::OrderId,
    ) {
        if let Some(found) = self
            .recovery
            .codes
            .iter_mut()
            .find(|c| c.code == discount.code)
        {
            found.used_by = Some(order.clone());
        }
        self.recovery.applied = None;
    }
}

//! What happens when we do not understand: a polite "didn't get that" with the options that
//! fit, and after repeated misses an offer to reach a person.

use crate::action::{Action, Choice, ChoiceAction, HandoffReason, Reply};
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::text::TextKey;
use crate::time::Timestamp;

/// Consecutive misses after which we stop guessing and bring in a person.
const MISSES_BEFORE_ESCALATING: u32 = 2;

impl Conversation {
    /// Keeps the miss counter and answers a miss; an understood input resets the counter.
    pub(crate) fn count(
        &mut self,
        ctx: &Context,
        handled: Handled,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        match handled {
            Handled::Yes => self.misses = 0,
            Handled::Pending => {}
            // Waiting for a person: what the bot cannot place is for them; the customer
            // hears the expected wait, not "didn't get that".
            Handled::Missed if self.handoff.is_waiting() => {
                self.tell_waiting(ctx, now, false, out);
            }
            Handled::Missed => {
                self.misses = self.misses.saturating_add(1);
                if self.misses >= MISSES_BEFORE_ESCALATING {
                    let _ = self.escalate(ctx, HandoffReason::MissedTwice, now, out);
                } else {
                    // Repeat what was on offer, so the customer can simply tap instead.
                    let choices = self.reoffer_choices(ctx);
                    self.say(out, Reply::key(TextKey::NotUnderstood).choices(choices));
                }
            }
        }
    }

    fn reoffer_choices(&self, ctx: &Context) -> Vec<Choice> {
        let mut choices = Self::menu_for(ctx);
        if !self.offered.is_empty() {
            choices.retain(|c| c.action == ChoiceAction::Help);
            choices.insert(0, Choice::new(ChoiceAction::Back, TextKey::ChoiceBack));
            choices.insert(1, Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu));
        }
        choices
    }

    /// A button from an earlier step, or a forged id: not the customer's fault, not a miss.
    pub(crate) fn stale_choice(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        self.say(
            out,
            Reply::key(TextKey::StaleChoice).choices(Self::menu_for(ctx)),
        );
        Handled::Yes
    }

    pub(crate) fn unsupported_message(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        self.say(
            out,
            Reply::key(TextKey::UnsupportedMessage).choices(Self::menu_for(ctx)),
        );
        Handled::Yes
    }
}

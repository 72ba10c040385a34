//! "Delete my data": the customer's right to erasure. The flow only asks and, on a clear
//! yes, sets the `Erasure` timer due at once: the request is then durable in the same
//! commit as the answer, and the shell erases everything (every linked chat too) in the
//! customer's worker and sends the last message itself (`src/data_rights/erase.rs`).

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::text::TextKey;
use crate::time::Timestamp;
use crate::vocabulary::TimerKind;

impl Conversation {
    /// Asks first: erasure cannot be undone, and a stray word must not start it.
    pub(crate) fn ask_erasure(&mut self, out: &mut Vec<Action>) -> Handled {
        let choices = vec![
            Choice::new(ChoiceAction::ConfirmErase, TextKey::ChoiceEraseConfirm),
            Choice::new(ChoiceAction::KeepData, TextKey::ChoiceEraseKeep),
        ];
        self.say(out, Reply::key(TextKey::ErasureAsk).choices(choices));
        Handled::Yes
    }

    /// Only right after the question: an old "yes, delete" button pressed days later, or
    /// a "yes" meant for something else, asks again instead.
    pub(crate) fn confirm_erasure(&mut self, now: Timestamp, out: &mut Vec<Action>) -> Handled {
        if !self.offered.contains(&ChoiceAction::ConfirmErase) {
            return self.ask_erasure(out);
        }
        self.offered.clear();
        out.push(Action::SetTimer {
            kind: TimerKind::Erasure,
            at: now,
        });
        Handled::Yes
    }

    pub(crate) fn keep_data(&mut self, _ctx: &Context, out: &mut Vec<Action>) -> Handled {
        let choices = vec![Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu)];
        self.say(out, Reply::key(TextKey::ErasureKept).choices(choices));
        Handled::Yes
    }
}

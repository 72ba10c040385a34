//! Bringing back customers who left a full cart. Any activity with items in the cart (re)starts
//! the sequence from that moment; each reminder arms the next. A reminder is sent only if it
//! still applies when it falls due: items in the cart, no payment under way, no opt-out, and
//! for every reminder after the first (marketing) the customer's consent, asked politely in
//! the first one. Paying, emptying the cart or "stop" ends the sequence; an operator owning
//! the conversation holds it (its timer waits for the hand back).

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::consent::Purpose;
use crate::context::Context;
use crate::conversation::{CheckoutStep, Conversation, FlowState, Handled};
use crate::event::TimerKind;
use crate::recovery::Consent;
use crate::text::{Text, TextKey};
use crate::time::{Span, Timestamp};

/// How long after a reminder an order still counts as recovered by it.
const ATTRIBUTION_WINDOW: Span = Span::hours(24 * 7);

impl Conversation {
    fn paying(&self) -> bool {
        matches!(
            self.state,
            FlowState::Checkout(CheckoutStep::AwaitingPayment { .. })
        )
    }

    /// After the customer did something: with items in the cart a new sequence starts from
    /// now; with none, any running one ends.
    pub(crate) fn recovery_after_activity(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(first) = ctx.settings.recovery.steps.first() else {
            return;
        };
        if self.cart.is_empty() || self.recovery.opted_out || self.paying() {
            self.end_recovery(out);
            return;
        }
        self.recovery.since = Some(now);
        self.recovery.next_step = 0;
        if self.recovery.timer_due.is_none_or(|due| due <= now) {
            self.arm_recovery(now.plus(first.after), out);
        }
    }

    fn arm_recovery(&mut self, at: Timestamp, out: &mut Vec<Action>) {
        self.recovery.timer_due = Some(at);
        out.push(Action::SetTimer {
            kind: TimerKind::CartRecovery,
            at,
        });
    }

    pub(crate) fn end_recovery(&mut self, out: &mut Vec<Action>) {
        self.recovery.since = None;
        if self.recovery.timer_due.take().is_some() {
            out.push(Action::CancelTimer(TimerKind::CartRecovery));
        }
    }

    /// The reminder timer fell due (perhaps late, or twice: it re-checks everything).
    pub(crate) fn on_recovery_timer(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.recovery.timer_due = None;
        let Some(since) = self.recovery.since else {
            return;
        };
        let steps = &ctx.settings.recovery.steps;
        let index = usize::try_from(self.recovery.next_step).unwrap_or(usize::MAX);
        let Some(step) = steps.get(index) else {
            self.recovery.since = None;
            return;
        };
        // The customer was active since it was armed: wait out the rest.
        let due = since.plus(step.after);
        if now < due {
            self.arm_recovery(due, out);
            return;
        }
        let consented = self.recovery.consent.is_some_and(|c| c.granted);
        let settings = &ctx.settings.recovery;
        // One sequence per customer per period: a new one starting too soon is dropped.
        let too_soon = index == 0
            && settings.once_per.is_some_and(|period| {
                self.recovery
                    .last_sequence_at
                    .is_some_and(|last| now < last.plus(period))
            });
        if self.cart.is_empty()
            || self.recovery.opted_out
            || self.paying()
            || (index > 0 && !consented)
            || too_soon
        {
            self.recovery.since = None;
            return;
        }
        // Not at night in the customer's time: the reminder waits for the morning.
        if let Some(morning) = settings.quiet.until(now, self.profile.time_zone.as_deref()) {
            self.arm_recovery(morning, out);
            return;
        }
        // A restart after a long downtime sends the latest step that fell due, not a burst.
        let mut index = index;
        while steps
            .get(index + 1)
            .is_some_and(|next| since.plus(next.after) <= now)
        {
            index += 1;
        }
        let step = &steps[index];
        let text = Text::new(step.key)
            .int("items", i64::from(self.cart.item_count()))
            .money("total", self.cart.total(&ctx.catalog));
        let mut choices = vec![Choice::new(ChoiceAction::Checkout, TextKey::ChoiceCheckout)];
        if index == 0 && self.recovery.consent.is_none() {
            choices.push(Choice::new(ChoiceAction::RemindMe, TextKey::ChoiceRemindMe));
            self.record_asked(ctx, Purpose::Reminders, step.key, now);
        }
        choices.push(Choice::new(
            ChoiceAction::StopReminders,
            TextKey::ChoiceStopReminders,
        ));
        self.say(out, Reply::text(text).choices(choices));
        if let Some(offer) = step.discount {
            self.offer_discount(
                ctx,
                u32::try_from(index).unwrap_or(u32::MAX),
                offer,
                now,
                out,
            );
        }
        if index == 0 {
            self.recovery.last_sequence_at = Some(now);
        }
        self.recovery.last_reminder = Some((u32::try_from(index).unwrap_or(u32::MAX), now));
        self.recovery.next_step = u32::try_from(index + 1).unwrap_or(u32::MAX);
        match steps.get(index + 1) {
            Some(next) => {
                let at = since.plus(next.after);
                self.arm_recovery(at, out);
            }
            None => self.recovery.since = None,
        }
    }

    /// The reminder an order placed now is owed to, if any (then it is used up).
    pub(crate) fn recovered_step(&mut self, now: Timestamp) -> Option<u32> {
        let (step, at) = self.recovery.last_reminder.take()?;
        (now < at.plus(ATTRIBUTION_WINDOW)).then_some(step)
    }

    /// "Yes, remind me": consent to the later reminders, kept with its time.
    pub(crate) fn remind_me(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        self.recovery.consent = Some(Consent {
            granted: true,
            at: now,
        });
        let answering = self.offered.contains(&ChoiceAction::RemindMe);
        self.record_answer(Purpose::Reminders, true, answering, now);
        self.recovery.opted_out = false;
        let _ = ctx;
        self.say(out, Reply::key(TextKey::RecoveryConsentThanks));
        Handled::Yes
    }

    /// "Stop": no more reminders, now or later, until the customer opts in again; and no
    /// more news and offers either, if they had said yes to them.
    pub(crate) fn stop_reminders(&mut self, now: Timestamp, out: &mut Vec<Action>) -> Handled {
        self.recovery.opted_out = true;
        self.recovery.consent = Some(Consent {
            granted: false,
            at: now,
        });
        let answering = self.offered.contains(&ChoiceAction::StopReminders);
        self.record_answer(Purpose::Reminders, false, answering, now);
        self.end_recovery(out);
        self.say(out, Reply::key(TextKey::RecoveryStopped));
        if self.consents.current(Purpose::Marketing) == Some(true) {
            self.record_answer(Purpose::Marketing, false, false, now);
            self.say(out, Reply::key(TextKey::MarketingStopped));
        }
        Handled::Yes
    }
}

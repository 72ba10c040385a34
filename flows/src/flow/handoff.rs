//! The handoff protocol: bot-active → waiting-for-human → human-owned(operator) → bot.
//! A person is asked for by the customer, after two misses in a row, or after a second
//! failed payment of one order. While an operator owns the conversation the bot sends
//! nothing: customer messages are only recorded, other events still update the state but
//! their replies are held for the operator to see, and timers are held until hand back.

use crate::action::{Action, Choice, ChoiceAction, HandoffReason, Reply};
use crate::catalog::ProductId;
use crate::context::Context;
use crate::conversation::{CheckoutStep, Conversation, FlowState, Handled, ProductStep};
use crate::event::TimerKind;
use crate::handoff::{Handoff, OperatorId, WaitMode};
use crate::order::Fulfilment;
use crate::text::{Text, TextKey};
use crate::time::Timestamp;

impl Conversation {
    /// Asks for a person. Within business hours the customer is told the expected wait and
    /// a timer starts; outside them, they are offered the bot or leaving a message.
    pub(crate) fn escalate(
        &mut self,
        ctx: &Context,
        reason: HandoffReason,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match &self.handoff {
            Handoff::Human { .. } => return Handled::Yes,
            Handoff::Waiting { .. } => {
                self.tell_waiting(ctx, now, true, out);
                return Handled::Yes;
            }
            Handoff::Bot => {}
        }
        self.misses = 0;
        out.push(Action::NotifyOperators(reason));
        let settings = &ctx.settings.handoff;
        if !settings.on_duty.at(now) {
            self.handoff = Handoff::Waiting {
                since: now,
                reason,
                mode: WaitMode::Offered,
                told_at: Some(now),
            };
            self.say(
                out,
                Reply::key(TextKey::HandoffOffline).choices(Self::wait_choices()),
            );
            return Handled::Yes;
        }
        self.handoff = Handoff::Waiting {
            since: now,
            reason,
            mode: WaitMode::Live,
            told_at: Some(now),
        };
        out.push(Action::SetTimer {
            kind: TimerKind::HandoffWait,
            at: now.plus(settings.wait_timeout),
        });
        let key = match reason {
            HandoffReason::MissedTwice => TextKey::HandoffAfterMisses,
            HandoffReason::PaymentFailedTwice => TextKey::HandoffAfterPaymentFailures,
            HandoffReason::UnansweredQuestion => TextKey::HandoffUnansweredQuestion,
            HandoffReason::HumanRequested
            | HandoffReason::Oversold
            | HandoffReason::PaidAfterCancel => TextKey::HumanRequested,
        };
        let text = Text::new(key).int("minutes", i64::from(settings.expected_wait_minutes));
        let choices = vec![Choice::new(
            ChoiceAction::ContinueWithBot,
            TextKey::ChoiceContinueWithBot,
        )];
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    fn wait_choices() -> Vec<Choice> {
        vec![
            Choice::new(ChoiceAction::LeaveMessage, TextKey::ChoiceLeaveMessage),
            Choice::new(
                ChoiceAction::ContinueWithBot,
                TextKey::ChoiceContinueWithBot,
            ),
        ]
    }

    /// A message the bot could not place while the customer waits: it is kept for the team.
    /// The customer hears the expected wait (or their options) again at most once per
    /// `notice_gap`, `always` for an explicit new request for a person; in between, a short
    /// acknowledgement, except while they write a message for the team, who need no echo
    /// under every line.
    pub(crate) fn tell_waiting(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        always: bool,
        out: &mut Vec<Action>,
    ) {
        let settings = &ctx.settings.handoff;
        let Handoff::Waiting { told_at, mode, .. } = &mut self.handoff else {
            return;
        };
        let recently = told_at.is_some_and(|at| now < at.plus(settings.notice_gap));
        let mode = *mode;
        if recently && !always {
            if mode != WaitMode::Message {
                self.say(out, Reply::key(TextKey::HandoffMessageKept));
            }
            return;
        }
        *told_at = Some(now);
        let reply = match mode {
            WaitMode::Live => Reply::text(
                Text::new(TextKey::HandoffStillWaiting)
                    .int("minutes", i64::from(settings.expected_wait_minutes)),
            )
            .choices(vec![Choice::new(
                ChoiceAction::ContinueWithBot,
                TextKey::ChoiceContinueWithBot,
            )]),
            WaitMode::Offered => {
                Reply::key(TextKey::HandoffMessageKept).choices(Self::wait_choices())
            }
            WaitMode::Message => Reply::key(TextKey::HandoffMessageKept),
        };
        self.say(out, reply);
    }

    /// Nobody took the conversation in time. Late or stale firings change nothing.
    pub(crate) fn on_handoff_timer(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Handoff::Waiting {
            since,
            mode: mode @ WaitMode::Live,
            told_at,
            ..
        } = &mut self.handoff
        else {
            return;
        };
        if now < since.plus(ctx.settings.handoff.wait_timeout) {
            return;
        }
        *mode = WaitMode::Offered;
        *told_at = Some(now);
        self.say(
            out,
            Reply::key(TextKey::HandoffNobody).choices(Self::wait_choices()),
        );
    }

    pub(crate) fn continue_with_bot(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        if let Handoff::Waiting { mode, .. } = self.handoff {
            if mode == WaitMode::Live {
                out.push(Action::CancelTimer(TimerKind::HandoffWait));
            }
            self.handoff = Handoff::Bot;
        }
        self.menu(ctx, out)
    }

    pub(crate) fn leave_message(&mut self, now: Timestamp, out: &mut Vec<Action>) -> Handled {
        // `told_at` is cleared so the first line of the message is acknowledged.
        match &mut self.handoff {
            Handoff::Waiting { mode, told_at, .. } => {
                if *mode == WaitMode::Live {
                    out.push(Action::CancelTimer(TimerKind::HandoffWait));
                }
                *mode = WaitMode::Message;
                *told_at = None;
            }
            Handoff::Bot => {
                out.push(Action::NotifyOperators(HandoffReason::HumanRequested));
                self.handoff = Handoff::Waiting {
                    since: now,
                    reason: HandoffReason::HumanRequested,
                    mode: WaitMode::Message,
                    told_at: None,
                };
            }
            Handoff::Human { .. } => return Handled::Yes,
        }
        self.say(
            out,
            Reply::key(TextKey::HandoffLeaveMessage).choices(vec![Choice::new(
                ChoiceAction::ContinueWithBot,
                TextKey::ChoiceContinueWithBot,
            )]),
        );
        Handled::Yes
    }

    /// An operator takes the conversation. One owner at a time: a second operator's takeover
    /// changes nothing (the console shows them who owns it).
    pub(crate) fn on_takeover(
        &mut self,
        operator: OperatorId,
        name: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        // What the model was reading is the operator's now.
        self.drop_pending_nlu(out);
        match &self.handoff {
            Handoff::Human { .. } => return,
            Handoff::Waiting {
                mode: WaitMode::Live,
                ..
            } => out.push(Action::CancelTimer(TimerKind::HandoffWait)),
            Handoff::Waiting { .. } | Handoff::Bot => {}
        }
        self.handoff = Handoff::Human {
            operator,
            since: now,
            held: Vec::new(),
        };
        let text = Text::new(TextKey::OperatorJoined).str("operator", name.to_owned());
        self.say(out, Reply::text(text));
    }

    /// The bot and the person never talk over each other: while an operator owns the
    /// conversation, what the bot would say is kept for the operator, not sent. What an
    /// operator's action says is theirs (Messenger may tag it `HUMAN_AGENT`).
    ///
    /// A held reply offered nothing the customer saw, so the choices on offer go back to
    /// `offered_before` (else "2" could pick a button of a reply that was never sent).
    pub(crate) fn attribute_replies(
        &mut self,
        by_operator: Option<&crate::handoff::OperatorId>,
        passes_through: bool,
        offered_before: Vec<ChoiceAction>,
        out: &mut [Action],
    ) {
        let owned = self.handoff.owner().is_some();
        let mut held = false;
        for action in out.iter_mut() {
            let Action::Send(reply) = action else {
                continue;
            };
            if let Some(operator) = by_operator {
                reply.by_operator = true;
                reply.operator = Some(operator.clone());
            } else if owned && !passes_through {
                *action = Action::HeldForOperator(reply.clone());
                held = true;
            }
        }
        if held {
            self.offered = offered_before;
        }
    }

    /// A product card the owner picked in the console.
    pub(crate) fn on_operator_product(
        &mut self,
        ctx: &Context,
        operator: &OperatorId,
        product: &ProductId,
        out: &mut Vec<Action>,
    ) {
        if self.handoff.owner() == Some(operator) && ctx.catalog.product(product).is_some() {
            let _ = self.show_product(ctx, product, out);
        }
    }

    /// The owner sends a payment link for the cart. It needs what checkout would have asked:
    /// a name and a contact given before (the console checks first and says what is missing);
    /// the delivery address given before, if any, else the shop arranges it in the chat.
    pub(crate) fn on_operator_payment_link(
        &mut self,
        ctx: &Context,
        operator: &OperatorId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if self.handoff.owner() != Some(operator) || self.cart.is_empty() {
            return;
        }
        let (Some(name), Some(contact)) = (self.profile.name.clone(), self.profile.contact.clone())
        else {
            return;
        };
        let fulfilment = self
            .profile
            .address
            .clone()
            .filter(|_| ctx.settings.delivery)
            .map(|address| Fulfilment::Delivery { address });
        self.state = FlowState::Checkout(CheckoutStep::Confirm {
            name,
            contact,
            fulfilment,
        });
        let _ = self.confirm_order(ctx, now, out);
    }

    /// The owner's words go out as they are; anyone else's are dropped.
    pub(crate) fn on_operator_message(
        &mut self,
        operator: &OperatorId,
        text: &str,
        original: Option<String>,
        out: &mut Vec<Action>,
    ) {
        if self.handoff.owner() != Some(operator) || text.trim().is_empty() {
            return;
        }
        let mut text = Text::new(TextKey::OperatorMessage).str("text", text.to_owned());
        // Not rendered to the customer: kept with the send, for the console's history.
        if let Some(original) = original {
            text = text.str("original", original);
        }
        // Not through `say`: an operator's words offer nothing, and the bot's last offer
        // must still mean the same numbers when the bot resumes.
        out.push(Action::Send(Reply::text(text)));
    }

    /// An operator hands the conversation to another (the console checks who may).
    pub(crate) fn on_reassign(
        &mut self,
        from: &OperatorId,
        to: OperatorId,
        name: &str,
        out: &mut Vec<Action>,
    ) {
        let Handoff::Human { operator, .. } = &mut self.handoff else {
            return;
        };
        if operator != from || *operator == to {
            return;
        }
        *operator = to;
        let text = Text::new(TextKey::OperatorJoined).str("operator", name.to_owned());
        self.say(out, Reply::text(text));
    }

    /// The owner hands back (or dismisses a waiting conversation): the timers held meanwhile
    /// run (each re-checks whether it still applies), then the bot resumes where the flow is,
    /// with a short message unless the shop turned it off or the case was resolved.
    pub(crate) fn on_hand_back(
        &mut self,
        ctx: &Context,
        operator: &OperatorId,
        resolved: bool,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let held = match &mut self.handoff {
            Handoff::Human {
                operator: owner,
                held,
                ..
            } if owner == operator => std::mem::take(held),
            Handoff::Waiting { mode, .. } => {
                if *mode == WaitMode::Live {
                    out.push(Action::CancelTimer(TimerKind::HandoffWait));
                }
                Vec::new()
            }
            Handoff::Human { .. } | Handoff::Bot => return,
        };
        self.handoff = Handoff::Bot;
        self.misses = 0;
        // Timers first: a session that expired meanwhile resets the flow, and the re-prompt
        // must then ask for what the flow waits for now, not before.
        for kind in held {
            self.on_timer(ctx, kind, now, out);
        }
        if !resolved && ctx.settings.handoff.resume_message {
            self.resume(ctx, now, out);
        }
    }

    /// Says the bot is back and asks again what the flow was waiting for.
    fn resume(&mut self, ctx: &Context, now: crate::time::Timestamp, out: &mut Vec<Action>) {
        self.say(out, Reply::key(TextKey::BotResumed));
        match self.state.clone() {
            FlowState::Checkout(step) => {
                let _ = match step {
                    CheckoutStep::AskName => self.ask_name(out),
                    CheckoutStep::AskContact { name } => self.ask_contact(name, out),
                    CheckoutStep::AskFulfilment { name, contact } => {
                        self.ask_fulfilment(ctx, name, contact, now, out)
                    }
                    CheckoutStep::AskAddress { name, contact } => {
                        self.ask_address(name, contact, out)
                    }
                    CheckoutStep::Confirm {
                        name,
                        contact,
                        fulfilment,
                    } => self.ask_confirmation(ctx, name, contact, fulfilment, now, out),
                    CheckoutStep::AwaitingPayment { .. } => self.start_checkout(ctx, out),
                };
            }
            FlowState::Product(
                ProductStep::Details { product }
                | ProductStep::PickVariant { product }
                | ProductStep::PickQuantity { product, .. },
            ) => {
                let _ = self.show_product(ctx, &product, out);
            }
            FlowState::Cart => {
                let _ = self.show_cart(ctx, out);
            }
            // The time held for the customer may be gone by now: the day's times again.
            FlowState::Booking(step) => {
                let _ = self.booking_back(ctx, step, now, out);
            }
            FlowState::Idle | FlowState::Browsing(_) => {
                let _ = self.menu(ctx, out);
            }
        }
    }
}

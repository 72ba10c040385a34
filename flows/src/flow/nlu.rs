//! The language model's turn: a message the rules cannot place is sent to it (the shell
//! calls it after the step commits) and waited for under a timer. Its reading comes back as
//! an intent and is acted on like the rules'; a failure, a refusal, a late or missing answer
//! get the rules' own answer, so a broken model never leaves a customer without a reply.

use crate::action::Action;
use crate::context::Context;
use crate::conversation::{Conversation, FlowState, Handled, ProductStep};
use crate::time::Timestamp;
use crate::understanding::{Intent, PendingNlu};
use crate::vocabulary::TimerKind;

/// The most of a message kept while the model reads it (channels cap text below this).
const MAX_PENDING_CHARS: usize = 4_096;

impl Conversation {
    /// Sends `text` to the model and waits for its reading at most `nlu_wait`.
    pub(crate) fn ask_model(
        &mut self,
        ctx: &Context,
        text: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let text = crate::words::head(text, MAX_PENDING_CHARS).to_owned();
        self.nlu_requests = self.nlu_requests.wrapping_add(1);
        self.pending_nlu = Some(PendingNlu {
            request: self.nlu_requests,
            text: text.clone(),
            referred: None,
        });
        out.push(Action::RequestNlu {
            text,
            locale: self.locale,
            request: self.nlu_requests,
        });
        out.push(Action::SetTimer {
            kind: TimerKind::NluWait,
            at: now.plus(ctx.settings.nlu_wait),
        });
        Handled::Pending
    }

    pub(crate) fn drop_pending_nlu(&mut self, out: &mut Vec<Action>) {
        if self.pending_nlu.take().is_some() {
            out.push(Action::CancelTimer(TimerKind::NluWait));
        }
    }

    /// The model's reading of the pending message. One for another request (late, or
    /// superseded by a newer message) is dropped; one arriving after an operator took over
    /// ends the wait without an answer (the operator has the message).
    pub(crate) fn on_nlu_result(
        &mut self,
        ctx: &Context,
        intent: Option<Intent>,
        request: Option<u32>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let matches = self
            .pending_nlu
            .as_ref()
            .is_some_and(|pending| request.is_none_or(|r| r == pending.request));
        if !matches {
            return;
        }
        let Some(pending) = self.pending_nlu.take() else {
            return;
        };
        out.push(Action::CancelTimer(TimerKind::NluWait));
        if self.handoff.owner().is_some() {
            return;
        }
        // A yes or no from the model never confirms or cancels an order or a booking: those
        // take the customer's own press or words.
        let confirming = matches!(
            self.state,
            FlowState::Checkout(crate::conversation::CheckoutStep::Confirm { .. })
                | FlowState::Booking(crate::booking::BookingStep::Confirm { .. })
        );
        let intent = intent.filter(|i| !(confirming && matches!(i, Intent::Yes | Intent::No)));
        let handled = match intent {
            Some(intent) => self.on_intent(ctx, intent, now, out),
            None => self.rules_answer(ctx, &pending, now, out),
        };
        self.count(ctx, handled, now, out);
    }

    /// The model did not answer in time: the rules answer the message.
    pub(crate) fn on_nlu_timer(&mut self, ctx: &Context, now: Timestamp, out: &mut Vec<Action>) {
        let Some(pending) = self.pending_nlu.take() else {
            return;
        };
        let handled = self.rules_answer(ctx, &pending, now, out);
        self.count(ctx, handled, now, out);
    }

    /// What the rules say to a message they could not place: something we do not carry, a
    /// question for a colleague, or "not understood".
    fn rules_answer(
        &mut self,
        ctx: &Context,
        pending: &PendingNlu,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let text = pending.text.as_str();
        if !self.handoff.is_waiting()
            && let Some(absent) = crate::understanding::not_carried(text, &ctx.catalog)
        {
            return self.not_carried(ctx, &absent, out);
        }
        if let Some(handled) = self.unanswered_question(ctx, text, now, out) {
            return handled;
        }
        match pending.referred.clone() {
            Some(sku) => self.show_referred(ctx, Some(sku), out),
            None => Handled::Missed,
        }
    }

    /// "Add two of the blue mugs": the variant and quantity when the reading has them, else
    /// the usual questions.
    pub(crate) fn add_as_read(
        &mut self,
        ctx: &Context,
        product: &crate::catalog::ProductId,
        sku: Option<crate::catalog::Sku>,
        quantity: Option<u32>,
        out: &mut Vec<Action>,
    ) -> Handled {
        let sku = sku.filter(|sku| {
            ctx.catalog
                .variant(sku)
                .is_some_and(|(p, _)| &p.id == product)
        });
        let Some(sku) = sku else {
            return self.start_add(ctx, product, out);
        };
        let mut asked = Vec::new();
        let handled = self.pick_variant(ctx, &sku, &mut asked);
        let asks_quantity = matches!(
            &self.state,
            FlowState::Product(ProductStep::PickQuantity { sku: s, .. }) if *s == sku
        );
        match quantity {
            Some(quantity) if asks_quantity => self.pick_quantity(ctx, &sku, quantity, out),
            _ => {
                out.extend(asked);
                handled
            }
        }
    }

    /// "A haircut tomorrow at 10": the booking started, then the service and time as said.
    pub(crate) fn book_as_read(
        &mut self,
        ctx: &Context,
        service: Option<crate::booking::ServiceId>,
        when: Option<String>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        if !ctx.settings.booking.enabled() {
            return Handled::Missed;
        }
        let service_name = service
            .and_then(|id| ctx.settings.booking.service(&id))
            .map(|s| s.name.get(self.locale).to_owned());
        let words: Vec<String> = service_name.into_iter().chain(when).collect();
        let mut first = Vec::new();
        let handled = self.start_booking(ctx, None, now, &mut first);
        if !words.is_empty()
            && let Some(handled) = self.booking_words(ctx, &words.join(" "), now, out)
        {
            return handled;
        }
        out.extend(first);
        handled
    }

    /// A question about the shop: its knowledge answers, else a colleague.
    pub(crate) fn ask_shop(
        &mut self,
        ctx: &Context,
        question: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        if let Some(handled) = self.knowledge_answer(ctx, question, out) {
            return handled;
        }
        // As the rules would: a shop without answers, or a customer already waiting for a
        // person, gets no new call for one.
        if ctx.knowledge.is_empty() || self.handoff.is_waiting() {
            return Handled::Missed;
        }
        self.escalate(
            ctx,
            crate::action::HandoffReason::UnansweredQuestion,
            now,
            out,
        )
    }
}

//! Consent, asked and recorded (`consent.rs`): the cart reminders' question is the first
//! reminder's (`flow/recovery.rs`); news and offers are asked once, after the first paid
//! order, when the shop sends them (`settings.marketing`). A marketing message reaches only
//! a customer whose latest answer is yes.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::consent::{Answer, ConsentEntry, Purpose};
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::customer::Channel;
use crate::handoff::Handoff;
use crate::text::{LocalizedText, Text, TextKey};
use crate::time::{Span, Timestamp};

/// Meta's channels take a free-form message only within a day of the customer's last;
/// marketing outside it would need an approved template, so it is not sent.
const META_WINDOW: Span = Span::hours(24);

impl Conversation {
    pub(crate) fn record_asked(
        &mut self,
        ctx: &Context,
        purpose: Purpose,
        text: TextKey,
        now: Timestamp,
    ) {
        let version = ctx
            .settings
            .text_versions
            .get(&(text, self.locale))
            .cloned()
            .unwrap_or_default();
        self.consents.record(ConsentEntry::Asked {
            purpose,
            at: now,
            text,
            locale: self.locale,
            version,
            channel: self.reach.last_channel,
        });
    }

    /// `answering`: the button or word answers the question this purpose's last reply asked.
    pub(crate) fn record_answer(
        &mut self,
        purpose: Purpose,
        granted: bool,
        answering: bool,
        now: Timestamp,
    ) {
        self.consents.record(ConsentEntry::Answered {
            purpose,
            at: now,
            granted,
            how: if answering {
                Answer::ToQuestion
            } else {
                Answer::Unprompted
            },
            channel: self.reach.last_channel,
        });
    }

    /// After the first paid order, once: may the shop send news and offers?
    pub(crate) fn maybe_ask_marketing(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !ctx.settings.marketing || self.consents.asked(Purpose::Marketing) {
            return;
        }
        self.record_asked(ctx, Purpose::Marketing, TextKey::MarketingAsk, now);
        let choices = vec![
            Choice::new(ChoiceAction::MarketingYes, TextKey::ChoiceMarketingYes),
            Choice::new(ChoiceAction::MarketingNo, TextKey::ChoiceMarketingNo),
        ];
        self.say(out, Reply::key(TextKey::MarketingAsk).choices(choices));
    }

    pub(crate) fn answer_marketing(
        &mut self,
        yes: bool,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let answering = self.offered.contains(&ChoiceAction::MarketingYes);
        self.record_answer(Purpose::Marketing, yes, answering, now);
        let key = if yes {
            TextKey::MarketingThanks
        } else {
            TextKey::MarketingStopped
        };
        self.say(out, Reply::key(key));
        Handled::Yes
    }

    /// A message of the shop's campaign: sent only with a yes in force, while no person
    /// talks to the customer, and where the channel takes it.
    pub(crate) fn on_marketing(
        &mut self,
        text: &LocalizedText,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if self.consents.current(Purpose::Marketing) != Some(true) || self.handoff != Handoff::Bot {
            return;
        }
        let Some(channel) = self.reach.preferred_channel.or(self.reach.last_channel) else {
            return;
        };
        let meta = matches!(
            channel,
            Channel::WhatsApp | Channel::Messenger | Channel::Instagram
        );
        let open = self
            .reach
            .last_inbound_by_channel
            .get(&channel)
            .is_some_and(|at| now < at.plus(META_WINDOW));
        if meta && !open {
            return;
        }
        let body =
            Text::new(TextKey::MarketingMessage).str("text", text.get(self.locale).to_owned());
        let choices = vec![Choice::new(
            ChoiceAction::MarketingNo,
            TextKey::ChoiceStopOffers,
        )];
        self.say(out, Reply::text(body).choices(choices));
    }
}

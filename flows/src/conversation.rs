//! The conversation state machine: `Conversation::step` takes one event and returns the next
//! conversation and the actions for the shell. It never fails and never does IO.

use serde::{Deserialize, Serialize};

use crate::action::{Action, ChoiceAction, Reply};
use crate::cart::Cart;
use crate::catalog::{CategoryId, ProductId, Sku};
use crate::context::Context;
use crate::customer::CustomerId;
use crate::event::{Event, Inbound, InboundMessage, TimerKind};
use crate::handoff::Handoff;
use crate::locale::Locale;
use crate::money::Money;
use crate::order::{ContactPoint, Fulfilment, OrderBook, OrderId};
use crate::reach::Reach;
use crate::time::Timestamp;
use crate::understanding::{Intent, exact_command, understand};

/// Where the conversation is. Each variant carries exactly the data its step needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "flow")]
pub enum FlowState {
    /// Nothing in progress: after the welcome, the menu, or a finished action.
    Idle,
    Browsing(BrowseStep),
    Product(ProductStep),
    Cart,
    Checkout(CheckoutStep),
    Booking(crate::booking::BookingStep),
}

impl FlowState {
    /// The flow's name, as stored ("idle", "browsing", "checkout"...).
    pub const fn name(&self) -> &'static str {
        match self {
            FlowState::Idle => "idle",
            FlowState::Browsing(_) => "browsing",
            FlowState::Product(_) => "product",
            FlowState::Cart => "cart",
            FlowState::Checkout(_) => "checkout",
            FlowState::Booking(_) => "booking",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum BrowseStep {
    Categories,
    Category {
        category: CategoryId,
        page: u32,
    },
    Results {
        products: Vec<ProductId>,
        /// The page shown (records from before paging: the first).
        #[serde(default = "first_page")]
        page: u32,
    },
}

fn first_page() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum ProductStep {
    Details { product: ProductId },
    PickVariant { product: ProductId },
    PickQuantity { product: ProductId, sku: Sku },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum CheckoutStep {
    AskName,
    AskContact {
        name: String,
    },
    /// Delivery or one of the pickup points.
    AskFulfilment {
        name: String,
        contact: ContactPoint,
    },
    AskAddress {
        name: String,
        contact: ContactPoint,
    },
    Confirm {
        name: String,
        contact: ContactPoint,
        /// Absent when the shop asks neither (and in records from before it could).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fulfilment: Option<Fulfilment>,
    },
    AwaitingPayment {
        order: OrderId,
        total: Money,
    },
}

/// What the customer told us once and should not have to repeat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
    pub contact: Option<ContactPoint>,
    #[serde(default)]
    pub address: Option<String>,
    /// The customer's time zone (IANA name), when their channel told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// One customer's conversation, in parts. Stored as one flat record: serde's Serialize and
/// Deserialize for it live in `conversation_record.rs`, which maps between the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub customer: CustomerId,
    pub locale: Locale,
    pub state: FlowState,
    pub cart: Cart,
    pub profile: Profile,
    /// The actions of the last reply that offered any, so "2" can mean the second one.
    pub offered: Vec<ChoiceAction>,
    /// Consecutive messages not understood; reset by any understood one.
    pub misses: u32,
    /// Where and when the customer writes.
    pub reach: Reach,
    /// The orders placed here, the recent ones as placed with their current status.
    pub orders: OrderBook,
    /// Who talks to the customer: the bot, nobody yet, or one operator.
    pub handoff: Handoff,
    /// Abandoned-cart reminders: the running sequence, opt-out and consent.
    pub recovery: crate::recovery::RecoveryState,
    /// After a link: the other chat's cart, until the customer adds it or keeps this one.
    pub pending_cart: Vec<crate::cart::CartLine>,
    /// Records from before the handoff protocol said only this; read once, then `handoff`.
    pub(crate) legacy_needs_human: bool,
    /// When the pending session-expiry timer fires. The timer is armed once and, if the
    /// customer wrote since, re-armed when it fires, instead of being moved on every message:
    /// moving it cost three store writes per message.
    pub session_timer_due: Option<Timestamp>,
    /// Appointments: every upcoming one and the latest few finished, and their reminder.
    pub appointments: crate::booking::Appointments,
    /// The colours and sizes the customer's last search named: "Add" then offers only the
    /// variants that fit them (and skips the choice when one does).
    pub wanted: Wanted,
    /// What the customer's writing said about their language (`flow/language.rs`).
    pub language: crate::language::LanguageSense,
    /// A message the language model is reading (`flow/nlu.rs`).
    pub pending_nlu: Option<crate::understanding::PendingNlu>,
    /// Requests to the model so far: each gets the next number.
    pub nlu_requests: u32,
    /// What the customer was asked to agree to and answered (reminders, marketing).
    pub consents: crate::consent::Consents,
}

/// Colours (canonical ids) and sizes (as catalogs write them) a search asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Wanted {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colours: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<String>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.colours.is_empty() && self.sizes.is_empty()
    }

    /// Whether a variant is what was asked for (a filter not asked for fits anything).
    pub fn fits(&self, variant: &crate::catalog::Variant) -> bool {
        let colour_fits = self.colours.is_empty()
            || variant
                .colour
                .as_deref()
                .and_then(crate::search::canonical_colour)
                .is_some_and(|colour| self.colours.iter().any(|c| c == colour));
        let size_fits = self.sizes.is_empty()
            || variant
                .size
                .as_deref()
                .is_some_and(|size| self.sizes.iter().any(|s| s.eq_ignore_ascii_case(size)));
        colour_fits && size_fits
    }
}

/// The result of one step: the conversation to store and what to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub conversation: Conversation,
    pub actions: Vec<Action>,
}

/// Whether an input moved the conversation on; misses count towards escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handled {
    Yes,
    Missed,
    /// Sent to the language model: neither understood nor missed until its reading (or the
    /// rules, in its stead) answers.
    Pending,
}

impl Conversation {
    pub fn new(customer: CustomerId, locale: Locale) -> Conversation {
        Conversation {
            customer,
            locale,
            state: FlowState::Idle,
            cart: Cart::default(),
            profile: Profile::default(),
            offered: Vec::new(),
            misses: 0,
            reach: Reach::default(),
            orders: OrderBook::default(),
            handoff: Handoff::Bot,
            legacy_needs_human: false,
            pending_cart: Vec::new(),
            recovery: crate::recovery::RecoveryState::default(),
            session_timer_due: None,
            appointments: crate::booking::Appointments::default(),
            wanted: Wanted::default(),
            language: crate::language::LanguageSense::default(),
            pending_nlu: None,
            nlu_requests: 0,
            consents: crate::consent::Consents::default(),
        }
    }

    pub fn step(mut self, ctx: &Context, event: Event, now: Timestamp) -> Step {
        let mut out = Vec::new();
        if std::mem::take(&mut self.legacy_needs_human) && self.handoff == Handoff::Bot {
            self.handoff = Handoff::Waiting {
                since: now,
                reason: crate::action::HandoffReason::HumanRequested,
                mode: crate::handoff::WaitMode::Offered,
                told_at: Some(now),
            };
        }
        // What an operator's action says is theirs, except at hand back: then the bot speaks.
        let by_operator = (event.is_operator()
            && !matches!(event, Event::OperatorHandedBack { .. }))
        .then(|| event.operator().cloned())
        .flatten();
        // A payment link is what the customer is waiting for, whoever asked for it: it goes
        // out even while an operator owns the conversation (as the bot's, untagged).
        let passes_through = matches!(
            event,
            Event::PaymentLinkReady { .. }
                | Event::Booking(crate::booking::BookingOutcome::Booked { .. })
        );
        let offered_before = self.offered.clone();
        match event {
            Event::Inbound(inbound) => {
                // Reactions are no visit, and answering a reminder is not abandoning anew.
                let not_activity = match &inbound.message {
                    InboundMessage::Reaction { .. } | InboundMessage::Unsend { .. } => true,
                    InboundMessage::Action(id) => id == "remindme" || id == "stopreminders",
                    _ => false,
                };
                self.on_inbound(ctx, inbound, now, &mut out);
                if !not_activity {
                    self.recovery_after_activity(ctx, now, &mut out);
                }
            }
            Event::NluResult { intent, request } => {
                self.on_nlu_result(ctx, intent, request, now, &mut out)
            }
            Event::TimerFired(kind) => self.on_timer(ctx, kind, now, &mut out),
            Event::PaymentLinkReady { order, url } => {
                self.on_payment_link(ctx, order, url, &mut out)
            }
            Event::PaymentConfirmed { order } => {
                self.on_payment_confirmed(ctx, &order, &mut out);
                self.end_recovery(&mut out);
                self.maybe_ask_marketing(ctx, now, &mut out);
            }
            Event::PaymentFailed { order, reason } => {
                self.on_payment_failed(ctx, &order, reason, now, &mut out)
            }
            Event::OrderOversold { order, skus } => self.on_oversold(&order, &skus, &mut out),
            Event::OrderStatusChanged {
                order,
                status,
                tracking,
                by,
            } => self.on_order_status(ctx, &order, (status, tracking), by, &mut out),
            Event::OperatorTookOver { operator, name } => {
                self.on_takeover(operator, &name, now, &mut out)
            }
            Event::OperatorMessage {
                operator,
                text,
                original,
            } => self.on_operator_message(&operator, &text, original, &mut out),
            Event::OperatorReassigned { from, to, name } => {
                self.on_reassign(&from, to, &name, &mut out)
            }
            Event::OperatorHandedBack { operator, resolved } => {
                self.on_hand_back(ctx, &operator, resolved, now, &mut out)
            }
            Event::OperatorSentProduct { operator, product } => {
                self.on_operator_product(ctx, &operator, &product, &mut out)
            }
            Event::OperatorSentPaymentLink { operator } => {
                self.on_operator_payment_link(ctx, &operator, now, &mut out)
            }
            Event::LinkCodeIssued { code, minutes } => self.on_link_code(&code, minutes, &mut out),
            Event::Linked(outcome) => self.on_linked(ctx, outcome, &mut out),
            Event::Booking(outcome) => self.on_booking_outcome(ctx, outcome, now, &mut out),
            Event::OperatorMarkedNoShow { booking, .. } => self.on_no_show(&booking, now, &mut out),
            // The shell carries erasure out before any step; reaching here, it is a no-op.
            Event::EraseRequested { .. } => {}
            Event::Marketing { text, .. } => self.on_marketing(&text, now, &mut out),
        }
        self.attribute_replies(
            by_operator.as_ref(),
            passes_through,
            offered_before,
            &mut out,
        );
        Step {
            conversation: self,
            actions: out,
        }
    }

    /// Queues a reply and remembers what it offered, for answers by number.
    pub(crate) fn say(&mut self, out: &mut Vec<Action>, reply: Reply) {
        let from_cards: Vec<ChoiceAction> = reply
            .cards
            .iter()
            .map(|card| ChoiceAction::Product(card.product.clone()))
            .collect();
        let offered = if from_cards.len() > 1 {
            from_cards
        } else {
            reply.choices.iter().map(|c| c.action.clone()).collect()
        };
        if !offered.is_empty() {
            self.offered = offered;
        }
        out.push(Action::Send(reply));
    }

    fn on_inbound(
        &mut self,
        ctx: &Context,
        inbound: Inbound,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        // Reactions and deletions are part of the record, not requests: no reply, and they
        // neither reset a flow's timer nor count as a miss.
        if let InboundMessage::Reaction { .. } | InboundMessage::Unsend { .. } = inbound.message {
            self.reach
                .last_inbound_by_channel
                .insert(inbound.channel, now);
            return;
        }
        // A new message or press supersedes one the model is still reading.
        self.drop_pending_nlu(out);
        let first_contact = self.reach.last_inbound_at.is_none();
        self.reach.last_inbound_at = Some(now);
        self.reach.last_channel = Some(inbound.channel);
        // A platform's send time, never in our future: a late delivery must not stretch the
        // messaging window past what the platform allows.
        let sent_at = inbound
            .context
            .sent_at
            .filter(|at| *at <= now)
            .unwrap_or(now);
        self.reach
            .last_inbound_by_channel
            .insert(inbound.channel, sent_at);
        if let Some(referral) = inbound.context.referral.clone() {
            self.reach.ad_referral = Some(referral);
        }
        if let Some(zone) = inbound.context.time_zone.as_deref()
            && zone.parse::<chrono_tz::Tz>().is_ok()
        {
            self.profile.time_zone = Some(zone.to_owned());
        }
        // None pending (or it is overdue and was lost): arm it.
        if self.session_timer_due.is_none_or(|due| due <= now) {
            self.arm_session_timer(now.plus(ctx.settings.session_timeout), out);
        }
        // An operator owns the conversation: the message is recorded (by the shell) for them;
        // the bot neither answers nor counts it.
        if self.handoff.owner().is_some() {
            return;
        }
        // Writing a message for the team: kept for them, acknowledged, not interpreted.
        if self.handoff.is_taking_message() && !matches!(inbound.message, InboundMessage::Action(_))
        {
            self.tell_waiting(ctx, now, false, out);
            return;
        }
        // An m.me link whose `ref` is a link code (`m.me/<page>?ref=LK-…`): as if typed.
        if let Some(code) = inbound
            .context
            .referral
            .as_ref()
            .and_then(|referral| referral.click_id.as_deref())
            .and_then(crate::understanding::link_code)
        {
            let handled = self.redeem_link_code(code, out);
            self.count(ctx, handled, now, out);
            return;
        }
        // Their own number, vouched for by the platform: a way to link chats.
        if let Some(phone) = inbound.context.own_phone.clone() {
            out.push(Action::LinkByPhone(phone));
            self.count(ctx, Handled::Yes, now, out);
            return;
        }
        let referred = inbound.context.referred_product.clone();
        let handled = match inbound.message {
            InboundMessage::Action(id) => match ChoiceAction::parse(&id) {
                Some(action) => self.on_choice(ctx, action, now, first_contact, out),
                None => self.stale_choice(ctx, out),
            },
            InboundMessage::Text(text) => {
                match self.on_text(ctx, &text, now, first_contact, out) {
                    // "Is this available in blue?" about a catalog item: show that item.
                    Handled::Missed if referred.is_some() => self.show_referred(ctx, referred, out),
                    // Kept for the rules' answer, should the model not have one.
                    Handled::Pending => {
                        if let Some(pending) = &mut self.pending_nlu {
                            pending.referred = referred;
                        }
                        Handled::Pending
                    }
                    handled => handled,
                }
            }
            InboundMessage::Media {
                caption: Some(caption),
                ..
            } if !caption.trim().is_empty() => self.on_text(ctx, &caption, now, first_contact, out),
            InboundMessage::CatalogOrder { items } => {
                self.cart_from_catalog_order(ctx, &items, out)
            }
            InboundMessage::Location { .. }
            | InboundMessage::Contact { .. }
            | InboundMessage::Media { .. }
            | InboundMessage::Reaction { .. }
            | InboundMessage::Unsend { .. } => self.unsupported_message(ctx, out),
        };
        self.count(ctx, handled, now, out);
    }

    pub(crate) fn show_referred(
        &mut self,
        ctx: &Context,
        sku: Option<String>,
        out: &mut Vec<Action>,
    ) -> Handled {
        match sku.and_then(|sku| ctx.catalog.variant(&crate::catalog::Sku(sku))) {
            Some((product, _)) => {
                let id = product.id.clone();
                self.show_product(ctx, &id, out)
            }
            None => Handled::Missed,
        }
    }

    fn on_text(
        &mut self,
        ctx: &Context,
        text: &str,
        now: Timestamp,
        first_contact: bool,
        out: &mut Vec<Action>,
    ) -> Handled {
        // While we ask for a name or a contact, free text is the answer unless the whole
        // message is one of the words that always work: "Jane Back" is a name, "back" is not.
        if let FlowState::Checkout(
            CheckoutStep::AskName
            | CheckoutStep::AskContact { .. }
            | CheckoutStep::AskAddress { .. },
        ) = self.state
        {
            return match exact_command(text) {
                Some(intent) => self.on_intent(ctx, intent, now, out),
                None => self.checkout_answer(ctx, text, now, out),
            };
        }
        if let FlowState::Booking(
            crate::booking::BookingStep::AskName { .. }
            | crate::booking::BookingStep::AskContact { .. },
        ) = self.state
        {
            return match exact_command(text) {
                Some(intent) => self.on_intent(ctx, intent, now, out),
                None => self.booking_answer(ctx, text, out),
            };
        }
        self.follow_language(ctx, text);
        // In a booking: a service named, or a day and time in words.
        if let Some(handled) = self.booking_words(ctx, text, now, out) {
            return handled;
        }
        let intent = if ctx.settings.booking.enabled() && crate::understanding::only_book_verb(text)
        {
            Intent::Book
        } else {
            understand(text, &ctx.catalog)
        };
        if let Some(handled) = self.answer_from_knowledge(ctx, text, &intent, out) {
            return handled;
        }
        if intent == Intent::Unknown && ctx.settings.nlu_enabled {
            return self.ask_model(ctx, text, now, out);
        }
        // A short ask for something we do not sell, unless the customer waits for a person
        // (then what they write is kept for the team).
        let intent = match intent {
            Intent::Unknown if !self.handoff.is_waiting() => {
                crate::understanding::not_carried(text, &ctx.catalog)
                    .map_or(Intent::Unknown, Intent::NotCarried)
            }
            intent => intent,
        };
        if intent == Intent::Unknown
            && let Some(handled) = self.unanswered_question(ctx, text, now, out)
        {
            return handled;
        }
        // "An appointment tomorrow at 10": start, then take the day and time as said.
        if intent == Intent::Book && ctx.settings.booking.enabled() {
            // The services list is only said when the words did not already pick one.
            let mut first = Vec::new();
            let handled = self.start_booking(ctx, None, now, &mut first);
            if let Some(handled) = self.booking_words(ctx, text, now, out) {
                return handled;
            }
            out.extend(first);
            return handled;
        }
        if intent == Intent::Greeting {
            // "Hello?" from someone waiting for a person is a nudge, not a new visit.
            if self.handoff.is_waiting() {
                self.tell_waiting(ctx, now, false, out);
                return Handled::Yes;
            }
            return self.greet(ctx, first_contact, out);
        }
        self.on_intent(ctx, intent, now, out)
    }

    pub(crate) fn on_intent(
        &mut self,
        ctx: &Context,
        intent: Intent,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let action = match intent {
            Intent::Menu => ChoiceAction::Menu,
            Intent::Help => ChoiceAction::Help,
            Intent::Human => ChoiceAction::Human,
            Intent::Cart => ChoiceAction::Cart,
            Intent::ClearCart => ChoiceAction::ClearCart,
            Intent::Checkout => ChoiceAction::Checkout,
            Intent::Orders => ChoiceAction::Orders,
            Intent::Cancel => ChoiceAction::Cancel,
            Intent::Back => ChoiceAction::Back,
            Intent::Browse => ChoiceAction::Browse,
            Intent::Language => ChoiceAction::Language,
            Intent::SetLanguage(locale) => ChoiceAction::SetLanguage(locale),
            Intent::Greeting => return self.greet(ctx, false, out),
            Intent::Thanks => return self.thanks(ctx, out),
            // "Yes" right after "delete all your data?" is that answer, wherever the flow is.
            Intent::Yes if self.offered.contains(&ChoiceAction::ConfirmErase) => {
                ChoiceAction::ConfirmErase
            }
            Intent::No if self.offered.contains(&ChoiceAction::ConfirmErase) => {
                ChoiceAction::KeepData
            }
            Intent::EraseData => ChoiceAction::EraseData,
            Intent::Yes => match self.state {
                FlowState::Checkout(CheckoutStep::Confirm { .. }) => ChoiceAction::Confirm,
                FlowState::Booking(crate::booking::BookingStep::Confirm { .. }) => {
                    ChoiceAction::ConfirmBooking
                }
                _ => return Handled::Missed,
            },
            Intent::No => match self.state {
                FlowState::Checkout(CheckoutStep::Confirm { .. }) => ChoiceAction::Back,
                FlowState::Booking(crate::booking::BookingStep::Confirm { .. }) => {
                    ChoiceAction::Cancel
                }
                _ => return Handled::Missed,
            },
            Intent::Book => ChoiceAction::Book,
            Intent::Bookings => ChoiceAction::Bookings,
            Intent::Number(n) => match &self.state {
                FlowState::Product(ProductStep::PickQuantity { sku, .. }) => {
                    ChoiceAction::Quantity {
                        sku: sku.clone(),
                        quantity: n,
                    }
                }
                _ => match usize::try_from(n).ok().and_then(|n| n.checked_sub(1)) {
                    Some(index) if index < self.offered.len() => self.offered[index].clone(),
                    _ => return Handled::Missed,
                },
            },
            Intent::Products(products) => return self.show_products(ctx, products, out),
            Intent::Search(query) => return self.search(ctx, &query, out),
            Intent::Category(category) => ChoiceAction::Category { category, page: 1 },
            Intent::Link => return self.ask_link_code(out),
            Intent::StopReminders => ChoiceAction::StopReminders,
            Intent::LinkCode(code) => return self.redeem_link_code(code, out),
            Intent::DiscountCode(code) => return self.apply_discount(ctx, &code, now, out),
            Intent::LinkPhone(phone) => {
                out.push(Action::SendLinkCodeToPhone(phone));
                return Handled::Yes;
            }
            Intent::NotCarried(absent) => return self.not_carried(ctx, &absent, out),
            Intent::Add {
                product,
                sku,
                quantity,
            } => return self.add_as_read(ctx, &product, sku, quantity, out),
            Intent::BookAt { service, when } => {
                return self.book_as_read(ctx, service, when, now, out);
            }
            Intent::AskShop { question } => return self.ask_shop(ctx, &question, now, out),
            Intent::Unknown => return Handled::Missed,
        };
        self.on_choice(ctx, action, now, false, out)
    }

    fn on_choice(
        &mut self,
        ctx: &Context,
        action: ChoiceAction,
        now: Timestamp,
        first_contact: bool,
        out: &mut Vec<Action>,
    ) -> Handled {
        match action {
            ChoiceAction::Start => self.greet(ctx, first_contact, out),
            ChoiceAction::Menu => self.menu(ctx, out),
            ChoiceAction::Help => self.help(out),
            ChoiceAction::Human => {
                self.escalate(ctx, crate::action::HandoffReason::HumanRequested, now, out)
            }
            ChoiceAction::ContinueWithBot => self.continue_with_bot(ctx, out),
            ChoiceAction::LeaveMessage => self.leave_message(now, out),
            ChoiceAction::MergeCarts => self.merge_carts(ctx, false, out),
            ChoiceAction::KeepCart => self.merge_carts(ctx, true, out),
            ChoiceAction::PreferHere => self.prefer_here(out),
            ChoiceAction::RemindMe => self.remind_me(ctx, now, out),
            ChoiceAction::StopReminders => self.stop_reminders(now, out),
            ChoiceAction::Language => self.choose_language(out),
            ChoiceAction::SetLanguage(locale) => self.set_language(ctx, locale, out),
            ChoiceAction::Browse => self.show_categories(ctx, out),
            ChoiceAction::Category { category, page } => {
                self.show_category(ctx, &category, page, out)
            }
            ChoiceAction::ResultsPage(page) => self.page_results(ctx, page, out),
            ChoiceAction::Product(product) => self.show_product(ctx, &product, out),
            ChoiceAction::Add(product) => self.start_add(ctx, &product, out),
            ChoiceAction::Variant(sku) => self.pick_variant(ctx, &sku, out),
            ChoiceAction::Quantity { sku, quantity } => {
                self.pick_quantity(ctx, &sku, quantity, out)
            }
            ChoiceAction::Increase(sku) => self.change_line(ctx, &sku, 1, out),
            ChoiceAction::Decrease(sku) => self.change_line(ctx, &sku, -1, out),
            ChoiceAction::Remove(sku) => self.remove_line(ctx, &sku, out),
            ChoiceAction::Cart => self.show_cart(ctx, out),
            ChoiceAction::ClearCart => self.clear_cart(ctx, out),
            ChoiceAction::Checkout => self.start_checkout(ctx, out),
            ChoiceAction::UseSaved => self.use_saved_details(ctx, now, out),
            ChoiceAction::Confirm => self.confirm_order(ctx, now, out),
            ChoiceAction::Back => self.back(ctx, now, out),
            ChoiceAction::Cancel => self.cancel(ctx, out),
            ChoiceAction::PayAgain(order) => self.pay_again(ctx, &order, out),
            ChoiceAction::EditOrder(order) => self.edit_order(ctx, &order, out),
            ChoiceAction::Orders => self.show_orders(ctx, out),
            ChoiceAction::Similar(product) => self.show_similar(ctx, &product, out),
            ChoiceAction::Delivery => self.choose_delivery(ctx, out),
            ChoiceAction::Pickup(point) => self.choose_pickup(ctx, point, now, out),
            ChoiceAction::UseSavedAddress => self.use_saved_address(ctx, now, out),
            ChoiceAction::Book => {
                let replaces = self.booking_replaces();
                self.start_booking(ctx, replaces, now, out)
            }
            ChoiceAction::Bookings => self.show_bookings(ctx, now, out),
            ChoiceAction::UseDiscount(code) => self.apply_discount(ctx, &code, now, out),
            ChoiceAction::Service(service) => self.pick_service(ctx, service, now, out),
            ChoiceAction::Day(day) => self.pick_day(ctx, &day, now, out),
            ChoiceAction::TimesPage { day, page } => self.page_times(ctx, &day, page, now, out),
            ChoiceAction::Slot { staff, minute } => self.pick_slot(ctx, staff, minute, now, out),
            ChoiceAction::ConfirmBooking => self.confirm_booking(ctx, out),
            ChoiceAction::Reschedule(id) => self.reschedule_booking(ctx, &id, now, out),
            ChoiceAction::CancelBooking(id) => self.ask_cancel_booking(ctx, &id, now, out),
            ChoiceAction::ConfirmCancelBooking(id) => self.cancel_booking(ctx, &id, now, out),
            ChoiceAction::Attend(id) => self.attend_booking(ctx, &id, now, out),
            ChoiceAction::EraseData => self.ask_erasure(out),
            ChoiceAction::ConfirmErase => self.confirm_erasure(now, out),
            ChoiceAction::KeepData => self.keep_data(ctx, out),
            ChoiceAction::MarketingYes => self.answer_marketing(true, now, out),
            ChoiceAction::MarketingNo => self.answer_marketing(false, now, out),
        }
    }

    pub(crate) fn on_timer(
        &mut self,
        ctx: &Context,
        kind: TimerKind,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        // Held while a person owns the conversation; run again (re-checked) at hand back.
        // The wait timer means nothing once somebody came.
        if let Handoff::Human { held, .. } = &mut self.handoff {
            if kind != TimerKind::HandoffWait && !held.contains(&kind) {
                held.push(kind);
            }
            return;
        }
        match kind {
            TimerKind::HandoffWait => self.on_handoff_timer(ctx, now, out),
            TimerKind::CartRecovery => self.on_recovery_timer(ctx, now, out),
            TimerKind::BookingReminder => self.on_booking_timer(ctx, now, out),
            TimerKind::NluWait => self.on_nlu_timer(ctx, now, out),
            // Carried out by the shell, never stepped (see `Event::EraseRequested`).
            TimerKind::Erasure => {}
            TimerKind::SessionExpiry => {
                // Timers can fire late or twice, and this one is not moved when the customer
                // writes: only a real silence resets the flow; otherwise wait out the rest.
                let silence_ends = self
                    .reach
                    .last_inbound_at
                    .map(|last| last.plus(ctx.settings.session_timeout));
                if let Some(ends) = silence_ends.filter(|ends| *ends > now) {
                    if self.session_timer_due != Some(ends) {
                        self.arm_session_timer(ends, out);
                    }
                    return;
                }
                self.session_timer_due = None;
                let keep = matches!(
                    self.state,
                    FlowState::Idle | FlowState::Checkout(CheckoutStep::AwaitingPayment { .. })
                );
                if !keep {
                    self.state = FlowState::Idle;
                    self.offered.clear();
                }
            }
        }
    }

    fn arm_session_timer(&mut self, at: Timestamp, out: &mut Vec<Action>) {
        self.session_timer_due = Some(at);
        out.push(Action::SetTimer {
            kind: TimerKind::SessionExpiry,
            at,
        });
    }
}

//! Booking an appointment: service → a day with free times → a time (held in the store
//! while the customer gives name and contact) → confirmation → booked, with a calendar link
//! and buttons to move or cancel it. Days and times may also be written ("tomorrow
//! afternoon", "Friday at 10", "mâine la 14"). Reminders, moving, cancelling and no-shows
//! are in `flow/booking_changes.rs`.

use chrono::{Datelike, NaiveDate, TimeDelta, Timelike};

use crate::action::{Action, Choice, ChoiceAction, Link, Reply};
use crate::booking::{
    Booking, BookingId, BookingOutcome, BookingRequest, BookingStatus, BookingStep, Busy, Draft,
    ServiceId, Slot, StaffId, days_with_slots, free_slots, local_date,
};
use crate::contact::{parse_contact, parse_name};
use crate::context::Context;
use crate::conversation::{Conversation, FlowState, Handled};
use crate::order::ContactPoint;
use crate::text::{Arg, Label, Text, TextKey};
use crate::time::Timestamp;
use crate::understanding::normalize::{fold, tokens};
use crate::understanding::when::{DayWord, When, parse_when};

pub(crate) fn date_id(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

fn parse_date_id(id: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(id, "%Y%m%d").ok()
}

/// The service the words name: its whole name in any language, else one of its longer
/// words ("alteration" for "Alterations consultation"), when only one service has it.
fn service_named(ctx: &Context, text: &str) -> Option<ServiceId> {
    let folded = fold(text);
    let said = tokens(&folded);
    let services = &ctx.settings.booking.services;
    let names = |service: &crate::booking::Service| -> Vec<String> {
        service
            .name
            .all()
            .map(fold)
            .filter(|name| !name.is_empty())
            .collect()
    };
    if let Some(whole) = services.iter().find(|service| {
        names(service)
            .iter()
            .any(|name| folded.contains(name.as_str()))
    }) {
        return Some(whole.id.clone());
    }
    // Short words and stopwords ("of", "pentru") say nothing; a word and its plural share
    // a stem ("alteration", "alterations"; "proba", "probe").
    let telling = |word: &str| {
        word.chars().count() >= 4 && !crate::understanding::lexicon::STOPWORDS.contains(&word)
    };
    let shares_a_word = |service: &&crate::booking::Service| {
        names(service).iter().any(|name| {
            tokens(name).iter().filter(|w| telling(w)).any(|word| {
                said.iter().filter(|s| telling(s)).any(|s| {
                    let stem = |w: &str| w.chars().take(4).collect::<String>();
                    word.starts_with(*s) || s.starts_with(*word) || stem(word) == stem(s)
                })
            })
        })
    };
    let mut matching = services.iter().filter(shares_a_word);
    match (matching.next(), matching.next()) {
        (Some(only), None) => Some(only.id.clone()),
        _ => None,
    }
}

/// Whether a slot starts within `hours` (local hours, from inclusive, to exclusive) of the
/// shop's zone; any slot when no part of the day was asked for.
fn in_hours(slot: &Slot, zone: chrono_tz::Tz, hours: Option<(u32, u32)>) -> bool {
    hours.is_none_or(|(from, to)| {
        let hour = chrono::DateTime::from_timestamp_millis(slot.start.millis())
            .unwrap_or_default()
            .with_timezone(&zone)
            .hour();
        (from..to).contains(&hour)
    })
}

fn day_arg(date: NaiveDate) -> Arg {
    Arg::Day(date.format("%Y-%m-%d").to_string())
}

fn day_choice(date: NaiveDate) -> Choice {
    Choice {
        action: ChoiceAction::Day(date_id(date)),
        label: Label::Text(Text::new(TextKey::DayLabel).with("day", day_arg(date))),
    }
}

/// The next date on or after `today` that `word` names.
fn resolve_day(word: DayWord, today: NaiveDate) -> NaiveDate {
    match word {
        DayWord::Today => today,
        DayWord::Tomorrow => today + TimeDelta::days(1),
        DayWord::DayAfterTomorrow => today + TimeDelta::days(2),
        DayWord::Weekday(_) => {
            let wanted = word.weekday().map_or(0, |day| day.num_days_from_monday());
            let now = today.weekday().num_days_from_monday();
            today + TimeDelta::days(i64::from((wanted + 7 - now) % 7))
        }
    }
}

impl Conversation {
    /// The zones a time is written in: the shop's, and the customer's when it differs.
    fn zones(&self, ctx: &Context) -> (String, Option<String>) {
        let zone = ctx.settings.booking.zone.name().to_owned();
        let also = self
            .profile
            .time_zone
            .clone()
            .filter(|theirs| *theirs != zone);
        (zone, also)
    }

    /// A time written for the customer, in both zones when they differ.
    pub(crate) fn when_arg(&self, ctx: &Context, at: Timestamp) -> Arg {
        let (zone, also) = self.zones(ctx);
        Arg::When { at, zone, also }
    }

    fn slot_choice(&self, ctx: &Context, slot: &Slot) -> Choice {
        let (zone, also) = self.zones(ctx);
        let time = Arg::Clock {
            at: slot.start,
            zone,
            also,
        };
        Choice {
            action: ChoiceAction::Slot {
                staff: slot.staff.clone(),
                minute: slot.start.millis() / 60_000,
            },
            label: Label::Text(Text::new(TextKey::TimeLabel).with("time", time)),
        }
    }

    /// A message about one booking: its service and when, in the customer's zone too.
    pub(crate) fn booking_text(&self, ctx: &Context, key: TextKey, booking: &Booking) -> Text {
        Text::new(key)
            .str("service", self.service_name(ctx, &booking.service))
            .with("when", self.when_arg(ctx, booking.start))
    }

    pub(crate) fn service_name(&self, ctx: &Context, id: &ServiceId) -> String {
        ctx.settings
            .booking
            .service(id)
            .map_or_else(|| id.0.clone(), |s| s.name.get(self.locale).to_owned())
    }

    pub(crate) fn staff_name(ctx: &Context, id: &StaffId) -> String {
        ctx.settings
            .booking
            .staff_member(id)
            .map_or_else(|| id.0.clone(), |s| s.name.clone())
    }

    fn next_booking_id(&mut self) -> BookingId {
        self.appointments.made = self.appointments.made.saturating_add(1);
        let prefix: String = self
            .customer
            .0
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        BookingId(format!("{prefix}-B{}", self.appointments.made))
    }

    pub(crate) fn start_booking(
        &mut self,
        ctx: &Context,
        replaces: Option<BookingId>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let booking = &ctx.settings.booking;
        if !booking.enabled() {
            return Handled::Missed;
        }
        if let [only] = booking.services.as_slice() {
            let id = only.id.clone();
            return self.show_days(ctx, id, replaces, now, out);
        }
        let mut choices: Vec<Choice> = booking
            .services
            .iter()
            .map(|service| {
                let name = service.name.get(self.locale).to_owned();
                Choice {
                    action: ChoiceAction::Service(service.id.clone()),
                    label: match service.price {
                        Some(price) => Label::Priced { name, price },
                        None => Label::Literal(name),
                    },
                }
            })
            .collect();
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        self.state = FlowState::Booking(BookingStep::Service { replaces });
        self.say(out, Reply::key(TextKey::BookingServices).choices(choices));
        Handled::Yes
    }

    /// "Other days" while moving a booking keeps moving that booking.
    pub(crate) fn booking_replaces(&self) -> Option<BookingId> {
        self.replaces()
    }

    fn replaces(&self) -> Option<BookingId> {
        match &self.state {
            FlowState::Booking(
                BookingStep::Service { replaces }
                | BookingStep::Day { replaces, .. }
                | BookingStep::Time { replaces, .. },
            ) => replaces.clone(),
            FlowState::Booking(
                BookingStep::AskName { draft }
                | BookingStep::AskContact { draft, .. }
                | BookingStep::Confirm { draft, .. }
                | BookingStep::Waiting { draft },
            ) => draft.replaces.clone(),
            _ => None,
        }
    }

    fn draft(&self) -> Option<&Draft> {
        match &self.state {
            FlowState::Booking(
                BookingStep::AskName { draft }
                | BookingStep::AskContact { draft, .. }
                | BookingStep::Confirm { draft, .. }
                | BookingStep::Waiting { draft },
            ) => Some(draft),
            _ => None,
        }
    }

    /// The next days with a free time for `service` (not counting the booking being moved).
    fn free_days(
        ctx: &Context,
        service: &ServiceId,
        replaces: Option<&BookingId>,
        now: Timestamp,
    ) -> Vec<NaiveDate> {
        let settings = &ctx.settings.booking;
        let Some(found) = settings.service(service) else {
            return Vec::new();
        };
        let ignore: Vec<&BookingId> = replaces.into_iter().collect();
        let calendar = ctx.calendar.read();
        days_with_slots(
            settings,
            &calendar,
            found,
            now,
            &ignore,
            settings.days_offered,
        )
    }

    /// The buttons under a booking: "I'll be there" (in reminders), move, cancel.
    pub(crate) fn booking_choices(id: &BookingId, attend: bool) -> Vec<Choice> {
        let mut choices = Vec::new();
        if attend {
            choices.push(Choice::new(
                ChoiceAction::Attend(id.clone()),
                TextKey::ChoiceAttend,
            ));
        }
        choices.push(Choice::new(
            ChoiceAction::Reschedule(id.clone()),
            TextKey::ChoiceReschedule,
        ));
        choices.push(Choice::new(
            ChoiceAction::CancelBooking(id.clone()),
            TextKey::ChoiceCancelBooking,
        ));
        choices
    }

    fn booking_service(&self) -> Option<ServiceId> {
        match &self.state {
            FlowState::Booking(
                BookingStep::Day { service, .. } | BookingStep::Time { service, .. },
            ) => Some(service.clone()),
            FlowState::Booking(
                BookingStep::AskName { draft }
                | BookingStep::AskContact { draft, .. }
                | BookingStep::Confirm { draft, .. }
                | BookingStep::Waiting { draft },
            ) => Some(draft.service.clone()),
            _ => None,
        }
    }

    pub(crate) fn pick_service(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        if ctx.settings.booking.service(&service).is_none() {
            return self.stale_choice(ctx, out);
        }
        let replaces = self.replaces();
        self.show_days(ctx, service, replaces, now, out)
    }

    pub(crate) fn show_days(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        replaces: Option<BookingId>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let settings = &ctx.settings.booking;
        let Some(found) = settings.service(&service) else {
            return self.stale_choice(ctx, out);
        };
        let days = Self::free_days(ctx, &service, replaces.as_ref(), now);
        let name = found.name.get(self.locale).to_owned();
        if days.is_empty() {
            self.state = FlowState::Idle;
            let choices = vec![
                Choice::new(ChoiceAction::Human, TextKey::ChoiceHuman),
                Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
            ];
            let text = Text::new(TextKey::BookingNoDays)
                .str("service", name)
                .int("days", settings.horizon_days);
            self.say(out, Reply::text(text).choices(choices));
            return Handled::Yes;
        }
        let mut choices: Vec<Choice> = days.into_iter().map(day_choice).collect();
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        self.state = FlowState::Booking(BookingStep::Day {
            service,
            replaces,
            hours: None,
        });
        let text = Text::new(TextKey::BookingDays).str("service", name);
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    pub(crate) fn pick_day(
        &mut self,
        ctx: &Context,
        day: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        // A part of the day asked for earlier ("tomorrow afternoon", tomorrow being full)
        // still holds for the day picked instead.
        let hours = match &self.state {
            FlowState::Booking(BookingStep::Day { hours, .. }) => *hours,
            _ => None,
        };
        match (self.booking_service(), parse_date_id(day)) {
            (Some(service), Some(date)) => self.show_times(ctx, service, date, hours, now, out),
            _ => self.stale_choice(ctx, out),
        }
    }

    fn day_slots(
        &self,
        ctx: &Context,
        service: &ServiceId,
        date: NaiveDate,
        now: Timestamp,
    ) -> Vec<Slot> {
        let settings = &ctx.settings.booking;
        let Some(found) = settings.service(service) else {
            return Vec::new();
        };
        // The booking being moved, and the customer's own hold, do not hide their times.
        let replaces = self.replaces();
        let held = self.draft().map(|draft| draft.booking.clone());
        let ignore: Vec<&BookingId> = replaces.iter().chain(held.iter()).collect();
        let calendar = ctx.calendar.read();
        free_slots(settings, &calendar, found, date, now, &ignore)
    }

    /// The free times of a day (within `hours`, when the customer named a part of it).
    fn show_times(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        date: NaiveDate,
        hours: Option<(u32, u32)>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        self.show_times_page(ctx, service, date, hours, 0, now, out)
    }

    /// "Earlier" / "Later" on a day's times.
    pub(crate) fn page_times(
        &mut self,
        ctx: &Context,
        day: &str,
        page: u32,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let (service, hours) = match &self.state {
            FlowState::Booking(BookingStep::Time {
                service,
                day: shown,
                hours,
                ..
            }) if shown == day => (service.clone(), *hours),
            _ => return self.stale_choice(ctx, out),
        };
        match parse_date_id(day) {
            Some(date) => self.show_times_page(ctx, service, date, hours, page, now, out),
            None => self.stale_choice(ctx, out),
        }
    }

    /// One page of a day's free times, with "Earlier" and "Later" when there are more.
    #[allow(clippy::too_many_arguments)]
    fn show_times_page(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        date: NaiveDate,
        hours: Option<(u32, u32)>,
        page: u32,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let zone = ctx.settings.booking.zone;
        let slots: Vec<Slot> = self
            .day_slots(ctx, &service, date, now)
            .into_iter()
            .filter(|slot| in_hours(slot, zone, hours))
            .collect();
        let replaces = self.replaces();
        if slots.is_empty() {
            return self.no_times(ctx, service, date, replaces, hours, now, out);
        }
        let per_page = ctx.settings.booking.times_offered.max(1);
        let pages = slots.len().div_ceil(per_page);
        let page = (page as usize).min(pages.saturating_sub(1));
        let mut choices: Vec<Choice> = slots
            .iter()
            .skip(page * per_page)
            .take(per_page)
            .map(|slot| self.slot_choice(ctx, slot))
            .collect();
        let turn = |to: usize, key| {
            Choice::new(
                ChoiceAction::TimesPage {
                    day: date_id(date),
                    page: u32::try_from(to).unwrap_or(0),
                },
                key,
            )
        };
        if page > 0 {
            choices.push(turn(page - 1, TextKey::ChoiceEarlierTimes));
        }
        if page + 1 < pages {
            choices.push(turn(page + 1, TextKey::ChoiceLaterTimes));
        }
        choices.push(Choice::new(ChoiceAction::Book, TextKey::ChoiceOtherDays));
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        let text = Text::new(TextKey::BookingTimes)
            .str("service", self.service_name(ctx, &service))
            .with("day", day_arg(date))
            .str("zone", zone.name())
            .str("theirs", self.zones(ctx).1.unwrap_or_else(|| "none".into()));
        self.state = FlowState::Booking(BookingStep::Time {
            service,
            day: date_id(date),
            replaces,
            hours,
        });
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    #[allow(clippy::too_many_arguments)]
    fn no_times(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        date: NaiveDate,
        replaces: Option<BookingId>,
        hours: Option<(u32, u32)>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let mut days = Self::free_days(ctx, &service, replaces.as_ref(), now);
        // The days offered instead have times in the part of the day asked for, if any do.
        if hours.is_some() {
            let zone = ctx.settings.booking.zone;
            let fitting: Vec<NaiveDate> = days
                .iter()
                .copied()
                .filter(|day| {
                    self.day_slots(ctx, &service, *day, now)
                        .iter()
                        .any(|slot| in_hours(slot, zone, hours))
                })
                .collect();
            if !fitting.is_empty() {
                days = fitting;
            }
        }
        let mut choices: Vec<Choice> = days.into_iter().map(day_choice).collect();
        choices.push(Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel));
        self.state = FlowState::Booking(BookingStep::Day {
            service,
            replaces,
            hours,
        });
        let text = Text::new(TextKey::BookingNoTimes).with("day", day_arg(date));
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    pub(crate) fn pick_slot(
        &mut self,
        ctx: &Context,
        staff: StaffId,
        minute: i64,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(service) = self.booking_service() else {
            return self.stale_choice(ctx, out);
        };
        let start = Timestamp(minute.saturating_mul(60_000));
        let date = local_date(start, ctx.settings.booking.zone);
        let free = self
            .day_slots(ctx, &service, date, now)
            .into_iter()
            .any(|slot| slot.start == start && slot.staff == staff);
        if !free {
            return self.slot_taken(ctx, service, start, now, out);
        }
        self.hold_slot(ctx, service, Slot { staff, start }, now, out)
    }

    fn hold_slot(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        slot: Slot,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let settings = &ctx.settings.booking;
        let Some(found) = settings.service(&service) else {
            return self.stale_choice(ctx, out);
        };
        let replaces = self.replaces();
        let draft = Draft {
            booking: self.next_booking_id(),
            service,
            staff: slot.staff.clone(),
            start: slot.start,
            replaces,
        };
        let busy = Busy {
            booking: draft.booking.clone(),
            customer: self.customer.clone(),
            from: Timestamp(slot.start.millis() - found.buffer_before.as_millis()),
            to: slot.start.plus(found.duration).plus(found.buffer_after),
            hold_until: Some(now.plus(settings.hold)),
        };
        out.push(Action::Booking(BookingRequest::Hold {
            busy,
            staff: slot.staff,
        }));
        match (self.profile.name.clone(), self.profile.contact.clone()) {
            (Some(name), Some(contact)) => {
                self.confirm_booking_details(ctx, draft, name, contact, out)
            }
            (Some(name), None) => self.ask_booking_contact(draft, name, out),
            _ => {
                self.state = FlowState::Booking(BookingStep::AskName { draft });
                let choices = vec![Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel)];
                self.say(out, Reply::key(TextKey::BookingAskName).choices(choices));
                Handled::Yes
            }
        }
    }

    fn ask_booking_contact(
        &mut self,
        draft: Draft,
        name: String,
        out: &mut Vec<Action>,
    ) -> Handled {
        let text = Text::new(TextKey::BookingAskContact).str("name", name.clone());
        self.state = FlowState::Booking(BookingStep::AskContact { draft, name });
        let choices = vec![Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel)];
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    fn confirm_booking_details(
        &mut self,
        ctx: &Context,
        draft: Draft,
        name: String,
        contact: ContactPoint,
        out: &mut Vec<Action>,
    ) -> Handled {
        let service = ctx.settings.booking.service(&draft.service);
        let minutes = service.map_or(0, |s| s.duration.as_millis() / 60_000);
        // What it costs is said before the customer agrees, not after "Booked!".
        if let Some(price) = service.and_then(|s| s.price) {
            let text = Text::new(TextKey::BookingConfirmPrice).money("price", price);
            self.say(out, Reply::text(text));
        }
        // A moved booking keeps the deposit of the one it replaces: nothing more to pay.
        let keeps_deposit = draft.replaces.as_ref().is_some_and(|old| {
            self.appointments
                .list
                .iter()
                .any(|b| &b.id == old && b.deposit.is_some())
        });
        if let Some(deposit) = service.and_then(|s| s.deposit).filter(|_| !keeps_deposit) {
            let text = Text::new(TextKey::BookingConfirmDeposit).money("deposit", deposit);
            self.say(out, Reply::text(text));
        }
        let text = Text::new(TextKey::BookingConfirm)
            .str("service", self.service_name(ctx, &draft.service))
            .str("staff", Self::staff_name(ctx, &draft.staff))
            .with("when", self.when_arg(ctx, draft.start))
            .int("minutes", minutes)
            .str("name", name.clone())
            .str("contact", contact.as_str());
        let choices = vec![
            Choice::new(ChoiceAction::ConfirmBooking, TextKey::ChoiceConfirmBooking),
            Choice::new(ChoiceAction::Book, TextKey::ChoiceOtherDays),
            Choice::new(ChoiceAction::Cancel, TextKey::ChoiceCancel),
        ];
        self.state = FlowState::Booking(BookingStep::Confirm {
            draft,
            name,
            contact,
        });
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    /// Free text while a booking asks for a name or a contact: the answer.
    pub(crate) fn booking_answer(
        &mut self,
        ctx: &Context,
        text: &str,
        out: &mut Vec<Action>,
    ) -> Handled {
        match self.state.clone() {
            FlowState::Booking(BookingStep::AskName { draft }) => match parse_name(text) {
                Some(name) => match self.profile.contact.clone() {
                    Some(contact) => self.confirm_booking_details(ctx, draft, name, contact, out),
                    None => self.ask_booking_contact(draft, name, out),
                },
                None => {
                    self.say(out, Reply::key(TextKey::CheckoutNameInvalid));
                    Handled::Yes
                }
            },
            FlowState::Booking(BookingStep::AskContact { draft, name }) => {
                match parse_contact(text) {
                    Some(contact) => self.confirm_booking_details(ctx, draft, name, contact, out),
                    None => {
                        self.say(out, Reply::key(TextKey::CheckoutContactInvalid));
                        Handled::Yes
                    }
                }
            }
            _ => Handled::Missed,
        }
    }

    pub(crate) fn confirm_booking(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        let (draft, name, contact) = match self.state.clone() {
            FlowState::Booking(BookingStep::Confirm {
                draft,
                name,
                contact,
            }) => (draft, name, contact),
            // Pressed again while the store's answer is awaited (it may have been lost in a
            // crash between the step and the request): asked again, the store answers what
            // it decided, or decides now.
            FlowState::Booking(BookingStep::Waiting { draft }) => {
                match (self.profile.name.clone(), self.profile.contact.clone()) {
                    (Some(name), Some(contact)) => (draft, name, contact),
                    _ => return self.stale_choice(ctx, out),
                }
            }
            _ => return self.stale_choice(ctx, out),
        };
        let Some(service) = ctx.settings.booking.service(&draft.service) else {
            return self.stale_choice(ctx, out);
        };
        self.profile.name = Some(name.clone());
        self.profile.contact = Some(contact.clone());
        let booking = Booking {
            id: draft.booking.clone(),
            customer: self.customer.clone(),
            service: draft.service.clone(),
            staff: draft.staff.clone(),
            start: draft.start,
            end: draft.start.plus(service.duration),
            status: BookingStatus::Booked,
            name,
            contact: contact.as_str().to_owned(),
            reminders_done: 0,
            confirmed: false,
            calendar_url: None,
            deposit: None,
        };
        let busy = Busy {
            booking: draft.booking.clone(),
            customer: self.customer.clone(),
            from: Timestamp(draft.start.millis() - service.buffer_before.as_millis()),
            to: booking.end.plus(service.buffer_after),
            hold_until: None,
        };
        out.push(Action::Booking(BookingRequest::Book {
            booking: Box::new(booking),
            busy,
            replaces: draft.replaces.clone(),
        }));
        self.state = FlowState::Booking(BookingStep::Waiting { draft });
        Handled::Yes
    }

    /// The time went to somebody else: say so and offer the day's other times.
    fn slot_taken(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        start: Timestamp,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let text = Text::new(TextKey::BookingTaken).with("when", self.when_arg(ctx, start));
        self.say(out, Reply::text(text));
        let date = local_date(start, ctx.settings.booking.zone);
        self.show_times(ctx, service, date, None, now, out)
    }

    pub(crate) fn on_booking_outcome(
        &mut self,
        ctx: &Context,
        outcome: BookingOutcome,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        match outcome {
            BookingOutcome::Held { .. } => {}
            BookingOutcome::Taken { booking } => {
                let draft = match &self.state {
                    FlowState::Booking(
                        BookingStep::AskName { draft }
                        | BookingStep::AskContact { draft, .. }
                        | BookingStep::Confirm { draft, .. }
                        | BookingStep::Waiting { draft },
                    ) if draft.booking == booking => draft.clone(),
                    // An answer about a time the customer already left behind.
                    _ => return,
                };
                self.slot_taken(ctx, draft.service, draft.start, now, out);
            }
            BookingOutcome::Booked { booking } => self.on_booked(ctx, *booking, now, out),
        }
    }

    fn on_booked(
        &mut self,
        ctx: &Context,
        mut booking: Booking,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if self
            .appointments
            .list
            .iter()
            .any(|known| known.id == booking.id)
        {
            return;
        }
        // Reminders already due when it was made (a booking for tomorrow morning gets no
        // "tomorrow" reminder) are skipped, not sent at once.
        booking.reminders_done = ctx
            .settings
            .booking
            .reminders
            .iter()
            .take_while(|before| Timestamp(booking.start.millis() - before.as_millis()) <= now)
            .count();
        let moved = match &self.state {
            FlowState::Booking(BookingStep::Waiting { draft }) if draft.booking == booking.id => {
                draft.replaces.clone()
            }
            _ => None,
        };
        if let Some(old) = &moved
            && let Some(previous) = self.appointments.list.iter_mut().find(|b| &b.id == old)
        {
            previous.status = BookingStatus::Rescheduled;
        }
        if matches!(&self.state, FlowState::Booking(BookingStep::Waiting { draft }) if draft.booking == booking.id)
        {
            self.state = FlowState::Idle;
        }
        self.take_deposit(ctx, &mut booking, moved.as_ref(), now, out);
        let key = if moved.is_some() {
            TextKey::BookingMoved
        } else {
            TextKey::BookingDone
        };
        let text = Text::new(key)
            .str("service", self.service_name(ctx, &booking.service))
            .str("staff", Self::staff_name(ctx, &booking.staff))
            .with("when", self.when_arg(ctx, booking.start));
        let mut choices = Self::booking_choices(&booking.id, false);
        choices.push(Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu));
        let mut reply = Reply::text(text).choices(choices);
        reply.link = booking.calendar_url.clone().map(|url| Link {
            url,
            label: TextKey::LinkCalendar,
        });
        self.say(out, reply);
        self.say_deposit_due(&booking, out);
        self.appointments.list.push(booking);
        self.forget_old_bookings(now);
        self.arm_booking_timer(ctx, now, out);
    }

    /// Free text in a booking step: a service's name, or a day and time in words.
    pub(crate) fn booking_words(
        &mut self,
        ctx: &Context,
        text: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Option<Handled> {
        if let FlowState::Booking(BookingStep::Service { .. }) = self.state {
            let id = service_named(ctx, text)?;
            // "A haircut tomorrow afternoon": the service, then the day and time as said.
            let mut days = Vec::new();
            let picked = self.pick_service(ctx, id.clone(), now, &mut days);
            if let Some(when) = parse_when(text)
                && matches!(self.state, FlowState::Booking(BookingStep::Day { .. }))
            {
                return Some(self.booking_when(ctx, id, when, now, out));
            }
            out.extend(days);
            return Some(picked);
        }
        let service = self.booking_service()?;
        if !matches!(
            self.state,
            FlowState::Booking(BookingStep::Day { .. } | BookingStep::Time { .. })
        ) {
            return None;
        }
        let when = parse_when(text)?;
        Some(self.booking_when(ctx, service, when, now, out))
    }

    /// "Tomorrow afternoon" → that afternoon's times; "Friday at 10" → that time, if free.
    pub(crate) fn booking_when(
        &mut self,
        ctx: &Context,
        service: ServiceId,
        when: When,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let zone = ctx.settings.booking.zone;
        let today = local_date(now, zone);
        let date = match (when.day, &self.state) {
            (Some(day), _) => resolve_day(day, today),
            (None, FlowState::Booking(BookingStep::Time { day, .. })) => {
                parse_date_id(day).unwrap_or(today)
            }
            (None, _) => today,
        };
        if let Some((hour, minute)) = when.time {
            let wanted = chrono::NaiveTime::from_hms_opt(hour, minute, 0);
            let slot = self
                .day_slots(ctx, &service, date, now)
                .into_iter()
                .find(|slot| {
                    let local = chrono::DateTime::from_timestamp_millis(slot.start.millis())
                        .unwrap_or_default()
                        .with_timezone(&zone);
                    Some(local.time()) == wanted
                });
            if let Some(slot) = slot {
                return self.hold_slot(ctx, service, slot, now, out);
            }
            // Not free then: the times around it, that part of the day or the whole day.
            let around = (hour.saturating_sub(2), (hour + 3).min(24));
            return self.show_times(ctx, service, date, Some(around), now, out);
        }
        self.show_times(
            ctx,
            service,
            date,
            when.part.map(|part| part.hours()),
            now,
            out,
        )
    }

    /// "Back" in a booking: one step up (details → times → days → services).
    pub(crate) fn booking_back(
        &mut self,
        ctx: &Context,
        step: BookingStep,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        match step {
            BookingStep::Service { .. } => self.menu(ctx, out),
            BookingStep::Day { replaces, .. } => self.start_booking(ctx, replaces, now, out),
            BookingStep::Time {
                service, replaces, ..
            } => self.show_days(ctx, service, replaces, now, out),
            BookingStep::AskName { draft }
            | BookingStep::AskContact { draft, .. }
            | BookingStep::Confirm { draft, .. }
            | BookingStep::Waiting { draft } => {
                let date = local_date(draft.start, ctx.settings.booking.zone);
                self.show_times(ctx, draft.service, date, None, now, out)
            }
        }
    }
}

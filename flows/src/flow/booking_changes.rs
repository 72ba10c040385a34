//! After booking: the customer's list of appointments, reminders before them (24 h and 2 h
//! by default, never a burst of stale ones), "I'll be there", moving and cancelling up to
//! the shop's cut-off, and an operator's no-show mark.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::booking::{Booking, BookingId, BookingRequest, BookingStatus};
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::event::TimerKind;
use crate::text::{Text, TextKey};
use crate::time::Timestamp;

/// Past or cancelled bookings a conversation keeps (the store keeps them all).
const KEEP_FINISHED: usize = 10;

impl Conversation {
    fn upcoming(&self, id: &BookingId, now: Timestamp) -> Option<&Booking> {
        self.appointments
            .list
            .iter()
            .find(|b| &b.id == id && b.status == BookingStatus::Booked && b.start > now)
    }

    fn booking_gone(&mut self, out: &mut Vec<Action>) -> Handled {
        let choices = vec![
            Choice::new(ChoiceAction::Bookings, TextKey::ChoiceBookings),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        self.say(out, Reply::key(TextKey::BookingGone).choices(choices));
        Handled::Yes
    }

    /// Changes in chat stop `cutoff` before the start: then a person decides.
    fn past_cutoff(
        &mut self,
        ctx: &Context,
        booking: &Booking,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> bool {
        let cutoff = ctx.settings.booking.cutoff;
        if now.plus(cutoff) < booking.start {
            return false;
        }
        let text = Text::new(TextKey::BookingTooLate)
            .with("when", self.when_arg(ctx, booking.start))
            .int("hours", cutoff.as_millis() / 3_600_000);
        let choices = vec![
            Choice::new(ChoiceAction::Human, TextKey::ChoiceHuman),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        self.say(out, Reply::text(text).choices(choices));
        true
    }

    /// The booking, if it can still be changed in chat; else the customer was told why.
    fn changeable(
        &mut self,
        ctx: &Context,
        id: &BookingId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Option<Booking> {
        let Some(booking) = self.upcoming(id, now).cloned() else {
            self.booking_gone(out);
            return None;
        };
        if self.past_cutoff(ctx, &booking, now, out) {
            return None;
        }
        Some(booking)
    }

    /// "Cancel booking" asks first: one stray tap must not give the time away.
    pub(crate) fn ask_cancel_booking(
        &mut self,
        ctx: &Context,
        id: &BookingId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(booking) = self.changeable(ctx, id, now, out) else {
            return Handled::Yes;
        };
        let text = self.booking_text(ctx, TextKey::BookingCancelAsk, &booking);
        let choices = vec![
            Choice::new(
                ChoiceAction::ConfirmCancelBooking(id.clone()),
                TextKey::ChoiceConfirmCancelBooking,
            ),
            Choice::new(ChoiceAction::Bookings, TextKey::ChoiceKeepBooking),
        ];
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    pub(crate) fn cancel_booking(
        &mut self,
        ctx: &Context,
        id: &BookingId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(booking) = self.changeable(ctx, id, now, out) else {
            return Handled::Yes;
        };
        self.drop_unpaid_deposit(id, out);
        if let Some(found) = self.appointments.list.iter_mut().find(|b| &b.id == id) {
            found.status = BookingStatus::Cancelled;
        }
        // Cancelled while choosing a new time for it: there is nothing left to move.
        if self.booking_replaces().as_ref() == Some(id) {
            self.state = crate::conversation::FlowState::Idle;
        }
        out.push(Action::Booking(BookingRequest::Cancel {
            booking: id.clone(),
        }));
        let text = self.booking_text(ctx, TextKey::BookingCancelled, &booking);
        let choices = vec![
            Choice::new(ChoiceAction::Book, TextKey::ChoiceBook),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        self.say(out, Reply::text(text).choices(choices));
        self.arm_booking_timer(ctx, now, out);
        Handled::Yes
    }

    pub(crate) fn reschedule_booking(
        &mut self,
        ctx: &Context,
        id: &BookingId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(booking) = self.changeable(ctx, id, now, out) else {
            return Handled::Yes;
        };
        self.show_days(ctx, booking.service, Some(booking.id), now, out)
    }

    pub(crate) fn attend_booking(
        &mut self,
        ctx: &Context,
        id: &BookingId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(start) = self.upcoming(id, now).map(|b| b.start) else {
            return self.booking_gone(out);
        };
        if let Some(found) = self.appointments.list.iter_mut().find(|b| &b.id == id) {
            found.confirmed = true;
        }
        let text = Text::new(TextKey::BookingAttendThanks).with("when", self.when_arg(ctx, start));
        self.say(out, Reply::text(text));
        Handled::Yes
    }

    pub(crate) fn show_bookings(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Handled {
        let mut upcoming: Vec<Booking> = self
            .appointments
            .list
            .iter()
            .filter(|b| b.status == BookingStatus::Booked && b.start > now)
            .cloned()
            .collect();
        upcoming.sort_by_key(|b| b.start);
        if upcoming.is_empty() {
            let mut choices = Vec::new();
            if ctx.settings.booking.enabled() {
                choices.push(Choice::new(ChoiceAction::Book, TextKey::ChoiceBook));
            }
            choices.push(Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu));
            self.say(out, Reply::key(TextKey::BookingNone).choices(choices));
            return Handled::Yes;
        }
        for booking in upcoming {
            let text = self.booking_text(ctx, TextKey::BookingItem, &booking);
            let choices = Self::booking_choices(&booking.id, false);
            self.say(out, Reply::text(text).choices(choices));
        }
        Handled::Yes
    }

    /// Sends, per upcoming booking, the latest reminder that fell due (older ones it
    /// skipped, so a restart after downtime sends one, not a burst), then re-arms.
    pub(crate) fn on_booking_timer(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.appointments.reminder_due = None;
        let reminders = ctx.settings.booking.reminders.clone();
        let mut due: Vec<Booking> = Vec::new();
        for booking in &mut self.appointments.list {
            if booking.status != BookingStatus::Booked || booking.start <= now {
                continue;
            }
            let latest_due = (booking.reminders_done..reminders.len())
                .filter(|i| Timestamp(booking.start.millis() - reminders[*i].as_millis()) <= now)
                .max();
            if let Some(index) = latest_due {
                booking.reminders_done = index + 1;
                due.push(booking.clone());
            }
        }
        for booking in due {
            let text = Text::new(TextKey::BookingReminder)
                .str("service", self.service_name(ctx, &booking.service))
                .str("staff", Self::staff_name(ctx, &booking.staff))
                .with("when", self.when_arg(ctx, booking.start));
            let choices = Self::booking_choices(&booking.id, true);
            self.say(out, Reply::text(text).choices(choices));
        }
        self.arm_booking_timer(ctx, now, out);
    }

    /// One timer for all of the customer's bookings: the earliest reminder still to send.
    pub(crate) fn arm_booking_timer(
        &mut self,
        ctx: &Context,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let reminders = &ctx.settings.booking.reminders;
        let next = self
            .appointments
            .list
            .iter()
            .filter(|b| b.status == BookingStatus::Booked && b.start > now)
            .filter_map(|b| {
                reminders
                    .get(b.reminders_done)
                    .map(|before| Timestamp(b.start.millis() - before.as_millis()))
            })
            .min();
        if next == self.appointments.reminder_due {
            return;
        }
        self.appointments.reminder_due = next;
        match next {
            Some(at) => out.push(Action::SetTimer {
                kind: TimerKind::BookingReminder,
                at: at.max(now),
            }),
            None => out.push(Action::CancelTimer(TimerKind::BookingReminder)),
        }
    }

    /// Only once the appointment has started, and once per booking (the console's button
    /// pressed twice counts once).
    pub(crate) fn on_no_show(
        &mut self,
        booking: &BookingId,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(found) = self
            .appointments
            .list
            .iter_mut()
            .find(|b| &b.id == booking && b.status == BookingStatus::Booked && b.start <= now)
        else {
            return;
        };
        found.status = BookingStatus::NoShow;
        self.appointments.no_shows = self.appointments.no_shows.saturating_add(1);
        out.push(Action::Booking(BookingRequest::SetStatus {
            booking: booking.clone(),
            status: BookingStatus::NoShow,
        }));
    }

    /// Keeps every upcoming booking and the latest few finished ones.
    pub(crate) fn forget_old_bookings(&mut self, now: Timestamp) {
        let finished = self
            .appointments
            .list
            .iter()
            .filter(|b| b.status != BookingStatus::Booked || b.start <= now)
            .count();
        let mut drop = finished.saturating_sub(KEEP_FINISHED);
        self.appointments.list.retain(|b| {
            let done = b.status != BookingStatus::Booked || b.start <= now;
            if done && drop > 0 {
                drop -= 1;
                return false;
            }
            true
        });
    }
}

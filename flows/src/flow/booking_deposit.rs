//! A service's deposit: when a booking is made, an order for the deposit is placed and its
//! payment link sent (the commerce flow's own machinery); paid, the customer is told the
//! time is theirs; the link expired unpaid, the booking is cancelled and its time freed. A
//! moved booking keeps its deposit; a cancelled one with the deposit unpaid cancels it.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::booking::{Booking, BookingId, BookingRequest, BookingStatus, Deposit};
use crate::catalog::{ProductId, Sku};
use crate::context::Context;
use crate::conversation::Conversation;
use crate::order::{Order, OrderId, OrderLine, OrderStatus};
use crate::text::{Text, TextKey};
use crate::time::Timestamp;

/// The order line of a deposit: no catalog product, so no stock is counted for it.
const DEPOSIT_SKU: &str = "DEPOSIT";

impl Conversation {
    /// Gives `booking` its deposit: the one of the booking it replaces, or a new order for
    /// the service's deposit (placed, and its link asked for).
    pub(crate) fn take_deposit(
        &mut self,
        ctx: &Context,
        booking: &mut Booking,
        replaces: Option<&BookingId>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if let Some(old) = replaces
            && let Some(kept) = self
                .appointments
                .list
                .iter_mut()
                .find(|b| &b.id == old)
                .and_then(|b| b.deposit.take())
        {
            let order = kept.order.clone();
            booking.deposit = Some(kept);
            if let Some(found) = self.orders.recent.iter_mut().find(|o| o.id == order) {
                found.booking = Some(booking.id.clone());
            }
            return;
        }
        let Some(amount) = ctx
            .settings
            .booking
            .service(&booking.service)
            .and_then(|service| service.deposit)
        else {
            return;
        };
        let id = self.next_order_id();
        let title = format!(
            "Deposit: {} ({})",
            self.service_name(ctx, &booking.service),
            booking.id
        );
        let order = Order {
            id: id.clone(),
            customer: self.customer.clone(),
            name: booking.name.clone(),
            contact: match self.profile.contact.clone() {
                Some(contact) => contact,
                None => return,
            },
            lines: vec![OrderLine {
                sku: Sku(DEPOSIT_SKU.into()),
                product: ProductId(DEPOSIT_SKU.to_lowercase()),
                title,
                quantity: 1,
                unit_price: amount,
            }],
            total: amount,
            status: OrderStatus::PendingPayment,
            placed_at: now,
            fulfilment: None,
            tracking: None,
            payment_attempts: 1,
            payment_failures: 0,
            oversold: Vec::new(),
            recovered_step: None,
            discount: None,
            booking: Some(booking.id.clone()),
            history: Vec::new(),
        };
        self.remember_order(order.clone());
        out.push(Action::PlaceOrder(order));
        out.push(Action::CreatePaymentLink {
            order: id.clone(),
            total: amount,
            attempt: 1,
        });
        booking.deposit = Some(Deposit {
            order: id,
            amount,
            paid: false,
        });
    }

    /// The line after "booked" when a deposit is due.
    pub(crate) fn say_deposit_due(&mut self, booking: &Booking, out: &mut Vec<Action>) {
        if let Some(deposit) = booking.deposit.as_ref().filter(|d| !d.paid) {
            let text = Text::new(TextKey::BookingDeposit).money("amount", deposit.amount);
            self.say(out, Reply::text(text));
        }
    }

    /// The booking a deposit order is for, if the order is one.
    fn deposit_booking(&self, order: &OrderId) -> Option<BookingId> {
        self.orders
            .recent
            .iter()
            .find(|o| &o.id == order)
            .and_then(|o| o.booking.clone())
    }

    fn booking_of_deposit(&mut self, order: &OrderId) -> Option<&mut Booking> {
        let id = self.deposit_booking(order)?;
        self.appointments.list.iter_mut().find(|b| b.id == id)
    }

    pub(crate) fn is_deposit(&self, order: &OrderId) -> bool {
        self.deposit_booking(order).is_some()
    }

    /// The deposit came in: the time is the customer's.
    pub(crate) fn on_deposit_paid(
        &mut self,
        ctx: &Context,
        order: &OrderId,
        out: &mut Vec<Action>,
    ) {
        let Some(booking) = self.booking_of_deposit(order) else {
            return;
        };
        if let Some(deposit) = booking.deposit.as_mut() {
            deposit.paid = true;
        }
        let booking = booking.clone();
        let text = self.booking_text(ctx, TextKey::BookingDepositPaid, &booking);
        let choices = Self::booking_choices(&booking.id, false);
        self.say(out, Reply::text(text).choices(choices));
    }

    /// The deposit's link expired unpaid: the booking is cancelled and its time freed.
    pub(crate) fn on_deposit_expired(
        &mut self,
        ctx: &Context,
        order: &OrderId,
        out: &mut Vec<Action>,
    ) {
        let Some(booking) = self
            .booking_of_deposit(order)
            .filter(|b| b.status == BookingStatus::Booked)
        else {
            return;
        };
        booking.status = BookingStatus::Cancelled;
        let booking = booking.clone();
        out.push(Action::Booking(BookingRequest::Cancel {
            booking: booking.id.clone(),
        }));
        let text = self.booking_text(ctx, TextKey::BookingDepositExpired, &booking);
        let choices = vec![
            Choice::new(ChoiceAction::Book, TextKey::ChoiceBook),
            Choice::new(ChoiceAction::Human, TextKey::ChoiceHuman),
        ];
        self.say(out, Reply::text(text).choices(choices));
    }

    /// A booking cancelled before its deposit was paid: the deposit order goes too.
    pub(crate) fn drop_unpaid_deposit(&mut self, booking: &BookingId, out: &mut Vec<Action>) {
        let order = self
            .appointments
            .list
            .iter()
            .find(|b| &b.id == booking)
            .and_then(|b| b.deposit.as_ref())
            .filter(|d| !d.paid)
            .map(|d| d.order.clone());
        let Some(order) = order else {
            return;
        };
        if let Some(found) = self
            .orders
            .recent
            .iter_mut()
            .find(|o| o.id == order && o.status != OrderStatus::Paid)
        {
            found.status = OrderStatus::Cancelled;
            out.push(Action::UpdateOrder {
                order,
                status: OrderStatus::Cancelled,
                tracking: None,
                by: None,
            });
        }
    }
}

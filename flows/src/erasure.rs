//! What erasing a customer does to the records the law makes a shop keep: paid orders and
//! paid appointments stay (their money is in the books) without the person; everything
//! else of theirs goes. Pure, so every store applies the same rules; the shell builds the
//! store's plan from this (`src/data_rights/erase.rs`).

use crate::booking::{Booking, BookingId, BookingStatus};
use crate::order::{Fulfilment, Order};
use crate::time::Timestamp;
use crate::vocabulary::{ContactPoint, OrderId};

/// What an erased name or contact reads as in a kept record.
pub const ERASED: &str = "(erased)";

/// Orders whose money moved (the books need them), and those waiting for a payment: their
/// link may still be paid, and the payment must find its order.
pub fn kept_for_accounting(order: &Order) -> bool {
    order.status.money_taken() || order.status == crate::order::OrderStatus::PendingPayment
}

/// The order without the person: lines, totals, status and its history stay. Destructured
/// so that a new field does not compile until someone decides whether it is personal.
pub fn strip_order(order: Order) -> Order {
    let Order {
        id,
        customer,
        name: _,
        contact,
        lines,
        total,
        status,
        placed_at,
        fulfilment,
        tracking: _,
        payment_attempts,
        payment_failures,
        oversold,
        recovered_step,
        discount,
        booking,
        mut history,
    } = order;
    // A tracking link names the parcel, and through it the address: none are kept.
    for change in &mut history {
        change.tracking = None;
    }
    let contact = match contact {
        ContactPoint::Phone(_) => ContactPoint::Phone(ERASED.to_owned()),
        ContactPoint::Email(_) => ContactPoint::Email(ERASED.to_owned()),
    };
    // A pickup point is the shop's address; a delivery address is the customer's.
    let fulfilment = fulfilment.map(|f| match f {
        Fulfilment::Delivery { .. } => Fulfilment::Delivery {
            address: ERASED.to_owned(),
        },
        pickup @ Fulfilment::Pickup { .. } => pickup,
    });
    Order {
        id,
        customer,
        name: ERASED.to_owned(),
        contact,
        lines,
        total,
        status,
        placed_at,
        fulfilment,
        // A carrier's tracking link names the parcel, and through it the address.
        tracking: None,
        payment_attempts,
        payment_failures,
        oversold,
        recovered_step,
        discount,
        booking,
        history,
    }
}

/// Appointments kept: those whose deposit was paid (the money is in the books).
pub fn booking_kept(booking: &Booking) -> bool {
    booking.deposit.as_ref().is_some_and(|deposit| deposit.paid)
}

/// The appointment without the person; destructured for the same reason as orders.
pub fn strip_booking(booking: Booking) -> Booking {
    let Booking {
        id,
        customer,
        service,
        staff,
        start,
        end,
        status,
        name: _,
        contact: _,
        reminders_done,
        confirmed,
        calendar_url: _,
        deposit,
    } = booking;
    Booking {
        id,
        customer,
        service,
        staff,
        start,
        end,
        status,
        name: ERASED.to_owned(),
        contact: ERASED.to_owned(),
        reminders_done,
        confirmed,
        // The link's token would still serve the appointment's calendar file.
        calendar_url: None,
        deposit,
    }
}

/// What erasure does to a customer's orders and appointments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// Kept, stripped of the person.
    pub keep_orders: Vec<Order>,
    pub drop_orders: Vec<OrderId>,
    pub keep_bookings: Vec<Booking>,
    pub drop_bookings: Vec<BookingId>,
    /// Booked and still to come: their time goes back to the calendar first.
    pub cancel_bookings: Vec<BookingId>,
}

pub fn decide(orders: Vec<Order>, bookings: Vec<Booking>, now: Timestamp) -> Decision {
    let mut decision = Decision::default();
    for order in orders {
        if kept_for_accounting(&order) {
            decision.keep_orders.push(strip_order(order));
        } else {
            decision.drop_orders.push(order.id);
        }
    }
    for mut booking in bookings {
        if booking.status == BookingStatus::Booked && booking.start > now {
            decision.cancel_bookings.push(booking.id.clone());
            booking.status = BookingStatus::Cancelled;
        }
        if booking_kept(&booking) {
            decision.keep_bookings.push(strip_booking(booking));
        } else {
            decision.drop_bookings.push(booking.id);
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{Deposit, ServiceId, StaffId};
    use crate::customer::CustomerId;
    use crate::money::{Currency, Money};
    use crate::order::OrderStatus;

    fn eur() -> Currency {
        Currency::new("EUR").unwrap()
    }

    fn order(id: &str, status: OrderStatus) -> Order {
        Order {
            id: OrderId(id.into()),
            customer: CustomerId("c".into()),
            name: "Ana Pop".into(),
            contact: ContactPoint::Phone("+40712345678".into()),
            lines: Vec::new(),
            total: Money::new(4_500, eur()),
            status,
            placed_at: Timestamp(1),
            fulfilment: Some(Fulfilment::Delivery {
                address: "Str. Lunga 5".into(),
            }),
            tracking: Some("https://track.example/ABC".into()),
            payment_attempts: 1,
            payment_failures: 0,
            oversold: Vec::new(),
            recovered_step: None,
            discount: None,
            booking: None,
            history: vec![crate::order::OrderChange {
                at: Timestamp(2),
                status: OrderStatus::Shipped,
                by: None,
                tracking: Some("https://track.example/ABC".into()),
            }],
        }
    }

    fn booking(id: &str, start: i64, paid: Option<bool>) -> Booking {
        Booking {
            id: BookingId(id.into()),
            customer: CustomerId("c".into()),
            service: ServiceId("cut".into()),
            staff: StaffId("ana".into()),
            start: Timestamp(start),
            end: Timestamp(start + 1_800_000),
            status: BookingStatus::Booked,
            name: "Ana Pop".into(),
            contact: "ana@example.com".into(),
            reminders_done: 0,
            confirmed: false,
            calendar_url: Some("https://shop.example/ics/tok".into()),
            deposit: paid.map(|paid| Deposit {
                order: OrderId(format!("dep-{id}")),
                amount: Money::new(1_000, eur()),
                paid,
            }),
        }
    }

    #[test]
    fn paid_and_pending_orders_stay_without_the_person_and_the_rest_go() {
        let decision = decide(
            vec![
                order("paid", OrderStatus::Paid),
                order("shipped", OrderStatus::Shipped),
                order("pending", OrderStatus::PendingPayment),
                order("cancelled", OrderStatus::Cancelled),
                order("failed", OrderStatus::PaymentFailed),
            ],
            Vec::new(),
            Timestamp(10),
        );
        let kept: Vec<&str> = decision
            .keep_orders
            .iter()
            .map(|o| o.id.0.as_str())
            .collect();
        assert_eq!(
            kept,
            ["paid", "shipped", "pending"],
            "a pending link may still be paid"
        );
        assert_eq!(
            decision.drop_orders,
            [OrderId("cancelled".into()), OrderId("failed".into())]
        );
        let stripped = &decision.keep_orders[0];
        assert_eq!(
            stripped.total,
            Money::new(4_500, eur()),
            "the books keep the money"
        );
        let text = format!("{stripped:?}");
        for personal in ["Ana Pop", "+40712345678", "Str. Lunga", "track.example"] {
            assert!(!text.contains(personal), "{personal} left in {text}");
        }
    }

    #[test]
    fn appointments_to_come_are_cancelled_and_only_paid_ones_are_kept() {
        let now = Timestamp(1_000_000);
        let decision = decide(
            Vec::new(),
            vec![
                booking("future-paid", 2_000_000, Some(true)),
                booking("future-free", 2_000_000, None),
                booking("past-unpaid", 10, Some(false)),
                booking("past-paid", 10, Some(true)),
            ],
            now,
        );
        assert_eq!(
            decision.cancel_bookings,
            [
                BookingId("future-paid".into()),
                BookingId("future-free".into())
            ]
        );
        let kept: Vec<(&str, BookingStatus)> = decision
            .keep_bookings
            .iter()
            .map(|b| (b.id.0.as_str(), b.status))
            .collect();
        assert_eq!(
            kept,
            [
                ("future-paid", BookingStatus::Cancelled),
                ("past-paid", BookingStatus::Booked)
            ]
        );
        assert_eq!(decision.drop_bookings.len(), 2);
        let text = format!("{:?}", decision.keep_bookings);
        assert!(!text.contains("Ana Pop") && !text.contains("ana@example.com"));
        assert!(!text.contains("/ics/"));
    }
}

//! A booking as an iCalendar file (RFC 5545), for the customer's calendar app. Text fields
//! are escaped (backslash, semicolon, comma, line breaks) and lines folded at 75 octets, so a
//! customer's name cannot break the file or add properties to it.

use std::fmt::Write as _;

use flows::Timestamp;
use flows::booking::{Booking, BookingStatus};

fn utc(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// RFC 5545 §3.3.11: TEXT values escape `\`, `;`, `,` and newlines; other control
/// characters have no place in a calendar line and are dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (not inside a UTF-8 character), CRLF-terminated.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

pub struct IcsEvent<'a> {
    pub booking: &'a Booking,
    pub shop: &'a str,
    pub service: &'a str,
    pub staff: &'a str,
    /// The host part of the event's UID (the shop's public address).
    pub host: &'a str,
    pub now: Timestamp,
}

pub fn render(event: &IcsEvent<'_>) -> String {
    let booking = event.booking;
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//souk//booking//EN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, "BEGIN:VEVENT");
    line(
        &mut out,
        &format!(
            "UID:{}@{}",
            escape_text(&booking.id.0),
            escape_text(event.host)
        ),
    );
    line(&mut out, &format!("DTSTAMP:{}", utc(event.now)));
    line(&mut out, &format!("DTSTART:{}", utc(booking.start)));
    line(&mut out, &format!("DTEND:{}", utc(booking.end)));
    let mut summary = String::new();
    let _ = write!(summary, "{} – {}", event.service, event.shop);
    line(&mut out, &format!("SUMMARY:{}", escape_text(&summary)));
    line(
        &mut out,
        &format!(
            "DESCRIPTION:{}",
            escape_text(&format!(
                "{} ({})\n{}",
                event.service, event.staff, booking.name
            ))
        ),
    );
    line(&mut out, &format!("LOCATION:{}", escape_text(event.shop)));
    // A time held by a deposit not yet paid is not confirmed: calendars show it as tentative.
    let unpaid = booking.deposit.as_ref().is_some_and(|d| !d.paid);
    let (status, sequence) = match booking.status {
        BookingStatus::Booked if unpaid => ("TENTATIVE", 0),
        BookingStatus::Booked => ("CONFIRMED", 0),
        BookingStatus::NoShow => ("CONFIRMED", 1),
        BookingStatus::Cancelled | BookingStatus::Rescheduled => ("CANCELLED", 1),
    };
    line(&mut out, &format!("STATUS:{status}"));
    line(&mut out, &format!("SEQUENCE:{sequence}"));
    if booking.status == BookingStatus::Booked {
        line(&mut out, "BEGIN:VALARM");
        line(&mut out, "ACTION:DISPLAY");
        line(&mut out, "TRIGGER:-PT2H");
        line(&mut out, &format!("DESCRIPTION:{}", escape_text(&summary)));
        line(&mut out, "END:VALARM");
    }
    line(&mut out, "END:VEVENT");
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flows::CustomerId;
    use flows::booking::{BookingId, ServiceId, StaffId};

    fn booking(name: &str) -> Booking {
        Booking {
            id: BookingId("c1-B1".into()),
            customer: CustomerId("c1".into()),
            service: ServiceId("cut".into()),
            staff: StaffId("ana".into()),
            start: Timestamp(1_767_600_000_000),
            end: Timestamp(1_767_602_700_000),
            status: BookingStatus::Booked,
            name: name.into(),
            contact: "+40721234567".into(),
            reminders_done: 0,
            confirmed: false,
            calendar_url: None,
            deposit: None,
        }
    }

    #[test]
    fn escapes_text_and_folds_long_lines() {
        let b = booking(
            "Eve\r\nATTENDEE:mailto:x@evil;ROLE=CHAIR, and a very long name that goes on and on and on",
        );
        let ics = render(&IcsEvent {
            booking: &b,
            shop: "Salon, Bucharest",
            service: "Haircut",
            staff: "Ana",
            host: "shop.test",
            now: Timestamp(1_767_500_000_000),
        });
        assert!(ics.contains("DTSTART:20260105T080000Z\r\n"), "{ics}");
        assert!(ics.contains("LOCATION:Salon\\, Bucharest\r\n"), "{ics}");
        // The injected line break is gone: no property line starts with ATTENDEE.
        assert!(
            !ics.split("\r\n").any(|l| l.starts_with("ATTENDEE")),
            "{ics}"
        );
        assert!(ics.contains("mailto:x@evil\\;ROLE=CHAIR\\,"), "{ics}");
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "line longer than 75 octets: {l:?}");
        }
        assert!(ics.contains("STATUS:CONFIRMED"));
    }

    #[test]
    fn a_booking_whose_deposit_is_unpaid_is_tentative() {
        let mut b = booking("Ana");
        b.deposit = Some(flows::booking::Deposit {
            order: flows::OrderId("D-1".into()),
            amount: flows::Money::new(2_000, flows::Currency::new("EUR").expect("EUR")),
            paid: false,
        });
        let event = |b: &Booking| {
            render(&IcsEvent {
                booking: b,
                shop: "Shop",
                service: "Haircut",
                staff: "Ana",
                host: "shop.test",
                now: Timestamp(1_767_500_000_000),
            })
        };
        assert!(event(&b).contains("STATUS:TENTATIVE\r\n"));
        if let Some(deposit) = b.deposit.as_mut() {
            deposit.paid = true;
        }
        assert!(event(&b).contains("STATUS:CONFIRMED\r\n"));
    }

    #[test]
    fn a_cancelled_booking_says_so() {
        let mut b = booking("Ana");
        b.status = BookingStatus::Cancelled;
        let ics = render(&IcsEvent {
            booking: &b,
            shop: "Shop",
            service: "Haircut",
            staff: "Ana",
            host: "shop.test",
            now: Timestamp(1_767_500_000_000),
        });
        assert!(ics.contains("STATUS:CANCELLED\r\nSEQUENCE:1\r\n"), "{ics}");
        assert!(!ics.contains("VALARM"));
    }
}

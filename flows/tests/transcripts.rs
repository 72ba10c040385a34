//! Transcript tests: each `transcripts/*.txt` file is a conversation on a virtual clock.
//!
//! Input lines (kept as written):
//! - `> text`          the customer writes `text` on the web chat
//! - `> [action-id]`   the customer presses the button with that action id
//! - `> {image}`, `> {image} caption`, `> {location}`, `> {contact}`   non-text messages
//! - `> {order SKU:N SKU:N}`   a cart sent from the shop's Meta catalog (WhatsApp `order`)
//! - `> {mme REF}`   the thread opened from an m.me link with that `ref`
//! - `> {own-contact PHONE}`   the customer shared their own number (Telegram's button)
//! - `@ +30m`          the clock advances (s, m, h, d); timers that fall due fire in order
//! - `= paid ID`, `= failed ID`, `= expired ID`, `= link ID URL`   payment events
//! - `= status ID STATUS [TRACKING-URL]`   the shop moves an order on
//! - `= stock SKU N`   the stock of a SKU changes (a sale elsewhere, a delivery)
//! - `= oversold ID SKU…`   the store found the paid order's units already sold
//! - `= bought-together P1 P2 …`   a paid order had these products (for recommendations)
//! - `= nlu none`, `= nlu <Intent as JSON>`        an NLU answer
//! - `= timer session-expiry`   a late or duplicate timer firing, right now
//! - `= takeover OP Name`, `= operator OP text…`, `= handback OP [resolved]`,
//!   `= reassign FROM TO Name`, `= product OP PRODUCT`, `= payment-link OP`   the
//!   console's operators at work
//! - `= link-code CODE`, `= linked done SKU:N…`, `= linked unknown|expired|used|same|too-many`
//!   the shell's answers about link codes
//! - `#! recovery`   the standard abandoned-cart reminders (30 min, 1 day, 3 days)
//! - `#! quiet 21-9`   no reminders between those UTC hours
//! - `#! hours 9-17`   operators are on duty between those UTC hours (default: always);
//!   the clock starts at 2026-01-01 00:00 UTC
//! - `#! demo-catalog`   the shipped demo shop's catalog instead of `tests/catalog.json`
//! - `#! demo-knowledge`   the demo shop's answers to questions (`config/demo/knowledge`)
//! - `#! booking`, `#! start 2026-03-27T10:00` (shop time), `#! customer-tz ZONE`: the
//!   booking transcripts' salon, clock and customer; `= occupy STAFF LOCAL-TIME SPAN`
//!   (somebody else booked), `= noshow OP BOOKING`, `= lose-store-answer` (the next
//!   booking request never reaches the store), `= timer booking-reminder`
//! - `= switch NAME`   the same person writes from another chat (customer NAME; the first
//!   chat is `c0ffee42-test`); `= merge-into NAME` this chat joins NAME's, as a redeemed
//!   link code does (`flows::merge`), and the transcript goes on in NAME's chat with its
//!   timers and the merged appointments' reminder, as the store re-arms it
//! - `= state`         prints the flow state, cart and miss counter
//! - `= consents`      prints the consent ledger; `= marketing TEXT…` a campaign message;
//!   `#! marketing` asks for news-and-offers consent after the first paid order
//! - `# comment` and blank lines
//!
//! Output lines (regenerated and compared): `<` replies (key, args, then `|` choice ids;
//! `< [operator]` for a person's message),
//! `+` cards/cart/link of the reply above, `!` other actions, `~` timer firings, `state:`.
//! Run with `UPDATE_EXPECT=1` to rewrite the files after an intended change, then review
//! the diff like any other code change.

// Test helpers panic on purpose: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use flows::booking::{
    BookingId, BookingOutcome, BookingRequest, BookingSettings, Busy, Calendar, CalendarView,
    LocalRange, Service, ServiceId, Staff, StaffId,
};
use flows::{
    Action, Arg, BoughtTogether, Catalog, CatalogData, CatalogItem, Channel, Context, Conversation,
    CustomerId, Event, FlowSettings, Fulfilment, Inbound, InboundMessage, Label, Locale, MediaKind,
    Money, OrderId, OrderStatus, PaymentFailure, ProductId, Reply, Sku, Span, TimerKind, Timestamp,
};
use flows::{AdReferral, CartLine, Handoff, LinkOutcome, OnDuty, OperatorId};

/// The booking transcripts' shop is in Bucharest (EET/EEST, DST on the last Sundays of
/// March and October).
const SHOP_ZONE: &str = "Europe/Bucharest";

fn context() -> Context {
    let raw =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/catalog.json"))
            .expect("test catalog readable");
    let data: CatalogData = serde_json::from_str(&raw).expect("test catalog parses");
    Context {
        catalog: Catalog::new(data).expect("test catalog valid"),
        settings: FlowSettings {
            shop_name: "Test Shop".into(),
            ..FlowSettings::default()
        },
        together: BoughtTogether::default(),
        calendar: CalendarView::default(),
        knowledge: Default::default(),
    }
}

fn hours(text: &str) -> Vec<LocalRange> {
    text.split(',')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (from, to) = part.split_once('-').expect("HH:MM-HH:MM");
            LocalRange {
                from: chrono::NaiveTime::parse_from_str(from, "%H:%M").expect("HH:MM"),
                to: chrono::NaiveTime::parse_from_str(to, "%H:%M").expect("HH:MM"),
            }
        })
        .collect()
}

/// `#! booking`: a salon in Bucharest. Ana cuts and colours Monday to Friday 09–17 with
/// lunch 13–14; Ion cuts Tuesday to Saturday 10–18. Both are off on New Year's 1 and 2
/// January. On the two Sundays the clocks change (29 March, 25 October) Ion works a night
/// shift 01:00–06:00 across the change. A cut takes 45 minutes plus 15 to clean up; a
/// colour 90 minutes.
fn booking_settings() -> BookingSettings {
    let ron = flows::Currency::new("RON").expect("RON");
    let name = |names: [&str; 5]| {
        flows::LocalizedText(
            Locale::ALL
                .into_iter()
                .zip(names.map(str::to_owned))
                .collect(),
        )
    };
    let off: BTreeMap<chrono::NaiveDate, Vec<LocalRange>> = ["2026-01-01", "2026-01-02"]
        .iter()
        .map(|d| (d.parse().expect("a date"), Vec::new()))
        .collect();
    let weekdays = hours("09:00-17:00");
    BookingSettings {
        services: vec![
            Service {
                id: ServiceId("cut".into()),
                name: name(["Haircut", "Tuns", "Strzyżenie", "Frizūra", "תספורת"]),
                duration: Span::minutes(45),
                price: Some(Money {
                    minor: 12_000,
                    currency: ron,
                }),
                deposit: None,
                buffer_before: Span::minutes(0),
                buffer_after: Span::minutes(15),
                staff: vec![StaffId("ana".into()), StaffId("ion".into())],
            },
            Service {
                id: ServiceId("colour".into()),
                name: name(["Colouring", "Vopsit", "Farbowanie", "Krāsošana", "צביעה"]),
                duration: Span::minutes(90),
                price: None,
                deposit: None,
                buffer_before: Span::minutes(0),
                buffer_after: Span::minutes(0),
                staff: vec![StaffId("ana".into())],
            },
        ],
        staff: vec![
            Staff {
                id: StaffId("ana".into()),
                name: "Ana".into(),
                week: [
                    weekdays.clone(),
                    weekdays.clone(),
                    weekdays.clone(),
                    weekdays.clone(),
                    weekdays,
                    Vec::new(),
                    Vec::new(),
                ],
                breaks: hours("13:00-14:00"),
                exceptions: off.clone(),
            },
            Staff {
                id: StaffId("ion".into()),
                name: "Ion".into(),
                week: [
                    Vec::new(),
                    hours("10:00-18:00"),
                    hours("10:00-18:00"),
                    hours("10:00-18:00"),
                    hours("10:00-18:00"),
                    hours("10:00-18:00"),
                    Vec::new(),
                ],
                breaks: Vec::new(),
                exceptions: {
                    let mut days = off;
                    for night in ["2026-03-29", "2026-10-25"] {
                        days.insert(night.parse().expect("a date"), hours("01:00-06:00"));
                    }
                    days
                },
            },
        ],
        zone: SHOP_ZONE.parse().expect("a known zone"),
        days_offered: 4,
        times_offered: 6,
        ..BookingSettings::default()
    }
}

/// The shell's part for a booking request: the store checks and writes it atomically;
/// here the shared in-memory calendar plays the store.
fn answer_booking(
    calendar: &CalendarView,
    request: &BookingRequest,
    now: Timestamp,
) -> Option<BookingOutcome> {
    match request {
        BookingRequest::Hold { busy, staff } => {
            let booking = busy.booking.clone();
            Some(
                if calendar.write().reserve(staff, busy.clone(), now, None) {
                    BookingOutcome::Held { booking }
                } else {
                    BookingOutcome::Taken { booking }
                },
            )
        }
        BookingRequest::Book {
            booking,
            busy,
            replaces,
        } => {
            let reserved =
                calendar
                    .write()
                    .reserve(&booking.staff, busy.clone(), now, replaces.as_ref());
            Some(if reserved {
                let mut booking = booking.clone();
                booking.calendar_url =
                    Some(format!("https://shop.test/bookings/{}.ics", booking.id));
                BookingOutcome::Booked { booking }
            } else {
                BookingOutcome::Taken {
                    booking: booking.id.clone(),
                }
            })
        }
        BookingRequest::Cancel { booking } => {
            calendar.write().release(booking);
            None
        }
        BookingRequest::SetStatus { .. } => None,
    }
}

fn outcome_line(outcome: &BookingOutcome) -> String {
    match outcome {
        BookingOutcome::Held { booking } => format!("held {booking}"),
        BookingOutcome::Taken { booking } => format!("taken {booking}"),
        BookingOutcome::Booked { booking } => format!("booked {}", booking.id),
    }
}

/// The conversation's discount codes, when it has any.
fn discount_state(conversation: &Conversation, start: Timestamp) -> String {
    if conversation.recovery.codes.is_empty() {
        return String::new();
    }
    let codes: Vec<String> = conversation
        .recovery
        .codes
        .iter()
        .map(|c| {
            format!(
                "{} {}% step {} until +{}{}",
                c.code,
                c.percent,
                c.step,
                c.expires_at.since(start),
                c.used_by
                    .as_ref()
                    .map(|o| format!(" used-by {o}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(" | codes [{}]", codes.join("; "))
}

/// The conversation's bookings and no-show count, when it has any.
fn booking_state(conversation: &Conversation) -> String {
    if conversation.appointments.list.is_empty() && conversation.appointments.no_shows == 0 {
        return String::new();
    }
    let bookings: Vec<String> = conversation
        .appointments
        .list
        .iter()
        .map(|b| {
            format!(
                "{} {:?} {} reminders-done {}{}{}",
                b.id,
                b.status,
                local(b.start, SHOP_ZONE),
                b.reminders_done,
                if b.confirmed { " confirmed" } else { "" },
                b.deposit
                    .as_ref()
                    .map(|d| format!(
                        " deposit {} {}",
                        d.order,
                        if d.paid { "paid" } else { "unpaid" }
                    ))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(
        " | bookings [{}] | no-shows {}",
        bookings.join("; "),
        conversation.appointments.no_shows
    )
}

/// `YYYY-MM-DDTHH:MM` on the shop's wall clock.
fn shop_time(text: &str) -> Timestamp {
    let zone: chrono_tz::Tz = SHOP_ZONE.parse().expect("a known zone");
    let naive =
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("YYYY-MM-DDTHH:MM");
    let at = naive
        .and_local_timezone(zone)
        .earliest()
        .expect("a wall-clock time that exists");
    Timestamp(at.timestamp_millis())
}

fn money(m: &Money) -> String {
    let scale = 10_i64.pow(m.currency.minor_digits());
    format!(
        "{}.{:02} {}",
        m.minor / scale,
        m.minor % scale,
        m.currency.code()
    )
}

/// A time in a zone, as the wall clock there shows it, with the offset from UTC.
fn local(at: Timestamp, zone: &str) -> String {
    let zone: chrono_tz::Tz = zone.parse().expect("a known time zone");
    chrono::DateTime::from_timestamp_millis(at.millis())
        .expect("a valid time")
        .with_timezone(&zone)
        .format("%a %Y-%m-%d %H:%M%:z")
        .to_string()
}

fn arg(a: &Arg) -> String {
    match a {
        Arg::Str(s) => s.clone(),
        Arg::Int(i) => i.to_string(),
        Arg::Money(m) => money(m),
        Arg::When { at, zone, also } => match also {
            Some(theirs) => format!("{} / {} {theirs}", local(*at, zone), local(*at, theirs)),
            None => local(*at, zone),
        },
        Arg::Day(iso) => iso.clone(),
        Arg::Clock { at, zone, also } => match also {
            Some(theirs) => format!(
                "{} ({})",
                &local(*at, zone)[15..20],
                &local(*at, theirs)[15..20]
            ),
            None => local(*at, zone)[15..20].to_owned(),
        },
    }
}

fn args(map: &BTreeMap<String, Arg>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", arg(v))).collect();
    format!("({})", inner.join(", "))
}

fn label(l: &Label) -> String {
    match l {
        Label::Text(t) => format!("{}{}", t.key.id(), args(&t.args)),
        Label::Literal(s) => format!("{s:?}"),
        Label::Priced { name, price } => format!("{name:?}@{}", money(price)),
    }
}

fn render_reply(reply: &Reply, out: &mut String) {
    let by = if reply.by_operator { "[operator] " } else { "" };
    let _ = write!(
        out,
        "< {by}{}{}",
        reply.text.key.id(),
        args(&reply.text.args)
    );
    if !reply.choices.is_empty() {
        let ids: Vec<String> = reply.choices.iter().map(|c| c.action.id()).collect();
        let _ = write!(out, " | {}", ids.join(" "));
    }
    out.push('\n');
    // Literal labels are data the customer reads; show them so a wrong name is visible.
    let literal: Vec<String> = reply
        .choices
        .iter()
        .filter(|c| !matches!(c.label, Label::Text(ref t) if t.args.is_empty()))
        .map(|c| format!("{}={}", c.action.id(), label(&c.label)))
        .collect();
    if !literal.is_empty() {
        let _ = writeln!(out, "+ labels: {}", literal.join(" "));
    }
    for card in &reply.cards {
        let actions: Vec<String> = card.actions.iter().map(|c| c.action.id()).collect();
        let _ = writeln!(
            out,
            "+ card {} {:?} {}{}{} [{}]",
            card.product,
            card.title,
            if card.price_is_from { "from " } else { "" },
            money(&card.price),
            if card.out_of_stock {
                " out-of-stock"
            } else {
                ""
            },
            actions.join(" ")
        );
    }
    if let Some(cart) = &reply.cart {
        let lines: Vec<String> = cart
            .lines
            .iter()
            .map(|l| format!("{} x{} = {}", l.sku, l.quantity, money(&l.line_total)))
            .collect();
        let _ = writeln!(
            out,
            "+ cart: {} | total {}",
            lines.join(", "),
            money(&cart.total)
        );
    }
    if let Some(link) = &reply.link {
        let _ = writeln!(out, "+ link {} {}", link.label.id(), link.url);
    }
}

fn render_actions(
    actions: &[Action],
    timers: &mut BTreeMap<TimerKind, Timestamp>,
    start: Timestamp,
    out: &mut String,
) {
    for action in actions {
        match action {
            Action::Send(reply) => render_reply(reply, out),
            Action::SetTimer { kind, at } => {
                timers.insert(*kind, *at);
                // Re-armed by every message; printing it each time would drown the transcript.
                if *kind != TimerKind::SessionExpiry {
                    let _ = writeln!(out, "! set-timer {} at +{}", kind.name(), at.since(start));
                }
            }
            Action::CancelTimer(kind) => {
                timers.remove(kind);
                let _ = writeln!(out, "! cancel-timer {}", kind.name());
            }
            Action::RequestNlu { text, locale, .. } => {
                let _ = writeln!(out, "! request-nlu {locale} {text:?}");
            }
            Action::PlaceOrder(order) => {
                let lines: Vec<String> = order
                    .lines
                    .iter()
                    .map(|l| format!("{} x{} @ {}", l.sku, l.quantity, money(&l.unit_price)))
                    .collect();
                let fulfilment = match &order.fulfilment {
                    None => String::new(),
                    Some(Fulfilment::Delivery { address }) => format!(" delivery {address:?}"),
                    Some(Fulfilment::Pickup { point }) => format!(" pickup {point:?}"),
                };
                let recovered = order
                    .recovered_step
                    .map(|step| format!(" recovered-by-step {step}"))
                    .unwrap_or_default();
                let discount = order
                    .discount
                    .as_ref()
                    .map(|d| format!(" discount {} -{}% -{}", d.code, d.percent, money(&d.amount)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "! place-order {} {} {} [{}] total {}{fulfilment}{recovered}{discount}",
                    order.id,
                    order.name,
                    order.contact.as_str(),
                    lines.join(", "),
                    money(&order.total)
                );
            }
            Action::CreatePaymentLink {
                order,
                total,
                attempt,
            } => {
                let _ = writeln!(
                    out,
                    "! create-payment-link {order} {} attempt {attempt}",
                    money(total)
                );
            }
            Action::UpdateOrder {
                order,
                status,
                tracking,
                by: _,
            } => {
                let _ = writeln!(
                    out,
                    "! update-order {order} {status}{}",
                    tracking
                        .as_ref()
                        .map(|url| format!(" tracking {url}"))
                        .unwrap_or_default()
                );
            }
            Action::NotifyOperators(reason) => {
                let _ = writeln!(out, "! notify-operators {reason:?}");
            }
            Action::IssueLinkCode => {
                let _ = writeln!(out, "! issue-link-code");
            }
            Action::SendLinkCodeToPhone(phone) => {
                let _ = writeln!(out, "! send-link-code-to-phone {phone}");
            }
            Action::LinkByPhone(phone) => {
                let _ = writeln!(out, "! link-by-phone {phone}");
            }
            Action::RedeemLinkCode(code) => {
                let _ = writeln!(out, "! redeem-link-code {code}");
            }
            Action::Booking(request) => {
                let line = match request {
                    BookingRequest::Hold { busy, staff } => format!(
                        "hold {} {staff} {} until +{}",
                        busy.booking,
                        local(busy.from, SHOP_ZONE),
                        busy.hold_until.unwrap_or(busy.to).since(start)
                    ),
                    BookingRequest::Book {
                        booking, replaces, ..
                    } => format!(
                        "book {} {} {} {} {} {}{}",
                        booking.id,
                        booking.service.0,
                        booking.staff,
                        local(booking.start, SHOP_ZONE),
                        booking.name,
                        booking.contact,
                        replaces
                            .as_ref()
                            .map(|old| format!(" replacing {old}"))
                            .unwrap_or_default()
                    ),
                    BookingRequest::Cancel { booking } => format!("cancel {booking}"),
                    BookingRequest::SetStatus { booking, status } => {
                        format!("set-status {booking} {status:?}")
                    }
                };
                let _ = writeln!(out, "! booking {line}");
            }
            Action::HeldForOperator(reply) => {
                let mut held = String::new();
                render_reply(reply, &mut held);
                for line in held.lines() {
                    let _ = writeln!(out, "! held {}", line.trim_start_matches("< "));
                }
            }
        }
    }
}

/// "30m", "2h", "1h30m", "3d".
fn parse_span(text: &str) -> Span {
    let mut total = 0;
    let mut number = String::new();
    for c in text.trim().trim_start_matches('+').chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().expect("a number before each unit");
        number.clear();
        total += match c {
            's' => Span::seconds(n),
            'm' => Span::minutes(n),
            'h' => Span::hours(n),
            'd' => Span::hours(24 * n),
            other => panic!("unknown time unit {other:?}"),
        }
        .as_millis();
    }
    assert!(number.is_empty(), "a number without a unit in {text:?}");
    Span(total)
}

/// Runs one transcript and returns it with the output lines regenerated.
fn run(source: &str, ctx: &Context) -> String {
    // Stock can change during a transcript (`= stock SKU N`), as sales elsewhere change it.
    let mut ctx = ctx.clone();
    // Every transcript books on an empty calendar of its own.
    ctx.calendar = CalendarView::new(Calendar::default());
    // `#! start 2026-03-27T10:00`: the clock starts then (shop time); else 2026-01-01 00:00 UTC.
    let start = source
        .lines()
        .find_map(|l| l.strip_prefix("#! start "))
        .map_or(Timestamp(1_767_225_600_000), |at| shop_time(at.trim()));
    // `#! customer-tz ZONE`: the customer's device says they are in that zone.
    let customer_zone = source
        .lines()
        .find_map(|l| l.strip_prefix("#! customer-tz "))
        .map(|zone| zone.trim().to_owned());
    let mut occupied = 0;
    // `= lose-store-answer`: the next booking request is lost (a crash before the store
    // saw it).
    let lose_answer = std::cell::Cell::new(false);
    let mut now = start;
    let mut conversation = Conversation::new(CustomerId("c0ffee42-test".into()), Locale::En);
    let mut timers: BTreeMap<TimerKind, Timestamp> = BTreeMap::new();
    // The other chats of `= switch`, with their timers.
    let mut chats: BTreeMap<String, (Conversation, BTreeMap<TimerKind, Timestamp>)> =
        BTreeMap::new();
    let mut out = String::new();
    let step = |ctx: &Context,
                conversation: &mut Conversation,
                event: Event,
                now: Timestamp,
                timers: &mut BTreeMap<TimerKind, Timestamp>,
                out: &mut String| {
        let mut pending = std::collections::VecDeque::from([event]);
        while let Some(event) = pending.pop_front() {
            let current = std::mem::replace(
                conversation,
                Conversation::new(CustomerId(String::new()), Locale::En),
            );
            let step = current.step(ctx, event, now);
            *conversation = step.conversation;
            render_actions(&step.actions, timers, start, out);
            for action in &step.actions {
                if let Action::Booking(_) = action
                    && lose_answer.replace(false)
                {
                    let _ = writeln!(out, "~ store never saw it");
                    continue;
                }
                if let Action::Booking(request) = action
                    && let Some(outcome) = answer_booking(&ctx.calendar, request, now)
                {
                    let _ = writeln!(out, "~ store {}", outcome_line(&outcome));
                    pending.push_back(Event::Booking(outcome));
                }
            }
        }
    };
    for line in source.lines() {
        let is_output = ["<", "+", "!", "~", "state:", "consent:"]
            .iter()
            .any(|p| line.starts_with(p));
        if is_output {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if let Some(said) = line.strip_prefix("> ") {
            let message = match said.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(action) => InboundMessage::Action(action.to_owned()),
                None => match said {
                    "{image}" => InboundMessage::Media {
                        kind: MediaKind::Image,
                        caption: None,
                        media_id: None,
                        mime: None,
                    },
                    "{location}" => InboundMessage::Location {
                        latitude: 44.43,
                        longitude: 26.1,
                    },
                    "{contact}" => InboundMessage::Contact {
                        phone: Some("+40721234567".into()),
                        name: None,
                    },
                    _ if said.starts_with("{order ") => InboundMessage::CatalogOrder {
                        items: said
                            .trim_start_matches("{order ")
                            .trim_end_matches('}')
                            .split_whitespace()
                            .map(|item| {
                                let (sku, quantity) = item.split_once(':').expect("SKU:N");
                                CatalogItem {
                                    retailer_id: sku.to_owned(),
                                    quantity: quantity.parse().expect("a quantity"),
                                }
                            })
                            .collect(),
                    },
                    _ => match said.strip_prefix("{image} ") {
                        Some(caption) => InboundMessage::Media {
                            kind: MediaKind::Image,
                            caption: Some(caption.to_owned()),
                            media_id: None,
                            mime: None,
                        },
                        None => InboundMessage::Text(said.to_owned()),
                    },
                },
            };
            let mut inbound = Inbound::new(Channel::WebChat, message);
            inbound.context.time_zone = customer_zone.clone();
            // `> {mme REF}`: the thread was opened from an m.me link with that `ref`;
            // `> {own-contact PHONE}`: the customer shared their own number.
            if let Some(reference) = said.strip_prefix("{mme ").and_then(|r| r.strip_suffix('}')) {
                inbound.message = InboundMessage::Action("start".into());
                inbound.context.referral = Some(AdReferral {
                    source_type: "SHORTLINK".into(),
                    source_id: None,
                    source_url: None,
                    headline: None,
                    click_id: Some(reference.to_owned()),
                });
            }
            if let Some(phone) = said
                .strip_prefix("{own-contact ")
                .and_then(|r| r.strip_suffix('}'))
            {
                inbound.message = InboundMessage::Contact {
                    phone: Some(phone.to_owned()),
                    name: None,
                };
                inbound.context.own_phone = Some(phone.to_owned());
            }
            let event = Event::Inbound(inbound);
            step(&ctx, &mut conversation, event, now, &mut timers, &mut out);
        } else if let Some(span) = line.strip_prefix("@ ") {
            let until = now.plus(parse_span(span));
            // Fire due timers in due order, each at its own time, as the shell's scheduler does.
            while let Some((&kind, &at)) = timers
                .iter()
                .filter(|(_, at)| **at <= until)
                .min_by_key(|(_, at)| **at)
            {
                timers.remove(&kind);
                now = at;
                let _ = writeln!(
                    out,
                    "~ timer {} fired at +{}",
                    kind.name(),
                    now.since(start)
                );
                step(
                    &ctx,
                    &mut conversation,
                    Event::TimerFired(kind),
                    now,
                    &mut timers,
                    &mut out,
                );
            }
            now = until;
        } else if let Some(command) = line.strip_prefix("= ") {
            let words: Vec<&str> = command.split_whitespace().collect();
            let event = match words.as_slice() {
                ["switch", name] => {
                    let (next, next_timers) = chats.remove(*name).unwrap_or_else(|| {
                        let customer = CustomerId((*name).to_owned());
                        (Conversation::new(customer, Locale::En), BTreeMap::new())
                    });
                    let previous = std::mem::replace(&mut conversation, next);
                    let previous_timers = std::mem::replace(&mut timers, next_timers);
                    chats.insert(previous.customer.0.clone(), (previous, previous_timers));
                    continue;
                }
                ["merge-into", name] => {
                    let (mut survivor, survivor_timers) =
                        chats.remove(*name).expect("a chat to merge into");
                    let merged = std::mem::replace(
                        &mut conversation,
                        Conversation::new(CustomerId(String::new()), Locale::En),
                    );
                    flows::merge::merge_conversations(&mut survivor, merged);
                    // The merged chat's timers go with it; the store re-arms the
                    // appointments' reminder for the survivor.
                    timers = survivor_timers;
                    if let Some(due) = survivor.appointments.reminder_due {
                        timers.insert(TimerKind::BookingReminder, due);
                    }
                    let bookings: Vec<&str> = survivor
                        .appointments
                        .list
                        .iter()
                        .map(|b| b.id.0.as_str())
                        .collect();
                    let _ = writeln!(
                        out,
                        "~ merged into {name}: bookings [{}], booking reminder {}",
                        bookings.join(" "),
                        survivor.appointments.reminder_due.map_or_else(
                            || "none".to_owned(),
                            |due| format!("at +{}", due.since(start))
                        )
                    );
                    conversation = survivor;
                    continue;
                }
                ["state"] => {
                    let cart: Vec<String> = conversation
                        .cart
                        .lines
                        .iter()
                        .map(|l| format!("{}x{}", l.sku, l.quantity))
                        .collect();
                    let handoff = match &conversation.handoff {
                        Handoff::Bot => String::new(),
                        other => format!(
                            " | handoff {}",
                            serde_json::to_string(other).expect("handoff serializes")
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "state: {} | locale {} | cart [{}] | misses {}{handoff}{}{}",
                        serde_json::to_string(&conversation.state).expect("state serializes"),
                        conversation.locale,
                        cart.join(" "),
                        conversation.misses,
                        booking_state(&conversation),
                        discount_state(&conversation, start)
                    );
                    continue;
                }
                ["marketing", text @ ..] => {
                    let mut localized = std::collections::BTreeMap::new();
                    localized.insert(Locale::En, text.join(" "));
                    Event::Marketing {
                        campaign: "spring".into(),
                        text: flows::text::LocalizedText(localized),
                    }
                }
                ["consents"] => {
                    for entry in &conversation.consents.0 {
                        let line = match entry {
                            flows::consent::ConsentEntry::Asked {
                                purpose,
                                at,
                                text,
                                locale,
                                version,
                                channel,
                            } => format!(
                                "{} asked at +{} with {} ({locale}, version {:?}) on {}",
                                purpose.name(),
                                at.since(start),
                                text.id(),
                                version,
                                channel.map_or("-", |c| c.name())
                            ),
                            flows::consent::ConsentEntry::Answered {
                                purpose,
                                at,
                                granted,
                                how,
                                channel,
                            } => format!(
                                "{} {} at +{} ({how:?}) on {}",
                                purpose.name(),
                                if *granted { "yes" } else { "no" },
                                at.since(start),
                                channel.map_or("-", |c| c.name())
                            ),
                        };
                        let _ = writeln!(out, "consent: {line}");
                    }
                    continue;
                }
                ["paid", id] => Event::PaymentConfirmed {
                    order: OrderId((*id).into()),
                },
                ["failed", id] => Event::PaymentFailed {
                    order: OrderId((*id).into()),
                    reason: PaymentFailure::Declined,
                },
                ["expired", id] => Event::PaymentFailed {
                    order: OrderId((*id).into()),
                    reason: PaymentFailure::Expired,
                },
                ["status", id, status, tracking @ ..] => Event::OrderStatusChanged {
                    order: OrderId((*id).into()),
                    status: OrderStatus::parse(status).expect("a known order status"),
                    tracking: tracking.first().map(|url| (*url).to_owned()),
                    by: None,
                },
                ["oversold", id, skus @ ..] => Event::OrderOversold {
                    order: OrderId((*id).into()),
                    skus: skus.iter().map(|s| Sku((*s).into())).collect(),
                },
                ["bought-together", products @ ..] => {
                    let ids: Vec<ProductId> =
                        products.iter().map(|p| ProductId((*p).into())).collect();
                    ctx.together.record(&ids);
                    continue;
                }
                ["stock", sku, level] => {
                    let level: u32 = level.parse().expect("a stock level");
                    ctx.catalog = ctx.catalog.with_stock(&[(Sku((*sku).into()), level)]);
                    continue;
                }
                ["link", id, url] => Event::PaymentLinkReady {
                    order: OrderId((*id).into()),
                    url: (*url).into(),
                },
                ["timer", "session-expiry"] => Event::TimerFired(TimerKind::SessionExpiry),
                ["timer", "handoff-wait"] => Event::TimerFired(TimerKind::HandoffWait),
                ["timer", "cart-recovery"] => Event::TimerFired(TimerKind::CartRecovery),
                ["timer", "booking-reminder"] => Event::TimerFired(TimerKind::BookingReminder),
                // `= occupy ana 2026-01-05T10:00 1h`: somebody else booked that time.
                ["occupy", staff, at, span] => {
                    occupied += 1;
                    let from = shop_time(at);
                    let busy = Busy {
                        booking: BookingId(format!("other-{occupied}")),
                        customer: CustomerId(format!("someone-else-{occupied}")),
                        from,
                        to: from.plus(parse_span(span)),
                        hold_until: None,
                    };
                    let ok =
                        ctx.calendar
                            .write()
                            .reserve(&StaffId((*staff).into()), busy, now, None);
                    assert!(ok, "`= occupy` on a time already taken");
                    continue;
                }
                ["lose-store-answer"] => {
                    lose_answer.set(true);
                    continue;
                }
                ["noshow", operator, booking] => Event::OperatorMarkedNoShow {
                    operator: OperatorId((*operator).into()),
                    booking: BookingId((*booking).into()),
                },
                ["takeover", operator, name @ ..] => Event::OperatorTookOver {
                    operator: OperatorId((*operator).into()),
                    name: name.join(" "),
                },
                ["operator", operator, ..] => Event::OperatorMessage {
                    operator: OperatorId((*operator).into()),
                    text: command.splitn(3, ' ').nth(2).unwrap_or_default().to_owned(),
                    original: None,
                },
                ["handback", operator, rest @ ..] => Event::OperatorHandedBack {
                    operator: OperatorId((*operator).into()),
                    resolved: rest.first() == Some(&"resolved"),
                },
                ["product", operator, product] => Event::OperatorSentProduct {
                    operator: OperatorId((*operator).into()),
                    product: ProductId((*product).into()),
                },
                ["link-code", code] => Event::LinkCodeIssued {
                    code: (*code).to_owned(),
                    minutes: 10,
                },
                ["linked", "done", lines @ ..] => Event::Linked(LinkOutcome::Done {
                    other_cart: lines
                        .iter()
                        .map(|line| {
                            let (sku, quantity) = line.split_once(':').expect("SKU:N");
                            CartLine {
                                sku: Sku(sku.into()),
                                quantity: quantity.parse().expect("a quantity"),
                            }
                        })
                        .collect(),
                }),
                ["linked", outcome] => Event::Linked(match *outcome {
                    "unknown" => LinkOutcome::Unknown,
                    "expired" => LinkOutcome::Expired,
                    "used" => LinkOutcome::Used,
                    "same" => LinkOutcome::SameCustomer,
                    "too-many" => LinkOutcome::TooManyTries,
                    "no-match" => LinkOutcome::NoMatch,
                    "code-sent" => LinkOutcome::CodeSent,
                    other => panic!("unknown link outcome {other}"),
                }),
                ["payment-link", operator] => Event::OperatorSentPaymentLink {
                    operator: OperatorId((*operator).into()),
                },
                ["reassign", from, to, name @ ..] => Event::OperatorReassigned {
                    from: OperatorId((*from).into()),
                    to: OperatorId((*to).into()),
                    name: name.join(" "),
                },
                ["nlu", "none"] => Event::NluResult {
                    intent: None,
                    request: None,
                },
                ["nlu", ..] => Event::NluResult {
                    intent: Some(
                        serde_json::from_str(command.trim_start_matches("nlu "))
                            .expect("intent JSON"),
                    ),
                    request: None,
                },
                other => panic!("unknown command {other:?}"),
            };
            step(&ctx, &mut conversation, event, now, &mut timers, &mut out);
        }
    }
    out
}

#[test]
fn transcripts() {
    let ctx = context();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("transcripts dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no transcripts found");
    let mut failures = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).expect("transcript readable");
        let mut ctx = ctx.clone();
        // `#! demo-catalog`: the shipped demo shop's catalog (colours, sizes, variants).
        if source.contains("#! demo-catalog") {
            let raw = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/catalog.json"),
            )
            .expect("demo catalog readable");
            let data: CatalogData = serde_json::from_str(&raw).expect("demo catalog parses");
            ctx.catalog = Catalog::new(data).expect("demo catalog valid");
        }
        if source.contains("#! nlu") {
            ctx.settings.nlu_enabled = true;
        }
        // `#! demo-knowledge`: the demo shop's answers (config/demo/knowledge).
        if source.contains("#! demo-knowledge") {
            ctx.knowledge = std::sync::Arc::new(common::demo_knowledge());
        }
        // `#! delivery` asks for an address at checkout; `#! pickup NAME` adds a pickup point.
        // `#! recovery` turns on the standard reminder sequence (30 min, 1 day, 3 days).
        if source.contains("#! recovery") {
            ctx.settings.recovery = flows::recovery::RecoverySettings::standard();
        }
        // `#! recovery-discount`: the next-day reminder gives 15% off for 2 days, the last
        // call 20% off for 1 day.
        if source.contains("#! recovery-discount") {
            let steps = &mut ctx.settings.recovery.steps;
            steps[1].discount = Some(flows::discount::StepDiscount {
                percent: 15,
                valid_for: Span::hours(48),
            });
            steps[2].discount = Some(flows::discount::StepDiscount {
                percent: 20,
                valid_for: Span::hours(24),
            });
        }
        // `#! quiet 21-9`: no reminders between those hours (UTC, or the customer's zone).
        if let Some(quiet) = source.lines().find_map(|l| l.strip_prefix("#! quiet ")) {
            let (from, to) = quiet.trim().split_once('-').expect("#! quiet FROM-TO");
            let (from, to): (u32, u32) = (from.parse().expect("hour"), to.parse().expect("hour"));
            ctx.settings.recovery.quiet =
                flows::recovery::QuietHours::daily(from * 60, to * 60, chrono_tz::UTC);
        }
        if source.contains("#! booking") {
            ctx.settings.booking = booking_settings();
        }
        // `#! booking-deposit`: a colour needs a deposit of 50.00 RON.
        if source.contains("#! booking-deposit") {
            ctx.settings.booking.services[1].deposit = Some(Money {
                minor: 5_000,
                currency: flows::Currency::new("RON").expect("RON"),
            });
        }
        if source.contains("#! delivery") {
            ctx.settings.delivery = true;
        }
        // `#! marketing`: news and offers are asked after the first paid order; the
        // questions' wording has a version per language, as the shell computes it.
        if source.contains("#! marketing") {
            ctx.settings.marketing = true;
            for (key, locale) in [
                (flows::TextKey::MarketingAsk, Locale::En),
                (flows::TextKey::MarketingAsk, Locale::Ro),
                (flows::TextKey::RecoveryGentle, Locale::En),
            ] {
                ctx.settings
                    .text_versions
                    .insert((key, locale), format!("v-{}-{}", key.id(), locale.code()));
            }
        }
        if let Some(hours) = source.lines().find_map(|l| l.strip_prefix("#! hours ")) {
            let (from, to) = hours.trim().split_once('-').expect("#! hours FROM-TO");
            let from: i64 = from.parse().expect("an hour");
            let to: i64 = to.parse().expect("an hour");
            ctx.settings.handoff.on_duty = OnDuty::new(move |at: Timestamp| {
                let hour = at.millis().rem_euclid(86_400_000) / 3_600_000;
                (from..to).contains(&hour)
            });
        }
        for line in source.lines() {
            if let Some(point) = line.strip_prefix("#! pickup ") {
                ctx.settings.pickup_points.push(point.trim().to_owned());
            }
        }
        let actual = run(&source, &ctx);
        if actual != source {
            if update {
                std::fs::write(&path, &actual).expect("transcript writable");
            } else {
                let line = source
                    .lines()
                    .zip(actual.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| source.lines().count().min(actual.lines().count()));
                let expected = source.lines().nth(line).unwrap_or("<end of file>");
                let got = actual.lines().nth(line).unwrap_or("<end of file>");
                failures.push(format!(
                    "{}:{}\n  expected: {expected}\n  actual:   {got}",
                    path.display(),
                    line + 1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "transcripts differ (UPDATE_EXPECT=1 to accept):\n{}",
        failures.join("\n")
    );
}

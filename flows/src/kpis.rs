//! The shop's numbers per day and channel, from stored records: conversations, chat-to-
//! purchase conversion, orders and revenue from chat, average order value, orders and
//! revenue recovered by cart reminders, appointments and the no-show rate, hand-offs to a
//! person. Pure: the shell reads the records and prints what this returns.
//!
//! A conversation counts on the day of its last activity, in the channel it last wrote
//! from; an order and an appointment count in their customer's channel, on the day placed
//! and the day of the appointment (in the shop's time zone).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use crate::booking::{Booking, BookingStatus};
use crate::customer::{Channel, CustomerId};
use crate::order::Order;
use crate::time::Timestamp;

/// What the numbers need of one conversation.
#[derive(Debug, Clone)]
pub struct ConversationFacts {
    pub customer: CustomerId,
    /// The channel it last wrote from.
    pub channel: Option<Channel>,
    pub last_at: Timestamp,
    /// It asked for, or was handed to, a person.
    pub handed_off: bool,
}

/// One day's numbers in one channel (`all`: every channel).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KpiRow {
    pub day: String,
    pub channel: String,
    pub conversations: u64,
    /// Customers of those conversations with a paid order that day.
    pub buyers: u64,
    /// `buyers / conversations`.
    pub conversion: f64,
    pub orders: u64,
    pub paid_orders: u64,
    /// Paid orders' totals, in minor units of the shop's currency.
    pub revenue_minor: i64,
    pub average_order_minor: i64,
    pub recovered_orders: u64,
    pub recovered_revenue_minor: i64,
    pub bookings: u64,
    pub no_shows: u64,
    /// `no_shows / bookings` (cancelled and moved ones are not counted).
    pub no_show_rate: f64,
    pub handoffs: u64,
    /// `handoffs / conversations`.
    pub handoff_rate: f64,
}

fn day_of(at: Timestamp, zone: Tz) -> Option<NaiveDate> {
    zone.timestamp_millis_opt(at.millis())
        .single()
        .map(|t| t.date_naive())
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The numbers for each day from `from` to `to` (inclusive) that had any, per channel and
/// for all channels, days in order (`all` first within a day).
pub fn daily(
    from: NaiveDate,
    to: NaiveDate,
    zone: Tz,
    conversations: &[ConversationFacts],
    orders: &[Order],
    bookings: &[Booking],
) -> Vec<KpiRow> {
    let channel_of: HashMap<&CustomerId, Option<Channel>> = conversations
        .iter()
        .map(|c| (&c.customer, c.channel))
        .collect();
    let in_range = |day: &NaiveDate| *day >= from && *day <= to;
    let mut rows: BTreeMap<(NaiveDate, String), KpiRow> = BTreeMap::new();
    let mut touch =
        |day: NaiveDate, channel: Option<Channel>, apply: &mut dyn FnMut(&mut KpiRow)| {
            let name = channel.map_or("unknown", Channel::name);
            for key in ["all", name] {
                let row = rows.entry((day, key.to_owned())).or_insert_with(|| KpiRow {
                    day: day.to_string(),
                    channel: key.to_owned(),
                    ..KpiRow::default()
                });
                apply(row);
            }
        };
    for conversation in conversations {
        let Some(day) = day_of(conversation.last_at, zone).filter(in_range) else {
            continue;
        };
        touch(day, conversation.channel, &mut |row| {
            row.conversations += 1;
            row.handoffs += u64::from(conversation.handed_off);
        });
    }
    let mut buyers: BTreeMap<(NaiveDate, String), Vec<&CustomerId>> = BTreeMap::new();
    for order in orders {
        let Some(day) = day_of(order.placed_at, zone).filter(in_range) else {
            continue;
        };
        let channel = channel_of.get(&order.customer).copied().flatten();
        let paid = order.status.money_taken();
        let total = order.total.minor;
        touch(day, channel, &mut |row| {
            row.orders += 1;
            if paid {
                row.paid_orders += 1;
                row.revenue_minor = row.revenue_minor.saturating_add(total);
                if order.recovered_step.is_some() {
                    row.recovered_orders += 1;
                    row.recovered_revenue_minor = row.recovered_revenue_minor.saturating_add(total);
                }
            }
        });
        if paid {
            let name = channel.map_or("unknown", Channel::name);
            for key in ["all", name] {
                let list = buyers.entry((day, key.to_owned())).or_default();
                if !list.contains(&&order.customer) {
                    list.push(&order.customer);
                }
            }
        }
    }
    for booking in bookings {
        if matches!(
            booking.status,
            BookingStatus::Cancelled | BookingStatus::Rescheduled
        ) {
            continue;
        }
        let Some(day) = day_of(booking.start, zone).filter(in_range) else {
            continue;
        };
        let channel = channel_of.get(&booking.customer).copied().flatten();
        touch(day, channel, &mut |row| {
            row.bookings += 1;
            row.no_shows += u64::from(booking.status == BookingStatus::NoShow);
        });
    }
    for (key, row) in &mut rows {
        row.buyers = buyers.get(key).map_or(0, |list| list.len() as u64);
        row.conversion = ratio(row.buyers, row.conversations);
        row.average_order_minor = if row.paid_orders == 0 {
            0
        } else {
            row.revenue_minor / i64::try_from(row.paid_orders).unwrap_or(i64::MAX)
        };
        row.no_show_rate = ratio(row.no_shows, row.bookings);
        row.handoff_rate = ratio(row.handoffs, row.conversations);
    }
    let mut out: Vec<KpiRow> = rows.into_values().collect();
    // Within a day: every channel first, then by name.
    out.sort_by(|a, b| {
        a.day
            .cmp(&b.day)
            .then((a.channel != "all").cmp(&(b.channel != "all")))
            .then(a.channel.cmp(&b.channel))
    });
    out
}

/// The rows as CSV, a header first.
pub fn csv(rows: &[KpiRow]) -> String {
    let mut out = String::from(
        "day,channel,conversations,buyers,conversion,orders,paid_orders,revenue_minor,\
         average_order_minor,recovered_orders,recovered_revenue_minor,bookings,no_shows,\
         no_show_rate,handoffs,handoff_rate\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{:.4},{},{},{},{},{},{},{},{},{:.4},{},{:.4}\n",
            r.day,
            r.channel,
            r.conversations,
            r.buyers,
            r.conversion,
            r.orders,
            r.paid_orders,
            r.revenue_minor,
            r.average_order_minor,
            r.recovered_orders,
            r.recovered_revenue_minor,
            r.bookings,
            r.no_shows,
            r.no_show_rate,
            r.handoffs,
            r.handoff_rate
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-03-02 00:00 UTC, a Monday.
    const MONDAY: i64 = 1_772_409_600_000;

    fn order(customer: &str, at: i64, total: i64, status: &str, recovered: bool) -> Order {
        let mut value = serde_json::json!({
            "id": format!("{customer}-{at}"), "customer": customer, "name": "N",
            "contact": {"kind": "email", "value": "n@example.com"}, "lines": [],
            "total": {"minor": total, "currency": "EUR"}, "status": status, "placed_at": at,
        });
        if recovered {
            value["recovered_step"] = serde_json::json!(1);
        }
        serde_json::from_value(value).expect("an order")
    }

    fn booking(customer: &str, at: i64, status: &str) -> Booking {
        serde_json::from_value(serde_json::json!({
            "id": format!("{customer}-B{at}"), "customer": customer, "service": "cut",
            "staff": "ana", "start": at, "end": at + 1_800_000, "status": status,
            "name": "N", "contact": "+40700000000",
        }))
        .expect("a booking")
    }

    fn talk(customer: &str, channel: Channel, at: i64, handed_off: bool) -> ConversationFacts {
        ConversationFacts {
            customer: CustomerId(customer.into()),
            channel: Some(channel),
            last_at: Timestamp(at),
            handed_off,
        }
    }

    #[test]
    fn a_day_per_channel_and_for_all() {
        let conversations = [
            talk("a", Channel::WhatsApp, MONDAY + 3_600_000, false),
            talk("b", Channel::WhatsApp, MONDAY + 7_200_000, true),
            talk("c", Channel::WebChat, MONDAY + 10_800_000, false),
            talk("d", Channel::WebChat, MONDAY + DAY, false),
        ];
        let orders = [
            order("a", MONDAY + 3_600_000, 10_000, "paid", false),
            order("a", MONDAY + 4_000_000, 5_000, "delivered", true),
            order("b", MONDAY + 7_200_000, 2_000, "pending_payment", false),
            order("c", MONDAY + 10_800_000, 3_000, "refunded", false),
        ];
        let bookings = [
            booking("c", MONDAY + 36_000_000, "booked"),
            booking("a", MONDAY + 40_000_000, "no_show"),
            booking("b", MONDAY + 44_000_000, "cancelled"),
        ];
        let from = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
        let rows = daily(
            from,
            from,
            chrono_tz::UTC,
            &conversations,
            &orders,
            &bookings,
        );
        let all = &rows[0];
        assert_eq!(
            (all.day.as_str(), all.channel.as_str()),
            ("2026-03-02", "all")
        );
        assert_eq!(all.conversations, 3, "d is on Tuesday, outside the range");
        assert_eq!(all.orders, 4);
        assert_eq!(
            all.paid_orders, 3,
            "a refund was money taken; pending is not"
        );
        assert_eq!(all.revenue_minor, 18_000);
        assert_eq!(all.average_order_minor, 6_000);
        assert_eq!(all.buyers, 2, "a bought twice, c once");
        assert!((all.conversion - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            (all.recovered_orders, all.recovered_revenue_minor),
            (1, 5_000)
        );
        assert_eq!(
            (all.bookings, all.no_shows),
            (2, 1),
            "the cancelled one is out"
        );
        assert!((all.no_show_rate - 0.5).abs() < 1e-9);
        assert_eq!(all.handoffs, 1);
        let whatsapp = rows
            .iter()
            .find(|r| r.channel == "whatsapp")
            .expect("a WhatsApp row");
        assert_eq!((whatsapp.conversations, whatsapp.paid_orders), (2, 2));
        assert_eq!(whatsapp.revenue_minor, 15_000);
        let csv = csv(&rows);
        assert!(csv.starts_with("day,channel,conversations"));
        assert_eq!(csv.lines().count(), rows.len() + 1);
    }

    #[test]
    fn days_follow_the_shops_time_zone() {
        // 23:30 UTC on Monday is Tuesday in Bucharest.
        let late = MONDAY + DAY - 1_800_000;
        let conversations = [talk("a", Channel::Telegram, late, false)];
        let tuesday = NaiveDate::from_ymd_opt(2026, 3, 3).expect("date");
        let rows = daily(
            tuesday,
            tuesday,
            chrono_tz::Europe::Bucharest,
            &conversations,
            &[],
            &[],
        );
        assert_eq!(rows[0].conversations, 1);
    }
}

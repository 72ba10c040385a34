//! The shop's numbers per day and channel, from stored records: conversations, chat-to-
//! purchase conversion, orders and revenue from chat, average order value, cart recovery
//! (carts chased, reminders sent, orders and revenue recovered per reminder step),
//! appointments and the no-show rate, hand-offs to a person and the team's first response
//! and resolution times. Pure: the shell reads the records and prints what this returns.
//!
//! A conversation counts on each day the customer wrote, in the channel they wrote from
//! (with no message of theirs to go by, once, on the day of its last activity). An order and an appointment
//! count in their customer's channel, on the day placed and the day of the appointment. A
//! hand-off counts on the day a person was asked for; its first response is the first
//! message of an operator after it, its resolution the hand back. Days are the shop's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use crate::booking::{Booking, BookingStatus};
use crate::customer::{Channel, CustomerId};
use crate::order::Order;
use crate::time::Timestamp;

/// Something that happened in a conversation, as the numbers need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// The customer wrote (or pressed a button) on this channel.
    Wrote(Channel),
    /// A person was asked for.
    HandoffAsked,
    /// An operator wrote to the customer.
    OperatorReplied,
    /// The operator handed the conversation back (or closed it).
    HandedBack,
    /// A cart reminder went out: its step (0 = the first).
    Reminder(u32),
    /// A message the rules could not place was settled by the language model (`true`) or,
    /// the model failing, unsure or late, by the rules (`false`).
    ModelRead(bool),
}

/// What the numbers need of one conversation.
#[derive(Debug, Clone)]
pub struct ConversationFacts {
    pub customer: CustomerId,
    /// The channel it last wrote from.
    pub channel: Option<Channel>,
    pub last_at: Timestamp,
    /// It has a person now (used only when `activity` is empty).
    pub handed_off: bool,
    /// What happened, oldest first (the shell reads it from the history).
    pub activity: Vec<(Timestamp, Activity)>,
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
    /// Carts whose first reminder went out that day.
    pub carts_chased: u64,
    pub reminders_sent: u64,
    pub recovered_orders: u64,
    pub recovered_revenue_minor: i64,
    /// Recovered revenue by the reminder step it is owed to (1 = the first).
    pub recovered_revenue_by_step: BTreeMap<u32, i64>,
    pub bookings: u64,
    pub no_shows: u64,
    /// `no_shows / bookings` (cancelled and moved ones are not counted).
    pub no_show_rate: f64,
    /// Times a person was asked for.
    pub handoffs: u64,
    /// Conversations that asked for a person, over `conversations`.
    pub handoff_rate: f64,
    /// Hand-offs an operator answered, and the time it took, summed (for averages over
    /// any span of days); the average of the day.
    pub first_responses: u64,
    pub first_response_ms_total: i64,
    pub first_response_avg_ms: i64,
    /// Hand-offs handed back, and the time from the ask, summed; the average.
    pub resolutions: u64,
    pub resolution_ms_total: i64,
    pub resolution_avg_ms: i64,
    /// Messages the language model was asked to read, and those the rules answered after
    /// all (the model failed, was unsure or late); their ratio.
    pub model_readings: u64,
    pub model_fallbacks: u64,
    pub model_fallback_rate: f64,
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

fn average(total: i64, count: u64) -> i64 {
    if count == 0 {
        0
    } else {
        total / i64::try_from(count).unwrap_or(i64::MAX)
    }
}

/// One hand-off: when a person was asked for, the first operator message after it and
/// the hand back (each `None` when it did not come before the next ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandoffCase {
    pub asked: Timestamp,
    pub first_reply: Option<Timestamp>,
    pub handed_back: Option<Timestamp>,
}

/// The hand-offs of one conversation's activity (oldest first). An operator who writes
/// without an ask (taking over from the list) answers nothing; a second ask before the
/// hand back is the same case still open.
pub fn handoff_cases(activity: &[(Timestamp, Activity)]) -> Vec<HandoffCase> {
    let mut cases: Vec<HandoffCase> = Vec::new();
    let mut open: Option<HandoffCase> = None;
    for &(at, what) in activity {
        match what {
            Activity::HandoffAsked if open.is_none() => {
                open = Some(HandoffCase {
                    asked: at,
                    first_reply: None,
                    handed_back: None,
                });
            }
            Activity::OperatorReplied => {
                if let Some(case) = &mut open
                    && case.first_reply.is_none()
                {
                    case.first_reply = Some(at);
                }
            }
            Activity::HandedBack => {
                if let Some(mut case) = open.take() {
                    case.handed_back = Some(at);
                    cases.push(case);
                }
            }
            _ => {}
        }
    }
    cases.extend(open);
    cases
}

type Rows = BTreeMap<(NaiveDate, String), KpiRow>;

/// The row of a day and channel, made empty the first time.
fn row_of<'a>(rows: &'a mut Rows, day: NaiveDate, channel: &str) -> &'a mut KpiRow {
    rows.entry((day, channel.to_owned()))
        .or_insert_with(|| KpiRow {
            day: day.to_string(),
            channel: channel.to_owned(),
            ..KpiRow::default()
        })
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
    let mut rows: Rows = BTreeMap::new();
    let mut touch =
        |day: NaiveDate, channel: Option<Channel>, apply: &mut dyn FnMut(&mut KpiRow)| {
            let name = channel.map_or("unknown", Channel::name);
            for key in ["all", name] {
                apply(row_of(&mut rows, day, key));
            }
        };
    // Distinct customers per day and channel: who wrote, who asked for a person.
    let mut wrote: BTreeSet<(NaiveDate, &str, &CustomerId)> = BTreeSet::new();
    let mut asked: BTreeSet<(NaiveDate, &str, &CustomerId)> = BTreeSet::new();
    for conversation in conversations {
        // Without any message of the customer to go by (no history given, or none kept), it
        // counts once, on the day of its last activity.
        let wrote_any = conversation
            .activity
            .iter()
            .any(|(_, what)| matches!(what, Activity::Wrote(_)));
        if !wrote_any && let Some(day) = day_of(conversation.last_at, zone).filter(in_range) {
            let legacy_handoff = conversation.activity.is_empty() && conversation.handed_off;
            touch(day, conversation.channel, &mut |row| {
                row.conversations += 1;
                row.handoffs += u64::from(legacy_handoff);
            });
            if legacy_handoff {
                let name = conversation.channel.map_or("unknown", Channel::name);
                for key in ["all", name] {
                    asked.insert((day, key, &conversation.customer));
                }
            }
        }
        // Where the customer last wrote from, as the activity goes on.
        let mut channel = conversation.channel;
        for &(at, what) in &conversation.activity {
            if let Activity::Wrote(on) = what {
                channel = Some(on);
            }
            let Some(day) = day_of(at, zone).filter(in_range) else {
                continue;
            };
            let name = channel.map_or("unknown", Channel::name);
            match what {
                Activity::Wrote(_) => {
                    // Once a day per customer, in each channel they wrote from that day.
                    let first_today = wrote.insert((day, "all", &conversation.customer));
                    let first_here = wrote.insert((day, name, &conversation.customer));
                    touch(day, channel, &mut |row| {
                        let counted = if row.channel == "all" {
                            first_today
                        } else {
                            first_here
                        };
                        row.conversations += u64::from(counted);
                    });
                }
                Activity::HandoffAsked => {
                    touch(day, channel, &mut |row| row.handoffs += 1);
                    for key in ["all", name] {
                        asked.insert((day, key, &conversation.customer));
                    }
                }
                Activity::Reminder(step) => touch(day, channel, &mut |row| {
                    row.reminders_sent += 1;
                    row.carts_chased += u64::from(step == 0);
                }),
                Activity::ModelRead(by_model) => touch(day, channel, &mut |row| {
                    row.model_readings += 1;
                    row.model_fallbacks += u64::from(!by_model);
                }),
                Activity::OperatorReplied | Activity::HandedBack => {}
            }
        }
        for case in handoff_cases(&conversation.activity) {
            let Some(day) = day_of(case.asked, zone).filter(in_range) else {
                continue;
            };
            // The channel written from last before the ask (activity is in time order).
            let before = conversation
                .activity
                .partition_point(|(at, _)| *at <= case.asked);
            let channel = conversation.activity[..before]
                .iter()
                .rev()
                .find_map(|(_, what)| match what {
                    Activity::Wrote(on) => Some(*on),
                    _ => None,
                })
                .or(conversation.channel);
            touch(day, channel, &mut |row| {
                if let Some(reply) = case.first_reply {
                    row.first_responses += 1;
                    row.first_response_ms_total = row
                        .first_response_ms_total
                        .saturating_add(reply.millis() - case.asked.millis());
                }
                if let Some(back) = case.handed_back {
                    row.resolutions += 1;
                    row.resolution_ms_total = row
                        .resolution_ms_total
                        .saturating_add(back.millis() - case.asked.millis());
                }
            });
        }
    }
    let mut buyers: BTreeMap<(NaiveDate, String), std::collections::HashSet<&CustomerId>> =
        BTreeMap::new();
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
                if let Some(step) = order.recovered_step {
                    row.recovered_orders += 1;
                    row.recovered_revenue_minor = row.recovered_revenue_minor.saturating_add(total);
                    let by_step = row.recovered_revenue_by_step.entry(step + 1).or_default();
                    *by_step = by_step.saturating_add(total);
                }
            }
        });
        if paid {
            let name = channel.map_or("unknown", Channel::name);
            for key in ["all", name] {
                buyers
                    .entry((day, key.to_owned()))
                    .or_default()
                    .insert(&order.customer);
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
    // Customers who asked for a person, per day and channel, counted once.
    let mut asking: HashMap<(NaiveDate, &str), u64> = HashMap::new();
    for (day, channel, _) in &asked {
        *asking.entry((*day, channel)).or_default() += 1;
    }
    for (key, row) in &mut rows {
        row.buyers = buyers.get(key).map_or(0, |list| list.len() as u64);
        row.conversion = ratio(row.buyers, row.conversations);
        row.average_order_minor = average(row.revenue_minor, row.paid_orders);
        row.no_show_rate = ratio(row.no_shows, row.bookings);
        let asked_here = asking.get(&(key.0, key.1.as_str())).copied().unwrap_or(0);
        row.handoff_rate = ratio(asked_here, row.conversations);
        row.first_response_avg_ms = average(row.first_response_ms_total, row.first_responses);
        row.resolution_avg_ms = average(row.resolution_ms_total, row.resolutions);
        row.model_fallback_rate = ratio(row.model_fallbacks, row.model_readings);
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

/// The rows as CSV, a header first. Recovered revenue by step is `step:minor` pairs
/// separated by `;`.
pub fn csv(rows: &[KpiRow]) -> String {
    let mut out = String::from(
        "day,channel,conversations,buyers,conversion,orders,paid_orders,revenue_minor,\
         average_order_minor,carts_chased,reminders_sent,recovered_orders,\
         recovered_revenue_minor,recovered_revenue_by_step,bookings,no_shows,no_show_rate,\
         handoffs,handoff_rate,first_responses,first_response_avg_ms,resolutions,\
         resolution_avg_ms,model_readings,model_fallbacks,model_fallback_rate\n",
    );
    for r in rows {
        let by_step: Vec<String> = r
            .recovered_revenue_by_step
            .iter()
            .map(|(step, minor)| format!("{step}:{minor}"))
            .collect();
        out.push_str(&format!(
            "{},{},{},{},{:.4},{},{},{},{},{},{},{},{},{},{},{},{:.4},{},{:.4},{},{},{},{},{},{},{:.4}\n",
            r.day,
            r.channel,
            r.conversations,
            r.buyers,
            r.conversion,
            r.orders,
            r.paid_orders,
            r.revenue_minor,
            r.average_order_minor,
            r.carts_chased,
            r.reminders_sent,
            r.recovered_orders,
            r.recovered_revenue_minor,
            by_step.join(";"),
            r.bookings,
            r.no_shows,
            r.no_show_rate,
            r.handoffs,
            r.handoff_rate,
            r.first_responses,
            r.first_response_avg_ms,
            r.resolutions,
            r.resolution_avg_ms,
            r.model_readings,
            r.model_fallbacks,
            r.model_fallback_rate,
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
            activity: Vec::new(),
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

    const MIN: i64 = 60_000;

    #[test]
    fn activity_counts_every_day_written_and_times_the_team() {
        use Activity::*;
        let at = |offset: i64| Timestamp(MONDAY + offset);
        // "a": WhatsApp on Monday, asks for a person at 10:00, an operator answers at
        // 10:04 and again at 10:30, hands back at 11:00; writes from Telegram on Tuesday.
        // "b": the web chat on Monday, its first reminder at 12:00 and the second at 13:00,
        // then asks for a person at 14:00; nobody answers.
        let conversations = [
            ConversationFacts {
                customer: CustomerId("a".into()),
                channel: Some(Channel::Telegram),
                last_at: at(DAY + 60 * MIN),
                handed_off: false,
                activity: vec![
                    (at(9 * 60 * MIN), Wrote(Channel::WhatsApp)),
                    (at(9 * 60 * MIN + 5 * MIN), Wrote(Channel::WhatsApp)),
                    (at(10 * 60 * MIN), HandoffAsked),
                    (at(10 * 60 * MIN + 4 * MIN), OperatorReplied),
                    (at(10 * 60 * MIN + 30 * MIN), OperatorReplied),
                    (at(11 * 60 * MIN), HandedBack),
                    (at(DAY + 60 * MIN), Wrote(Channel::Telegram)),
                ],
            },
            ConversationFacts {
                customer: CustomerId("b".into()),
                channel: Some(Channel::WebChat),
                last_at: at(14 * 60 * MIN),
                handed_off: true,
                activity: vec![
                    (at(11 * 60 * MIN), Wrote(Channel::WebChat)),
                    (at(12 * 60 * MIN), Reminder(0)),
                    (at(13 * 60 * MIN), Reminder(1)),
                    (at(13 * 60 * MIN + MIN), ModelRead(true)),
                    (at(13 * 60 * MIN + 2 * MIN), ModelRead(false)),
                    (at(13 * 60 * MIN + 3 * MIN), ModelRead(true)),
                    (at(13 * 60 * MIN + 4 * MIN), ModelRead(true)),
                    (at(14 * 60 * MIN), HandoffAsked),
                ],
            },
        ];
        let orders = [order(
            "b",
            MONDAY + 13 * 60 * MIN + MIN,
            4_000,
            "paid",
            true,
        )];
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
        let tuesday = NaiveDate::from_ymd_opt(2026, 3, 3).expect("date");
        let rows = daily(
            monday,
            tuesday,
            chrono_tz::UTC,
            &conversations,
            &orders,
            &[],
        );
        let row = |day: &str, channel: &str| {
            rows.iter()
                .find(|r| r.day == day && r.channel == channel)
                .unwrap_or_else(|| panic!("no {day} {channel} row in {rows:#?}"))
        };
        let monday_all = row("2026-03-02", "all");
        assert_eq!(monday_all.conversations, 2, "a twice on Monday counts once");
        assert_eq!(monday_all.handoffs, 2);
        assert!((monday_all.handoff_rate - 1.0).abs() < 1e-9);
        assert_eq!(monday_all.first_responses, 1, "b was never answered");
        assert_eq!(monday_all.first_response_avg_ms, 4 * MIN);
        assert_eq!(
            (monday_all.resolutions, monday_all.resolution_avg_ms),
            (1, 60 * MIN)
        );
        assert_eq!((monday_all.carts_chased, monday_all.reminders_sent), (1, 2));
        assert_eq!(monday_all.recovered_revenue_by_step.get(&2), Some(&4_000));
        assert_eq!(
            (monday_all.model_readings, monday_all.model_fallbacks),
            (4, 1)
        );
        assert!((monday_all.model_fallback_rate - 0.25).abs() < 1e-9);
        assert_eq!(row("2026-03-02", "whatsapp").first_response_avg_ms, 4 * MIN);
        assert_eq!(row("2026-03-02", "webchat").handoffs, 1);
        assert_eq!(row("2026-03-03", "all").conversations, 1);
        assert_eq!(row("2026-03-03", "telegram").conversations, 1);
        assert!(
            rows.iter()
                .all(|r| !(r.day == "2026-03-03" && r.channel == "whatsapp"))
        );
    }

    #[test]
    fn a_second_ask_while_one_is_open_is_the_same_case() {
        use Activity::*;
        let t = Timestamp;
        let cases = handoff_cases(&[
            (t(0), OperatorReplied),
            (t(10), HandoffAsked),
            (t(20), HandoffAsked),
            (t(30), OperatorReplied),
            (t(40), HandedBack),
            (t(50), HandoffAsked),
        ]);
        assert_eq!(
            cases,
            [
                HandoffCase {
                    asked: t(10),
                    first_reply: Some(t(30)),
                    handed_back: Some(t(40)),
                },
                HandoffCase {
                    asked: t(50),
                    first_reply: None,
                    handed_back: None,
                },
            ]
        );
    }
}

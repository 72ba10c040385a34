//! Free appointment times: working hours on a date (in the shop's time zone) minus what is
//! booked or held, with each side's buffers, minimum notice and horizon.

use std::collections::BTreeMap;

use chrono::{DateTime, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::BookingId;
use super::calendar::Calendar;
use super::settings::{BookingSettings, Service, StaffId};
use crate::time::{Span, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub staff: StaffId,
    pub start: Timestamp,
}

pub fn local_date(at: Timestamp, zone: Tz) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .with_timezone(&zone)
        .date_naive()
}

fn delta(span: Span) -> TimeDelta {
    TimeDelta::milliseconds(span.as_millis())
}

/// The instant a wall-clock time on `date` names in `zone`. A time the spring change skips
/// does not exist (no slot); one the autumn change repeats is taken at its first occurrence.
fn instant(zone: Tz, date: NaiveDate, time: chrono::NaiveTime) -> Option<Timestamp> {
    match zone.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
            Some(Timestamp(at.timestamp_millis()))
        }
        LocalResult::None => None,
    }
}

/// Free start times of `service` on `date`, earliest first; where several staff are free at
/// once, the one the service lists first. `ignore` are bookings whose time counts as free
/// (the one being moved).
pub fn free_slots(
    settings: &BookingSettings,
    calendar: &Calendar,
    service: &Service,
    date: NaiveDate,
    now: Timestamp,
    ignore: &[&BookingId],
) -> Vec<Slot> {
    let today = local_date(now, settings.zone);
    let last_day = today + TimeDelta::days(i64::from(settings.horizon_days));
    if date < today || date > last_day || settings.slot_step.as_millis() <= 0 {
        return Vec::new();
    }
    let earliest = now.plus(settings.min_notice);
    let mut by_start: BTreeMap<Timestamp, StaffId> = BTreeMap::new();
    for staff_id in &service.staff {
        let Some(staff) = settings.staff_member(staff_id) else {
            continue;
        };
        for range in staff.hours_on(date) {
            let mut time = range.from;
            loop {
                let (end_time, wrapped) = time.overflowing_add_signed(delta(service.duration));
                if wrapped != 0 || end_time > range.to {
                    break;
                }
                if let Some(start) = instant(settings.zone, date, time) {
                    let end = start.plus(service.duration);
                    let free = start >= earliest
                        && !by_start.contains_key(&start)
                        && calendar.is_free(
                            staff_id,
                            Timestamp(start.millis() - service.buffer_before.as_millis()),
                            end.plus(service.buffer_after),
                            now,
                            ignore,
                        );
                    if free {
                        by_start.insert(start, staff_id.clone());
                    }
                }
                let (next, wrapped) = time.overflowing_add_signed(delta(settings.slot_step));
                if wrapped != 0 || next <= time {
                    break;
                }
                time = next;
            }
        }
    }
    by_start
        .into_iter()
        .map(|(start, staff)| Slot { staff, start })
        .collect()
}

/// The next `limit` dates from today with at least one free time.
pub fn days_with_slots(
    settings: &BookingSettings,
    calendar: &Calendar,
    service: &Service,
    now: Timestamp,
    ignore: &[&BookingId],
    limit: usize,
) -> Vec<NaiveDate> {
    let today = local_date(now, settings.zone);
    (0..=i64::from(settings.horizon_days))
        .map(|offset| today + TimeDelta::days(offset))
        .filter(|date| !free_slots(settings, calendar, service, *date, now, ignore).is_empty())
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::settings::{LocalRange, Staff};
    use crate::customer::CustomerId;
    use crate::text::LocalizedText;
    use chrono::NaiveTime;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn shop() -> (BookingSettings, Service) {
        let nine_to_five = vec![LocalRange {
            from: hm(9, 0),
            to: hm(17, 0),
        }];
        let staff = Staff {
            id: StaffId("ana".into()),
            name: "Ana".into(),
            week: std::array::from_fn(|day| {
                if day < 6 {
                    nine_to_five.clone()
                } else {
                    Vec::new()
                }
            }),
            breaks: vec![LocalRange {
                from: hm(13, 0),
                to: hm(14, 0),
            }],
            exceptions: BTreeMap::new(),
        };
        let service = Service {
            id: super::super::ServiceId("cut".into()),
            name: LocalizedText::default(),
            duration: Span::minutes(60),
            price: None,
            deposit: None,
            buffer_before: Span::minutes(0),
            buffer_after: Span::minutes(15),
            staff: vec![StaffId("ana".into())],
        };
        let settings = BookingSettings {
            services: vec![service.clone()],
            staff: vec![staff],
            zone: "Europe/Bucharest".parse().expect("zone"),
            min_notice: Span::hours(1),
            ..BookingSettings::default()
        };
        (settings, service)
    }

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp(
            DateTime::parse_from_rfc3339(rfc3339)
                .expect("time")
                .timestamp_millis(),
        )
    }

    #[test]
    fn hours_minus_breaks_bookings_and_buffers_in_the_shop_zone() {
        let (settings, service) = shop();
        let now = at("2026-06-01T05:00:00Z");
        let date = NaiveDate::from_ymd_opt(2026, 6, 2).expect("date");
        let mut calendar = Calendar::default();
        let free = free_slots(&settings, &calendar, &service, date, now, &[]);
        // 09:00 Bucharest is 06:00 UTC in summer; the last start before lunch is 12:00,
        // after lunch 14:00..16:00.
        assert_eq!(
            free.first().map(|s| s.start),
            Some(at("2026-06-02T06:00:00Z"))
        );
        assert!(!free.iter().any(|s| s.start == at("2026-06-02T09:30:00Z")));
        assert_eq!(
            free.last().map(|s| s.start),
            Some(at("2026-06-02T13:00:00Z"))
        );
        // A booking 10:00-11:00 with 15 minutes after: 09:00 would end at 10:15 with its own
        // buffer, into the booking; 11:00 is taken by the buffer; 11:30 is free.
        assert!(calendar.reserve(
            &StaffId("ana".into()),
            crate::booking::Busy {
                booking: BookingId("b1".into()),
                customer: CustomerId("c".into()),
                from: at("2026-06-02T07:00:00Z"),
                to: at("2026-06-02T08:15:00Z"),
                hold_until: None,
            },
            now,
            None,
        ));
        let free = free_slots(&settings, &calendar, &service, date, now, &[]);
        let starts: Vec<Timestamp> = free.iter().map(|s| s.start).collect();
        assert!(!starts.contains(&at("2026-06-02T06:00:00Z")));
        assert!(!starts.contains(&at("2026-06-02T08:00:00Z")));
        assert!(starts.contains(&at("2026-06-02T08:30:00Z")));
        // Moving that booking: its own time counts as free.
        let moving = BookingId("b1".into());
        let free = free_slots(&settings, &calendar, &service, date, now, &[&moving]);
        assert!(free.iter().any(|s| s.start == at("2026-06-02T06:00:00Z")));
    }

    #[test]
    fn daylight_saving_days_keep_wall_clock_hours() {
        let (settings, service) = shop();
        // Spring: 29 March 2026 is a Sunday (closed); Monday 30 March 09:00 is UTC+3.
        let now = at("2026-03-27T08:00:00Z");
        let monday = NaiveDate::from_ymd_opt(2026, 3, 30).expect("date");
        let free = free_slots(&settings, &Calendar::default(), &service, monday, now, &[]);
        assert_eq!(
            free.first().map(|s| s.start),
            Some(at("2026-03-30T06:00:00Z"))
        );
        // Autumn: Saturday 24 Oct is UTC+3, Monday 26 Oct 09:00 is UTC+2.
        let now = at("2026-10-23T08:00:00Z");
        let saturday = NaiveDate::from_ymd_opt(2026, 10, 24).expect("date");
        let monday = NaiveDate::from_ymd_opt(2026, 10, 26).expect("date");
        let cal = Calendar::default();
        let sat = free_slots(&settings, &cal, &service, saturday, now, &[]);
        let mon = free_slots(&settings, &cal, &service, monday, now, &[]);
        assert_eq!(
            sat.first().map(|s| s.start),
            Some(at("2026-10-24T06:00:00Z"))
        );
        assert_eq!(
            mon.first().map(|s| s.start),
            Some(at("2026-10-26T07:00:00Z"))
        );
    }

    #[test]
    fn a_night_shift_skips_the_missing_hour_and_takes_the_repeated_one_once() {
        let (mut settings, mut service) = shop();
        service.duration = Span::minutes(30);
        service.buffer_after = Span::minutes(0);
        settings.staff[0].breaks.clear();
        settings.staff[0].week = std::array::from_fn(|_| {
            vec![LocalRange {
                from: hm(1, 0),
                to: hm(5, 0),
            }]
        });
        let now = at("2026-03-20T00:00:00Z");
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).expect("date");
        let free = free_slots(&settings, &Calendar::default(), &service, spring, now, &[]);
        // 03:00 and 03:30 do not exist that night in Bucharest.
        assert_eq!(free.len(), 6);
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).expect("date");
        let now = at("2026-10-20T00:00:00Z");
        let free = free_slots(&settings, &Calendar::default(), &service, autumn, now, &[]);
        assert_eq!(free.len(), 8);
    }
}

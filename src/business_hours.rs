//! When operators are on duty: `[handoff] hours = ["mon-fri 09:00-18:00", "sat 10:00-14:00"]`
//! in the shop's time zone. Outside them a customer asking for a person is told at once and
//! offered the bot or a message, instead of waiting for a timeout nobody will beat.

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;

use flows::{OnDuty, Timestamp};

/// Weekly opening spans; empty means always on duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    zone: Tz,
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    /// Bit 0 is Monday.
    days: u8,
    /// Minutes after local midnight; `to` may be 24:00.
    from: u32,
    to: u32,
}

impl BusinessHours {
    /// Parses the configured lines; the error names the line and what is wrong with it.
    pub fn parse(lines: &[String], zone: Tz) -> Result<BusinessHours, String> {
        let spans = lines
            .iter()
            .map(|line| parse_line(line).map_err(|why| format!("{line:?}: {why}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BusinessHours { zone, spans })
    }

    pub fn is_open(&self, now: Timestamp) -> bool {
        if self.spans.is_empty() {
            return true;
        }
        let Some(utc) = DateTime::from_timestamp_millis(now.millis()) else {
            return true;
        };
        let local = self.zone.from_utc_datetime(&utc.naive_utc());
        let day = 1u8 << local.weekday().num_days_from_monday();
        let minute = local.hour() * 60 + local.minute();
        self.spans
            .iter()
            .any(|span| span.days & day != 0 && (span.from..span.to).contains(&minute))
    }

    pub fn on_duty(self) -> OnDuty {
        OnDuty::new(move |now| self.is_open(now))
    }
}

/// `DAYS HH:MM-HH:MM`, DAYS being `mon`, `mon-fri`, `sat,sun` or `daily`.
fn parse_line(line: &str) -> Result<Span, String> {
    let (days, times) = line
        .trim()
        .split_once(' ')
        .ok_or("expected DAYS HH:MM-HH:MM, e.g. \"mon-fri 09:00-18:00\"")?;
    let (from, to) = times
        .trim()
        .split_once('-')
        .ok_or("expected a time range HH:MM-HH:MM")?;
    let (from, to) = (minute_of_day(from)?, minute_of_day(to)?);
    if from >= to {
        return Err("the range must end after it starts (use two lines across midnight)".into());
    }
    Ok(Span {
        days: parse_days(days)?,
        from,
        to,
    })
}

fn parse_days(days: &str) -> Result<u8, String> {
    if days.eq_ignore_ascii_case("daily") {
        return Ok(0x7f);
    }
    let mut bits = 0u8;
    for part in days.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((first, last)) => (weekday(first)?, weekday(last)?),
            None => (weekday(part)?, weekday(part)?),
        };
        let (first, last) = (first.num_days_from_monday(), last.num_days_from_monday());
        if first > last {
            return Err(format!("{part:?} runs backwards; write it as two ranges"));
        }
        for day in first..=last {
            bits |= 1 << day;
        }
    }
    Ok(bits)
}

fn weekday(name: &str) -> Result<Weekday, String> {
    name.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("{name:?} is not a weekday (mon, tue, …)"))
}

fn minute_of_day(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text == "24:00" {
        return Ok(24 * 60);
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("{text:?} is not a time HH:MM"))?;
    Ok(time.hour() * 60 + time.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        let utc = DateTime::parse_from_rfc3339(text).expect("rfc3339");
        Timestamp(utc.timestamp_millis())
    }

    fn hours(lines: &[&str]) -> BusinessHours {
        let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        BusinessHours::parse(&lines, "Europe/Bucharest".parse().expect("zone")).expect("valid")
    }

    #[test]
    fn open_in_the_shops_time_zone() {
        let h = hours(&["mon-fri 09:00-18:00", "sat 10:00-14:00"]);
        // Monday 2026-03-02: Bucharest is UTC+2 in winter.
        assert!(!h.is_open(at("2026-03-02T06:59:00Z")));
        assert!(h.is_open(at("2026-03-02T07:00:00Z")));
        assert!(h.is_open(at("2026-03-02T15:59:00Z")));
        assert!(!h.is_open(at("2026-03-02T16:00:00Z")));
        // Saturday 2026-03-07 and Sunday.
        assert!(h.is_open(at("2026-03-07T08:30:00Z")));
        assert!(!h.is_open(at("2026-03-07T12:00:00Z")));
        assert!(!h.is_open(at("2026-03-08T09:00:00Z")));
        // Summer time (UTC+3) moves the opening an hour earlier in UTC.
        assert!(h.is_open(at("2026-06-01T06:00:00Z")));
    }

    #[test]
    fn no_lines_means_always() {
        assert!(hours(&[]).is_open(at("2026-03-08T03:00:00Z")));
    }

    #[test]
    fn bad_lines_are_named() {
        let zone = chrono_tz::UTC;
        for (line, why) in [
            ("mon-fri", "expected DAYS"),
            ("fri-mon 09:00-10:00", "backwards"),
            ("mon 18:00-09:00", "end after"),
            ("mon 9am-5pm", "not a time"),
            ("funday 09:00-10:00", "not a weekday"),
        ] {
            let error = BusinessHours::parse(&[line.to_owned()], zone).expect_err(line);
            assert!(error.contains(why) && error.contains(line), "{error}");
        }
        let ok = BusinessHours::parse(&["daily 00:00-24:00".to_owned()], zone).expect("ok");
        assert!(ok.is_open(at("2026-03-08T23:59:00Z")));
    }
}

/// `recovery.quiet_hours = "21:00-09:00"` in the shop's time zone → the core's `QuietHours`:
/// for an instant at night, the next morning's end of quiet hours.
pub fn quiet_hours(range: &str, zone: Tz) -> Result<flows::recovery::QuietHours, String> {
    let (from, to) = range
        .trim()
        .split_once('-')
        .ok_or("expected HH:MM-HH:MM, e.g. \"21:00-09:00\"")?;
    let (from, to) = (minute_of_day(from)?, minute_of_day(to)?);
    if from == to {
        return Err("the quiet hours must not start and end at the same time".into());
    }
    Ok(flows::recovery::QuietHours::daily(from, to, zone))
}

#[cfg(test)]
mod quiet_tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp(
            DateTime::parse_from_rfc3339(text)
                .expect("rfc3339")
                .timestamp_millis(),
        )
    }

    #[test]
    fn night_waits_for_the_morning_in_the_shops_zone() {
        let quiet =
            quiet_hours("21:00-09:00", "Europe/Bucharest".parse().expect("zone")).expect("ok");
        // 23:30 in Bucharest (UTC+2 in winter) waits until 09:00 local = 07:00 UTC.
        assert_eq!(
            quiet.until(at("2026-03-02T21:30:00Z"), None),
            Some(at("2026-03-03T07:00:00Z"))
        );
        assert_eq!(quiet.until(at("2026-03-02T12:00:00Z"), None), None);
        assert!(quiet_hours("9-5", chrono_tz::UTC).is_err());
        // A customer whose browser says New York (UTC-5): 21:30 UTC is 16:30 there, not night;
        // 03:00 UTC is 22:00 there, quiet until 09:00 New York = 14:00 UTC.
        let new_york = Some("America/New_York");
        assert_eq!(quiet.until(at("2026-03-02T21:30:00Z"), new_york), None);
        assert_eq!(
            quiet.until(at("2026-03-03T03:00:00Z"), new_york),
            Some(at("2026-03-03T14:00:00Z"))
        );
    }
}

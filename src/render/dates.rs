//! Dates and times in the shop's time zone, written the customer's way.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use flows::{Locale, Timestamp};

fn chrono_locale(locale: Locale) -> chrono::Locale {
    match locale {
        Locale::En => chrono::Locale::en_GB,
        Locale::Ro => chrono::Locale::ro_RO,
        Locale::Pl => chrono::Locale::pl_PL,
        Locale::Lv => chrono::Locale::lv_LV,
        Locale::He => chrono::Locale::he_IL,
    }
}

/// "22 Nov 2026, 14:05" / "22 nov. 2026, 14:05" / "22 lis 2026, 14:05"…
pub fn format_datetime(at: Timestamp, zone: Tz, locale: Locale) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(at.millis()) else {
        return String::new();
    };
    utc.with_timezone(&zone)
        .format_localized("%-d %b %Y, %H:%M", chrono_locale(locale))
        .to_string()
}

fn zone_named(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

fn local(at: Timestamp, zone: Tz) -> Option<DateTime<Tz>> {
    DateTime::<Utc>::from_timestamp_millis(at.millis()).map(|utc| utc.with_timezone(&zone))
}

/// An appointment time: "Mon 30 Mar 2026, 10:00"; with the customer's zone when it differs,
/// "Mon 30 Mar 2026, 10:00 (08:00 Europe/London)".
pub fn format_when(at: Timestamp, zone: &str, also: Option<&str>, locale: Locale) -> String {
    let Some(shop) = local(at, zone_named(zone)) else {
        return String::new();
    };
    let mut text = shop
        .format_localized("%a %-d %b %Y, %H:%M", chrono_locale(locale))
        .to_string();
    if let Some(theirs) = also.and_then(|name| local(at, zone_named(name)).map(|t| (name, t))) {
        let (name, time) = theirs;
        let day = if time.date_naive() == shop.date_naive() {
            time.format("%H:%M").to_string()
        } else {
            time.format_localized("%a %H:%M", chrono_locale(locale))
                .to_string()
        };
        text.push_str(&format!(" ({day} {name})"));
    }
    text
}

/// A date given as `YYYY-MM-DD`: "Mon 30 Mar".
pub fn format_day(iso: &str, locale: Locale) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(date) => date
            .format_localized("%a %-d %b", chrono_locale(locale))
            .to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// The time of day in a zone: "10:00"; with the customer's zone, "10:00 (03:00)" (short:
/// it is a button's label).
pub fn format_clock(at: Timestamp, zone: &str, also: Option<&str>) -> String {
    let time = |name: &str| {
        local(at, zone_named(name))
            .map(|time| time.format("%H:%M").to_string())
            .unwrap_or_default()
    };
    match also {
        Some(theirs) => format!("{} ({})", time(zone), time(theirs)),
        None => time(zone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_shop_zone_and_language() {
        // 2026-11-22T12:05:00Z is 14:05 in Bucharest (UTC+2 in winter).
        let at = Timestamp(1_795_349_100_000);
        let zone: Tz = "Europe/Bucharest".parse().expect("zone");
        assert_eq!(format_datetime(at, zone, Locale::En), "22 Nov 2026, 14:05");
        assert!(format_datetime(at, zone, Locale::Ro).starts_with("22 nov"));
        assert!(format_datetime(at, zone, Locale::Pl).starts_with("22 lis"));
        // Summer time: 2026-07-01T12:00:00Z is 15:00 in Bucharest (UTC+3).
        let summer = Timestamp(1_782_907_200_000);
        assert!(format_datetime(summer, zone, Locale::En).ends_with("15:00"));
    }

    #[test]
    fn appointment_times_show_both_zones_when_they_differ() {
        // 2026-03-30T07:00:00Z: 10:00 in Bucharest (summer time began the day before),
        // 08:00 in London.
        let at = Timestamp(1_774_854_000_000);
        assert_eq!(
            format_when(at, "Europe/Bucharest", Some("Europe/London"), Locale::En),
            "Mon 30 Mar 2026, 10:00 (08:00 Europe/London)"
        );
        assert_eq!(format_clock(at, "Europe/Bucharest", None), "10:00");
        assert_eq!(
            format_clock(at, "Europe/Bucharest", Some("America/New_York")),
            "10:00 (03:00)"
        );
        assert_eq!(format_day("2026-03-30", Locale::En), "Mon 30 Mar");
    }
}

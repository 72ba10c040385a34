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
}

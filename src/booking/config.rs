//! `[booking]` in `souk.toml` and the file it names (services, staff, hours), turned into the
//! core's `BookingSettings`. Every mistake is reported with the entry it is in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime};
use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

use flows::booking::{BookingSettings, LocalRange, Service, ServiceId, Staff, StaffId};
use flows::{Currency, LocalizedText, Money, Span};

/// `[booking]`: appointments. Off unless `file` names the services and staff.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingConfig {
    /// Services and staff (TOML), relative to the configuration file's folder. Empty: off.
    #[serde(default)]
    pub file: PathBuf,
    /// No appointment sooner than this from now.
    #[serde(default = "default_min_notice")]
    pub min_notice_minutes: i64,
    /// How many days ahead appointments can be made.
    #[serde(default = "default_horizon")]
    pub horizon_days: u32,
    /// Start times are this far apart within each working range.
    #[serde(default = "default_step")]
    pub slot_step_minutes: i64,
    /// How long a time is kept for a customer who is giving their details.
    #[serde(default = "default_hold")]
    pub hold_minutes: i64,
    /// Moving or cancelling in chat ends this long before the start.
    #[serde(default = "default_cutoff")]
    pub cutoff_hours: i64,
    /// Reminders this many hours before the start.
    #[serde(default = "default_reminders")]
    pub reminders_hours: Vec<i64>,
    #[serde(default = "default_days_offered")]
    pub days_offered: usize,
    #[serde(default = "default_times_offered")]
    pub times_offered: usize,
}

fn default_min_notice() -> i64 {
    120
}
fn default_horizon() -> u32 {
    30
}
fn default_step() -> i64 {
    30
}
fn default_hold() -> i64 {
    10
}
fn default_cutoff() -> i64 {
    12
}
fn default_reminders() -> Vec<i64> {
    vec![24, 2]
}
fn default_days_offered() -> usize {
    5
}
fn default_times_offered() -> usize {
    8
}

impl Default for BookingConfig {
    fn default() -> Self {
        BookingConfig {
            file: PathBuf::new(),
            min_notice_minutes: default_min_notice(),
            horizon_days: default_horizon(),
            slot_step_minutes: default_step(),
            hold_minutes: default_hold(),
            cutoff_hours: default_cutoff(),
            reminders_hours: default_reminders(),
            days_offered: default_days_offered(),
            times_offered: default_times_offered(),
        }
    }
}

/// The booking file: `[[service]]` and `[[staff]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookingFile {
    #[serde(default)]
    service: Vec<ServiceEntry>,
    #[serde(default)]
    staff: Vec<StaffEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceEntry {
    id: String,
    /// Per locale: `{ en = "Haircut", ro = "Tuns" }`.
    name: LocalizedText,
    minutes: i64,
    #[serde(default)]
    price_minor: Option<i64>,
    /// Paid through the payment link to keep the time (in `currency`).
    #[serde(default)]
    deposit_minor: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    buffer_before_minutes: i64,
    #[serde(default)]
    buffer_after_minutes: i64,
    staff: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffEntry {
    id: String,
    name: String,
    /// `mon = "09:00-17:00"`, `sat = "10:00-14:00"`; a day not named is a day off. Several
    /// ranges: `"09:00-12:00,15:00-19:00"`.
    hours: BTreeMap<String, String>,
    #[serde(default)]
    breaks: Vec<String>,
    /// `"2026-12-25" = ""` (off) or other hours that day.
    #[serde(default)]
    exceptions: BTreeMap<String, String>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `"09:00-13:00,14:00-17:00"`; empty is none.
pub fn parse_ranges(text: &str) -> Result<Vec<LocalRange>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (from, to) = part
                .split_once('-')
                .ok_or_else(|| format!("{part:?} is not HH:MM-HH:MM"))?;
            let time = |t: &str| {
                NaiveTime::parse_from_str(t.trim(), "%H:%M")
                    .map_err(|_| format!("{t:?} is not a time HH:MM"))
            };
            let range = LocalRange {
                from: time(from)?,
                to: time(to)?,
            };
            if range.from >= range.to {
                return Err(format!("{part:?} ends before it starts"));
            }
            Ok(range)
        })
        .collect()
}

fn positive_minutes(minutes: i64, what: &str) -> Result<Span, String> {
    if !(0..=24 * 60 * 7).contains(&minutes) {
        return Err(format!("{what} must be between 0 and 10080 minutes"));
    }
    Ok(Span::minutes(minutes))
}

impl BookingConfig {
    /// Makes `file` relative to the configuration's folder.
    pub fn resolve(&mut self, base: &Path) {
        if !self.file.as_os_str().is_empty() {
            self.file = base.join(&self.file);
        }
    }

    /// The core's settings; booking is off (no services) without a file.
    pub fn flow_settings(&self, zone: chrono_tz::Tz) -> Result<BookingSettings, String> {
        let mut settings = BookingSettings {
            zone,
            ..BookingSettings::default()
        };
        if self.file.as_os_str().is_empty() {
            return Ok(settings);
        }
        if !(1..=365).contains(&self.horizon_days) {
            return Err("horizon_days must be between 1 and 365".into());
        }
        if !(5..=240).contains(&self.slot_step_minutes) {
            return Err("slot_step_minutes must be between 5 and 240".into());
        }
        if !(1..=60).contains(&self.hold_minutes) {
            return Err("hold_minutes must be between 1 and 60".into());
        }
        if !(1..=10).contains(&self.days_offered) || !(1..=10).contains(&self.times_offered) {
            return Err("days_offered and times_offered must be between 1 and 10 (buttons)".into());
        }
        let mut reminders = self.reminders_hours.clone();
        reminders.sort_unstable_by(|a, b| b.cmp(a));
        reminders.dedup();
        if reminders.iter().any(|h| !(1..=24 * 14).contains(h)) {
            return Err("reminders_hours must each be between 1 and 336".into());
        }
        settings.min_notice = positive_minutes(self.min_notice_minutes, "min_notice_minutes")?;
        settings.horizon_days = self.horizon_days;
        settings.slot_step = Span::minutes(self.slot_step_minutes);
        settings.hold = Span::minutes(self.hold_minutes);
        settings.cutoff = positive_minutes(self.cutoff_hours.saturating_mul(60), "cutoff_hours")?;
        settings.reminders = reminders.into_iter().map(Span::hours).collect();
        settings.days_offered = self.days_offered;
        settings.times_offered = self.times_offered;
        let file: BookingFile = Figment::from(Toml::file_exact(&self.file))
            .extract()
            .map_err(|e| format!("{}: {e}", self.file.display()))?;
        settings.staff = file
            .staff
            .into_iter()
            .map(staff_from)
            .collect::<Result<_, _>>()?;
        settings.services = file
            .service
            .into_iter()
            .map(service_from)
            .collect::<Result<_, _>>()?;
        for service in &settings.services {
            if let Some(missing) = service
                .staff
                .iter()
                .find(|id| settings.staff_member(id).is_none())
            {
                return Err(format!(
                    "service {:?} names staff {:?}, which is not in the file",
                    service.id.0, missing.0
                ));
            }
        }
        Ok(settings)
    }
}

fn service_from(entry: ServiceEntry) -> Result<Service, String> {
    let at = |problem: String| format!("service {:?}: {problem}", entry.id);
    if entry.id.is_empty() || entry.id.len() > 24 || entry.id.contains([':', ' ']) {
        return Err(at("id must be 1-24 characters without ':' or spaces".into()));
    }
    if !(5..=24 * 60).contains(&entry.minutes) {
        return Err(at("minutes must be between 5 and 1440".into()));
    }
    if entry.staff.is_empty() {
        return Err(at("no staff can do it".into()));
    }
    let currency = entry
        .currency
        .as_deref()
        .map(Currency::new)
        .transpose()
        .map_err(|e| at(e.to_string()))?;
    let money = |minor: Option<i64>, what: &str| match (minor, currency) {
        (Some(minor), Some(currency)) if minor > 0 => Ok(Some(Money::new(minor, currency))),
        (Some(_), Some(_)) => Err(at(format!("{what} must be more than 0"))),
        (Some(_), None) => Err(at(format!("{what} needs currency"))),
        (None, _) => Ok(None),
    };
    let price = money(entry.price_minor, "price_minor")?;
    let deposit = money(entry.deposit_minor, "deposit_minor")?;
    if let (Some(deposit), Some(price)) = (deposit, price)
        && deposit.minor > price.minor
    {
        return Err(at("deposit_minor is more than the price".into()));
    }
    Ok(Service {
        id: ServiceId(entry.id.clone()),
        duration: Span::minutes(entry.minutes),
        price,
        deposit,
        buffer_before: positive_minutes(entry.buffer_before_minutes, "buffer_before_minutes")
            .map_err(at)?,
        buffer_after: positive_minutes(entry.buffer_after_minutes, "buffer_after_minutes")
            .map_err(at)?,
        staff: entry.staff.into_iter().map(StaffId).collect(),
        name: entry.name,
    })
}

fn staff_from(entry: StaffEntry) -> Result<Staff, String> {
    let at = |problem: String| format!("staff {:?}: {problem}", entry.id);
    if entry.id.is_empty() || entry.id.len() > 24 || entry.id.contains([':', ' ']) {
        return Err(at("id must be 1-24 characters without ':' or spaces".into()));
    }
    let mut week: [Vec<LocalRange>; 7] = Default::default();
    for (day, hours) in &entry.hours {
        let index = DAYS
            .iter()
            .position(|d| d == &day.to_lowercase())
            .ok_or_else(|| at(format!("{day:?} is not one of mon..sun")))?;
        week[index] = parse_ranges(hours).map_err(at)?;
    }
    let breaks = entry
        .breaks
        .iter()
        .map(|b| parse_ranges(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(at)?
        .concat();
    let mut exceptions = BTreeMap::new();
    for (date, hours) in &entry.exceptions {
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| at(format!("{date:?} is not a date YYYY-MM-DD")))?;
        exceptions.insert(day, parse_ranges(hours).map_err(at)?);
    }
    Ok(Staff {
        id: StaffId(entry.id.clone()),
        name: entry.name,
        week,
        breaks,
        exceptions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_from(file: &str) -> Result<BookingSettings, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("booking.toml");
        std::fs::write(&path, file).map_err(|e| e.to_string())?;
        BookingConfig {
            file: path,
            ..BookingConfig::default()
        }
        .flow_settings(chrono_tz::Europe::Bucharest)
    }

    const STAFF: &str = r#"
[[staff]]
id = "ana"
name = "Ana"
hours = { mon = "09:00-13:00,14:00-17:00" }
breaks = ["11:00-11:15"]
exceptions = { "2026-12-25" = "" }
"#;

    /// The README's example, "book an alteration tomorrow afternoon", works whatever day
    /// it is tried: some staff member who does alterations works each afternoon (12-17) of
    /// the week long enough for one.
    #[test]
    fn the_demo_shop_takes_alterations_every_afternoon() {
        let demo = BookingConfig {
            file: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo/booking.toml"),
            ..BookingConfig::default()
        }
        .flow_settings(chrono_tz::Europe::Bucharest)
        .expect("the demo booking file is valid");
        let alteration = demo
            .services
            .iter()
            .find(|s| s.id.0 == "alteration")
            .expect("alterations");
        let noon = chrono::NaiveTime::from_hms_opt(12, 0, 0).expect("noon");
        let five = chrono::NaiveTime::from_hms_opt(17, 0, 0).expect("five");
        let needed = chrono::Duration::milliseconds(alteration.duration.as_millis());
        for weekday in 0..7 {
            let works = alteration.staff.iter().any(|id| {
                demo.staff
                    .iter()
                    .filter(|staff| &staff.id == id)
                    .flat_map(|staff| staff.week[weekday].iter())
                    .any(|range| range.to.min(five) - range.from.max(noon) >= needed)
            });
            assert!(
                works,
                "no alteration afternoon on weekday {weekday} (0 = Monday)"
            );
        }
    }

    #[test]
    fn a_good_file_becomes_the_cores_settings() {
        let file = format!(
            "{STAFF}\n[[service]]\nid = \"cut\"\nname = {{ en = \"Haircut\" }}\nminutes = 45\nprice_minor = 12000\ndeposit_minor = 2000\ncurrency = \"RON\"\nstaff = [\"ana\"]\n"
        );
        let settings = settings_from(&file).expect("valid");
        assert!(settings.enabled());
        let ana = &settings.staff[0];
        assert_eq!(ana.week[0].len(), 2, "two ranges on Monday");
        assert!(ana.week[1].is_empty(), "Tuesday is a day off");
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).expect("date");
        assert_eq!(ana.exceptions.get(&christmas), Some(&Vec::new()));
        assert_eq!(settings.services[0].deposit.map(|d| d.minor), Some(2000));
        assert_eq!(settings.reminders, vec![Span::hours(24), Span::hours(2)]);
    }

    #[test]
    fn every_mistake_names_its_entry() {
        let cases = [
            (
                "[[service]]\nid = \"cut\"\nname = { en = \"Cut\" }\nminutes = 45\nstaff = [\"bob\"]\n",
                "names staff \"bob\"",
            ),
            (
                "[[service]]\nid = \"cut\"\nname = { en = \"Cut\" }\nminutes = 45\nprice_minor = 100\ndeposit_minor = 500\ncurrency = \"EUR\"\nstaff = [\"ana\"]\n",
                "deposit_minor is more than the price",
            ),
            (
                "[[service]]\nid = \"cut\"\nname = { en = \"Cut\" }\nminutes = 45\nprice_minor = 100\nstaff = [\"ana\"]\n",
                "price_minor needs currency",
            ),
            (
                "[[service]]\nid = \"a:b\"\nname = { en = \"Cut\" }\nminutes = 45\nstaff = [\"ana\"]\n",
                "without ':'",
            ),
        ];
        for (service, expected) in cases {
            let error = settings_from(&format!("{STAFF}\n{service}")).expect_err(expected);
            assert!(error.contains(expected), "{error}");
        }
        for (hours, expected) in [
            ("mon = \"17:00-09:00\"", "ends before it starts"),
            ("mon = \"9-5\"", "not a time"),
            ("funday = \"09:00-17:00\"", "not one of mon..sun"),
        ] {
            let file = format!("[[staff]]\nid = \"ana\"\nname = \"Ana\"\nhours = {{ {hours} }}\n");
            let error = settings_from(&file).expect_err(expected);
            assert!(error.contains(expected), "{error}");
        }
    }
}

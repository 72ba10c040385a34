//! The languages souk speaks. A closed set: adding one means adding its `locales/<code>/` folder,
//! and the locale completeness test then demands every key.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Ro,
    Pl,
    Lv,
    He,
}

impl Locale {
    pub const ALL: [Locale; 5] = [Locale::En, Locale::Ro, Locale::Pl, Locale::Lv, Locale::He];

    pub const fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ro => "ro",
            Locale::Pl => "pl",
            Locale::Lv => "lv",
            Locale::He => "he",
        }
    }

    /// The language's own name, shown on the language picker so everyone can find theirs.
    pub const fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Ro => "Română",
            Locale::Pl => "Polski",
            Locale::Lv => "Latviešu",
            Locale::He => "עברית",
        }
    }

    pub const fn is_right_to_left(self) -> bool {
        matches!(self, Locale::He)
    }

    /// Accepts "ro", "RO", "ro-RO", "ro_RO"; `None` for languages we do not ship.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Locale::ALL
            .into_iter()
            .find(|locale| locale.code().eq_ignore_ascii_case(primary))
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

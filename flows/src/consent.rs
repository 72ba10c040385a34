//! What the customer was asked to agree to, and what they answered: per purpose, when, on
//! which channel, and which wording (the message id, its language and its version, so a
//! shop can show the exact text later). Kept as a short ledger on the conversation; the
//! latest answer per purpose is the one in force.

use serde::{Deserialize, Serialize};

use crate::customer::Channel;
use crate::locale::Locale;
use crate::text::TextKey;
use crate::time::Timestamp;

/// What a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Cart reminders after the first one.
    Reminders,
    /// News and offers (`Event::Marketing`).
    Marketing,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Reminders, Purpose::Marketing];

    pub const fn name(self) -> &'static str {
        match self {
            Purpose::Reminders => "reminders",
            Purpose::Marketing => "marketing",
        }
    }
}

/// One line of the ledger: a question asked, or an answer given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ConsentEntry {
    Asked {
        purpose: Purpose,
        at: Timestamp,
        /// The message that asked.
        text: TextKey,
        locale: Locale,
        /// The wording's version (a digest of the message in that language, from the
        /// shell); empty when the shell gave none.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
    Answered {
        purpose: Purpose,
        at: Timestamp,
        granted: bool,
        /// Whether it answered the question just asked, or came unprompted ("stop").
        how: Answer,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    ToQuestion,
    Unprompted,
}

impl ConsentEntry {
    pub fn purpose(&self) -> Purpose {
        match self {
            ConsentEntry::Asked { purpose, .. } | ConsentEntry::Answered { purpose, .. } => {
                *purpose
            }
        }
    }

    pub fn at(&self) -> Timestamp {
        match self {
            ConsentEntry::Asked { at, .. } | ConsentEntry::Answered { at, .. } => *at,
        }
    }
}

/// The ledger, oldest first; at most `KEPT` entries (the oldest go first, but the latest
/// question and answer of each purpose always stay).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Consents(pub Vec<ConsentEntry>);

impl Consents {
    pub const KEPT: usize = 24;

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn record(&mut self, entry: ConsentEntry) {
        self.0.push(entry);
        while self.0.len() > Self::KEPT {
            let Some(drop) = (0..self.0.len()).find(|&i| !self.is_latest(i)) else {
                break;
            };
            self.0.remove(drop);
        }
    }

    /// Whether entry `i` is the latest question or the latest answer of its purpose.
    fn is_latest(&self, i: usize) -> bool {
        let entry = &self.0[i];
        let asked = matches!(entry, ConsentEntry::Asked { .. });
        !self.0[i + 1..].iter().any(|later| {
            later.purpose() == entry.purpose()
                && matches!(later, ConsentEntry::Asked { .. }) == asked
        })
    }

    /// The answer in force for `purpose`: the latest one, if any.
    pub fn current(&self, purpose: Purpose) -> Option<bool> {
        self.0.iter().rev().find_map(|entry| match entry {
            ConsentEntry::Answered {
                purpose: p,
                granted,
                ..
            } if *p == purpose => Some(*granted),
            _ => None,
        })
    }

    /// Whether `purpose` was ever asked.
    pub fn asked(&self, purpose: Purpose) -> bool {
        self.0
            .iter()
            .any(|e| e.purpose() == purpose && matches!(e, ConsentEntry::Asked { .. }))
    }

    /// Two chats' ledgers as one, in time order (a link), bounded as `record` bounds it.
    pub fn merge(&mut self, other: Consents) {
        let mut all = std::mem::take(&mut self.0);
        all.extend(other.0);
        all.sort_by_key(ConsentEntry::at);
        for entry in all {
            self.record(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(purpose: Purpose, at: i64, granted: bool) -> ConsentEntry {
        ConsentEntry::Answered {
            purpose,
            at: Timestamp(at),
            granted,
            how: Answer::ToQuestion,
            channel: None,
        }
    }

    #[test]
    fn the_latest_answer_is_in_force_per_purpose() {
        let mut consents = Consents::default();
        assert_eq!(consents.current(Purpose::Marketing), None);
        consents.record(ConsentEntry::Asked {
            purpose: Purpose::Marketing,
            at: Timestamp(1),
            text: TextKey::MarketingAsk,
            locale: Locale::Ro,
            version: "ab12".into(),
            channel: Some(Channel::WhatsApp),
        });
        assert!(consents.asked(Purpose::Marketing));
        assert!(!consents.asked(Purpose::Reminders));
        consents.record(answered(Purpose::Marketing, 2, true));
        consents.record(answered(Purpose::Reminders, 3, false));
        assert_eq!(consents.current(Purpose::Marketing), Some(true));
        consents.record(answered(Purpose::Marketing, 4, false));
        assert_eq!(consents.current(Purpose::Marketing), Some(false));
        assert_eq!(consents.current(Purpose::Reminders), Some(false));
    }

    #[test]
    fn a_long_ledger_drops_the_oldest_but_keeps_each_purposes_latest() {
        let mut consents = Consents::default();
        consents.record(answered(Purpose::Reminders, 0, true));
        for at in 1..100 {
            consents.record(answered(Purpose::Marketing, at, at % 2 == 0));
        }
        assert_eq!(consents.0.len(), Consents::KEPT);
        assert_eq!(consents.current(Purpose::Reminders), Some(true), "kept");
        assert_eq!(
            consents.current(Purpose::Marketing),
            Some(false),
            "99 is odd"
        );
    }
}

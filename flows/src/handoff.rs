//! Who talks to the customer: the bot, nobody yet (waiting for a person), or one operator.
//! Ownership is explicit state, changed only by events (`Event::Operator*`, the customer's
//! request, an escalation), never inferred from other fields.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::time::{Span, Timestamp};
pub use crate::vocabulary::OperatorId;
use crate::vocabulary::{HandoffReason, TimerKind};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Handoff {
    /// The bot answers.
    #[default]
    Bot,
    /// A person was asked for; the bot still answers what it understands, nobody owns it.
    Waiting {
        since: Timestamp,
        reason: HandoffReason,
        mode: WaitMode,
        /// When the customer was last told to wait, so a stream of messages gets one notice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        told_at: Option<Timestamp>,
    },
    /// One operator owns the conversation: the bot sends nothing, and timers that would
    /// message the customer are held until the hand back.
    Human {
        operator: OperatorId,
        since: Timestamp,
        /// Timers that fired meanwhile, run again (their handlers re-check) on hand back.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        held: Vec<TimerKind>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitMode {
    /// Operators are on duty; the wait timer runs.
    Live,
    /// Nobody came in time, or it is outside business hours: the customer was offered the
    /// bot or a message; the bot still answers what it understands, and the conversation
    /// stays in the operators' queue without a timer.
    Offered,
    /// The customer chose to leave a message: what they write is for the team, and the bot
    /// only acknowledges it (buttons still work, so they can go back to the bot).
    Message,
}

impl Handoff {
    pub fn owner(&self) -> Option<&OperatorId> {
        match self {
            Handoff::Human { operator, .. } => Some(operator),
            Handoff::Bot | Handoff::Waiting { .. } => None,
        }
    }

    pub fn is_waiting(&self) -> bool {
        matches!(self, Handoff::Waiting { .. })
    }

    /// The customer is writing a message for the team, not to the bot.
    pub fn is_taking_message(&self) -> bool {
        matches!(
            self,
            Handoff::Waiting {
                mode: WaitMode::Message,
                ..
            }
        )
    }

    /// For the console and the logs.
    pub fn name(&self) -> &'static str {
        match self {
            Handoff::Bot => "bot",
            Handoff::Waiting { .. } => "waiting",
            Handoff::Human { .. } => "human",
        }
    }
}

/// Whether operators are on duty at an instant (business hours in the shop's time zone).
/// The shell supplies it; the core only asks, so tests pass any schedule on a virtual clock.
#[derive(Clone)]
pub struct OnDuty(Arc<dyn Fn(Timestamp) -> bool + Send + Sync>);

impl OnDuty {
    pub fn always() -> OnDuty {
        OnDuty(Arc::new(|_| true))
    }

    pub fn new(f: impl Fn(Timestamp) -> bool + Send + Sync + 'static) -> OnDuty {
        OnDuty(Arc::new(f))
    }

    pub fn at(&self, now: Timestamp) -> bool {
        (self.0)(now)
    }
}

impl fmt::Debug for OnDuty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnDuty(..)")
    }
}

impl PartialEq for OnDuty {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OnDuty {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffSettings {
    /// How long a customer waits for a person before being offered the bot or a message.
    pub wait_timeout: Span,
    /// What the customer is told to expect, in minutes.
    pub expected_wait_minutes: u32,
    /// Least time between two "please wait" notices while the customer keeps writing.
    pub notice_gap: Span,
    /// Say so when the bot takes the conversation back.
    pub resume_message: bool,
    pub on_duty: OnDuty,
}

impl Default for HandoffSettings {
    fn default() -> Self {
        HandoffSettings {
            wait_timeout: Span::minutes(10),
            expected_wait_minutes: 5,
            notice_gap: Span::minutes(5),
            resume_message: true,
            on_duty: OnDuty::always(),
        }
    }
}

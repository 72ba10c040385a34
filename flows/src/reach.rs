//! Where and when a customer writes: the platforms' messaging windows are counted from here,
//! news goes to the preferred channel, and the ad that brought them is kept for attribution.

use std::collections::BTreeMap;

use crate::customer::Channel;
use crate::event::AdReferral;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reach {
    pub last_inbound_at: Option<Timestamp>,
    pub last_channel: Option<Channel>,
    /// The last message per channel: the platforms' messaging windows are counted from it.
    pub last_inbound_by_channel: BTreeMap<Channel, Timestamp>,
    /// Where the customer wants news (payments, shipping) when they are not writing: chosen
    /// after linking chats; otherwise the channel they wrote from last.
    pub preferred_channel: Option<Channel>,
    /// The ad or link that brought the customer, kept for attribution.
    pub ad_referral: Option<AdReferral>,
}

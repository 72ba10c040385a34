//! Payment providers' webhook protocols: verification and parsing only, like the channels.

pub mod stripe_event;
pub mod stripe_signature;

//! The customer's rights over their data: what souk holds on them (`export`), forgetting
//! them (`erase`), keeping nothing longer than `[privacy]` says (`retention`), found by the
//! references staff and customers use (`lookup`), and who looked (`audit`).

pub mod audit;
pub mod erase;
pub mod export;
pub mod lookup;
pub mod response;
pub mod retention;
pub mod settings;

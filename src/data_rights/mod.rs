//! The customer's rights over their data: what souk holds on them (`export`), found by the
//! references staff and customers use (`lookup`).

pub mod audit;
pub mod export;
pub mod lookup;
pub mod response;

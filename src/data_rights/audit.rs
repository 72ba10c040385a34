//! Writing the audit log: every operator view of a conversation, export, takeover, hand
//! back, link undone and order change, with who and when. Written before the answer goes
//! out: what cannot be recorded is not done (the store's error answers instead).

use flows::CustomerId;

use crate::store::{AuditEntry, Store, StoreResult};

/// The actor name of the shop's own API and command line.
pub const ADMIN_API: &str = "admin-api";

pub async fn record(
    store: &dyn Store,
    actor: &str,
    action: &str,
    customer: Option<&CustomerId>,
    detail: impl Into<String>,
) -> StoreResult<()> {
    let detail: String = detail.into();
    store
        .record_audit(&AuditEntry {
            at: crate::clock::now(),
            actor: flows::words::head(actor, 64).to_owned(),
            action: action.to_owned(),
            customer: customer.cloned(),
            detail: flows::words::head(&detail, 200).to_owned(),
        })
        .await
}

//! Saved state keeps loading. The files in `tests/golden/` were written by schema version 1
//! and are never regenerated: when a shape changes, add a migration, not a new golden file.

use flows::{CheckoutStep, Conversation, Customer, FlowState, Order, OrderStatus};
use souk::store::codec::{CodecError, decode};
use souk::store::{DeadLetter, HistoryEntry, InboxEntry, OutboxEntry, TimerEntry};

use crate::support::repo_path;

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(repo_path(&format!("tests/golden/{name}"))).expect("golden file")
}

#[test]
fn version_one_state_loads() {
    let conversation: Conversation =
        decode("conversation", &golden("conversation_v1.json")).expect("conversation");
    assert!(
        matches!(conversation.state, FlowState::Checkout(CheckoutStep::Confirm { ref name, .. }) if name == "Ana Popescu")
    );
    assert_eq!(conversation.cart.item_count(), 3);
    assert_eq!(conversation.locale, flows::Locale::Ro);

    let customer: Customer = decode("customer", &golden("customer_v1.json")).expect("customer");
    assert_eq!(customer.identities.len(), 1);

    let inbox: InboxEntry = decode("inbox entry", &golden("inbox_entry_v1.json")).expect("inbox");
    assert_eq!(inbox.seq, 42);

    let outbox: OutboxEntry =
        decode("outbox entry", &golden("outbox_entry_v1.json")).expect("outbox");
    assert_eq!(outbox.attempts, 2);
    assert!(!outbox.reply.choices.is_empty());

    let dead: DeadLetter =
        decode("dead letter", &golden("dead_letter_v1.json")).expect("dead letter");
    assert!(dead.reason.contains("blocked"));

    let timer: TimerEntry = decode("timer", &golden("timer_v1.json")).expect("timer");
    assert_eq!(timer.kind, flows::TimerKind::SessionExpiry);

    let history: HistoryEntry =
        decode("history entry", &golden("history_out_v1.json")).expect("history");
    assert!(matches!(history, HistoryEntry::Out { outbox_id: 7, .. }));

    let order: Order = decode("order", &golden("order_v1.json")).expect("order");
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!(order.total.minor, 4200);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let error = decode::<Customer>("customer", br#"{"v": 2, "data": {}}"#).expect_err("too new");
    assert!(matches!(error, CodecError::TooNew { found: 2, .. }));
    assert!(error.to_string().contains("upgrade souk"));
    let error = decode::<Customer>("customer", b"garbage").expect_err("garbage");
    assert!(matches!(error, CodecError::Shape { .. }));
}

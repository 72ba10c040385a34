//! A variant's own picture reaches the customer when they pick it; products fall back to a
//! variant's picture; "bought together" counts pairs once per order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use flows::recommend::{BoughtTogether, similar};
use flows::{
    Action, Catalog, CatalogData, Channel, Context, Conversation, CustomerId, Event, FlowSettings,
    Inbound, InboundMessage, Locale, ProductId, Timestamp,
};

fn context() -> Context {
    let raw =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/catalog.json"))
            .unwrap();
    let data: CatalogData = serde_json::from_str(&raw).unwrap();
    Context {
        catalog: Catalog::new(data).unwrap(),
        settings: FlowSettings::default(),
        together: BoughtTogether::default(),
        calendar: flows::booking::CalendarView::default(),
        knowledge: Default::default(),
    }
}

fn press(ctx: &Context, conversation: Conversation, action: &str) -> (Conversation, Vec<Action>) {
    let event = Event::Inbound(Inbound::new(
        Channel::WebChat,
        InboundMessage::Action(action.into()),
    ));
    let step = conversation.step(ctx, event, Timestamp(1_767_225_600_000));
    (step.conversation, step.actions)
}

fn card_images(actions: &[Action]) -> Vec<Option<String>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(reply) => Some(reply.cards.iter().map(|c| c.image.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn the_picked_variant_shows_its_own_picture() {
    let ctx = context();
    let conversation = Conversation::new(CustomerId("c1".into()), Locale::En);
    let (conversation, _) = press(&ctx, conversation, "add:runner");
    let (conversation, actions) = press(&ctx, conversation, "var:RUN-42");
    assert_eq!(
        card_images(&actions),
        [Some("runner-42-red.jpg".to_owned())]
    );
    let (conversation, _) = press(&ctx, conversation, "back");
    let (_, actions) = press(&ctx, conversation, "var:RUN-40");
    assert!(
        card_images(&actions).is_empty(),
        "no picture of its own, no card"
    );
}

#[test]
fn bought_together_ranks_by_count_and_ignores_repeats_in_one_order() {
    let mut together = BoughtTogether::default();
    let id = |s: &str| ProductId(s.into());
    together.record(&[id("mug"), id("chai"), id("mug")]);
    together.record(&[id("mug"), id("espresso")]);
    together.record(&[id("espresso"), id("mug")]);
    let with_mug: Vec<&str> = together
        .with(&id("mug"))
        .iter()
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(with_mug, ["espresso", "chai"]);
    assert!(together.with(&id("grinder")).is_empty());
}

#[test]
fn similar_is_the_same_category_in_stock_and_never_itself() {
    let ctx = context();
    let runner = ctx.catalog.product(&ProductId("runner".into())).unwrap();
    let ids: Vec<&str> = similar(&ctx.catalog, runner)
        .iter()
        .map(|p| p.id.0.as_str())
        .collect();
    assert_eq!(ids, ["boot"]);
    let grinder = ctx.catalog.product(&ProductId("grinder".into())).unwrap();
    assert!(
        similar(&ctx.catalog, grinder)
            .iter()
            .all(|p| p.in_stock() && p.category == grinder.category && p.id != grinder.id)
    );
}

#[test]
fn in_the_demo_shop_a_dress_is_most_like_the_other_dress() {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/catalog.json"),
    )
    .unwrap();
    let catalog = Catalog::new(serde_json::from_str(&raw).unwrap()).unwrap();
    let first = |id: &str| {
        let product = catalog.product(&ProductId(id.into())).unwrap();
        similar(&catalog, product)
            .first()
            .map(|p| p.id.0.clone())
            .unwrap()
    };
    // Shared keywords ("dress", "boots") rank before shared colours and sizes.
    assert_eq!(first("evening-dress"), "summer-dress");
    assert_eq!(first("summer-dress"), "evening-dress");
    assert!(
        first("leather-boots").ends_with("boots"),
        "{}",
        first("leather-boots")
    );
}

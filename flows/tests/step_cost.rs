//! The work of one step is bounded whatever the customer sends: a counting allocator measures
//! the peak memory a step takes above what it started with, for hostile texts (one huge word,
//! a pasted URL or base64 blob, thousands of words, combining marks) in the states that read
//! free text (idle search, checkout name and contact, booking times). A step once built every
//! one-letter deletion of each word for the typo index, so a 65,536-character word took
//! gigabytes; now no step may take more than a fixed allowance plus a few copies of its input.
//!
//! One test in this binary: the allocator's counters are global, and tests running in
//! parallel would add to each other's peaks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use peak_alloc::PeakAlloc;

use flows::booking::CalendarView;
use flows::catalog::{Catalog, CatalogData};
use flows::{
    BoughtTogether, Channel, Context, Conversation, CustomerId, Event, FlowSettings, Inbound,
    InboundMessage, Locale, Timestamp,
};

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

fn context() -> Context {
    let raw =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/catalog.json"))
            .unwrap();
    let data: CatalogData = serde_json::from_str(&raw).unwrap();
    Context {
        catalog: Catalog::new(data).unwrap(),
        settings: FlowSettings::default(),
        together: BoughtTogether::default(),
        calendar: CalendarView::default(),
        knowledge: Default::default(),
    }
}

fn said(text: &str) -> Event {
    Event::Inbound(Inbound::new(
        Channel::WebChat,
        InboundMessage::Text(text.to_owned()),
    ))
}

fn pressed(action: &str) -> Event {
    Event::Inbound(Inbound::new(
        Channel::WebChat,
        InboundMessage::Action(action.to_owned()),
    ))
}

const NOW: Timestamp = Timestamp(1_767_225_600_000);

/// A conversation brought to a state by a few ordinary events.
fn conversation_after(ctx: &Context, events: Vec<Event>) -> Conversation {
    let mut conversation = Conversation::new(CustomerId("cost".into()), Locale::En);
    for event in events {
        conversation = conversation.step(ctx, event, NOW).conversation;
    }
    conversation
}

/// Peak bytes allocated above the starting level while stepping `event`.
fn step_peak(ctx: &Context, conversation: Conversation, event: Event) -> usize {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let step = conversation.step(ctx, event, NOW);
    let peak = ALLOCATOR.peak_usage();
    drop(step);
    peak.saturating_sub(before)
}

fn hostile_texts() -> Vec<(&'static str, String)> {
    let base64: String = (0..65_536)
        .map(|i| {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            char::from(alphabet[(i * 7919) % 64])
        })
        .collect();
    vec![
        // First a size the old code survived (25 MB of deletions), so the test fails before
        // it is asked for gigabytes.
        ("word of 5,000", "a".repeat(5_000)),
        ("word of 65,536", "a".repeat(65_536)),
        ("base64 blob", base64),
        (
            "long URL",
            format!("https://example.com/{}", "path/".repeat(13_000)),
        ),
        ("Hebrew word", "ש".repeat(65_536)),
        ("combining marks", "a\u{301}\u{302}\u{303}".repeat(16_384)),
        ("many words", "red dress wool sweater ".repeat(3_000)),
        ("many numbers", "1 22 333 4444 ".repeat(5_000)),
        ("prices", "under 300 over 20 between 5 and 9 ".repeat(2_000)),
        ("fillers", format!("{} 5 lei", "de ".repeat(20_000))),
        ("times", "tomorrow at 10 friday afternoon ".repeat(2_000)),
        ("emoji", "🙂".repeat(65_536)),
        ("digits", "9".repeat(65_536)),
        ("spaces", " ".repeat(65_536)),
    ]
}

/// A fixed allowance (indexes built lazily on first use, replies, state) plus a few copies of
/// the input (the event is moved into the step and may be kept in the state or a reply).
fn allowance(input_bytes: usize) -> usize {
    2 * 1024 * 1024 + 4 * input_bytes
}

#[test]
fn hostile_texts_cost_at_most_linear_memory_in_every_state() {
    let ctx = context();
    // Builds the search index and lexicons once, outside any measurement.
    let _ = conversation_after(&ctx, vec![said("red dress"), said("book")]);
    let states: Vec<(&str, Vec<Event>)> = vec![
        ("fresh", vec![]),
        ("idle after a search", vec![said("hi"), said("red dress")]),
        (
            "checkout name",
            vec![
                pressed("add:boot"),
                pressed("var:BOOT-41"),
                said("1"),
                said("checkout"),
            ],
        ),
        (
            "checkout contact",
            vec![
                pressed("add:boot"),
                pressed("var:BOOT-41"),
                said("1"),
                said("checkout"),
                said("Ana Popescu"),
            ],
        ),
        ("booking", vec![said("book")]),
    ];
    let mut worst = (0_usize, "", "");
    for (state, events) in &states {
        for (shape, text) in hostile_texts() {
            let conversation = conversation_after(&ctx, events.clone());
            let bytes = text.len();
            let peak = step_peak(&ctx, conversation, said(&text));
            assert!(
                peak <= allowance(bytes),
                "{shape} ({bytes} bytes) in state {state}: a step took {peak} bytes, over {}",
                allowance(bytes)
            );
            if peak > worst.0 {
                worst = (peak, state, shape);
            }
        }
    }
    println!(
        "worst step peak: {} bytes ({} in state {})",
        worst.0, worst.2, worst.1
    );
}

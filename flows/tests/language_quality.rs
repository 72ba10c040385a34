//! Language identification on short customer messages (`quality/short_messages.tsv`, written
//! apart from the model's training phrases). Prints accuracy per language (`cargo test -p
//! flows --test language_quality -- --nocapture`) and fails below 95% overall, below 90% in
//! any language, or on any message the detector should have left alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use flows::Locale;
use flows::catalog::{Catalog, CatalogData};
use flows::language::{Certainty, detect};

fn demo() -> Catalog {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/catalog.json");
    let data: CatalogData = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Catalog::new(data).unwrap()
}

/// With the demo shop's catalog, whose names in each language are evidence too.
#[test]
fn short_messages_are_told_apart() {
    let catalog = demo();
    let set = include_str!("quality/short_messages.tsv");
    let mut per: Vec<(String, usize, usize, usize)> = Vec::new();
    let mut wrong = Vec::new();
    let mut spoke = Vec::new();
    for line in set
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (code, message) = line.split_once('\t').unwrap();
        let guess = detect(message, Some(catalog.language_words()));
        if code == "-" {
            if let Some(g) = guess {
                spoke.push(format!("{message:?} -> {:?} {:?}", g.locale, g.certainty));
            }
            continue;
        }
        let expected = Locale::from_tag(code).unwrap();
        if !per.iter().any(|p| p.0 == code) {
            per.push((code.to_owned(), 0, 0, 0));
        }
        let entry = per.iter_mut().find(|p| p.0 == code).unwrap();
        entry.1 += 1;
        match guess {
            Some(g) if g.locale == expected => {
                entry.2 += 1;
                if g.certainty == Certainty::Sure {
                    entry.3 += 1;
                }
            }
            other => wrong.push(format!(
                "{code} {message:?} -> {:?}",
                other.map(|g| (g.locale, g.certainty, g.margin))
            )),
        }
    }
    let total: usize = per.iter().map(|p| p.1).sum();
    let right: usize = per.iter().map(|p| p.2).sum();
    for (code, n, ok, sure) in &per {
        println!("{code}: {ok}/{n} right ({sure} sure)");
    }
    println!(
        "all: {right}/{total} = {:.1}%",
        100.0 * right as f64 / total as f64
    );
    for w in &wrong {
        println!("  wrong: {w}");
    }
    assert!(spoke.is_empty(), "guessed a language for {spoke:?}");
    assert!(right * 100 >= total * 95, "accuracy below 95%");
    for (code, n, ok, _) in &per {
        assert!(ok * 100 >= n * 90, "{code} below 90%");
    }
}

/// A link code is written in no language, whatever its letters ("lk-mzszcz" once switched a
/// Telegram conversation to Polish). Codes drawn from the alphabet codes use, lower-case as
/// people retype them, leave an English conversation English.
#[test]
fn link_codes_leave_the_language_alone() {
    use flows::{
        Channel, Context, Conversation, CustomerId, Event, FlowSettings, Inbound, InboundMessage,
        Timestamp,
    };
    let ctx = Context {
        catalog: demo(),
        settings: FlowSettings::default(),
        together: Default::default(),
        calendar: flows::booking::CalendarView::new(Default::default()),
        knowledge: Default::default(),
    };
    let letters: Vec<char> = flows::understanding::LINK_CODE_ALPHABET.chars().collect();
    // A fixed walk through the codes (an LCG), so the test is the same on every run.
    let mut state: u64 = 0x5eed;
    let mut switched = Vec::new();
    for _ in 0..400 {
        let body: String = (0..flows::understanding::LINK_CODE_LENGTH)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                letters[(state >> 33) as usize % letters.len()]
            })
            .collect();
        for typed in [format!("lk-{}", body.to_lowercase()), format!("LK{body}")] {
            let conversation = Conversation::new(CustomerId("c".into()), Locale::En);
            let event = Event::Inbound(Inbound::new(
                Channel::Telegram,
                InboundMessage::Text(typed.clone()),
            ));
            let step = conversation.step(&ctx, event, Timestamp(1_700_000_000_000));
            if step.conversation.locale != Locale::En {
                switched.push(format!("{typed} -> {:?}", step.conversation.locale));
            }
        }
    }
    assert!(
        switched.is_empty(),
        "codes read as a language: {switched:?}"
    );
}

#[test]
fn words_with_digits_are_codes_not_language() {
    for code in ["lk-7qx4mf", "7qx4mf", "szcz2", "a3b9c7 2xl"] {
        assert_eq!(detect(code, None).map(|g| g.locale), None, "{code}");
    }
}

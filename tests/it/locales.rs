//! Every key the core uses exists in every shipped locale, no locale carries a key nobody
//! uses, and every message renders with its arguments in every locale.

use std::collections::BTreeSet;

use flows::{Arg, Currency, Locale, Money, Text, TextKey};
use souk::render::Renderer;

use crate::support::repo_path;

fn message_ids(ftl: &str) -> BTreeSet<String> {
    ftl.lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once('=').map(|(id, _)| id.trim().to_owned()))
        .collect()
}

#[test]
fn every_locale_has_exactly_the_keys_the_core_uses() {
    let used: BTreeSet<String> = TextKey::ALL.iter().map(|k| k.id().to_owned()).collect();
    let folders: BTreeSet<String> = std::fs::read_dir(repo_path("locales"))
        .expect("locales dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let shipped: BTreeSet<String> = Locale::ALL.iter().map(|l| l.code().to_owned()).collect();
    assert_eq!(folders, shipped, "locale folders and flows::Locale differ");
    for locale in Locale::ALL {
        let ftl =
            std::fs::read_to_string(repo_path(&format!("locales/{locale}/main.ftl"))).expect("ftl");
        let ids = message_ids(&ftl);
        let missing: Vec<_> = used.difference(&ids).collect();
        let unused: Vec<_> = ids.difference(&used).collect();
        assert!(missing.is_empty(), "{locale} lacks {missing:?}");
        assert!(
            unused.is_empty(),
            "{locale} has keys nobody uses: {unused:?}"
        );
    }
}

#[test]
fn every_message_renders_in_every_locale() {
    let euro = Currency::new("EUR").expect("EUR");
    let renderer = Renderer;
    for locale in Locale::ALL {
        for key in TextKey::ALL {
            let mut text = Text::new(*key);
            for name in [
                "shop",
                "name",
                "product",
                "variant",
                "category",
                "order",
                "contact",
                "description",
                "variants",
                "language",
                "products",
                "status",
                "address",
                "point",
                "operator",
                "text",
                "code",
                "service",
                "staff",
                "zone",
                "theirs",
                "what",
                "source",
            ] {
                text = text.with(name, Arg::Str(format!("<{name}>")));
            }
            for name in [
                "items",
                "page",
                "pages",
                "count",
                "quantity",
                "max",
                "available",
                "minutes",
                "other",
                "days",
                "hours",
                "percent",
            ] {
                text = text.with(name, Arg::Int(3));
            }
            for name in ["price", "total", "amount", "deposit"] {
                text = text.with(name, Arg::Money(Money::new(123_456, euro)));
            }
            let at = flows::Timestamp(1_767_600_000_000);
            text = text
                .with(
                    "when",
                    Arg::When {
                        at,
                        zone: "Europe/Bucharest".into(),
                        also: Some("Europe/London".into()),
                    },
                )
                .with("day", Arg::Day("2026-01-05".into()))
                .with(
                    "until",
                    Arg::When {
                        at,
                        zone: "Europe/Bucharest".into(),
                        also: None,
                    },
                )
                .with(
                    "time",
                    Arg::Clock {
                        at,
                        zone: "Europe/Bucharest".into(),
                        also: Some("America/New_York".into()),
                    },
                );
            let rendered = renderer.text(locale, &text);
            assert_ne!(rendered, key.id(), "{locale}: {} did not render", key.id());
            assert!(
                !rendered.contains("{$") && !rendered.contains("{ $"),
                "{locale}: {} left a placeholder: {rendered}",
                key.id()
            );
            assert!(
                !rendered.trim().is_empty(),
                "{locale}: {} is empty",
                key.id()
            );
        }
    }
}

#[test]
fn prices_and_plurals_follow_the_locale() {
    let renderer = Renderer;
    let total = Money::new(123_450, Currency::new("EUR").expect("EUR"));
    let text = Text::new(TextKey::CartSummary)
        .int("items", 1)
        .money("total", total);
    assert!(renderer.text(Locale::En, &text).contains("1 item)"));
    let text = Text::new(TextKey::AddedToCart)
        .int("quantity", 2)
        .str("product", "Mug")
        .str("variant", "Blue")
        .money("total", total);
    assert!(renderer.text(Locale::En, &text).contains("€1,234.50"));
    assert!(renderer.text(Locale::Ro, &text).contains("1.234,50\u{a0}€"));
}

/// Order statuses are chosen inside the message (a Fluent select on the status name): each
/// one must have its own words in every locale, never the raw name.
#[test]
fn every_order_status_has_words_in_every_locale() {
    let renderer = Renderer;
    for locale in Locale::ALL {
        for status in flows::OrderStatus::ALL {
            let text = Text::new(TextKey::OrderStatusLine)
                .with("order", Arg::Str("A-1".into()))
                .with("status", Arg::Str(status.name().into()))
                .with(
                    "total",
                    Arg::Money(Money::new(1_000, Currency::new("EUR").expect("EUR"))),
                );
            let rendered = renderer.text(locale, &text);
            // The fallback variant (an ellipsis) is for statuses nobody translated.
            assert!(
                !rendered.ends_with('…'),
                "{locale}: status {status} has no words: {rendered}"
            );
        }
    }
}

/// The web chat page's own labels exist in every shipped locale.
#[test]
fn every_chat_page_label_is_in_every_locale() {
    let renderer = Renderer;
    for locale in Locale::ALL {
        for name in souk::http::CHAT_PAGE_LABELS {
            let id = format!("chat-page-{name}");
            let ftl = std::fs::read_to_string(repo_path(&format!("locales/{locale}/page.ftl")))
                .expect("page.ftl");
            assert!(
                ftl.lines().any(|line| line.starts_with(&format!("{id} ="))),
                "{locale} lacks {id}"
            );
            assert!(renderer.page_label(locale, &id).is_some(), "{locale}: {id}");
        }
    }
}

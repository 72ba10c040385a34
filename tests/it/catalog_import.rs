//! `souk catalog import`: Shopify-style CSV and souk JSON, every bad row reported with its
//! line, nothing changed by a bad file, and a running souk picking up the new catalog on
//! SIGHUP without a restart.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use flows::{Currency, Locale, Sku};
use souk::catalog_import::{RowError, import};

use crate::support::{repo_path, spawn_app_with, test_settings};

fn data(name: &str) -> std::path::PathBuf {
    repo_path(&format!("tests/data/catalog/{name}"))
}

fn eur() -> Currency {
    Currency::new("EUR").expect("EUR")
}

#[test]
fn a_shopify_export_becomes_a_catalog() {
    let imported = import(&data("good.csv"), eur()).expect("good CSV imports");
    let catalog = flows::Catalog::new(imported.data.clone()).expect("valid");
    let ids: Vec<&str> = catalog.products().iter().map(|p| p.id.0.as_str()).collect();
    assert_eq!(ids, ["linen-apron", "trail-cap", "gift-card"]);
    let apron = &catalog.products()[0];
    assert_eq!(apron.name.get(Locale::Ro), "Șorț din in");
    assert_eq!(
        apron.name.get(Locale::Pl),
        "Linen Apron",
        "falls back to the main title"
    );
    assert_eq!(
        apron.description.get(Locale::En),
        "Stonewashed linen apron & pocket."
    );
    assert_eq!(
        apron.image.as_deref(),
        Some("https://cdn.example.com/apron-olive.jpg")
    );
    assert_eq!(apron.category.0, "kitchen");
    let images: Vec<Option<&str>> = apron.variants.iter().map(|v| v.image.as_deref()).collect();
    assert_eq!(
        images,
        [None, Some("https://cdn.example.com/apron-sand.jpg")],
        "a variant's own picture"
    );
    let skus: Vec<(&str, i64, u32, Option<&str>)> = catalog
        .products()
        .iter()
        .flat_map(|p| &p.variants)
        .map(|v| {
            (
                v.sku.0.as_str(),
                v.price_minor,
                v.stock,
                v.colour.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        skus,
        [
            ("LA-OLIVE", 2450, 12, Some("Olive")),
            ("LA-SAND", 2450, 0, Some("Sand")),
            ("TC-M-BLK", 1900, 5, Some("Black")),
            // Negative stock in Shopify (oversold) is none left here.
            ("TC-L-BLK", 1990, 0, Some("Black")),
            ("GC-25", 2500, 1000, None),
        ]
    );
    let cap = catalog.variant(&Sku("TC-L-BLK".into())).expect("variant").1;
    assert_eq!(cap.size.as_deref(), Some("L"));
    assert_eq!(cap.name.get(Locale::En), "L / Black");
    assert!(
        imported
            .warnings
            .iter()
            .any(|w| w.contains("no title in pl")),
        "{:?}",
        imported.warnings
    );
}

#[test]
fn every_bad_row_is_reported_with_its_line() {
    let errors = import(&data("bad.csv"), eur()).expect_err("bad CSV is refused");
    let lines: Vec<(u64, &str)> = errors
        .iter()
        .map(|RowError { line, reason }| (*line, reason.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (3, "a variant of \"mug\" has no Variant SKU"),
            (4, "SKU \"MUG-W\" already used on line 2"),
            (5, "the first row of \"plate\" has no Title"),
            (6, "Variant Inventory Qty \"three\" is not a whole number"),
            (7, "price \"9.999\" is not an amount like 12.50"),
            (8, "no Handle"),
            (9, "price \"-5\" is not an amount like 12.50"),
        ]
    );
    let errors = import(&data("bad.json"), eur()).expect_err("bad JSON is refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 6, "{}", errors[0]);
    assert!(import(&repo_path("config/demo/catalog.json"), eur()).is_ok());
}

/// A copy of the shipped configuration and demo catalog to import into.
fn shop_copy(dir: &Path) -> std::path::PathBuf {
    let demo = dir.join("demo");
    for folder in ["images", "knowledge"] {
        std::fs::create_dir_all(demo.join(folder)).expect("dirs");
        let from = repo_path("config/demo").join(folder);
        for entry in std::fs::read_dir(from).expect(folder) {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), demo.join(folder).join(entry.file_name())).expect("copy");
        }
    }
    std::fs::copy(
        repo_path("config/demo/catalog.json"),
        demo.join("catalog.json"),
    )
    .expect("copy catalog");
    std::fs::copy(
        repo_path("config/demo/booking.toml"),
        demo.join("booking.toml"),
    )
    .expect("copy booking");
    let config = dir.join("souk.toml");
    std::fs::copy(repo_path("config/souk.toml"), &config).expect("copy config");
    config
}

#[test]
fn the_command_changes_nothing_on_a_bad_file_and_replaces_on_a_good_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = shop_copy(dir.path());
    let catalog = dir.path().join("demo/catalog.json");
    let before = std::fs::read(&catalog).expect("read");
    let run = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_souk"))
            .args(["catalog", "import"])
            .arg(file)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "error")
            .output()
            .expect("souk runs")
    };
    let refused = run(&data("bad.csv"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("line 3: a variant of \"mug\" has no Variant SKU"),
        "{stderr}"
    );
    assert!(stderr.contains("7 problem(s)"), "{stderr}");
    assert_eq!(std::fs::read(&catalog).expect("read"), before, "unchanged");

    let imported = run(&data("good.csv"));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let after = souk::catalog_file::load_catalog(&catalog, &dir.path().join("demo/images"))
        .expect("the written catalog loads");
    assert_eq!(after.products().len(), 3);
    assert!(!dir.path().join("demo/catalog.json.importing").exists());
}

#[cfg(unix)]
#[tokio::test]
async fn a_running_souk_reloads_the_catalog_on_sighup() {
    let dir = tempfile::tempdir().expect("temp dir");
    shop_copy(dir.path());
    let catalog = dir.path().join("demo/catalog.json");
    let mut settings = test_settings(&dir.path().join("data"));
    settings.shop.catalog = catalog.clone();
    settings.shop.images = dir.path().join("demo/images");
    let app = spawn_app_with(settings, Default::default()).await;
    let session = app.session().await;
    let apron_shown = |history: &[serde_json::Value]| {
        history
            .iter()
            .any(|m| m["from"] != "customer" && m.to_string().contains("Linen Apron"))
    };

    app.say(&session, "apron").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!apron_shown(&app.history(&session).await), "not sold yet");

    let imported = import(&data("good.csv"), eur()).expect("imports");
    souk::catalog_import::write_atomically(&catalog, &imported.data).expect("written");
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let mut shown = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        app.say(&session, "apron").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if apron_shown(&app.history(&session).await) {
            shown = true;
            break;
        }
    }
    assert!(shown, "the reloaded catalog answers without a restart");
    app.stop().await;
}

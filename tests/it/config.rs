//! Configuration: the shipped file loads, environment variables override it, and a bad value
//! is reported with its key. (Environment overrides are exercised by `kill.rs`, which
//! starts the real binary with `SOUK__SERVER__LISTEN` and `SOUK__STORE__PATH`.)

use std::path::Path;

use souk::Settings;

use crate::support::repo_path;

fn with_override(file: &Path, original: &str, replacement: &str) -> Result<Settings, String> {
    let text = std::fs::read_to_string(repo_path("config/souk.toml")).expect("shipped config");
    assert!(
        text.contains(original),
        "{original} not in the shipped config"
    );
    std::fs::write(file, text.replace(original, replacement)).expect("write config");
    Settings::load(file).map_err(|e| e.to_string())
}

#[test]
fn the_shipped_configuration_loads() {
    let settings = Settings::load(&repo_path("config/souk.toml")).expect("loads");
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
    assert!(settings.shop.catalog.is_file());
}

#[test]
fn bad_values_name_their_key() {
    // The demo catalog path is relative to the config file's folder: point it back.
    let file = repo_path("config").join(format!("test-{}.toml", std::process::id()));
    let cases = [
        (
            "timezone = \"Europe/Bucharest\"",
            "timezone = \"Mars/Olympus\"",
            "shop.timezone",
        ),
        (
            "listen = \"127.0.0.1:8080\"",
            "listen = \"not an address\"",
            "server.listen",
        ),
        ("shards = 4", "shards = 0", "workers.shards"),
        (
            "default_locale = \"en\"",
            "default_locale = \"xx\"",
            "shop.default_locale",
        ),
        ("page_size = 5", "page_size = 50", "conversation.page_size"),
        (
            "catalog = \"demo/catalog.json\"",
            "catalog = \"demo/nope.json\"",
            "shop.catalog",
        ),
        ("[outbox]", "[outbox]\nmystery = 1", "mystery"),
        // An enabled channel without its credentials names the environment variable to set.
        (
            "[outbox]",
            "[channels.whatsapp]\nenabled = true\n\n[outbox]",
            "SOUK__CHANNELS__WHATSAPP__APP_SECRET",
        ),
        // Secrets never sit in the file.
        (
            "[outbox]",
            "[channels.messenger]\napp_secret = \"abc\"\n\n[outbox]",
            "SOUK__CHANNELS__MESSENGER__APP_SECRET",
        ),
        (
            "[outbox]",
            "[channels.telegram]\nbot_token = \"1:abc\"\n\n[outbox]",
            "SOUK__CHANNELS__TELEGRAM__BOT_TOKEN",
        ),
        (
            "[outbox]",
            "[channels.telegram]\nenabled = true\n\n[outbox]",
            "SOUK__CHANNELS__TELEGRAM__BOT_TOKEN",
        ),
        (
            "[handoff]",
            "[channels.telegram]\nmode = \"sometimes\"\n\n[handoff]",
            "mode",
        ),
    ];
    for (original, replacement, key) in cases {
        let error = with_override(&file, original, replacement).expect_err(replacement);
        assert!(
            error.contains(key),
            "error for {replacement:?} does not name {key}: {error}"
        );
    }
    let _ = std::fs::remove_file(&file);
}

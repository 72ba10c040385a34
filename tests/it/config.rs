//! Configuration: the shipped file loads, environment variables override it, and a bad value
//! is reported with its key. (Environment overrides are exercised by `kill.rs`, which
//! starts the real binary with `SOUK__SERVER__LISTEN` and `SOUK__STORE__PATH`.)

use std::path::Path;

use souk::Settings;

use crate::support::repo_path;

/// A configuration file next to the shipped one (so its relative paths resolve the same),
/// removed when the test ends, failed or not.
struct ScratchConfig(std::path::PathBuf);

impl ScratchConfig {
    fn new(prefix: &str) -> ScratchConfig {
        ScratchConfig(repo_path("config").join(format!("{prefix}-{}.toml", std::process::id())))
    }
}

impl Drop for ScratchConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

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
    let scratch = ScratchConfig::new("test");
    let file = &scratch.0;
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
        // The database URL holds a password: environment only, and required with postgres.
        (
            "schema = \"public\"",
            "schema = \"public\"\nurl = \"postgres://u:pw@db/souk\"",
            "SOUK__STORE__POSTGRES__URL",
        ),
        (
            "backend = \"sled\"",
            "backend = \"postgres\"",
            "store.postgres.url",
        ),
        ("backend = \"sled\"", "backend = \"mysql\"", "backend"),
        // The model's key: environment only; a base URL that is no URL names its key.
        (
            "provider = \"none\"",
            "provider = \"openai\"\napi_key = \"sk-in-the-file\"",
            "SOUK__NLU__API_KEY",
        ),
        (
            "provider = \"none\"\napi_base = \"https://api.openai.com/v1\"",
            "provider = \"openai\"\napi_base = \"ftp://models.example\"",
            "nlu",
        ),
        (
            "schema = \"public\"",
            "schema = \"Public; DROP\"",
            "store.postgres.schema",
        ),
        (
            "concurrent_writes = 1",
            "concurrent_writes = 0",
            "store.postgres.concurrent_writes",
        ),
    ];
    for (original, replacement, key) in cases {
        let error = with_override(file, original, replacement).expect_err(replacement);
        assert!(
            error.contains(key),
            "error for {replacement:?} does not name {key}: {error}"
        );
    }
}

/// Each form of message `souk check-config` prints: one line per problem, the key as it is
/// written in the file, where the value came from, no doubled text, no nested backticks, no
/// profile prefix ("default."), and a missing relative path shown resolved.
#[test]
fn each_message_form_is_one_clear_line() {
    let scratch = ScratchConfig::new("forms");
    let file = &scratch.0;
    let file_name = file.display().to_string();
    let cases: [(&str, &str, String); 6] = [
        // An unknown value of a closed set.
        (
            "provider = \"demo\"",
            "provider = \"paypal\"",
            format!(
                "configuration key `payments.provider` (in {file_name}): \"paypal\" is not one of: none, demo, stripe"
            ),
        ),
        // A key nobody reads.
        (
            "[outbox]",
            "[outbox]\nmystery = 1",
            format!(
                "configuration key `outbox.mystery` (in {file_name}): is not a configuration key (misspelt, or in the wrong section?)"
            ),
        ),
        // A value of the wrong type.
        (
            "shards = 4",
            "shards = \"four\"",
            format!(
                "configuration key `workers.shards` (in {file_name}): expected usize, found string \"four\""
            ),
        ),
        // A required key missing.
        (
            "listen = \"127.0.0.1:8080\"",
            "",
            format!("configuration key `server.listen` (in {file_name}): is required and missing"),
        ),
        // A value out of its range, checked after loading.
        (
            "page_size = 5",
            "page_size = 50",
            "configuration key `conversation.page_size`: must be between 1 and 10 (carousel limits)"
                .to_owned(),
        ),
        // A relative path that is not there: shown resolved against the file's folder.
        (
            "catalog = \"demo/catalog.json\"",
            "catalog = \"demo/nope.json\"",
            format!(
                "configuration key `shop.catalog`: {} does not exist (relative paths are taken from the configuration file's folder)",
                std::path::absolute(repo_path("config/demo/nope.json"))
                    .expect("absolute")
                    .display()
            ),
        ),
    ];
    for (original, replacement, expected) in cases {
        let error = with_override(file, original, replacement).expect_err(original);
        assert_eq!(error, expected);
        assert!(!error.contains("default."), "{error}");
        assert_eq!(error.matches("configuration key `").count(), 1, "{error}");
    }
}

/// An environment override that is wrong names its variable.
#[test]
fn a_bad_environment_value_names_its_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
        .args(["check-config", "--config"])
        .arg(repo_path("config/souk.toml"))
        .env("SOUK__PAYMENTS__PROVIDER", "paypal")
        .output()
        .expect("souk runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "error: configuration key `payments.provider` (from the environment variable SOUK__PAYMENTS__PROVIDER): \"paypal\" is not one of: none, demo, stripe"
    );
}

/// The summary names every part that will run.
#[test]
fn the_summary_covers_payments_channels_booking_and_reminders() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
        .args(["check-config", "--config"])
        .arg(repo_path("config/souk.toml"))
        .output()
        .expect("souk runs");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for part in [
        "configuration OK",
        "payments: demo",
        "channel telegram: disabled",
        "channel discord: disabled",
        "appointments: 2 services",
        "cart reminders: 3 steps",
    ] {
        assert!(stdout.contains(part), "{part} missing from: {stdout}");
    }
}

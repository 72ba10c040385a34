//! souk on PostgreSQL as a whole (the store's own contract runs in `store.rs`): the app
//! holds a conversation on the database and keeps it across a restart, and `souk migrate
//! --check` tells an operator whether the schema is behind. Skipped where no test database
//! is set (`.ci/run` starts one and requires these to run).

use std::time::Duration;

use souk::AppOptions;

use crate::support::{postgres_settings, postgres_url, spawn_app_with, test_settings};

const WAIT: Duration = crate::support::PATIENCE;

fn settings_on_postgres(dir: &std::path::Path) -> souk::Settings {
    let mut settings = test_settings(dir);
    settings.store = postgres_settings(dir);
    settings
}

#[tokio::test]
async fn a_conversation_on_postgres_survives_a_restart() {
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings_on_postgres(dir.path()), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    for said in [
        "[start]",
        "[add:ceramic-mug]",
        "[var:CM-BLUE]",
        "3",
        "[checkout]",
    ] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("reply");
    }
    drop(events);
    app.stop().await;
    // Every reply was sent and recorded before the stop finished: none waits in the outbox.
    let store = crate::support::open_postgres(dir.path()).await;
    assert!(store.outbox(100).await.expect("outbox").is_empty());
    drop(store);

    let app = spawn_app_with(settings_on_postgres(dir.path()), AppOptions::default()).await;
    let mut events = app.events(&session).await;
    // Still in checkout, where the name is asked for; the cart is still there at the end.
    for said in ["Maria Pop", "0721 234 567"] {
        app.say(&session, said).await;
        events
            .next_reply(WAIT)
            .await
            .expect("the next checkout question");
    }
    app.say(&session, "Str. Lipscani 12, Bucharest 030031")
        .await;
    let confirm = events.next_reply(WAIT).await.expect("confirmation");
    assert_eq!(confirm["cart"]["lines"][0]["sku"], "CM-BLUE", "{confirm}");
    assert_eq!(confirm["cart"]["lines"][0]["quantity"], 3, "{confirm}");
    let history = app.history(&session).await;
    assert!(history.len() >= 12, "history kept: {}", history.len());
    app.stop().await;
}

#[tokio::test]
async fn souk_migrate_check_says_whether_the_schema_is_behind() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: no PostgreSQL here");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = postgres_settings(dir.path()).postgres.schema;
    let souk = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
            .args(args)
            .arg("--config")
            .arg(crate::support::repo_path("config/souk.toml"))
            .env("SOUK__STORE__BACKEND", "postgres")
            .env("SOUK__STORE__POSTGRES__URL", &url)
            .env("SOUK__STORE__POSTGRES__SCHEMA", &schema)
            .output()
            .expect("souk runs")
    };
    let behind = souk(&["migrate", "--check"]);
    let said = String::from_utf8_lossy(&behind.stdout);
    assert!(!behind.status.success(), "a new schema is behind: {said}");
    assert!(said.contains("pending: 1 store"), "{said}");

    let applied = souk(&["migrate"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let current = souk(&["migrate", "--check"]);
    let said = String::from_utf8_lossy(&current.stdout);
    assert!(current.status.success(), "{said}");
    assert!(said.contains("schema up to date"), "{said}");
    // The URL holds the password: never printed.
    assert!(!said.contains(&url));
}

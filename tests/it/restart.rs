//! Cart and conversation state survive a restart; the session token keeps working.

use std::time::Duration;

use souk::AppOptions;

use crate::support::spawn_app;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn cart_and_conversation_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    for said in [
        "[start]",
        "[add:ceramic-mug]",
        "[var:CM-BLUE]",
        "3",
        "[lang:ro]",
        "[checkout]",
        "Maria Pop",
    ] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("reply");
    }
    drop(events);
    app.stop().await;

    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let mut events = app.events(&session).await;
    // Still in checkout, waiting for the contact, in Romanian.
    app.say(&session, "0721 234 567").await;
    let address = events.next_reply(WAIT).await.expect("address question");
    assert_eq!(address["lang"], "ro");
    app.say(&session, "Str. Lipscani 12, București 030031")
        .await;
    let confirm = events.next_reply(WAIT).await.expect("confirmation");
    assert_eq!(confirm["lang"], "ro");
    assert!(
        confirm["text"]
            .as_str()
            .expect("text")
            .contains("Maria Pop"),
        "{confirm}"
    );
    assert_eq!(confirm["cart"]["lines"][0]["sku"], "CM-BLUE");
    assert_eq!(confirm["cart"]["lines"][0]["quantity"], 3);
    let history = app.history(&session).await;
    assert!(
        history.len() >= 15,
        "history kept across the restart: {}",
        history.len()
    );
    app.stop().await;
}

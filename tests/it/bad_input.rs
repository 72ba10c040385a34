//! Bad input gets a clear 4xx or a polite reply; never a panic, never a 500.

use serde_json::{Value, json};
use souk::AppOptions;

use crate::support::spawn_app;

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn malformed_unknown_empty_oversize_and_unknown_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;

    let (status, error) = error_of(app.post_raw("{\"session\": ").await).await;
    assert_eq!(status, 400);
    assert!(error.starts_with("malformed JSON"), "{error}");

    let (status, error) = error_of(app.post_raw("not json at all").await).await;
    assert_eq!((status, error.starts_with("malformed JSON")), (400, true));

    let unknown = json!({"session": session, "text": "hi", "price_override": 1});
    let (status, error) = error_of(app.post_raw(unknown.to_string()).await).await;
    assert_eq!(status, 422);
    assert!(error.contains("unknown field `price_override`"), "{error}");

    let empty = json!({"session": session, "text": "   \n "});
    let (status, error) = error_of(app.post_raw(empty.to_string()).await).await;
    assert_eq!((status, error.as_str()), (422, "text is empty"));

    let wrong_type = json!({"session": session, "text": 42});
    assert_eq!(
        error_of(app.post_raw(wrong_type.to_string()).await).await.0,
        422
    );

    let neither = json!({"session": session});
    assert_eq!(
        error_of(app.post_raw(neither.to_string()).await).await.0,
        422
    );

    let oversize = json!({"session": session, "text": "a".repeat(100_000)});
    assert_eq!(app.post_raw(oversize.to_string()).await.status(), 413);

    let stranger = json!({"session": "0123456789abcdef0123456789abcdef", "text": "hi"});
    let (status, error) = error_of(app.post_raw(stranger.to_string()).await).await;
    assert_eq!((status, error.as_str()), (404, "unknown session"));

    let forged = json!({"session": "../../../../etc/passwd", "text": "hi"});
    assert_eq!(
        error_of(app.post_raw(forged.to_string()).await).await.0,
        422
    );

    let no_query = app
        .client
        .get(format!("{}/chat/api/events", app.base))
        .send()
        .await
        .expect("events");
    assert_eq!(no_query.status(), 400);
    let bad_session_body = app
        .client
        .post(format!("{}/chat/api/sessions", app.base))
        .body("{\"locale\": ")
        .send()
        .await
        .expect("sessions");
    assert_eq!(bad_session_body.status(), 400);

    // Nothing above reached the conversation.
    assert!(app.history(&session).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn ten_kilobytes_of_emoji_and_forged_buttons_get_polite_replies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;

    let emoji = "😀🛒🔥".repeat(850); // 10 200 bytes, 2 550 characters
    assert!(emoji.len() > 10_000);
    app.say(&session, &emoji).await;
    let reply = events
        .next_reply(crate::support::PATIENCE)
        .await
        .expect("polite reply");
    assert!(
        reply["text"]
            .as_str()
            .expect("text")
            .contains("didn't get that"),
        "{reply}"
    );

    for forged in [
        "[prod:../../etc]",
        "[qty:99999999999]",
        "[lang:xx]",
        "[cat:coffee:-1]",
        "[<script>]",
    ] {
        app.say(&session, forged).await;
        let reply = events
            .next_reply(crate::support::PATIENCE)
            .await
            .expect("reply");
        assert!(
            reply["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{forged}: {reply}"
        );
    }
    // Customer text is echoed back only as JSON data, never interpreted.
    app.say(&session, "<img src=x onerror=alert(1)>").await;
    let reply = events
        .next_reply(crate::support::PATIENCE)
        .await
        .expect("reply");
    assert!(!reply.to_string().contains("onerror"), "{reply}");
    assert_eq!(app.metric("souk_events_failed_total").await, 0.0);
    app.stop().await;
}

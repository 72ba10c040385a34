//! The web chat as a browser uses it: page, assets, images, session, messages, live replies.

use std::time::Duration;

use souk::AppOptions;

use crate::support::spawn_app;

const WAIT: Duration = crate::support::PATIENCE;

#[tokio::test]
async fn page_assets_and_images_are_served_safely() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let page = app
        .client
        .get(format!("{}/chat", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = page.text().await.expect("html");
    // The shop name is configuration, but still escaped.
    assert!(
        html.contains("Test &lt;Shop&gt;"),
        "shop name escaped in {html}"
    );
    assert!(!html.contains("Test <Shop>"));
    for asset in ["chat.js", "chat.css"] {
        let response = app
            .client
            .get(format!("{}/chat/assets/{asset}", app.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "{asset}");
    }
    let missing = app
        .client
        .get(format!("{}/chat/assets/secret.txt", app.base))
        .send()
        .await
        .expect("asset");
    assert_eq!(missing.status(), 404);
    let image = app
        .client
        .get(format!("{}/media/products/rain-jacket.svg", app.base))
        .send()
        .await
        .expect("image");
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
    let traversal = app
        .client
        .get(format!("{}/media/products/..%2F..%2Fsouk.toml", app.base))
        .send()
        .await
        .expect("traversal");
    assert_eq!(traversal.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_customer_browses_adds_to_cart_and_checks_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;

    let start = app.say(&session, "[start]").await;
    let welcome = events.next_reply(WAIT).await.expect("welcome");
    assert_eq!(welcome["reply_to"], start.as_str());
    assert!(
        welcome["text"]
            .as_str()
            .expect("text")
            .contains("Test <Shop>")
    );
    assert_eq!(welcome["dir"], "ltr");

    app.say(&session, "[cat:coffee]").await;
    let shelf = events.next_reply(WAIT).await.expect("category");
    let cards = shelf["cards"].as_array().expect("cards");
    assert!(!cards.is_empty() && cards.len() <= 5);
    assert!(
        cards
            .iter()
            .all(|c| c["price"].as_str().is_some_and(|p| p.contains('€')))
    );
    assert!(cards.iter().all(|c| {
        c["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("/media/products/"))
    }));

    app.say(&session, "[add:espresso-blend]").await;
    let variants = events.next_reply(WAIT).await.expect("variants");
    let variant = variants["choices"][0]["id"]
        .as_str()
        .expect("variant id")
        .to_owned();
    assert!(variant.starts_with("var:"), "{variants}");
    app.say(&session, &format!("[{variant}]")).await;
    let quantity = events.next_reply(WAIT).await.expect("quantity");
    assert!(
        quantity["choices"]
            .as_array()
            .expect("choices")
            .iter()
            .any(|c| c["id"] == "qty:EB-250G:2")
    );
    app.say(&session, "2").await;
    let added = events.next_reply(WAIT).await.expect("added");
    assert!(
        added["text"].as_str().expect("text").contains("2 ×"),
        "{added}"
    );

    app.say(&session, "cart").await;
    let cart = events.next_reply(WAIT).await.expect("cart");
    assert_eq!(cart["cart"]["lines"][0]["quantity"], 2);
    assert_eq!(cart["cart"]["empty"], false);

    for said in [
        "[checkout]",
        "Ana Popescu",
        "ana@example.ro",
        "Str. Lipscani 12, București 030031",
    ] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("checkout step");
    }
    app.say(&session, "[confirm]").await;
    let placed = events.next_reply(WAIT).await.expect("order placed");
    let text = placed["text"].as_str().expect("text");
    assert!(text.contains("is placed"), "{text}");

    // The history shows the whole conversation, with button presses labelled.
    let history = app.history(&session).await;
    let customer_lines: Vec<_> = history.iter().filter(|m| m["from"] == "customer").collect();
    // The page's own "start" is not shown as something the customer said.
    assert_eq!(customer_lines.len(), 10);
    assert_eq!(customer_lines[1]["action"], "add:espresso-blend");
    let label = customer_lines[1]["action_label"]
        .as_str()
        .expect("label of a button that was shown");
    assert!(label.starts_with("Add to cart · "), "{label}");
    assert!(history.iter().filter(|m| m["from"] == "bot").count() >= 10);
    app.stop().await;
}

#[tokio::test]
async fn hebrew_replies_are_right_to_left() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "עברית").await;
    let reply = events.next_reply(WAIT).await.expect("reply");
    assert_eq!(reply["dir"], "rtl");
    assert_eq!(reply["lang"], "he");
    app.say(&session, "[browse]").await;
    let reply = events.next_reply(WAIT).await.expect("reply");
    assert_eq!(reply["dir"], "rtl");
    assert!(
        reply["text"]
            .as_str()
            .expect("text")
            .chars()
            .any(|c| ('\u{5d0}'..='\u{5ea}').contains(&c))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_router_answers_without_a_socket() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = souk::App::build(
        crate::support::test_settings(dir.path()),
        AppOptions::default(),
    )
    .await
    .expect("app");
    for (path, status) in [
        ("/healthz", 200),
        ("/readyz", 200),
        ("/metrics", 200),
        ("/nope", 404),
    ] {
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("request");
        let response = app.router().oneshot(request).await.expect("response");
        assert_eq!(response.status(), status, "{path}");
    }
}

#[tokio::test]
async fn a_retried_post_with_the_same_client_id_is_applied_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    let body =
        serde_json::json!({"session": session, "action": "start", "client_id": "retry-me-0001"})
            .to_string();
    let first: serde_json::Value = app.post_raw(body.clone()).await.json().await.expect("json");
    let second: serde_json::Value = app.post_raw(body).await.json().await.expect("json");
    assert_eq!(first["id"], "retry-me-0001");
    assert_eq!(
        (first["duplicate"].as_bool(), second["duplicate"].as_bool()),
        (Some(false), Some(true))
    );
    let welcome = events.next_reply(WAIT).await.expect("one welcome");
    assert_eq!(welcome["reply_to"], "retry-me-0001");
    assert!(
        events
            .next_reply(Duration::from_millis(500))
            .await
            .is_none(),
        "applied twice"
    );
    app.stop().await;
}

/// A session costs the store nothing until it says something, expires if it never does, and
/// one address cannot create them without end (10,000 in 2.7 s once filled the disk).
#[tokio::test]
async fn sessions_are_free_until_their_first_message_and_limited_per_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.server.webchat_sessions_per_address = 30;
    let app = crate::support::spawn_app_with(settings, AppOptions::default()).await;
    let session = app.session().await;
    let identity = {
        use sha2::Digest as _;
        flows::Identity::new(
            flows::Channel::WebChat,
            hex::encode(sha2::Sha256::digest(session.as_bytes())),
        )
    };
    assert!(
        app.store()
            .find_identity(&identity)
            .await
            .expect("lookup")
            .is_none(),
        "nothing stored for a session that has not said anything"
    );
    assert!(app.history(&session).await.is_empty());
    // Its event stream works before the first message, and the greeting comes through it.
    let mut events = app.events(&session).await;
    app.say(&session, "[start]").await;
    assert!(events.next_reply(WAIT).await.is_some(), "greeted");
    assert!(
        app.store()
            .find_identity(&identity)
            .await
            .expect("lookup")
            .is_some(),
        "stored with its first message"
    );
    // This test's address already made one; the rest of its share, then 429.
    for _ in 1..30 {
        app.session().await;
    }
    let refused = app
        .client
        .post(format!("{}/chat/api/sessions", app.base))
        .body(r#"{"locale":"en"}"#)
        .send()
        .await
        .expect("session request");
    assert_eq!(refused.status(), 429);
    // A token that was never issued (or expired) is unknown.
    let unknown = app
        .post_raw(serde_json::json!({"session": "0".repeat(32), "text": "hi"}).to_string())
        .await;
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

/// Reads server-sent events from `response` until `done` holds: `(event name, data)` pairs.
async fn read_events(
    response: reqwest::Response,
    done: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    use futures_util::StreamExt as _;
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done(&events) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("events in time")
            .expect("the stream goes on")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if !data.is_empty() {
                events.push((name, data));
            }
        }
    }
    events
}

/// A first visit costs one request: the stream makes the session, says it, and greets in
/// the asked language. A later stream on that session starts with the conversation so far,
/// once each.
#[tokio::test]
async fn a_first_visit_starts_in_one_request_and_a_reconnect_starts_with_the_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let first = app
        .client
        .get(format!(
            "{}/chat/api/events?new=1&locale=ro&time_zone=Europe%2FBucharest",
            app.base
        ))
        .send()
        .await
        .expect("stream");
    assert_eq!(first.status(), 200);
    let events = read_events(first, |seen| seen.iter().any(|(name, _)| name == "reply")).await;
    assert_eq!(events[0].0, "session", "{events:?}");
    let session: serde_json::Value = serde_json::from_str(&events[0].1).expect("JSON");
    let session = session["session"].as_str().expect("token").to_owned();
    assert_eq!(
        events[1],
        ("history".to_owned(), r#"{"messages":[]}"#.to_owned())
    );
    let greeting: serde_json::Value = serde_json::from_str(&events[2].1).expect("JSON");
    assert_eq!(greeting["lang"], "ro", "{greeting}");
    // The greeting is not a message of the customer's: the history has only the reply.
    app.say(&session, "[menu]").await;
    let history = app.history(&session).await;
    let answered =
        crate::support::eventually_async(WAIT, || async { app.history(&session).await.len() >= 3 })
            .await;
    assert!(answered, "{history:?}");
    let again = app
        .client
        .get(format!(
            "{}/chat/api/events?session={session}&history=1",
            app.base
        ))
        .send()
        .await
        .expect("stream");
    let events = read_events(again, |seen| !seen.is_empty()).await;
    assert_eq!(events[0].0, "history");
    let history: serde_json::Value = serde_json::from_str(&events[0].1).expect("JSON");
    let ids: Vec<&str> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3, "greeting, [menu] and its answer: {history}");
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    let neither = app
        .client
        .get(format!("{}/chat/api/events", app.base))
        .send()
        .await
        .expect("stream");
    assert_eq!(neither.status(), 400);
    // Another site's page cannot make sessions with its visitors' browsers.
    let cross_site = app
        .client
        .get(format!("{}/chat/api/events?new=1", app.base))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("stream");
    assert_eq!(cross_site.status(), 403);
    app.stop().await;
}

/// Our scripts and styles go compressed as the browser asks, under names that change with
/// their content and are kept for a year; the plain names still answer, briefly cached.
#[tokio::test]
async fn pages_go_compressed_and_assets_under_names_that_change_with_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let get = |path: String, encoding: &'static str| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.base);
        async move {
            client
                .get(url)
                .header("accept-encoding", encoding)
                .send()
                .await
                .expect("response")
        }
    };
    let page = get("/chat".into(), "br").await;
    assert_eq!(page.headers()["content-encoding"], "br");
    let plain = get("/chat".into(), "identity").await;
    assert!(plain.headers().get("content-encoding").is_none());
    let html = plain.text().await.expect("html");
    for extension in ["js", "css"] {
        // The page's own reference: `"/chat/assets/chat.<hash>.<extension>"`.
        let at = html
            .split('"')
            .find(|part| part.starts_with("/chat/assets/chat.") && part.ends_with(extension))
            .expect("a hashed asset")
            .to_owned();
        let hash = at
            .trim_start_matches("/chat/assets/chat.")
            .trim_end_matches(&format!(".{extension}"));
        assert!(
            hash.len() == 10 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{at}"
        );
        let asset = get(at.clone(), "gzip, br").await;
        assert_eq!(asset.status(), 200, "{at}");
        assert_eq!(asset.headers()["content-encoding"], "br");
        assert!(
            asset.headers()["cache-control"]
                .to_str()
                .expect("header")
                .contains("immutable"),
            "{at}"
        );
        let old = get(format!("/chat/assets/chat.{extension}"), "gzip").await;
        assert_eq!(old.headers()["content-encoding"], "gzip");
        assert_eq!(old.headers()["cache-control"], "public, max-age=300");
    }
    app.stop().await;
}

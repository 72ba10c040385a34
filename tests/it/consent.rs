//! Consent per purpose: three customers; one pays and says yes to news and offers, one pays
//! and says no, one was never asked. A campaign through the admin API reaches only the
//! first, once however often it is posted; the console and the export show what was asked
//! (with the wording's version) and answered.

use std::time::Duration;

use serde_json::{Value, json};
use souk::settings::Secret;

use crate::orders::{place_order, reply_with, submit};
use crate::support::{TestApp, spawn_app_with, test_settings};

const TOKEN: &str = "admin-token-for-the-consent-test";

async fn campaign(app: &TestApp, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/api/admin/marketing", app.base))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("campaign");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_campaign_reaches_only_a_recorded_yes_and_the_records_say_what_was_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(dir.path());
    settings.payments.provider = souk::payments::ProviderKind::Demo;
    settings.admin.token = Some(Secret::new(TOKEN));
    settings.privacy.ask_marketing_consent = true;
    let app = spawn_app_with(settings.clone(), souk::AppOptions::default()).await;

    // Two customers pay; each is asked once, after the payment.
    let mut answered = Vec::new();
    for answer in ["newsyes", "newsno"] {
        let session = app.session().await;
        let mut events = app.events(&session).await;
        let (_, path) = place_order(
            &app,
            &session,
            &mut events,
            &["[add:table-lamp]", "1"],
            "ana@example.ro",
        )
        .await;
        assert_eq!(submit(&app, &path, "pay").await, 200);
        let ask = reply_with(&mut events, "new products and offers").await;
        assert!(ask["choices"].to_string().contains("newsyes"), "{ask}");
        app.say(&session, &format!("[{answer}]")).await;
        let said = if answer == "newsyes" {
            "We'll write now and then"
        } else {
            "no news or offers"
        };
        reply_with(&mut events, said).await;
        answered.push((session, events));
    }
    // A third only says hello.
    let quiet = app.session().await;
    let mut quiet_events = app.events(&quiet).await;
    app.say(&quiet, "hello").await;
    reply_with(&mut quiet_events, "Welcome").await;

    // Bad campaigns are refused and send nothing.
    assert_eq!(
        campaign(
            &app,
            json!({"campaign": "spring", "text": {"en": "x"}}),
            None
        )
        .await
        .0,
        401
    );
    for bad in [
        json!({"campaign": "spring sale!", "text": {"en": "x"}}),
        json!({"campaign": "spring", "text": {"xx": "x"}}),
        json!({"campaign": "spring", "text": {"ro": "doar română"}}),
        json!({"campaign": "spring", "text": {"en": ""}}),
    ] {
        assert_eq!(
            campaign(&app, bad.clone(), Some(TOKEN)).await.0,
            422,
            "{bad}"
        );
    }
    let spring = json!({"campaign": "spring", "text": {"en": "Spring sale: 20% off linen."}});
    let (status, body) = campaign(&app, spring.clone(), Some(TOKEN)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["handed_to"], 1, "only the yes is handed it");
    let (yes_session, mut yes_events) = answered.remove(0);
    reply_with(&mut yes_events, "Spring sale: 20% off linen.").await;
    // Posted again: nobody gets it twice.
    assert_eq!(campaign(&app, spring, Some(TOKEN)).await.0, 202);
    let again = yes_events
        .collect_until(Duration::from_secs(2), |seen| !seen.is_empty())
        .await;
    assert!(again.is_empty(), "the campaign twice: {again:?}");
    let (no_session, _) = answered.remove(0);
    for session in [&no_session, &quiet] {
        let history = app.history(session).await;
        assert!(
            !history
                .iter()
                .any(|m| m["text"].to_string().contains("Spring sale")),
            "{history:?}"
        );
    }

    // The shop's numbers as Prometheus gauges: today's two paid orders, three conversations.
    souk::kpi_gauges::publish(
        app.store().as_ref(),
        &settings,
        flows::Currency::new("EUR").expect("EUR"),
    )
    .await
    .expect("published");
    let gauge =
        |figure: &str| format!("souk_kpi{{window=\"today\",figure=\"{figure}\",channel=\"all\"}}");
    assert_eq!(app.metric(&gauge("paid_orders")).await, 2.0);
    assert_eq!(app.metric(&gauge("conversations")).await, 3.0);
    assert!(
        (app.metric(&gauge("revenue")).await - 118.0).abs() < 1e-9,
        "two lamps"
    );

    // What was asked and answered, in the console and the export.
    let customer = crate::support::web_customer(&app, &yes_session).await;
    crate::console::add_operator(app.store(), "boss", souk::store::Role::Admin).await;
    let boss = crate::console::login(&app, "boss").await;
    let view = boss.conversation(&customer).await;
    let purposes = view["customer"]["consent"]["purposes"]
        .as_array()
        .expect("purposes")
        .clone();
    let marketing = purposes
        .iter()
        .find(|p| p["purpose"] == "marketing")
        .expect("marketing");
    assert_eq!(marketing["answer"]["granted"], true, "{marketing}");
    assert_eq!(marketing["asked"]["text"], "marketing-ask");
    let version = marketing["asked"]["version"].as_str().expect("version");
    assert_eq!(version.len(), 12, "{version}");
    assert_eq!(
        version,
        souk::render::Renderer.version(flows::Locale::En, flows::TextKey::MarketingAsk)
    );
    let export = boss
        .get(&format!("/console/api/conversations/{customer}/export"))
        .await;
    assert_eq!(export["consent"]["marketing"], true);
    assert!(
        export["consent"]["records"].to_string().contains(version),
        "{}",
        export["consent"]
    );
    app.stop().await;
}

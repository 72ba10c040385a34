//! The web chat page and its assets, embedded in the binary at compile time.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::PageState;
use crate::html::{escape_html, protect};

const INDEX_HTML: &str = include_str!("webchat_assets/index.html");
const CHAT_CSS: &str = include_str!("webchat_assets/chat.css");
const CHAT_JS: &str = include_str!("webchat_assets/chat.js");

static CHAT_CSS_PATH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::static_files::hashed("/chat/assets/chat.css", CHAT_CSS));
static CHAT_JS_PATH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::static_files::hashed("/chat/assets/chat.js", CHAT_JS));

/// The web chat page's own labels (`chat-page-<name>` in `locales/<lang>/page.ftl`): sent
/// with the page for every shipped language, so it speaks the conversation's language and
/// switches with it without another request.
pub const CHAT_PAGE_LABELS: &[&str] = &[
    "menu",
    "cart",
    "send",
    "placeholder",
    "typing",
    "message",
    "conversation",
    "shortcuts",
    "connection",
    "start",
    "connecting",
    "total",
];

/// `{"en": {"menu": "Menu", …}, "he": {…}}`, safe inside a `<script type="application/json">`
/// element (no `<` can close it).
fn chat_page_labels(state: &PageState) -> String {
    let mut all = serde_json::Map::new();
    for locale in flows::Locale::ALL {
        let labels: serde_json::Map<String, serde_json::Value> = CHAT_PAGE_LABELS
            .iter()
            .filter_map(|name| {
                let text = state
                    .renderer
                    .page_label(locale, &format!("chat-page-{name}"))?;
                Some(((*name).to_owned(), serde_json::Value::String(text)))
            })
            .collect();
        all.insert(locale.code().to_owned(), serde_json::Value::Object(labels));
    }
    serde_json::Value::Object(all)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

pub async fn page(State(state): State<PageState>) -> Response {
    let html = INDEX_HTML
        .replace("/chat/assets/chat.css", &CHAT_CSS_PATH)
        .replace("/chat/assets/chat.js", &CHAT_JS_PATH)
        .replace("{{SHOP_NAME}}", &escape_html(&state.settings.shop.name))
        .replace("{{LABELS}}", &chat_page_labels(&state))
        .replace(
            "{{DEFAULT_LANG}}",
            state.settings.shop.default_locale.code(),
        );
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    protect(response.headers_mut());
    response
}

pub async fn asset(Path(file): Path<String>) -> Response {
    use crate::static_files::{IMMUTABLE, serve};
    let path = format!("/chat/assets/{file}");
    match file.as_str() {
        _ if path == *CHAT_CSS_PATH => serve(CHAT_CSS, "text/css; charset=utf-8", IMMUTABLE),
        _ if path == *CHAT_JS_PATH => serve(CHAT_JS, "text/javascript; charset=utf-8", IMMUTABLE),
        // The plain names, for pages of an older release still open somewhere.
        "chat.css" => serve(CHAT_CSS, "text/css; charset=utf-8", "public, max-age=300"),
        "chat.js" => serve(
            CHAT_JS,
            "text/javascript; charset=utf-8",
            "public, max-age=300",
        ),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

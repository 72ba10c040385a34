//! What every page souk serves gets: HTML escaping for the few server-side substitutions,
//! and the security headers (the web chat, the console, the pay and set-up pages).

use axum::http::{HeaderValue, header};

/// Scripts and styles only from our origin; images may be https (catalog URLs).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Minimal HTML escaping for the one server-side substitution (the shop name).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Our pages' guard rails: scripts and styles from our origin only, no MIME sniffing, no
/// referrer to other sites (links may carry tokens), no framing. `same-origin` rather than
/// `no-referrer`: under `no-referrer` a browser posts forms with `Origin: null`, which the
/// console's same-origin check must otherwise refuse (the first-start set-up link was).
pub fn protect(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

//! Our pages' scripts and styles under content-hashed names: the page names
//! `/chat/assets/chat.3f2a9c1d0b.js`, which never changes content, so browsers keep it for a
//! year and a new release is a new name. The plain names still answer, briefly cached.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// How long a hashed file may be kept: for ever, in practice.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The same for a file only a logged-in operator may fetch.
pub const IMMUTABLE_PRIVATE: &str = "private, max-age=31536000, immutable";

/// `path` with the first 10 hex digits of the SHA-256 of `body` before its extension.
pub fn hashed(path: &str, body: &str) -> String {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    match path.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{}.{extension}", &digest[..10]),
        None => format!("{path}.{}", &digest[..10]),
    }
}

/// A file's response with its type and caching.
pub fn serve(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_changes_with_the_content() {
        let a = hashed("/chat/assets/chat.js", "one");
        let b = hashed("/chat/assets/chat.js", "two");
        assert!(
            a.starts_with("/chat/assets/chat.") && a.ends_with(".js"),
            "{a}"
        );
        assert_ne!(a, b);
        assert_eq!(a, hashed("/chat/assets/chat.js", "one"));
    }
}

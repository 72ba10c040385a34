//! The Graph API's error answers, classified: retry (with the platform's pacing), the
//! messaging window is closed, or give up. Codes from CHANNELS.md §1.5 and §2.4.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphFailure {
    /// Try again later (rate limits, temporary errors, 5xx, timeouts).
    Retry { code: i64, message: String },
    /// Outside the customer service window: a template or tag is needed, never a retry.
    WindowClosed { code: i64, message: String },
    /// Will not succeed by retrying (bad parameters, blocked, token revoked…).
    Permanent { code: i64, message: String },
}

const RETRY_CODES: &[i64] = &[
    130429, 131056, 131000, 1, 2, -1, 4, 17, 32, 613, 1200, 80007, 131052, 131053,
];

/// `http_status` is the response status; `body` its JSON (or null when it was not JSON).
pub fn classify(http_status: u16, body: &Value) -> GraphFailure {
    let error = body.get("error").cloned().unwrap_or(Value::Null);
    // No code at all (an HTML error page from a proxy, a wrong api_base): 0, which is in no
    // retry list, so only the HTTP status decides.
    let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
    let subcode = error.get("error_subcode").and_then(Value::as_i64);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| format!("HTTP {http_status}"), str::to_owned);
    let message = format!("{code}: {message}");
    if code == 131047 || (code == 10 && subcode == Some(2018278)) {
        return GraphFailure::WindowClosed { code, message };
    }
    if RETRY_CODES.contains(&code) || http_status == 429 || http_status >= 500 {
        return GraphFailure::Retry { code, message };
    }
    GraphFailure::Permanent { code, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(code: i64) -> Value {
        json!({"error": {"message": "x", "type": "OAuthException", "code": code, "fbtrace_id": "A"}})
    }

    #[test]
    fn classifies_the_documented_codes() {
        assert!(matches!(
            classify(400, &error(130429)),
            GraphFailure::Retry { .. }
        ));
        assert!(matches!(
            classify(400, &error(131056)),
            GraphFailure::Retry { .. }
        ));
        assert!(matches!(
            classify(400, &error(613)),
            GraphFailure::Retry { .. }
        ));
        assert!(matches!(
            classify(400, &error(131047)),
            GraphFailure::WindowClosed { .. }
        ));
        let outside =
            json!({"error": {"code": 10, "error_subcode": 2018278, "message": "outside window"}});
        assert!(matches!(
            classify(400, &outside),
            GraphFailure::WindowClosed { .. }
        ));
        for code in [131026, 190, 100, 131008, 551, 132001, 368, 130472] {
            assert!(
                matches!(classify(400, &error(code)), GraphFailure::Permanent { .. }),
                "{code}"
            );
        }
        assert!(matches!(
            classify(503, &Value::Null),
            GraphFailure::Retry { .. }
        ));
        assert!(matches!(
            classify(429, &Value::Null),
            GraphFailure::Retry { .. }
        ));
        // An HTML error page (a proxy, a wrong api_base) is not worth retrying.
        assert!(matches!(
            classify(404, &Value::Null),
            GraphFailure::Permanent { .. }
        ));
        assert!(matches!(
            classify(401, &Value::Null),
            GraphFailure::Permanent { .. }
        ));
        let GraphFailure::Permanent { message, .. } = classify(400, &error(190)) else {
            panic!()
        };
        assert_eq!(message, "190: x");
    }
}

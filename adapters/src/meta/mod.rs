//! Meta's three messaging products: WhatsApp Business (Cloud API), Messenger and Instagram
//! Direct. They share the webhook handshake, the signature and the Graph API error shape;
//! each product has its own inbound parser and outbound renderer.

pub mod graph_error;
pub mod inbound;
pub mod limits;
pub mod messenger_in;
pub mod messenger_out;
pub mod signature;
#[cfg(test)]
mod test_replies;
pub mod whatsapp_in;
pub mod whatsapp_out;
pub mod window;

/// The subscription handshake: answer the challenge only for the right mode and token.
pub fn verify_subscription<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    expected_token: &str,
) -> Option<&'a str> {
    let token_matches = token.is_some_and(|token| {
        signature::constant_time_eq(token.as_bytes(), expected_token.as_bytes())
    });
    (mode == Some("subscribe") && token_matches && !expected_token.is_empty())
        .then_some(challenge)
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::verify_subscription;

    #[test]
    fn handshake_needs_mode_token_and_challenge() {
        assert_eq!(
            verify_subscription(Some("subscribe"), Some("t0k"), Some("42"), "t0k"),
            Some("42")
        );
        assert_eq!(
            verify_subscription(Some("subscribe"), Some("nope"), Some("42"), "t0k"),
            None
        );
        assert_eq!(
            verify_subscription(Some("unsubscribe"), Some("t0k"), Some("42"), "t0k"),
            None
        );
        assert_eq!(
            verify_subscription(Some("subscribe"), None, Some("42"), "t0k"),
            None
        );
        assert_eq!(
            verify_subscription(Some("subscribe"), Some(""), Some("42"), ""),
            None
        );
        assert_eq!(
            verify_subscription(Some("subscribe"), Some("t0k"), None, "t0k"),
            None
        );
    }
}

//! Messaging windows: when a business may message a customer freely, with a message tag, or
//! only with an approved template. Pure policy; the shell supplies the times.

use flows::{Span, Timestamp};

/// What may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowDecision {
    /// Inside the customer service window: any message.
    Open,
    /// WhatsApp outside 24 h: only an approved template.
    TemplateOnly,
    /// Messenger/Instagram outside 24 h but inside 7 days: a human agent may reply with the
    /// `HUMAN_AGENT` tag; the bot may not.
    HumanAgentTagOnly,
    /// Nothing may be sent.
    Closed,
}

pub const SERVICE_WINDOW: Span = Span::hours(24);
pub const HUMAN_AGENT_WINDOW: Span = Span::hours(24 * 7);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowProduct {
    WhatsApp,
    Messenger,
    Instagram,
}

pub fn decide(
    product: WindowProduct,
    last_inbound: Option<Timestamp>,
    now: Timestamp,
) -> WindowDecision {
    let Some(last) = last_inbound else {
        // Never wrote to us on this channel: only what a template allows.
        return match product {
            WindowProduct::WhatsApp => WindowDecision::TemplateOnly,
            WindowProduct::Messenger | WindowProduct::Instagram => WindowDecision::Closed,
        };
    };
    let silence = now.since(last);
    match product {
        _ if silence < SERVICE_WINDOW => WindowDecision::Open,
        WindowProduct::WhatsApp => WindowDecision::TemplateOnly,
        WindowProduct::Messenger | WindowProduct::Instagram if silence < HUMAN_AGENT_WINDOW => {
            WindowDecision::HumanAgentTagOnly
        }
        WindowProduct::Messenger | WindowProduct::Instagram => WindowDecision::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_at_their_boundaries() {
        let t0 = Timestamp(1_000_000_000_000);
        let at = |span: Span| t0.plus(span);
        let just_inside = Span(SERVICE_WINDOW.as_millis() - 1);
        assert_eq!(
            decide(WindowProduct::WhatsApp, Some(t0), at(just_inside)),
            WindowDecision::Open
        );
        assert_eq!(
            decide(WindowProduct::WhatsApp, Some(t0), at(SERVICE_WINDOW)),
            WindowDecision::TemplateOnly
        );
        assert_eq!(
            decide(WindowProduct::WhatsApp, None, t0),
            WindowDecision::TemplateOnly
        );
        assert_eq!(
            decide(WindowProduct::Messenger, Some(t0), at(Span::hours(25))),
            WindowDecision::HumanAgentTagOnly
        );
        assert_eq!(
            decide(WindowProduct::Instagram, Some(t0), at(HUMAN_AGENT_WINDOW)),
            WindowDecision::Closed
        );
        assert_eq!(
            decide(WindowProduct::Messenger, None, t0),
            WindowDecision::Closed
        );
    }
}

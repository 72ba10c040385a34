//! Fitting text into a platform's limits, counted in characters (not bytes), so Hebrew and
//! emoji are cut where a person would count.

/// The longest text a customer can send on a channel, in characters: the platform's own
/// maximum (CHANNELS.md: WhatsApp text 4,096, Messenger 2,000, Instagram 1,000, Telegram
/// 4,096, Discord 4,000 with Nitro) and the web chat's. Anything longer did not come from
/// the platform's own app, and is cut to it before it is stored.
pub fn inbound_text_max(channel: flows::Channel) -> usize {
    use flows::Channel;
    match channel {
        Channel::WhatsApp | Channel::Telegram => 4_096,
        Channel::Messenger => 2_000,
        Channel::Instagram => 1_000,
        Channel::Discord => 4_000,
        Channel::WebChat => crate::webchat::MAX_TEXT_CHARS,
    }
}

/// Cuts an inbound message's text (or caption) to its channel's maximum; returns how many
/// characters it had when it was cut.
pub fn cut_inbound(inbound: &mut flows::Inbound) -> Option<u64> {
    let limit = inbound_text_max(inbound.channel);
    let text = match &mut inbound.message {
        flows::InboundMessage::Text(text) => text,
        flows::InboundMessage::Media {
            caption: Some(caption),
            ..
        } => caption,
        _ => return None,
    };
    let (end, _) = text.char_indices().nth(limit)?;
    let had = text.chars().count() as u64;
    text.truncate(end);
    inbound.context.cut_from_chars = Some(had);
    Some(had)
}

/// At most `limit` characters, cut with an ellipsis (0 gives an empty string).
pub fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    if limit == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(limit - 1).collect();
    cut.push('…');
    cut
}

/// Pieces of at most `limit` characters, split at a line break or a space where possible.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > limit {
        let hard: usize = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..hard];
        let cut = window
            .rfind('\n')
            .or_else(|| window.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(hard);
        pieces.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// A product image as an absolute https URL the platform can fetch, if it can have one.
pub fn absolute_https(image: &str, base: &str) -> Option<String> {
    if image.starts_with("https://") {
        return Some(image.to_owned());
    }
    (image.starts_with('/') && base.starts_with("https://"))
        .then(|| format!("{}{image}", base.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_text_is_cut_to_the_channel_maximum() {
        let mut inbound = flows::Inbound::new(
            flows::Channel::Instagram,
            flows::InboundMessage::Text("ש".repeat(65_536)),
        );
        assert_eq!(cut_inbound(&mut inbound), Some(65_536));
        assert_eq!(inbound.context.cut_from_chars, Some(65_536));
        let flows::InboundMessage::Text(text) = &inbound.message else {
            panic!("still text");
        };
        assert_eq!(text.chars().count(), 1_000);
        let mut short = flows::Inbound::new(
            flows::Channel::WhatsApp,
            flows::InboundMessage::Text("hello".into()),
        );
        assert_eq!(cut_inbound(&mut short), None);
        assert!(short.context.is_empty());
    }

    #[test]
    fn characters_not_bytes() {
        let hebrew = "שלום ".repeat(300);
        assert_eq!(cut(&hebrew, 1024).chars().count(), 1024);
        let pieces = split(&"א".repeat(4106), 4096);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].chars().count(), 4096);
        assert_eq!(cut("abc", 0), "");
        assert_eq!(
            absolute_https("/m/x.svg", "https://shop.example/").as_deref(),
            Some("https://shop.example/m/x.svg")
        );
        assert_eq!(absolute_https("/m/x.svg", ""), None);
    }
}

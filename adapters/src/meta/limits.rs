//! Size limits of Meta's messaging products, kept in one place, and the text helpers that keep
//! every outgoing string inside them.
//!
//! Numbers come from `CHANNELS.md` §1.4 (WhatsApp), §2.3 (Messenger) and §3.2 (Instagram). Meta
//! changes them over time, so renderers read them from here and never repeat a literal.
//! Lengths are counted in Unicode scalar values (`char`s), never bytes: a byte count would
//! reject Hebrew or emoji text that the platform accepts.

/// Appended where a string was cut, so the reader sees the text goes on. Counts as one char.
pub const ELLIPSIS: char = '…';

/// WhatsApp Cloud API limits, in chars unless the name says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhatsAppLimits {
    /// `text.body`.
    pub text_max: usize,
    /// `interactive.body.text`.
    pub body_max: usize,
    /// Reply buttons per interactive button message (a count).
    pub buttons_max: usize,
    pub button_title_max: usize,
    pub button_id_max: usize,
    /// Rows across all sections of a list message (a count).
    pub list_rows_max: usize,
    pub list_row_title_max: usize,
    pub list_row_description_max: usize,
    pub list_row_id_max: usize,
    /// `interactive.action.button`, the label that opens the list.
    pub list_button_label_max: usize,
    /// Section title of list and product-list messages.
    pub list_section_title_max: usize,
    /// `image.caption`.
    pub caption_max: usize,
    /// `cta_url` parameters `display_text`.
    pub cta_display_text_max: usize,
    /// Products across all sections of a `product_list` message (a count).
    pub product_list_max: usize,
    /// `interactive.header.text`.
    pub header_text_max: usize,
}

/// Messenger and Instagram Send API limits, in chars unless the name says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessengerLimits {
    /// `message.text`.
    pub text_max: usize,
    /// Quick replies per message (a count).
    pub quick_replies_max: usize,
    pub quick_reply_title_max: usize,
    /// Quick reply and postback payloads.
    pub payload_max: usize,
    pub button_template_text_max: usize,
    /// Buttons per button template (a count).
    pub button_template_buttons_max: usize,
    pub button_title_max: usize,
    /// Elements per generic template (a count).
    pub generic_elements_max: usize,
    pub generic_title_max: usize,
    pub generic_subtitle_max: usize,
    /// Buttons per generic template element (a count).
    pub generic_buttons_max: usize,
}

pub const WHATSAPP: WhatsAppLimits = WhatsAppLimits {
    text_max: 4096,
    body_max: 1024,
    buttons_max: 3,
    button_title_max: 20,
    button_id_max: 256,
    list_rows_max: 10,
    list_row_title_max: 24,
    list_row_description_max: 72,
    list_row_id_max: 200,
    list_button_label_max: 20,
    list_section_title_max: 24,
    caption_max: 1024,
    cta_display_text_max: 20,
    product_list_max: 30,
    header_text_max: 60,
};

pub const MESSENGER: MessengerLimits = MessengerLimits {
    text_max: 2000,
    quick_replies_max: 13,
    quick_reply_title_max: 20,
    payload_max: 1000,
    button_template_text_max: 640,
    button_template_buttons_max: 3,
    button_title_max: 20,
    generic_elements_max: 10,
    generic_title_max: 80,
    generic_subtitle_max: 80,
    generic_buttons_max: 3,
};

/// Instagram uses the Messenger Send API shapes; only its text limit is smaller.
pub const INSTAGRAM: MessengerLimits = MessengerLimits {
    text_max: 1000,
    ..MESSENGER
};

/// `text` cut to at most `max` chars. When it has to cut, the last kept char is replaced by
/// "…" (trailing whitespace dropped first) so the result still fits `max`.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let kept: String = text.chars().take(max - 1).collect();
    let mut out = kept.trim_end().to_owned();
    out.push(ELLIPSIS);
    out
}

/// `text`, or "…" when it is blank: platforms reject empty bodies and titles.
pub fn or_ellipsis(text: &str) -> String {
    if text.trim().is_empty() {
        ELLIPSIS.to_string()
    } else {
        text.to_owned()
    }
}

/// Splits `text` into chunks of at most `max` chars, cutting at a line break or space where it
/// can so words survive. Text that fits comes back as one unchanged chunk. Blank chunks are
/// never produced, so blank text yields no chunks at all: an empty message is an invalid request.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    if max == 0 {
        return chunks;
    }
    let mut rest = text;
    while rest.chars().count() > max {
        let end = byte_index_of_char(rest, max);
        let cut = head_break(&rest[..end]).unwrap_or(end);
        push_non_blank(&mut chunks, rest[..cut].trim_end());
        // The separator and any run of blanks after it would only pad the next message.
        rest = rest[cut..].trim_start();
    }
    push_non_blank(&mut chunks, rest);
    chunks
}

/// Splits `text` into a tail of at most `max` chars and the head before it, cutting at a line
/// break or space where it can. For messages whose final part has a smaller limit than plain
/// text (interactive bodies, button templates): the head is sent first as plain text.
pub fn split_tail(text: &str, max: usize) -> (&str, &str) {
    let count = text.chars().count();
    if count <= max {
        return ("", text);
    }
    let start = byte_index_of_char(text, count - max);
    let cut = tail_break(&text[start..]).map_or(start, |offset| start + offset);
    (text[..cut].trim_end(), text[cut..].trim_start())
}

/// The lead-in messages and the final body for a message whose body holds at most `body_max`
/// chars: the lead comes in plain-text chunks of at most `chunk_max` chars, and the body is never
/// blank ("…" stands in for empty text).
pub fn lead_and_body(text: &str, body_max: usize, chunk_max: usize) -> (Vec<String>, String) {
    // Trailing blanks would otherwise become the whole body.
    let (lead, body) = split_tail(text.trim_end(), body_max);
    (split_text(lead, chunk_max), or_ellipsis(body))
}

/// Byte offset of the `n`th char, or the end of `text` when it is shorter.
fn byte_index_of_char(text: &str, n: usize) -> usize {
    text.char_indices()
        .nth(n)
        .map_or(text.len(), |(index, _)| index)
}

/// Where to end a head chunk inside `window`: the last line break if it is in the second half
/// (an earlier one would waste most of the message), otherwise the last space. Never at 0,
/// which would make no progress.
fn head_break(window: &str) -> Option<usize> {
    let half = window.len() / 2;
    window
        .rfind('\n')
        .filter(|&index| index >= half)
        .or_else(|| window.rfind(char::is_whitespace))
        .filter(|&index| index > 0)
}

/// Where to start a tail inside `window`: the first line break if it is in the first half,
/// otherwise the first space.
fn tail_break(window: &str) -> Option<usize> {
    let half = window.len() / 2;
    window
        .find('\n')
        .filter(|&index| index <= half)
        .or_else(|| window.find(char::is_whitespace))
}

fn push_non_blank(chunks: &mut Vec<String>, chunk: &str) {
    if !chunk.trim().is_empty() {
        chunks.push(chunk.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> usize {
        text.chars().count()
    }

    #[test]
    fn instagram_differs_from_messenger_only_in_text() {
        assert_eq!(INSTAGRAM.text_max, 1000);
        assert_eq!(
            MessengerLimits {
                text_max: MESSENGER.text_max,
                ..INSTAGRAM
            },
            MESSENGER
        );
    }

    #[test]
    fn truncate_keeps_text_at_the_limit_and_cuts_one_over() {
        let twenty = "a".repeat(20);
        assert_eq!(truncate_chars(&twenty, 20), twenty);
        let cut = truncate_chars(&"a".repeat(21), 20);
        assert_eq!(chars(&cut), 20);
        assert!(cut.ends_with(ELLIPSIS));
        assert_eq!(truncate_chars("abc", 0), "");
    }

    #[test]
    fn truncate_counts_chars_not_bytes() {
        let hebrew = "ש".repeat(20);
        assert_eq!(truncate_chars(&hebrew, 20), hebrew);
        let emoji = "🛒".repeat(21);
        let cut = truncate_chars(&emoji, 20);
        assert_eq!(cut, format!("{}…", "🛒".repeat(19)));
    }

    #[test]
    fn truncate_drops_trailing_space_before_the_ellipsis() {
        assert_eq!(truncate_chars("abc def", 5), "abc…");
    }

    #[test]
    fn split_leaves_fitting_text_whole() {
        let text = "x".repeat(4096);
        assert_eq!(split_text(&text, 4096), vec![text]);
        assert_eq!(split_text("  hi  ", 10), vec!["  hi  ".to_owned()]);
    }

    #[test]
    fn split_one_over_gives_two_chunks() {
        let chunks = split_text(&"x".repeat(4097), 4096);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chars(&chunks[0]), 4096);
        assert_eq!(chunks[1], "x");
    }

    #[test]
    fn split_prefers_line_breaks_then_spaces() {
        assert_eq!(
            split_text("aaaa bbb\ncc dd", 10),
            vec!["aaaa bbb".to_owned(), "cc dd".to_owned()]
        );
        assert_eq!(
            split_text("aa bb cc dd", 6),
            vec!["aa bb".to_owned(), "cc dd".to_owned()]
        );
        // A line break in the first half would waste the chunk; the last space wins instead.
        assert_eq!(
            split_text("a\nbbbb cccc", 8),
            vec!["a\nbbbb".to_owned(), "cccc".to_owned()]
        );
    }

    #[test]
    fn split_never_yields_blank_chunks() {
        assert!(split_text("", 10).is_empty());
        assert!(split_text("   \n  ", 3).is_empty());
        let chunks = split_text("ab      \n\n\n      cd", 4);
        assert_eq!(chunks, vec!["ab".to_owned(), "cd".to_owned()]);
        for text in ["a b c d e f g h", "🛒🛒🛒 🛒🛒🛒🛒🛒🛒🛒 ש"] {
            for max in 1..6 {
                for chunk in split_text(text, max) {
                    assert!(!chunk.trim().is_empty());
                    assert!(chars(&chunk) <= max, "{chunk:?} > {max}");
                }
            }
        }
    }

    #[test]
    fn split_counts_chars_not_bytes() {
        let emoji = "😀".repeat(4096);
        assert_eq!(split_text(&emoji, 4096).len(), 1);
        assert_eq!(split_text(&format!("{emoji}😀"), 4096).len(), 2);
    }

    #[test]
    fn tail_cuts_at_a_boundary_and_fits() {
        assert_eq!(split_tail("short", 10), ("", "short"));
        assert_eq!(
            split_tail("hello world again", 12),
            ("hello", "world again")
        );
        assert_eq!(
            split_tail("first line\nsecond", 10),
            ("first line", "second")
        );
        let long = "x".repeat(15);
        let (head, tail) = split_tail(&long, 10);
        assert_eq!((chars(head), chars(tail)), (5, 10));
    }

    #[test]
    fn lead_and_body_never_gives_a_blank_body() {
        assert_eq!(lead_and_body("", 10, 20), (vec![], "…".to_owned()));
        assert_eq!(lead_and_body("hi   ", 2, 20), (vec![], "hi".to_owned()));
        let (lead, body) = lead_and_body(&format!("{} {}", "a".repeat(30), "b".repeat(8)), 10, 20);
        assert_eq!(lead, vec!["a".repeat(20), "a".repeat(10)]);
        assert_eq!(body, "b".repeat(8));
    }
}

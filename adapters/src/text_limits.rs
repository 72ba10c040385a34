//! Fitting text into a platform's limits, counted in characters (not bytes), so Hebrew and
//! emoji are cut where a person would count.

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

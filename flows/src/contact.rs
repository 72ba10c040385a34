//! Validation of what the customer types at checkout. Strict enough to catch typos, lenient
//! about formatting (spaces, dashes, brackets in phone numbers).

use crate::order::ContactPoint;

const NAME_MAX_CHARS: usize = 80;

/// A person's name: 2-80 characters with at least two letters, whitespace collapsed.
pub fn parse_name(text: &str) -> Option<String> {
    let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    let digits = name.chars().filter(|c| c.is_ascii_digit()).count();
    let ok = letters >= 2
        && digits == 0
        && name.chars().count() <= NAME_MAX_CHARS
        && !name.chars().any(char::is_control);
    ok.then_some(name)
}

/// An e-mail address or a phone number (7-15 digits, E.164 length, optional + or 00 prefix).
pub fn parse_contact(text: &str) -> Option<ContactPoint> {
    let text = text.trim();
    if text.contains('@') {
        return parse_email(text).map(ContactPoint::Email);
    }
    parse_phone(text).map(ContactPoint::Phone)
}

fn parse_email(text: &str) -> Option<String> {
    let (local, domain) = text.split_once('@')?;
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = !local.is_empty()
        && local.len() <= 64
        && text.len() <= 254
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '@' && c != '<' && c != '>');
    ok.then(|| format!("{local}@{}", domain.to_lowercase()))
}

fn parse_phone(text: &str) -> Option<String> {
    let (international, rest) = if let Some(rest) = text.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("00") {
        (true, rest)
    } else {
        (false, text)
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    Some(if international {
        format!("+{digits}")
    } else {
        digits
    })
}

const ADDRESS_MAX_CHARS: usize = 300;

/// A delivery address: whitespace collapsed, 2+ words, 8+ letters, and a postal code, which
/// the prompt asks for: enough to catch "idk", a lone city name or a street without its
/// postal code, without guessing at every country's street formats.
pub fn parse_address(text: &str) -> Option<String> {
    let address = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let words = address.split(' ').filter(|w| !w.is_empty()).count();
    let letters = address.chars().filter(|c| c.is_alphabetic()).count();
    let ok = words >= 2
        && letters >= 8
        && has_postal_code(&address)
        && address.chars().count() <= ADDRESS_MAX_CHARS
        && !address.chars().any(char::is_control);
    ok.then_some(address)
}

/// A postal code of the shipped countries' forms: a word of 4 to 7 digits once a country
/// prefix and a dash are set aside (Romania 030031, Poland 00-590, Latvia LV-1010, Israel
/// 6120101). A street number has fewer digits.
fn has_postal_code(address: &str) -> bool {
    address
        .split(|c: char| c.is_whitespace() || c == ',')
        .any(|word| {
            let word = word.trim_matches(|c: char| c == '.' || c == ';');
            let digits = word.chars().filter(char::is_ascii_digit).count();
            let rest_ok = word
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c.is_ascii_uppercase());
            let letters = word.chars().filter(char::is_ascii_uppercase).count();
            rest_ok && letters <= 2 && (4..=7).contains(&digits)
        })
}

impl ContactPoint {
    pub fn as_str(&self) -> &str {
        match self {
            ContactPoint::Phone(value) | ContactPoint::Email(value) => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("  Ana   Popescu "), Some("Ana Popescu".into()));
        assert_eq!(parse_name("דנה כהן"), Some("דנה כהן".into()));
        assert_eq!(parse_name("x"), None);
        assert_eq!(parse_name("12345"), None);
        assert_eq!(parse_name("R2D2"), None);
        assert_eq!(parse_name(&"a".repeat(81)), None);
        assert_eq!(parse_name("🙂🙂🙂"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address(" Str. Lipscani 12,\n  București 030031 "),
            Some("Str. Lipscani 12, București 030031".into())
        );
        assert_eq!(
            parse_address("רחוב הרצל 5, תל אביב 6120101"),
            Some("רחוב הרצל 5, תל אביב 6120101".into())
        );
        assert!(parse_address("ul. Marszałkowska 10, 00-590 Warszawa").is_some());
        assert!(parse_address("Brīvības iela 10, Rīga LV-1010").is_some());
        // The postal code the prompt asks for is missing.
        assert_eq!(parse_address("Str. Lipscani 12, București"), None);
        assert_eq!(parse_address("רחוב הרצל 5, תל אביב"), None);
        assert_eq!(parse_address("Bucharest"), None);
        assert_eq!(parse_address("idk 12"), None);
        assert_eq!(parse_address("Main Street near the park"), None);
        assert_eq!(
            parse_address(&format!("Street 1 {}", "a".repeat(300))),
            None
        );
    }

    #[test]
    fn contacts() {
        assert_eq!(
            parse_contact("+40 721-234 567"),
            Some(ContactPoint::Phone("+40721234567".into()))
        );
        assert_eq!(
            parse_contact("0040 (721) 234.567"),
            Some(ContactPoint::Phone("+40721234567".into()))
        );
        assert_eq!(
            parse_contact("0721234567"),
            Some(ContactPoint::Phone("0721234567".into()))
        );
        assert_eq!(
            parse_contact("Ana@Example.RO"),
            Some(ContactPoint::Email("Ana@example.ro".into()))
        );
        assert_eq!(parse_contact("123"), None);
        assert_eq!(parse_contact("ana@localhost"), None);
        assert_eq!(parse_contact("a b@example.com"), None);
        assert_eq!(parse_contact("call me maybe"), None);
        assert_eq!(parse_contact("1234567890123456"), None);
    }
}

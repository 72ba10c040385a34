//! Money and dates as each locale writes them. Hand-written for the five shipped locales
//! (CLDR's patterns for them, without pulling ICU's data tables into the binary).

use flows::{Locale, Money};

struct Pattern {
    decimal: char,
    group: char,
    /// Symbol before the number ("€12.50") or after it ("12,50 €").
    symbol_first: bool,
}

fn pattern(locale: Locale) -> Pattern {
    match locale {
        Locale::En => Pattern {
            decimal: '.',
            group: ',',
            symbol_first: true,
        },
        Locale::Ro => Pattern {
            decimal: ',',
            group: '.',
            symbol_first: false,
        },
        // Polish and Latvian group with a no-break space.
        Locale::Pl | Locale::Lv => Pattern {
            decimal: ',',
            group: '\u{a0}',
            symbol_first: false,
        },
        Locale::He => Pattern {
            decimal: '.',
            group: ',',
            symbol_first: false,
        },
    }
}

fn symbol(code: &str, locale: Locale) -> &str {
    match (code, locale) {
        ("EUR", _) => "€",
        ("USD", _) => "$",
        ("GBP", _) => "£",
        ("ILS", _) => "₪",
        ("PLN", _) => "zł",
        ("RON", Locale::En) => "RON",
        ("RON", _) => "lei",
        (other, _) => other,
    }
}

fn group_digits(whole: u64, group: char) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    out
}

pub fn format_money(money: Money, locale: Locale) -> String {
    let pattern = pattern(locale);
    let digits = money.currency.minor_digits();
    let scale = 10_u64.pow(digits);
    let amount = money.minor.unsigned_abs();
    let mut number = group_digits(amount / scale, pattern.group);
    if digits > 0 {
        number.push(pattern.decimal);
        number.push_str(&format!(
            "{:0width$}",
            amount % scale,
            width = digits as usize
        ));
    }
    let sign = if money.minor < 0 { "-" } else { "" };
    let symbol = symbol(money.currency.code(), locale);
    // Letter symbols ("RON", "zł") read better after the number even in English.
    let letters = symbol.chars().any(char::is_alphabetic);
    if pattern.symbol_first && !letters {
        format!("{sign}{symbol}{number}")
    } else {
        format!("{sign}{number}\u{a0}{symbol}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flows::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::new("EUR").expect("valid"))
    }

    #[test]
    fn formats_per_locale() {
        assert_eq!(format_money(eur(8900), Locale::En), "€89.00");
        assert_eq!(format_money(eur(12_345_678), Locale::En), "€123,456.78");
        assert_eq!(
            format_money(eur(12_345_678), Locale::Ro),
            "123.456,78\u{a0}€"
        );
        assert_eq!(
            format_money(eur(12_345_678), Locale::Pl),
            "123\u{a0}456,78\u{a0}€"
        );
        assert_eq!(format_money(eur(5), Locale::Lv), "0,05\u{a0}€");
        assert_eq!(format_money(eur(-1250), Locale::He), "-12.50\u{a0}€");
        let ron = Money::new(19900, Currency::new("RON").expect("valid"));
        assert_eq!(format_money(ron, Locale::Ro), "199,00\u{a0}lei");
        assert_eq!(format_money(ron, Locale::En), "199.00\u{a0}RON");
        let yen = Money::new(1500, Currency::new("JPY").expect("valid"));
        assert_eq!(format_money(yen, Locale::En), "1,500\u{a0}JPY");
    }
}

//! The words that mean something to the rule-based understanding, in every shipped language.
//! All entries are written already folded (lower case, no diacritics), as `fold` produces.

use crate::locale::Locale;

/// What a short message can ask for regardless of where the conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Menu,
    Help,
    Human,
    Cart,
    ClearCart,
    Checkout,
    Orders,
    Cancel,
    Back,
    Browse,
    Language,
    Greeting,
    Thanks,
    Yes,
    No,
}

/// Phrases per keyword. A message matches when it contains the phrase as whole words.
pub const PHRASES: &[(Keyword, &[&str])] = &[
    (
        Keyword::Human,
        &[
            "human",
            "person",
            "agent",
            "operator",
            "someone real",
            "real person",
            "staff",
            "representative",
            "om",
            "persoana",
            "uman",
            "cineva",
            "czlowiek",
            "konsultant",
            "konsultanta",
            "osoba",
            "cilveks",
            "operators",
            "konsultants",
            "נציג",
            "אדם",
            "בן אדם",
            "נציגה",
        ],
    ),
    (
        Keyword::ClearCart,
        &[
            "clear cart",
            "empty cart",
            "empty my cart",
            "clear my cart",
            "goleste cosul",
            "goleste cos",
            "oproznij koszyk",
            "wyczysc koszyk",
            "iztuksot grozu",
            "notirit grozu",
            "רוקן עגלה",
            "רוקן את העגלה",
        ],
    ),
    (
        Keyword::Cart,
        &[
            "cart",
            "basket",
            "my bag",
            "cos",
            "cosul",
            "cosul meu",
            "koszyk",
            "koszyka",
            "grozs",
            "grozu",
            "עגלה",
            "העגלה",
            "סל",
        ],
    ),
    (
        Keyword::Orders,
        &[
            "my order",
            "my orders",
            "where is my order",
            "order status",
            "track my order",
            "track order",
            "tracking",
            "comanda mea",
            "comenzile mele",
            "unde e comanda",
            "unde este comanda",
            "status comanda",
            "starea comenzii",
            "moje zamowienie",
            "moje zamowienia",
            "gdzie jest moje zamowienie",
            "gdzie moje zamowienie",
            "status zamowienia",
            "mans pasutijums",
            "mani pasutijumi",
            "kur ir mans pasutijums",
            "pasutijuma statuss",
            "ההזמנה שלי",
            "ההזמנות שלי",
            "איפה ההזמנה",
            "איפה ההזמנה שלי",
            "סטטוס הזמנה",
        ],
    ),
    (
        Keyword::Checkout,
        &[
            "checkout",
            "check out",
            "pay",
            "buy now",
            "place order",
            "finalizeaza",
            "finalizare",
            "plata",
            "plateste",
            "comanda",
            "zaplac",
            "zamawiam",
            "do kasy",
            "kasa",
            "apmaksat",
            "noformet",
            "pasutit",
            "תשלום",
            "לתשלום",
            "קופה",
            "להזמין",
        ],
    ),
    (
        Keyword::Cancel,
        &[
            "cancel",
            "never mind",
            "nevermind",
            "anuleaza",
            "anulez",
            "renunt",
            "anuluj",
            "rezygnuje",
            "atcelt",
            "ביטול",
            "בטל",
        ],
    ),
    (
        Keyword::Back,
        &[
            "back",
            "go back",
            "inapoi",
            "wstecz",
            "powrot",
            "cofnij",
            "atpakal",
            "חזור",
            "אחורה",
        ],
    ),
    (
        Keyword::Menu,
        &[
            "menu",
            "main menu",
            "start",
            "home",
            "meniu",
            "acasa",
            "izvelne",
            "sakums",
            "תפריט",
        ],
    ),
    (
        Keyword::Help,
        &["help", "ajutor", "pomoc", "palidziba", "palidzi", "עזרה"],
    ),
    (
        Keyword::Browse,
        &[
            "products",
            "catalog",
            "catalogue",
            "shop",
            "browse",
            "categories",
            "produse",
            "categorii",
            "produsele",
            "produkty",
            "katalog",
            "kategorie",
            "sklep",
            "produkti",
            "katalogs",
            "kategorijas",
            "veikals",
            "מוצרים",
            "קטלוג",
            "קטגוריות",
            "חנות",
        ],
    ),
    (
        Keyword::Language,
        &["language", "limba", "jezyk", "valoda", "שפה"],
    ),
    (
        Keyword::Greeting,
        &[
            "hi",
            "hello",
            "hey",
            "good morning",
            "good evening",
            "salut",
            "buna",
            "buna ziua",
            "servus",
            "hei",
            "czesc",
            "dzien dobry",
            "hej",
            "witam",
            "sveiki",
            "labdien",
            "cau",
            "שלום",
            "היי",
        ],
    ),
    (
        Keyword::Thanks,
        &[
            "thanks",
            "thank you",
            "thx",
            "multumesc",
            "mersi",
            "dziekuje",
            "dzieki",
            "paldies",
            "תודה",
        ],
    ),
    (
        Keyword::Yes,
        &[
            "yes",
            "yep",
            "yeah",
            "ok",
            "okay",
            "sure",
            "confirm",
            "da",
            "sigur",
            "confirm",
            "confirmam",
            "tak",
            "potwierdzam",
            "ja",
            "apstiprinu",
            "כן",
            "מאשר",
            "מאשרת",
        ],
    ),
    (Keyword::No, &["no", "nope", "nu", "nie", "ne", "לא"]),
];

/// How each language names itself and is commonly named, for "romana" or "in english please".
pub const LANGUAGE_NAMES: &[(Locale, &[&str])] = &[
    (
        Locale::En,
        &["english", "engleza", "angielski", "anglu", "אנגלית"],
    ),
    (
        Locale::Ro,
        &["romana", "romanian", "rumunski", "rumanu", "רומנית"],
    ),
    (
        Locale::Pl,
        &["polski", "polish", "poloneza", "polu", "פולנית"],
    ),
    (
        Locale::Lv,
        &["latviesu", "latvian", "letona", "lotewski", "לטבית"],
    ),
    (
        Locale::He,
        &["עברית", "hebrew", "ebraica", "hebrajski", "ivrits"],
    ),
];

/// Words too common to say anything about which product is meant.
pub const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "want", "like", "have", "some", "please", "show", "any", "you",
    "your", "need", "looking", "buy", "get", "can", "do", "pentru", "vreau", "doresc", "niste",
    "imi", "arata", "aveti", "caut", "chce", "dla", "prosze", "pokaz", "macie", "szukam", "gribu",
    "man", "ludzu", "paradi", "vai", "jums", "ir", "אני", "רוצה", "יש", "לכם", "את", "של",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understanding::normalize::fold;

    #[test]
    fn every_entry_is_written_folded() {
        let all_phrases = PHRASES.iter().flat_map(|(_, phrases)| phrases.iter());
        let all_names = LANGUAGE_NAMES.iter().flat_map(|(_, names)| names.iter());
        for entry in all_phrases.chain(all_names).chain(STOPWORDS.iter()) {
            assert_eq!(&fold(entry), entry, "lexicon entry {entry:?} is not folded");
        }
    }
}

//! Rule-based understanding of free text: keywords, numbers, language names, product and
//! category names in every shipped language. An LLM can later produce the same `Intent`
//! (through `Event::NluResult`); the conversation logic does not care which one did.

pub mod absent;
pub mod lexicon;
pub use crate::words as normalize;
mod phrase_book;
pub mod when;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CategoryId, ProductId};
use crate::locale::Locale;
use lexicon::{Keyword, LANGUAGE_NAMES, LANGUAGE_REQUEST_WORDS, PHRASES, STOPWORDS};
use normalize::{fold, tokens};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Menu,
    Help,
    Human,
    Cart,
    ClearCart,
    Checkout,
    /// "Where is my order?"
    Orders,
    Cancel,
    Back,
    Browse,
    Language,
    SetLanguage(Locale),
    Greeting,
    Thanks,
    Yes,
    No,
    Number(u32),
    /// Best matches first.
    Products(Vec<ProductId>),
    /// A product search: the flow runs it against the catalog and answers with results, the
    /// closest results, or categories when nothing comes close.
    Search(crate::search::SearchQuery),
    Category(CategoryId),
    /// "Link my account": a code to send from another channel.
    Link,
    /// "Stop": no more cart reminders.
    StopReminders,
    /// A link code from another channel, as written (normalized).
    LinkCode(String),
    /// "Link my account +40 712 345 678": the customer names the number of their other chat;
    /// a code goes there, to prove it is theirs.
    LinkPhone(String),
    /// A discount code a reminder gave, as written (normalized).
    DiscountCode(String),
    /// "I'd like an appointment".
    Book,
    /// "My appointments".
    Bookings,
    /// "Delete my data".
    EraseData,
    /// An ask for something the catalog does not know: "we don't carry it".
    NotCarried(absent::Absent),
    /// Put a product in the cart: a variant and a quantity when said (a language model's
    /// reading; the rules go through the buttons).
    Add {
        product: ProductId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sku: Option<crate::catalog::Sku>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantity: Option<u32>,
    },
    /// An appointment for a service at a time, in the customer's words ("tomorrow at 10").
    BookAt {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<crate::booking::ServiceId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        when: Option<String>,
    },
    /// A question about the shop, answered from its knowledge or by a colleague.
    AskShop {
        question: String,
    },
    Unknown,
}

/// A message waiting for the language model's reading; the rules answer it if the model
/// fails or does not answer in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingNlu {
    /// This conversation's request number: its reading carries it back.
    pub request: u32,
    pub text: String,
    /// The catalog item the message was about (a WhatsApp `referred_product`), for the
    /// rules' answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred: Option<String>,
}

/// Messages longer than this are sentences, not commands: "cart" inside a long sentence does
/// not mean "show my cart".
const COMMAND_MAX_WORDS: usize = 4;
const SMALL_TALK_MAX_WORDS: usize = 3;
/// "Hi, could you please delete all my data from your shop, thank you" fits.
const ERASE_MAX_WORDS: usize = 14;
/// "Could you please write to me in Romanian" is as long as a language request gets.
const LANGUAGE_REQUEST_MAX_WORDS: usize = 8;

use phrase_book::keyword_in;

fn keyword_intent(keyword: Keyword) -> Intent {
    match keyword {
        Keyword::Menu => Intent::Menu,
        Keyword::Help => Intent::Help,
        Keyword::Human => Intent::Human,
        Keyword::Cart => Intent::Cart,
        Keyword::ClearCart => Intent::ClearCart,
        Keyword::Checkout => Intent::Checkout,
        Keyword::Orders => Intent::Orders,
        Keyword::Cancel => Intent::Cancel,
        Keyword::Back => Intent::Back,
        Keyword::Browse => Intent::Browse,
        Keyword::Language => Intent::Language,
        Keyword::Greeting => Intent::Greeting,
        Keyword::Thanks => Intent::Thanks,
        Keyword::Yes => Intent::Yes,
        Keyword::No => Intent::No,
        Keyword::Link => Intent::Link,
        Keyword::StopReminders => Intent::StopReminders,
        Keyword::Book => Intent::Book,
        Keyword::Bookings => Intent::Bookings,
        Keyword::EraseData => Intent::EraseData,
    }
}

fn first_keyword(words: &[&str], candidates: &[Keyword]) -> Option<Intent> {
    candidates
        .iter()
        .find(|keyword| keyword_in(words, **keyword))
        .map(|keyword| keyword_intent(*keyword))
}

/// A lexicon word (a command, small talk, a stopword): never taken for a misspelt product.
fn is_lexicon_word(word: &str) -> bool {
    STOPWORDS.contains(&word) || phrase_book::is_phrase_word(word)
}

/// The message as a product search, when it is one: it names a category, a filter
/// (colour, size, price), or words the catalog knows.
fn search(text: &str, catalog: &Catalog) -> Option<Intent> {
    let index = catalog.search_index();
    let mut query = crate::search::parse(text, catalog.currency());
    query.category = index.category_named(&query.words);
    let only_category = query.category.is_some()
        && query.colours.is_empty()
        && query.sizes.is_empty()
        && query.price.is_empty()
        && query
            .words
            .iter()
            .all(|word| index.category_named(std::slice::from_ref(word)).is_some());
    if only_category {
        return query.category.map(Intent::Category);
    }
    match absent::weigh(text, &query, catalog, &is_lexicon_word) {
        absent::Weighed::NotCarried(ask) => return Some(Intent::NotCarried(ask)),
        // Words only descriptions mention are no product search ("hi there, anyone?"): left
        // to the commands, then to `not_carried`.
        absent::Weighed::NamesNothing => return None,
        absent::Weighed::NamesSomething => {}
    }
    let known = query
        .words
        .iter()
        .any(|word| index.knows_exactly(word) || (!is_lexicon_word(word) && index.knows(word)));
    (known || query.has_filters()).then_some(Intent::Search(query))
}

/// A request for a language ("po polsku", "in romana va rog", "בעברית בבקשה"): a language's
/// name and nothing but the words such requests are made of.
fn language_request(words: &[&str]) -> Option<Locale> {
    if words.len() > LANGUAGE_REQUEST_MAX_WORDS {
        return None;
    }
    LANGUAGE_NAMES.iter().find_map(|(locale, names)| {
        names.iter().find_map(|name| {
            // Compared word by word in place: a collected copy per name per message was a
            // measurable part of reading one.
            let length = name.split(' ').count();
            let at = words
                .windows(length)
                .position(|window| window.iter().copied().eq(name.split(' ')))?;
            let rest = words[..at].iter().chain(&words[at + length..]);
            rest.into_iter()
                .all(|word| LANGUAGE_REQUEST_WORDS.contains(word))
                .then_some(*locale)
        })
    })
}

/// Link codes look like `LK-7QX4MF`: the prefix keeps them apart from anything else a
/// customer writes; the letters leave out the look-alikes 0/O and 1/I.
pub const LINK_CODE_PREFIX: &str = "LK";
pub const LINK_CODE_ALPHABET: &str = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const LINK_CODE_LENGTH: usize = 6;

pub use crate::vocabulary::compact_code;

/// The code in a message that is only a link code (spaces, dashes and case forgiven).
pub fn link_code(text: &str) -> Option<String> {
    let compact = compact_code(text);
    let body = compact.strip_prefix(LINK_CODE_PREFIX)?;
    (body.chars().count() == LINK_CODE_LENGTH
        && body.chars().all(|c| LINK_CODE_ALPHABET.contains(c)))
    .then(|| format!("{LINK_CODE_PREFIX}-{body}"))
}

/// Verbs that, said alone, ask to book an appointment; alone because "book" is also what a
/// bookshop sells, so they count only where the shop takes appointments.
const BOOK_VERBS: &[&str] = &["book", "rezerwuj", "zarezerwuj", "לקבוע"];

/// Whether the message is only a verb asking to book.
pub fn only_book_verb(text: &str) -> bool {
    let folded = fold(text);
    BOOK_VERBS.iter().any(|verb| folded == *verb)
}

/// Understands one message. Total: anything it cannot place is `Intent::Unknown`.
pub fn understand(text: &str, catalog: &Catalog) -> Intent {
    if let Some(code) = link_code(text) {
        return Intent::LinkCode(code);
    }
    if let Some(code) = crate::discount::code_in(text) {
        return Intent::DiscountCode(code);
    }
    let folded = fold(text);
    let words = tokens(&folded);
    if words.is_empty() {
        return Intent::Unknown;
    }
    if let [single] = words.as_slice()
        && let Ok(number) = single.parse::<u32>()
    {
        return Intent::Number(number);
    }
    if let Some(locale) = language_request(&words) {
        return Intent::SetLanguage(locale);
    }
    // Asking for a person is honoured in any sentence: missing it is worse than a false alarm.
    if keyword_in(&words, Keyword::Human) {
        return Intent::Human;
    }
    // A request to erase is honoured in a sentence too ("please delete my data, thanks").
    if words.len() <= ERASE_MAX_WORDS && keyword_in(&words, Keyword::EraseData) {
        return Intent::EraseData;
    }
    if words.len() <= SMALL_TALK_MAX_WORDS && keyword_in(&words, Keyword::StopReminders) {
        return Intent::StopReminders;
    }
    // Digits apart, a short "link" request; with a phone number in it, linking by number.
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let wordy: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    if wordy.len() <= COMMAND_MAX_WORDS && keyword_in(&wordy, Keyword::Link) {
        if (8..=15).contains(&digits.len()) {
            return Intent::LinkPhone(digits);
        }
        if digits.is_empty() {
            return Intent::Link;
        }
    }
    // "My appointments" before "an appointment": the first contains the second's words.
    if let Some(intent) = first_keyword(&words, &[Keyword::Bookings, Keyword::Book]) {
        return intent;
    }
    // "Where is my order?" is a sentence more often than a command, and its phrases name
    // nothing a product search could want.
    if keyword_in(&words, Keyword::Orders) {
        return Intent::Orders;
    }
    let short = words.len() <= COMMAND_MAX_WORDS;
    if short
        && let Some(intent) = first_keyword(
            &words,
            &[Keyword::ClearCart, Keyword::Cancel, Keyword::Back],
        )
    {
        return intent;
    }
    if let Some(intent) = search(text, catalog) {
        return intent;
    }
    if short
        && let Some(intent) = first_keyword(
            &words,
            &[
                Keyword::Cart,
                Keyword::Checkout,
                Keyword::Menu,
                Keyword::Help,
                Keyword::Browse,
                Keyword::Language,
            ],
        )
    {
        return intent;
    }
    if words.len() <= SMALL_TALK_MAX_WORDS
        && let Some(intent) = first_keyword(
            &words,
            &[
                Keyword::Yes,
                Keyword::No,
                Keyword::Thanks,
                Keyword::Greeting,
            ],
        )
    {
        return intent;
    }
    Intent::Unknown
}

/// True for a word of a greeting, thanks, yes or no in any shipped language: it asks
/// nothing ("bună ziua, aveți…" asks about what follows).
pub fn is_small_talk_word(word: &str) -> bool {
    phrase_book::is_small_talk_word(word)
}

/// For a message `understand` could not place: a short ask for something the shop does not
/// carry ("sofa", "rowery"), when its words read like words.
pub fn not_carried(text: &str, catalog: &Catalog) -> Option<absent::Absent> {
    absent::fallback(text, catalog, &is_lexicon_word)
}

/// The escape words that work even where free text is expected (a name, a contact), only
/// when they are the whole message.
pub fn exact_command(text: &str) -> Option<Intent> {
    let folded = fold(text);
    [
        Keyword::Menu,
        Keyword::Cancel,
        Keyword::Back,
        Keyword::Human,
        Keyword::Help,
    ]
    .into_iter()
    .find(|keyword| {
        PHRASES
            .iter()
            .filter(|(k, _)| k == keyword)
            .flat_map(|(_, phrases)| phrases.iter())
            .any(|phrase| *phrase == folded)
    })
    .map(keyword_intent)
}

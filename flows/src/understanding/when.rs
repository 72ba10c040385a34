//! "Tomorrow afternoon", "Friday at 10", "mâine la 14": a day, a part of the day and a time
//! of day in the customer's words, in every shipped language. The booking flow resolves it
//! against the shop's calendar.

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use super::normalize::{contains_phrase, fold, tokens};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayWord {
    Today,
    Tomorrow,
    DayAfterTomorrow,
    /// The next such weekday (today if it is one).
    Weekday(u8),
}

impl DayWord {
    pub fn weekday(self) -> Option<Weekday> {
        match self {
            DayWord::Weekday(n) => Weekday::try_from(n).ok(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
}

impl DayPart {
    /// Hours of the day (from, to) the part covers.
    pub fn hours(self) -> (u32, u32) {
        match self {
            DayPart::Morning => (5, 12),
            DayPart::Afternoon => (12, 17),
            DayPart::Evening => (17, 24),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct When {
    pub day: Option<DayWord>,
    pub part: Option<DayPart>,
    /// Hour and minute, 24-hour clock.
    pub time: Option<(u32, u32)>,
}

// Longer phrases first where one contains another ("day after tomorrow" before
// "tomorrow"; Latvian "no rīta", in the morning, before "rīt", tomorrow).
const PARTS: &[(DayPart, &[&str])] = &[
    (
        DayPart::Morning,
        &[
            "no rita",
            "rita",
            "morning",
            "dimineata",
            "rano",
            "rankiem",
            "בבוקר",
            "בוקר",
        ],
    ),
    (
        DayPart::Afternoon,
        &[
            "dupa amiaza",
            "dupa masa",
            "dupamiaza",
            "po poludniu",
            "popoludniu",
            "pecpusdiena",
            "pecpusdien",
            "afternoon",
            "אחר הצהריים",
            "אחה צ",
            "צהריים",
        ],
    ),
    (
        DayPart::Evening,
        &[
            "evening",
            "tonight",
            "seara",
            "wieczorem",
            "wieczor",
            "vakara",
            "vakars",
            "בערב",
            "ערב",
        ],
    ),
];

const DAYS: &[(DayWord, &[&str])] = &[
    (
        DayWord::DayAfterTomorrow,
        &[
            "day after tomorrow",
            "poimaine",
            "pojutrze",
            "parit",
            "מחרתיים",
        ],
    ),
    (
        DayWord::Today,
        &[
            "today", "azi", "astazi", "dzis", "dzisiaj", "sodien", "היום",
        ],
    ),
    (
        DayWord::Tomorrow,
        &["tomorrow", "maine", "jutro", "rit", "מחר"],
    ),
    (
        DayWord::Weekday(0),
        &[
            "monday",
            "mon",
            "luni",
            "poniedzialek",
            "pirmdien",
            "pirmdiena",
            "שני",
        ],
    ),
    (
        DayWord::Weekday(1),
        &[
            "tuesday",
            "tue",
            "marti",
            "wtorek",
            "otrdien",
            "otrdiena",
            "שלישי",
        ],
    ),
    (
        DayWord::Weekday(2),
        &[
            "wednesday",
            "wed",
            "miercuri",
            "sroda",
            "srode",
            "tresdien",
            "tresdiena",
            "רביעי",
        ],
    ),
    (
        DayWord::Weekday(3),
        &[
            "thursday",
            "thu",
            "joi",
            "czwartek",
            "ceturtdien",
            "ceturtdiena",
            "חמישי",
        ],
    ),
    (
        DayWord::Weekday(4),
        &[
            "friday",
            "fri",
            "vineri",
            "piatek",
            "piektdien",
            "piektdiena",
            "שישי",
        ],
    ),
    (
        DayWord::Weekday(5),
        &[
            "saturday",
            "sat",
            "sambata",
            "sobota",
            "sobote",
            "sestdien",
            "sestdiena",
            "שבת",
        ],
    ),
    (
        DayWord::Weekday(6),
        &[
            "sunday",
            "sun",
            "duminica",
            "niedziela",
            "niedziele",
            "svetdien",
            "svetdiena",
            "ראשון",
        ],
    ),
];

/// Words that say "at" before a time.
const AT: &[&str] = &[
    "at", "around", "la", "ora", "o", "godz", "godzina", "godzinie", "plkst", "ap", "ב", "בשעה",
];

fn find<T: Copy + 'static>(
    words: &[&str],
    table: &'static [(T, &'static [&'static str])],
) -> Option<(T, &'static str)> {
    table.iter().find_map(|(value, phrases)| {
        phrases
            .iter()
            .find(|phrase| contains_phrase(words, phrase))
            .map(|phrase| (*value, *phrase))
    })
}

fn hour_minute(hour: &str, minute: Option<&str>) -> Option<(u32, u32)> {
    let hour: u32 = hour.parse().ok().filter(|h| *h <= 24)?;
    let minute: u32 = match minute {
        Some(m) if m.len() == 2 => m.parse().ok().filter(|m| *m < 60)?,
        Some(_) => return None,
        None => 0,
    };
    Some((hour % 24, minute))
}

/// The time of day in the words: "at 10", "10am", "3 pm", "14:30", "la 14", "o 10",
/// "plkst. 10", "בשעה 10". A bare number is not a time (it picks a numbered choice).
fn time_of_day(words: &[&str], has_day: bool) -> Option<(u32, u32)> {
    for (index, word) in words.iter().enumerate() {
        let next = words.get(index + 1).copied();
        let after = words.get(index + 2).copied();
        // "10am", "3pm", "14h", "14h30"
        for suffix in ["am", "pm", "h"] {
            if let Some(number) = word.strip_suffix(suffix)
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
                && let Some((h, m)) = hour_minute(number, None)
            {
                return Some(if suffix == "pm" && h < 12 {
                    (h + 12, m)
                } else if suffix == "am" && h == 12 {
                    (0, m)
                } else {
                    (h, m)
                });
            }
        }
        if !word.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let minute = next.filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()));
        let Some((h, m)) = hour_minute(word, minute) else {
            continue;
        };
        let following = if minute.is_some() { after } else { next };
        match following {
            Some("pm") if h < 12 => return Some((h + 12, m)),
            Some("am") => return Some((if h == 12 { 0 } else { h }, m)),
            _ => {}
        }
        let marked = index > 0 && AT.contains(&words[index - 1]);
        if marked || minute.is_some() || has_day {
            return Some((h, m));
        }
    }
    None
}

/// A day, part of day or time of day, if the message names any.
pub fn parse_when(text: &str) -> Option<When> {
    let folded = fold(text);
    let mut words: Vec<&str> = tokens(&folded);
    let part = find(&words, PARTS).map(|(part, phrase)| {
        // Taken out so the Latvian "rīta" (morning) is not also read as "rīt" (tomorrow).
        let phrase_words = tokens(phrase);
        if let Some(start) = words
            .windows(phrase_words.len())
            .position(|window| window == phrase_words.as_slice())
        {
            words.drain(start..start + phrase_words.len());
        }
        part
    });
    let day = find(&words, DAYS).map(|(day, _)| day);
    let mut time = time_of_day(&words, day.is_some() || part.is_some());
    // "at 2" in the afternoon or evening means 14:00; shops are rarely open at 2 a.m.
    if let Some((h, m)) = time
        && h < 12
        && (matches!(part, Some(DayPart::Afternoon | DayPart::Evening))
            || (part.is_none() && (1..=7).contains(&h)))
    {
        time = Some((h + 12, m));
    }
    (day.is_some() || part.is_some() || time.is_some()).then_some(When { day, part, time })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(day: Option<DayWord>, part: Option<DayPart>, time: Option<(u32, u32)>) -> When {
        When { day, part, time }
    }

    #[test]
    fn understands_days_parts_and_times_in_every_language() {
        use DayPart::*;
        use DayWord::*;
        let cases: &[(&str, When)] = &[
            (
                "tomorrow afternoon",
                when(Some(Tomorrow), Some(Afternoon), None),
            ),
            ("Friday at 10", when(Some(Weekday(4)), None, Some((10, 0)))),
            ("mâine la 14", when(Some(Tomorrow), None, Some((14, 0)))),
            (
                "vineri dimineață",
                when(Some(Weekday(4)), Some(Morning), None),
            ),
            (
                "poimâine la 10:30",
                when(Some(DayAfterTomorrow), None, Some((10, 30))),
            ),
            (
                "jutro po południu",
                when(Some(Tomorrow), Some(Afternoon), None),
            ),
            ("w piątek o 10", when(Some(Weekday(4)), None, Some((10, 0)))),
            ("rīt no rīta", when(Some(Tomorrow), Some(Morning), None)),
            (
                "piektdien plkst. 15",
                when(Some(Weekday(4)), None, Some((15, 0))),
            ),
            (
                "מחר אחר הצהריים",
                when(Some(Tomorrow), Some(Afternoon), None),
            ),
            (
                "ביום שישי בשעה 10",
                when(Some(Weekday(4)), None, Some((10, 0))),
            ),
            ("today 3pm", when(Some(Today), None, Some((15, 0)))),
            (
                "at 2 in the afternoon",
                when(None, Some(Afternoon), Some((14, 0))),
            ),
            ("at 4", when(None, None, Some((16, 0)))),
            ("14:30", when(None, None, Some((14, 30)))),
            (
                "day after tomorrow",
                when(Some(DayAfterTomorrow), None, None),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_when(text), Some(*expected), "{text}");
        }
    }

    #[test]
    fn numbers_alone_and_other_sentences_are_not_times() {
        for text in ["3", "2 mugs", "hello", "cart", "I want the blue one"] {
            assert_eq!(parse_when(text), None, "{text}");
        }
    }
}

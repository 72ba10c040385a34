//! What the shop says about itself (delivery, returns, sizes, opening hours), written by the
//! shop as Markdown files, and the passage that answers a customer's question.
//!
//! A file `delivery.en.md` is the topic "delivery" in English (`delivery.md`: any language).
//! Its `# Title` names the source shown under an answer; each `## Section` is one passage
//! (a file without sections is one). Passages are ranked like products: BM25 over folded,
//! stemmed words, the section heading counting double.

use std::collections::HashMap;

use crate::locale::Locale;
use crate::words::{FUNCTION_WORDS, STOPWORDS, fold, tokens};

const K1: f32 = 1.2;
const B: f32 = 0.75;
const HEADING_WEIGHT: f32 = 2.0;
/// A passage longer than this is cut (at a word): a chat message is no manual.
pub const MAX_PASSAGE_CHARS: usize = 1_200;
/// At most this many passages are read in all, so a stray folder cannot fill memory.
const MAX_PASSAGES: usize = 2_000;
/// The share of a question's words a passage must have to answer it: half ("how long does
/// delivery to Cluj take" is answered by a passage on delivery times that does not name
/// Cluj; "do you like jazz" is not answered by one that mentions nothing else of it).
const MIN_COVERAGE: f32 = 0.5;
/// How much a word naming a product counts, against 1 for the others.
const PRODUCT_WORD_WEIGHT: f32 = 0.3;
/// A question's first words are weighed, no more: the work per message stays bounded.
const MAX_QUESTION_WORDS: usize = 24;

/// Words that ask, in every shipped language: a message with one is a question even
/// without a question mark.
const QUESTION_WORDS: &[&str] = &[
    "how", "when", "where", "what", "which", "why", "who", "can", "could", "do", "does", "is",
    "are", "will", "cum", "cand", "unde", "ce", "care", "cat", "cate", "se", "poate", "pot", "jak",
    "kiedy", "gdzie", "co", "czy", "ile", "jaki", "jakie", "dlaczego", "moge", "mozna", "ka",
    "kad", "kur", "kas", "cik", "vai", "kapec", "varu", "var", "varat",
    // Forms of "to be" and "to have" that carry a question but no topic.
    "sa", "jest", "sunt", "este", "e", "ma", "maja", "mam", "mamy", "ir", "bus", "has", "have",
    "איך", "מתי", "איפה", "מה", "האם", "כמה", "למה", "אפשר",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// The file's title, shown as the answer's source.
    pub source: String,
    /// The section's heading, if the file has sections.
    pub heading: Option<String>,
    pub locale: Option<Locale>,
    pub text: String,
}

/// A passage that answers a question, and which of the question's (folded) words it has.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub passage: usize,
    pub score: f32,
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    passages: Vec<Passage>,
    /// Stem → (passage, weighted term frequency).
    postings: HashMap<String, Vec<(usize, f32)>>,
    lengths: Vec<f32>,
    average_length: f32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnowledgeError {
    #[error("{file}: the file name must be <topic>.md or <topic>.<language>.md")]
    BadName { file: String },
    #[error("{file}: {language:?} is not a shipped language")]
    UnknownLanguage { file: String, language: String },
}

/// The words of a text that can be looked up: folded, no function or ask words.
fn words(text: &str) -> Vec<String> {
    let folded = fold(text);
    tokens(&folded)
        .into_iter()
        .filter(|w| {
            w.chars().count() >= 2
                && !FUNCTION_WORDS.contains(w)
                && !STOPWORDS.contains(w)
                && !QUESTION_WORDS.contains(w)
                && !crate::understanding::is_small_talk_word(w)
        })
        .map(str::to_owned)
        .collect()
}

fn stems_of(word: &str, locale: Option<Locale>) -> Vec<String> {
    match locale {
        Some(locale) => vec![crate::search::stem(locale, word)],
        None => Locale::ALL
            .iter()
            .map(|l| crate::search::stem(*l, word))
            .collect(),
    }
}

/// Cuts at the last space before `limit` characters, with an ellipsis.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let head = crate::words::head(text, limit);
    let at = head.rfind(char::is_whitespace).unwrap_or(head.len());
    format!("{}…", head[..at].trim_end())
}

/// Whether a message asks something: a question mark, or a question word among its first
/// two words ("how long…", "czy mogę…", "מתי…").
pub fn is_question(text: &str) -> bool {
    if text.contains('?') {
        return true;
    }
    let folded = fold(text);
    tokens(&folded)
        .into_iter()
        .take(2)
        .any(|w| QUESTION_WORDS.contains(&w))
}

impl Knowledge {
    /// Reads the shop's files: (file name, contents) pairs.
    pub fn from_files(files: &[(String, String)]) -> Result<Knowledge, KnowledgeError> {
        let mut passages = Vec::new();
        for (file, contents) in files {
            let stem = file
                .strip_suffix(".md")
                .ok_or_else(|| KnowledgeError::BadName { file: file.clone() })?;
            let locale =
                match stem.rsplit_once('.') {
                    Some((_, code)) => Some(Locale::from_tag(code).ok_or_else(|| {
                        KnowledgeError::UnknownLanguage {
                            file: file.clone(),
                            language: code.to_owned(),
                        }
                    })?),
                    None => None,
                };
            let topic = stem.split('.').next().unwrap_or(stem);
            passages.extend(parse(topic, locale, contents));
            if passages.len() >= MAX_PASSAGES {
                passages.truncate(MAX_PASSAGES);
                break;
            }
        }
        Ok(Knowledge::index(passages))
    }

    fn index(passages: Vec<Passage>) -> Knowledge {
        let mut knowledge = Knowledge::default();
        for (id, passage) in passages.iter().enumerate() {
            let mut counts: HashMap<String, f32> = HashMap::new();
            let mut length = 0.0;
            let heading = passage.heading.as_deref().unwrap_or(&passage.source);
            for (text, weight) in [(heading, HEADING_WEIGHT), (passage.text.as_str(), 1.0)] {
                for word in words(text) {
                    for stem in stems_of(&word, passage.locale) {
                        *counts.entry(stem).or_default() += weight;
                    }
                    length += weight;
                }
            }
            for (stem, tf) in counts {
                knowledge.postings.entry(stem).or_default().push((id, tf));
            }
            knowledge.lengths.push(length);
        }
        let total: f32 = knowledge.lengths.iter().sum();
        knowledge.average_length = if passages.is_empty() {
            1.0
        } else {
            total / passages.len() as f32
        };
        knowledge.passages = passages;
        knowledge
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    pub fn passage(&self, id: usize) -> Option<&Passage> {
        self.passages.get(id)
    }

    /// The passage that best answers `question`, preferring those in `locale` (or in no
    /// language): `None` when nothing scores as an answer.
    pub fn answer(&self, question: &str, locale: Locale) -> Option<(usize, f32)> {
        self.answer_with_words(question, locale, &|_| false)
            .map(|answer| (answer.passage, answer.score))
    }

    /// Like `answer`, with the question's words the passage has. Words that name products
    /// (`names_product`) weigh little and are not counted for coverage: "can I return a
    /// sweater?" asks about returns, whichever passage mentions sweaters.
    pub fn answer_with_words(
        &self,
        question: &str,
        locale: Locale,
        names_product: &dyn Fn(&str) -> bool,
    ) -> Option<Answer> {
        let n = self.passages.len() as f32;
        let mut scores: HashMap<usize, (f32, Vec<String>)> = HashMap::new();
        let asked = words(question);
        let asked = &asked[..asked.len().min(MAX_QUESTION_WORDS)];
        let mut counted = 0usize;
        for word in asked {
            let product = names_product(word);
            counted += usize::from(!product);
            let weight = if product { PRODUCT_WORD_WEIGHT } else { 1.0 };
            // A word counts once per passage, by its best-matching stem.
            let mut best: HashMap<usize, f32> = HashMap::new();
            let mut stems = crate::search::all_stems(word);
            stems.dedup();
            for stem in stems {
                let Some(list) = self.postings.get(&stem) else {
                    continue;
                };
                let idf = ((n - list.len() as f32 + 0.5) / (list.len() as f32 + 0.5) + 1.0).ln();
                for &(id, tf) in list {
                    let length = self.lengths.get(id).copied().unwrap_or(1.0);
                    let norm = K1 * (1.0 - B + B * length / self.average_length);
                    let score = weight * idf * tf * (K1 + 1.0) / (tf + norm);
                    let slot = best.entry(id).or_default();
                    *slot = slot.max(score);
                }
            }
            for (id, score) in best {
                let slot = scores.entry(id).or_default();
                slot.0 += score;
                if !product {
                    slot.1.push(word.clone());
                }
            }
        }
        let needed = (counted as f32 * MIN_COVERAGE).ceil().max(1.0) as usize;
        let fits = |id: &usize| {
            self.passages
                .get(*id)
                .is_some_and(|p| p.locale.is_none_or(|l| l == locale))
        };
        let pick = |only_fitting: bool| {
            scores
                .iter()
                .filter(|(id, (_, matched))| (!only_fitting || fits(id)) && matched.len() >= needed)
                .max_by(|a, b| (a.1).0.total_cmp(&(b.1).0).then(b.0.cmp(a.0)))
                .map(|(id, (score, matched))| Answer {
                    passage: *id,
                    score: *score,
                    matched: matched.clone(),
                })
        };
        pick(true).or_else(|| pick(false))
    }
}

/// One file's passages: its sections, or the whole body.
fn parse(topic: &str, locale: Option<Locale>, contents: &str) -> Vec<Passage> {
    let mut title = None;
    let mut sections: Vec<(Option<String>, String)> = vec![(None, String::new())];
    for line in contents.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            sections.push((Some(heading.trim().to_owned()), String::new()));
        } else if let Some(heading) = trimmed.strip_prefix("# ")
            && title.is_none()
        {
            title = Some(heading.trim().to_owned());
        } else if let Some((_, body)) = sections.last_mut() {
            if !body.is_empty() || !trimmed.is_empty() {
                body.push_str(trimmed);
                body.push('\n');
            }
        }
    }
    let source = title.unwrap_or_else(|| topic.to_owned());
    sections
        .into_iter()
        .filter_map(|(heading, body)| {
            // Paragraphs joined; blank lines between them kept as one.
            let text = body
                .split("\n\n")
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            (!text.is_empty()).then(|| Passage {
                source: source.clone(),
                heading,
                locale,
                text: cut(&text, MAX_PASSAGE_CHARS),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Knowledge {
        Knowledge::from_files(&[
            (
                "delivery.en.md".into(),
                "# Delivery\n\n## Delivery times\nOrders ship within 2 working days; delivery \
                 takes 1-3 days in Romania.\n\n## Delivery cost\nFree over 200 RON, else 15 RON."
                    .into(),
            ),
            (
                "returns.en.md".into(),
                "# Returns\nYou can return anything within 30 days for a full refund.".into(),
            ),
            (
                "returns.ro.md".into(),
                "# Retururi\nPuteți returna orice produs în 30 de zile.".into(),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn the_best_passage_in_the_customers_language_answers() {
        let k = shop();
        let (id, _) = k
            .answer("how long does delivery take?", Locale::En)
            .unwrap();
        assert_eq!(
            k.passage(id).unwrap().heading.as_deref(),
            Some("Delivery times")
        );
        let (id, _) = k
            .answer("how much is delivery, is it free?", Locale::En)
            .unwrap();
        assert_eq!(
            k.passage(id).unwrap().heading.as_deref(),
            Some("Delivery cost")
        );
        let (id, _) = k.answer("pot returna un produs?", Locale::Ro).unwrap();
        assert_eq!(k.passage(id).unwrap().source, "Retururi");
        let (id, _) = k.answer("can I return it?", Locale::En).unwrap();
        assert_eq!(k.passage(id).unwrap().source, "Returns");
        assert_eq!(k.answer("do you like jazz?", Locale::En), None);
    }

    #[test]
    fn names_and_sizes_are_checked() {
        let bad = Knowledge::from_files(&[("notes.txt".into(), String::new())]);
        assert!(matches!(bad, Err(KnowledgeError::BadName { .. })));
        let bad = Knowledge::from_files(&[("a.xx.md".into(), String::new())]);
        assert!(matches!(bad, Err(KnowledgeError::UnknownLanguage { .. })));
        let long = format!("# Long\n{}", "word ".repeat(1_000));
        let k = Knowledge::from_files(&[("long.md".into(), long)]).unwrap();
        assert!(k.passage(0).unwrap().text.chars().count() <= MAX_PASSAGE_CHARS + 1);
    }

    #[test]
    fn questions_are_told() {
        assert!(is_question("how long does it take"));
        assert!(is_question("delivery?"));
        assert!(is_question("czy mogę zwrócić"));
        assert!(!is_question("red dress"));
    }
}

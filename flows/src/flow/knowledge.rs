//! Answering the customer's questions about the shop from what the shop wrote
//! (`crate::knowledge`): the best passage as written, with its source; "I don't know, let me
//! ask a colleague" for a question nothing answers.

use crate::action::{Action, HandoffReason, Reply};
use crate::context::Context;
use crate::conversation::{Conversation, Handled};
use crate::search::Standing;
use crate::text::{Text, TextKey};
use crate::time::Timestamp;
use crate::understanding::Intent;

/// A question of fewer words ("delivery?") that nothing answers is left to the usual "not
/// understood"; from this many on, it is a real question a person should answer.
const UNANSWERED_MIN_WORDS: usize = 3;

impl Conversation {
    /// The shop's answer to a question the rules read as `intent`, if its knowledge has
    /// one. A question about products ("what sizes do the boots come in?") stays the
    /// catalog's: a passage answers only when the question names no product it does not
    /// mention itself.
    pub(crate) fn answer_from_knowledge(
        &mut self,
        ctx: &Context,
        text: &str,
        intent: &Intent,
        out: &mut Vec<Action>,
    ) -> Option<Handled> {
        if !matches!(
            intent,
            Intent::Unknown | Intent::NotCarried(_) | Intent::Search(_)
        ) || !crate::knowledge::is_question(text)
        {
            return None;
        }
        let index = ctx.catalog.search_index();
        let locale = Some(self.locale);
        let names_product = |word: &str| index.standing(word, locale) == Standing::Named;
        let answer = self.best_passage(ctx, text)?;
        // A question that names products the passage does not mention is about them,
        // unless it asks with words the catalog does not have at all ("return", "deliver"):
        // those are about the shop.
        let about_the_shop = answer
            .matched
            .iter()
            .any(|word| index.standing(word, locale) == Standing::Unknown);
        if let Intent::Search(query) = intent
            && !about_the_shop
        {
            let passage_text = ctx
                .knowledge
                .passage(answer.passage)
                .map(|p| crate::words::fold(&p.text))
                .unwrap_or_default();
            let passage_stems: std::collections::HashSet<String> =
                crate::words::tokens(&passage_text)
                    .into_iter()
                    .flat_map(crate::search::all_stems)
                    .collect();
            let names_more = query.words.iter().any(|word| {
                names_product(word)
                    && !crate::search::all_stems(word)
                        .iter()
                        .any(|s| passage_stems.contains(s))
            });
            if names_more {
                return None;
            }
        }
        self.say_passage(ctx, &answer, out)
    }

    /// The shop's answer to a question the model read as one, if its knowledge has it.
    pub(crate) fn knowledge_answer(
        &mut self,
        ctx: &Context,
        question: &str,
        out: &mut Vec<Action>,
    ) -> Option<Handled> {
        let answer = self.best_passage(ctx, question)?;
        self.say_passage(ctx, &answer, out)
    }

    fn best_passage(&self, ctx: &Context, text: &str) -> Option<crate::knowledge::Answer> {
        let index = ctx.catalog.search_index();
        let locale = Some(self.locale);
        let names_product = |word: &str| index.standing(word, locale) == Standing::Named;
        ctx.knowledge
            .answer_with_words(text, self.locale, &names_product)
    }

    fn say_passage(
        &mut self,
        ctx: &Context,
        answer: &crate::knowledge::Answer,
        out: &mut Vec<Action>,
    ) -> Option<Handled> {
        let passage = ctx.knowledge.passage(answer.passage)?;
        let source = match &passage.heading {
            Some(heading) => format!("{}: {heading}", passage.source),
            None => passage.source.clone(),
        };
        let text = Text::new(TextKey::KnowledgeAnswer)
            .str("text", passage.text.clone())
            .str("source", source);
        self.say(out, Reply::text(text).choices(Self::menu_for(ctx)));
        Some(Handled::Yes)
    }

    /// A real question nothing answers: say so and ask a colleague.
    pub(crate) fn unanswered_question(
        &mut self,
        ctx: &Context,
        text: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Option<Handled> {
        let words = crate::words::tokens(&crate::words::fold(text)).len();
        let asks = crate::knowledge::is_question(text) && words >= UNANSWERED_MIN_WORDS;
        if !asks
            || ctx.knowledge.is_empty()
            || self.handoff.owner().is_some()
            || self.handoff.is_waiting()
        {
            return None;
        }
        Some(self.escalate(ctx, HandoffReason::UnansweredQuestion, now, out))
    }
}

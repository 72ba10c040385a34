//! Following the customer's language. A message clearly written in another shipped language
//! switches the conversation to it before it is answered. One that only leans that way
//! switches while the language is not settled (nothing the customer wrote has confirmed it
//! yet: the browser's or platform's locale is a guess too), or when the message before leaned
//! the same way.

use crate::context::Context;
use crate::conversation::Conversation;
use crate::language::{Certainty, detect};

impl Conversation {
    pub(crate) fn follow_language(&mut self, ctx: &Context, text: &str) {
        // A link or discount code is written in no language, however its letters fall
        // ("lk-mzszcz" once read as Polish and switched a conversation).
        if crate::understanding::link_code(text).is_some()
            || crate::discount::code_in(text).is_some()
        {
            return;
        }
        let Some(guess) = detect(text, Some(ctx.catalog.language_words())) else {
            // "ok", "42", a name: no lean either way.
            return;
        };
        if guess.locale == self.locale {
            self.language.settled = true;
            self.language.leaning = None;
            return;
        }
        let switch = match guess.certainty {
            Certainty::Sure => true,
            Certainty::Likely => {
                !self.language.settled || self.language.leaning == Some(guess.locale)
            }
        };
        if switch {
            self.locale = guess.locale;
            self.language.settled = true;
            self.language.leaning = None;
        } else {
            self.language.leaning = Some(guess.locale);
        }
    }
}

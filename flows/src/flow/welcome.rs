//! Greeting, menu, help, language and asking for a person: the intents that work anywhere.

use crate::action::{Action, Choice, ChoiceAction, Reply};
use crate::context::Context;
use crate::conversation::{Conversation, FlowState, Handled};
use crate::locale::Locale;
use crate::text::{Text, TextKey};

impl Conversation {
    /// The menu's choices; every menu the customer sees goes through `menu_for`, so booking
    /// is never missing from one of them (it was after a language switch).
    fn menu_choices() -> Vec<Choice> {
        vec![
            Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
            Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart),
            Choice::new(ChoiceAction::Help, TextKey::ChoiceHelp),
            Choice::new(ChoiceAction::Language, TextKey::ChoiceLanguage),
        ]
    }

    /// The menu, with booking when the shop takes appointments.
    pub(crate) fn menu_for(ctx: &Context) -> Vec<Choice> {
        let mut choices = Self::menu_choices();
        if ctx.settings.booking.enabled() {
            choices.insert(1, Choice::new(ChoiceAction::Book, TextKey::ChoiceBook));
        }
        choices
    }

    pub(crate) fn greet(
        &mut self,
        ctx: &Context,
        first_contact: bool,
        out: &mut Vec<Action>,
    ) -> Handled {
        self.state = FlowState::Idle;
        let shop = ctx.settings.shop_name.clone();
        let text = if first_contact {
            Text::new(TextKey::Welcome).str("shop", shop)
        } else {
            Text::new(TextKey::WelcomeBack)
                .str("shop", shop)
                .int("items", self.cart.item_count())
        };
        self.say(out, Reply::text(text).choices(Self::menu_for(ctx)));
        Handled::Yes
    }

    pub(crate) fn menu(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        self.state = FlowState::Idle;
        self.say(out, Reply::key(TextKey::Menu).choices(Self::menu_for(ctx)));
        Handled::Yes
    }

    pub(crate) fn help(&mut self, out: &mut Vec<Action>) -> Handled {
        let choices = vec![
            Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
            Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart),
            Choice::new(ChoiceAction::Human, TextKey::ChoiceHuman),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        self.say(out, Reply::key(TextKey::Help).choices(choices));
        Handled::Yes
    }

    pub(crate) fn choose_language(&mut self, out: &mut Vec<Action>) -> Handled {
        let choices = Locale::ALL
            .into_iter()
            .map(|locale| Choice::literal(ChoiceAction::SetLanguage(locale), locale.native_name()))
            .collect();
        self.say(out, Reply::key(TextKey::LanguageChoose).choices(choices));
        Handled::Yes
    }

    pub(crate) fn set_language(
        &mut self,
        ctx: &Context,
        locale: Locale,
        out: &mut Vec<Action>,
    ) -> Handled {
        self.locale = locale;
        self.language.settled = true;
        self.language.leaning = None;
        self.state = FlowState::Idle;
        let text = Text::new(TextKey::LanguageSet).str("language", locale.native_name());
        self.say(out, Reply::text(text).choices(Self::menu_for(ctx)));
        Handled::Yes
    }

    pub(crate) fn thanks(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        self.say(
            out,
            Reply::key(TextKey::ThanksReply).choices(Self::menu_for(ctx)),
        );
        Handled::Yes
    }
}

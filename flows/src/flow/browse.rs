//! Browsing: categories, a category's products page by page, and search results as cards.

use crate::action::{Action, Card, Choice, ChoiceAction, Reply};
use crate::catalog::{CategoryId, Product, ProductId};
use crate::context::Context;
use crate::conversation::{BrowseStep, Conversation, FlowState, Handled};
use crate::search::SearchQuery;
use crate::text::{Text, TextKey};

/// Products kept for one search, shown a page at a time; past this, better words help more
/// than more pages.
const MAX_SEARCH_RESULTS: usize = 20;

impl Conversation {
    /// Every category as a choice, then the cart.
    fn category_choices(&self, ctx: &Context) -> Vec<Choice> {
        let mut choices: Vec<Choice> = ctx
            .catalog
            .categories()
            .iter()
            .map(|category| {
                Choice::literal(
                    ChoiceAction::Category {
                        category: category.id.clone(),
                        page: 1,
                    },
                    category.name.get(self.locale),
                )
            })
            .collect();
        choices.push(Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart));
        choices
    }

    pub(crate) fn show_categories(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        self.state = FlowState::Browsing(BrowseStep::Categories);
        // Browsing anew: what an earlier search asked for no longer narrows "Add".
        self.wanted = crate::conversation::Wanted::default();
        let choices = self.category_choices(ctx);
        self.say(out, Reply::key(TextKey::Categories).choices(choices));
        Handled::Yes
    }

    pub(crate) fn show_category(
        &mut self,
        ctx: &Context,
        category_id: &CategoryId,
        page: u32,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(category) = ctx.catalog.category(category_id) else {
            return self.stale_choice(ctx, out);
        };
        let products: Vec<&Product> = ctx.catalog.products_in(category_id).collect();
        let page_size = ctx.settings.page_size.max(1);
        let pages = products.len().div_ceil(page_size).max(1);
        // A page past the end (an old "more" button after the catalog shrank) shows the last.
        let page = usize::try_from(page).unwrap_or(1).clamp(1, pages);
        let cards: Vec<Card> = products
            .iter()
            .skip((page - 1) * page_size)
            .take(page_size)
            .map(|product| self.card(ctx, product))
            .collect();
        let mut choices = Vec::new();
        if page < pages {
            choices.push(Choice::new(
                ChoiceAction::Category {
                    category: category_id.clone(),
                    page: u32::try_from(page + 1).unwrap_or(u32::MAX),
                },
                TextKey::ChoiceMore,
            ));
        }
        choices.push(Choice::new(ChoiceAction::Back, TextKey::ChoiceBack));
        choices.push(Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart));
        let text = Text::new(TextKey::CategoryProducts)
            .str("category", category.name.get(self.locale))
            .int("page", i64::try_from(page).unwrap_or(1))
            .int("pages", i64::try_from(pages).unwrap_or(1))
            .int("count", i64::try_from(products.len()).unwrap_or(0));
        let mut reply = Reply::text(text).choices(choices);
        reply.cards = cards;
        self.state = FlowState::Browsing(BrowseStep::Category {
            category: category_id.clone(),
            page: u32::try_from(page).unwrap_or(1),
        });
        self.say(out, reply);
        Handled::Yes
    }

    /// Runs a search: exact results as `show_products` shows them; results found only by
    /// dropping part of the query say so; nothing close offers the categories instead, never
    /// an empty carousel.
    pub(crate) fn search(
        &mut self,
        ctx: &Context,
        query: &SearchQuery,
        out: &mut Vec<Action>,
    ) -> Handled {
        let use_price = !query.foreign_currency(ctx.catalog.currency());
        let outcome = ctx.catalog.search(query, use_price, MAX_SEARCH_RESULTS);
        // Remembered for "Add": the customer said which colour and size they want.
        self.wanted = crate::conversation::Wanted {
            colours: query.colours.clone(),
            sizes: query.sizes.clone(),
        };
        if outcome.products.is_empty() {
            self.state = FlowState::Browsing(BrowseStep::Categories);
            let choices = self.category_choices(ctx);
            self.say(out, Reply::key(TextKey::SearchNoMatch).choices(choices));
            return Handled::Yes;
        }
        if outcome.relaxed.is_empty() {
            return self.show_products(ctx, outcome.products, out);
        }
        let count = i64::try_from(outcome.products.len()).unwrap_or(0);
        let text = Text::new(TextKey::SearchRelaxed).int("count", count);
        self.show_results(ctx, outcome.products, text, 1, out)
    }

    /// One page of results (a search's, the closest, similar products): `first` heads the
    /// first page, later pages say which page they are; "More" pages on while there are
    /// more. All the results stay in the state, so "More" and "2" mean what was shown.
    pub(crate) fn show_results(
        &mut self,
        ctx: &Context,
        products: Vec<ProductId>,
        first: Text,
        page: u32,
        out: &mut Vec<Action>,
    ) -> Handled {
        let page_size = ctx.settings.page_size.max(1);
        let pages = products.len().div_ceil(page_size).max(1);
        let page = usize::try_from(page).unwrap_or(1).clamp(1, pages);
        let shown: Vec<&Product> = products
            .iter()
            .skip((page - 1) * page_size)
            .take(page_size)
            .filter_map(|id| ctx.catalog.product(id))
            .collect();
        let mut choices = Vec::new();
        if page < pages {
            choices.push(Choice::new(
                ChoiceAction::ResultsPage(u32::try_from(page + 1).unwrap_or(u32::MAX)),
                TextKey::ChoiceMore,
            ));
        }
        choices.push(Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse));
        choices.push(Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart));
        let text = if page == 1 {
            first
        } else {
            Text::new(TextKey::ResultsPage)
                .int("page", i64::try_from(page).unwrap_or(1))
                .int("pages", i64::try_from(pages).unwrap_or(1))
        };
        let mut reply = Reply::text(text).choices(choices);
        reply.cards = shown.iter().map(|p| self.card(ctx, p)).collect();
        self.state = FlowState::Browsing(BrowseStep::Results {
            products,
            page: u32::try_from(page).unwrap_or(1),
        });
        self.say(out, reply);
        Handled::Yes
    }

    /// "More" under a page of results: the next page of the results in the state.
    pub(crate) fn page_results(
        &mut self,
        ctx: &Context,
        page: u32,
        out: &mut Vec<Action>,
    ) -> Handled {
        let FlowState::Browsing(BrowseStep::Results { products, .. }) = &self.state else {
            return self.stale_choice(ctx, out);
        };
        let products = products.clone();
        let pages = products.len().div_ceil(ctx.settings.page_size.max(1));
        let text = Text::new(TextKey::SearchResults)
            .int("count", i64::try_from(products.len()).unwrap_or(0));
        if usize::try_from(page).unwrap_or(usize::MAX) > pages {
            return self.stale_choice(ctx, out);
        }
        self.show_results(ctx, products, text, page, out)
    }

    /// "We don't carry X": with the products of a category the rest of the ask named
    /// ("shoe polish": shoes), else with the categories.
    pub(crate) fn not_carried(
        &mut self,
        ctx: &Context,
        absent: &crate::understanding::absent::Absent,
        out: &mut Vec<Action>,
    ) -> Handled {
        self.wanted = crate::conversation::Wanted::default();
        let mentioning: Vec<&Product> = absent
            .mentioned_by
            .iter()
            .filter_map(|id| ctx.catalog.product(id))
            .collect();
        if !mentioning.is_empty() {
            let text = Text::new(TextKey::NotCarriedMentioned).str("what", absent.what.clone());
            let ids = mentioning.iter().map(|p| p.id.clone()).collect();
            return self.show_results(ctx, ids, text, 1, out);
        }
        if let Some(category) = absent
            .instead
            .as_ref()
            .and_then(|id| ctx.catalog.category(id))
        {
            let products: Vec<&Product> = ctx
                .catalog
                .products_in(&category.id)
                .take(ctx.settings.page_size.max(1))
                .collect();
            if !products.is_empty() {
                let text = Text::new(TextKey::NotCarriedInstead)
                    .str("what", absent.what.clone())
                    .str("category", category.name.get(self.locale));
                let mut reply = Reply::text(text).choices(vec![
                    Choice::new(
                        ChoiceAction::Category {
                            category: category.id.clone(),
                            page: 1,
                        },
                        TextKey::ChoiceMore,
                    ),
                    Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
                ]);
                reply.cards = products.iter().map(|p| self.card(ctx, p)).collect();
                self.state = FlowState::Browsing(BrowseStep::Results {
                    products: products.iter().map(|p| p.id.clone()).collect(),
                    page: 1,
                });
                self.say(out, reply);
                return Handled::Yes;
            }
        }
        self.state = FlowState::Browsing(BrowseStep::Categories);
        let text = Text::new(TextKey::NotCarried).str("what", absent.what.clone());
        let choices = self.category_choices(ctx);
        self.say(out, Reply::text(text).choices(choices));
        Handled::Yes
    }

    /// One product goes straight to its details; several become a carousel.
    pub(crate) fn show_products(
        &mut self,
        ctx: &Context,
        products: Vec<ProductId>,
        out: &mut Vec<Action>,
    ) -> Handled {
        let found: Vec<&Product> = products
            .iter()
            .filter_map(|id| ctx.catalog.product(id))
            .collect();
        match found.as_slice() {
            [] => Handled::Missed,
            [single] => {
                let id = single.id.clone();
                self.show_product(ctx, &id, out)
            }
            several => {
                let text = Text::new(TextKey::SearchResults)
                    .int("count", i64::try_from(several.len()).unwrap_or(0));
                let ids = several.iter().map(|p| p.id.clone()).collect();
                self.show_results(ctx, ids, text, 1, out)
            }
        }
    }

    /// Products like `product`, in stock, as cards.
    pub(crate) fn show_similar(
        &mut self,
        ctx: &Context,
        id: &ProductId,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(product) = ctx.catalog.product(id) else {
            return self.stale_choice(ctx, out);
        };
        let name = product.name.get(self.locale).to_owned();
        let found: Vec<ProductId> = crate::recommend::similar(&ctx.catalog, product)
            .into_iter()
            .take(MAX_SEARCH_RESULTS)
            .map(|p| p.id.clone())
            .collect();
        if found.is_empty() {
            let text = Text::new(TextKey::SimilarNone).str("product", name);
            let choices = self.category_choices(ctx);
            self.say(out, Reply::text(text).choices(choices));
            return Handled::Yes;
        }
        let text = Text::new(TextKey::SimilarProducts).str("product", name);
        self.show_results(ctx, found, text, 1, out)
    }

    pub(crate) fn card(&self, ctx: &Context, product: &Product) -> Card {
        let mut actions = vec![Choice::new(
            ChoiceAction::Product(product.id.clone()),
            TextKey::ChoiceDetails,
        )];
        if product.in_stock() {
            actions.push(Choice::new(
                ChoiceAction::Add(product.id.clone()),
                TextKey::ChoiceAdd,
            ));
        }
        actions.push(Choice::new(
            ChoiceAction::Similar(product.id.clone()),
            TextKey::ChoiceSimilar,
        ));
        Card {
            product: product.id.clone(),
            title: product.name.get(self.locale).to_owned(),
            subtitle: product.description.get(self.locale).to_owned(),
            price: ctx.catalog.money(product.lowest_price_minor()),
            price_is_from: !product.has_one_price(),
            image: product.card_image().map(str::to_owned),
            out_of_stock: !product.in_stock(),
            actions,
        }
    }
}

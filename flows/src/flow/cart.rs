//! Viewing and editing the cart. The view is rebuilt from the catalog every time.

use crate::action::{Action, CartView, CartViewLine, Choice, ChoiceAction, Reply};
use crate::catalog::Sku;
use crate::context::Context;
use crate::conversation::{Conversation, FlowState, Handled};
use crate::event::CatalogItem;
use crate::text::{Text, TextKey};

impl Conversation {
    pub(crate) fn cart_view(&self, ctx: &Context, editable: bool) -> CartView {
        let lines = self
            .cart
            .lines
            .iter()
            .filter_map(|line| {
                let (product, variant) = ctx.catalog.variant(&line.sku)?;
                let unit_price = ctx.catalog.money(variant.price_minor);
                let actions = if editable {
                    vec![
                        Choice::literal(ChoiceAction::Decrease(line.sku.clone()), "−"),
                        Choice::literal(ChoiceAction::Increase(line.sku.clone()), "+"),
                        Choice::new(
                            ChoiceAction::Remove(line.sku.clone()),
                            TextKey::ChoiceRemove,
                        ),
                    ]
                } else {
                    Vec::new()
                };
                Some(CartViewLine {
                    sku: line.sku.clone(),
                    title: product.name.get(self.locale).to_owned(),
                    variant: variant.name.get(self.locale).to_owned(),
                    quantity: line.quantity,
                    unit_price,
                    line_total: unit_price.times(line.quantity),
                    actions,
                })
            })
            .collect();
        CartView {
            lines,
            total: self.cart.total(&ctx.catalog),
            is_order: false,
        }
    }

    pub(crate) fn show_cart(&mut self, ctx: &Context, out: &mut Vec<Action>) -> Handled {
        // Lines whose SKU left the catalog would show as nothing; drop them here, visibly.
        self.cart
            .lines
            .retain(|line| ctx.catalog.variant(&line.sku).is_some());
        if self.cart.is_empty() {
            self.state = FlowState::Idle;
            let choices = vec![
                Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
                Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
            ];
            self.say(out, Reply::key(TextKey::CartEmpty).choices(choices));
            return Handled::Yes;
        }
        self.state = FlowState::Cart;
        let text = Text::new(TextKey::CartSummary)
            .int("items", self.cart.item_count())
            .money("total", self.cart.total(&ctx.catalog));
        let choices = vec![
            Choice::new(ChoiceAction::Checkout, TextKey::ChoiceCheckout),
            Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
            Choice::new(ChoiceAction::ClearCart, TextKey::ChoiceClear),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        let mut reply = Reply::text(text).choices(choices);
        reply.cart = Some(self.cart_view(ctx, true));
        self.say(out, reply);
        Handled::Yes
    }

    pub(crate) fn change_line(
        &mut self,
        ctx: &Context,
        sku: &Sku,
        delta: i32,
        out: &mut Vec<Action>,
    ) -> Handled {
        let current = self.cart.quantity_of(sku);
        if current == 0 {
            return self.show_cart(ctx, out);
        }
        if delta > 0 && self.available(ctx, sku) == 0 {
            let text = Text::new(TextKey::NotEnoughStock).int("available", 0);
            self.say(out, Reply::text(text));
            return self.show_cart(ctx, out);
        }
        let next = current.saturating_add_signed(delta);
        self.cart.set_quantity(sku, next);
        self.show_cart(ctx, out)
    }

    pub(crate) fn remove_line(
        &mut self,
        ctx: &Context,
        sku: &Sku,
        out: &mut Vec<Action>,
    ) -> Handled {
        self.cart.set_quantity(sku, 0);
        self.show_cart(ctx, out)
    }

    pub(crate) fn clear_cart(&mut self, _ctx: &Context, out: &mut Vec<Action>) -> Handled {
        self.cart.lines.clear();
        self.state = FlowState::Idle;
        let choices = vec![
            Choice::new(ChoiceAction::Browse, TextKey::ChoiceBrowse),
            Choice::new(ChoiceAction::Menu, TextKey::ChoiceMenu),
        ];
        self.say(out, Reply::key(TextKey::CartCleared).choices(choices));
        Handled::Yes
    }

    /// A cart sent from the platform's catalog replaces ours: the customer built it there on
    /// purpose. Unknown SKUs and quantities beyond stock are adjusted, and said so.
    pub(crate) fn cart_from_catalog_order(
        &mut self,
        ctx: &Context,
        items: &[CatalogItem],
        out: &mut Vec<Action>,
    ) -> Handled {
        self.cart.lines.clear();
        let mut adjusted = Vec::new();
        for item in items {
            let sku = Sku(item.retailer_id.clone());
            let Some((product, variant)) = ctx.catalog.variant(&sku) else {
                adjusted.push(item.retailer_id.clone());
                continue;
            };
            let wanted = self.cart.quantity_of(&sku).saturating_add(item.quantity);
            let allowed = wanted.min(variant.stock).min(ctx.settings.max_quantity);
            if allowed < wanted {
                adjusted.push(product.name.get(self.locale).to_owned());
            }
            self.cart.set_quantity(&sku, allowed);
        }
        if !adjusted.is_empty() {
            let text =
                Text::new(TextKey::CheckoutStockChanged).str("products", adjusted.join(", "));
            self.say(out, Reply::text(text));
        }
        self.show_cart(ctx, out)
    }
}

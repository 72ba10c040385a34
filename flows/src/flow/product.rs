//! A product's details and adding it to the cart: pick a variant, then a quantity.

use crate::action::{Action, Card, Choice, ChoiceAction, Reply};
use crate::catalog::{Product, ProductId, Sku};
use crate::context::Context;
use crate::conversation::{Conversation, FlowState, Handled, ProductStep};
use crate::text::{Label, Text, TextKey};

/// One to five as buttons; any other number up to the maximum can be typed.
const QUANTITY_BUTTONS: [u32; 5] = [1, 2, 3, 4, 5];

impl Conversation {
    pub(crate) fn show_product(
        &mut self,
        ctx: &Context,
        id: &ProductId,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(product) = ctx.catalog.product(id) else {
            return self.stale_choice(ctx, out);
        };
        let variants: Vec<&str> = product
            .variants
            .iter()
            .filter(|v| v.stock > 0)
            .map(|v| v.name.get(self.locale))
            .collect();
        let mut card = self.card(ctx, product);
        card.actions.clear();
        let mut choices = Vec::new();
        if product.in_stock() {
            choices.push(Choice::new(
                ChoiceAction::Add(id.clone()),
                TextKey::ChoiceAdd,
            ));
        }
        choices.push(Choice::new(ChoiceAction::Back, TextKey::ChoiceBack));
        choices.push(Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart));
        let text = Text::new(if product.in_stock() {
            TextKey::ProductDetails
        } else {
            TextKey::ProductOutOfStock
        })
        .str("name", product.name.get(self.locale))
        .str("description", product.description.get(self.locale))
        .money("price", card.price)
        .str("variants", variants.join(", "));
        let mut reply = Reply::text(text).choices(choices);
        reply.cards = vec![card];
        self.state = FlowState::Product(ProductStep::Details {
            product: id.clone(),
        });
        self.say(out, reply);
        Handled::Yes
    }

    pub(crate) fn start_add(
        &mut self,
        ctx: &Context,
        id: &ProductId,
        out: &mut Vec<Action>,
    ) -> Handled {
        let Some(product) = ctx.catalog.product(id) else {
            return self.stale_choice(ctx, out);
        };
        let in_stock: Vec<_> = product.variants.iter().filter(|v| v.stock > 0).collect();
        // What the customer's search already said (red, size M) is not asked again: only
        // the variants that fit are offered, and one that fits alone is taken.
        let fitting: Vec<_> = in_stock
            .iter()
            .copied()
            .filter(|v| self.wanted.fits(v))
            .collect();
        let narrowed = !self.wanted.is_empty() && !fitting.is_empty();
        let offered = if narrowed { fitting } else { in_stock };
        match offered.as_slice() {
            [] => self.show_product(ctx, id, out),
            [only] if narrowed || product.variants.len() == 1 => {
                let sku = only.sku.clone();
                self.ask_quantity(ctx, product, &sku, out)
            }
            several => {
                let same_price = product.has_one_price();
                let choices = several
                    .iter()
                    .map(|v| {
                        let name = v.name.get(self.locale);
                        // Prices ride along only when they differ, to keep buttons short.
                        let label = if same_price {
                            Label::Literal(name.to_owned())
                        } else {
                            Label::Priced {
                                name: name.to_owned(),
                                price: ctx.catalog.money(v.price_minor),
                            }
                        };
                        Choice {
                            action: ChoiceAction::Variant(v.sku.clone()),
                            label,
                        }
                    })
                    .chain([Choice::new(ChoiceAction::Back, TextKey::ChoiceBack)])
                    .collect();
                let text =
                    Text::new(TextKey::PickVariant).str("product", product.name.get(self.locale));
                self.state = FlowState::Product(ProductStep::PickVariant {
                    product: id.clone(),
                });
                self.say(out, Reply::text(text).choices(choices));
                Handled::Yes
            }
        }
    }

    pub(crate) fn pick_variant(
        &mut self,
        ctx: &Context,
        sku: &Sku,
        out: &mut Vec<Action>,
    ) -> Handled {
        match ctx.catalog.variant(sku) {
            Some((product, variant)) if variant.stock > 0 => {
                self.ask_quantity(ctx, product, sku, out)
            }
            Some((product, _)) => {
                let id = product.id.clone();
                self.start_add(ctx, &id, out)
            }
            None => self.stale_choice(ctx, out),
        }
    }

    fn ask_quantity(
        &mut self,
        ctx: &Context,
        product: &Product,
        sku: &Sku,
        out: &mut Vec<Action>,
    ) -> Handled {
        let available = self.available(ctx, sku);
        let variant_name = product
            .variant(sku)
            .map(|v| v.name.get(self.locale))
            .unwrap_or_default();
        let choices = QUANTITY_BUTTONS
            .into_iter()
            .filter(|n| *n <= available)
            .map(|n| {
                let action = ChoiceAction::Quantity {
                    sku: sku.clone(),
                    quantity: n,
                };
                Choice::literal(action, n.to_string())
            })
            .chain([Choice::new(ChoiceAction::Back, TextKey::ChoiceBack)])
            .collect();
        let text = Text::new(TextKey::PickQuantity)
            .str("product", product.name.get(self.locale))
            .str("variant", variant_name)
            .int("max", available);
        self.state = FlowState::Product(ProductStep::PickQuantity {
            product: product.id.clone(),
            sku: sku.clone(),
        });
        let mut reply = Reply::text(text).choices(choices);
        // A variant with its own picture is shown: the customer sees the colour they chose.
        if let Some(variant) = product.variant(sku)
            && variant.image.is_some()
        {
            reply.cards = vec![Card {
                product: product.id.clone(),
                title: format!("{} ({variant_name})", product.name.get(self.locale)),
                subtitle: product.description.get(self.locale).to_owned(),
                price: ctx.catalog.money(variant.price_minor),
                price_is_from: false,
                image: variant.image.clone(),
                out_of_stock: variant.stock == 0,
                actions: Vec::new(),
            }];
        }
        self.say(out, reply);
        Handled::Yes
    }

    /// How many more units of a SKU this customer may add: stock minus what the cart holds,
    /// capped by the per-line maximum.
    pub(crate) fn available(&self, ctx: &Context, sku: &Sku) -> u32 {
        let stock = ctx.catalog.variant(sku).map_or(0, |(_, v)| v.stock);
        let in_cart = self.cart.quantity_of(sku);
        stock.min(ctx.settings.max_quantity).saturating_sub(in_cart)
    }

    pub(crate) fn pick_quantity(
        &mut self,
        ctx: &Context,
        for_sku: &Sku,
        quantity: u32,
        out: &mut Vec<Action>,
    ) -> Handled {
        let sku = match &self.state {
            FlowState::Product(ProductStep::PickQuantity { sku, .. }) if sku == for_sku => {
                sku.clone()
            }
            _ => return self.stale_choice(ctx, out),
        };
        let available = self.available(ctx, &sku);
        if quantity == 0 || quantity > ctx.settings.max_quantity {
            let text = Text::new(TextKey::QuantityInvalid).int("max", available.max(1));
            self.say(out, Reply::text(text));
            return Handled::Yes;
        }
        if quantity > available {
            let text = Text::new(TextKey::NotEnoughStock).int("available", available);
            let choices = vec![
                Choice::new(ChoiceAction::Back, TextKey::ChoiceBack),
                Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart),
            ];
            self.say(out, Reply::text(text).choices(choices));
            return Handled::Yes;
        }
        let Some((found, variant)) = ctx.catalog.variant(&sku) else {
            return self.stale_choice(ctx, out);
        };
        self.cart
            .set_quantity(&sku, self.cart.quantity_of(&sku).saturating_add(quantity));
        let text = Text::new(TextKey::AddedToCart)
            .int("quantity", quantity)
            .str("product", found.name.get(self.locale))
            .str("variant", variant.name.get(self.locale))
            .int("items", self.cart.item_count())
            .money("total", self.cart.total(&ctx.catalog));
        let choices = vec![
            Choice::new(ChoiceAction::Checkout, TextKey::ChoiceCheckout),
            Choice::new(
                ChoiceAction::Category {
                    category: found.category.clone(),
                    page: 1,
                },
                TextKey::ChoiceBrowse,
            ),
            Choice::new(ChoiceAction::Cart, TextKey::ChoiceCart),
        ];
        self.state = FlowState::Idle;
        let mut reply = Reply::text(text).choices(choices);
        // Ideas to go with it: at most three cards, never something out of stock or already
        // in the cart.
        let in_cart: std::collections::BTreeSet<&crate::catalog::ProductId> = self
            .cart
            .lines
            .iter()
            .filter_map(|line| ctx.catalog.variant(&line.sku).map(|(p, _)| &p.id))
            .collect();
        reply.cards =
            crate::recommend::after_add(&ctx.catalog, &ctx.together, found, &in_cart, RECOMMENDED)
                .into_iter()
                .map(|p| self.card(ctx, p))
                .collect();
        self.say(out, reply);
        Handled::Yes
    }
}

/// Recommendations shown after add-to-cart.
const RECOMMENDED: usize = 3;

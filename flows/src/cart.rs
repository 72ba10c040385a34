//! The cart holds only SKUs and quantities: prices and names are looked up in the catalog
//! whenever the cart is shown, so a price change reaches the customer before checkout.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Sku};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn quantity_of(&self, sku: &Sku) -> u32 {
        self.lines
            .iter()
            .find(|line| &line.sku == sku)
            .map_or(0, |line| line.quantity)
    }

    /// Sets a line's quantity; zero removes the line. Keeps lines in the order they were added.
    pub fn set_quantity(&mut self, sku: &Sku, quantity: u32) {
        if quantity == 0 {
            self.lines.retain(|line| &line.sku != sku);
        } else if let Some(line) = self.lines.iter_mut().find(|line| &line.sku == sku) {
            line.quantity = quantity;
        } else {
            self.lines.push(CartLine {
                sku: sku.clone(),
                quantity,
            });
        }
    }

    pub fn item_count(&self) -> u32 {
        self.lines.iter().map(|line| line.quantity).sum()
    }

    /// Lines whose SKU vanished from the catalog count as nothing; checkout drops them.
    pub fn total(&self, catalog: &Catalog) -> Money {
        self.lines
            .iter()
            .filter_map(|line| {
                catalog
                    .variant(&line.sku)
                    .map(|(_, variant)| catalog.money(variant.price_minor).times(line.quantity))
            })
            .fold(catalog.money(0), Money::plus)
    }
}

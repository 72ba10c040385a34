//! Stock, as the store counts it: units sold per SKU since the catalog's stock numbers were
//! last loaded. Pure: the store reads the counts inside the payment's transaction, calls
//! `apply_update`, and writes what it returns in that transaction, so two payments for the
//! last unit are serialized and only the one past it is told it sold out.

use crate::catalog::Sku;
use crate::order::{Order, OrderChange, OrderStatus};
use crate::time::Timestamp;

/// A SKU's count as the transaction sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub sold: u32,
    /// The catalog's stock number; `None`: not counted (made to order, unlimited).
    pub level: Option<u32>,
}

/// A status change to apply to a stored order, and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub status: OrderStatus,
    pub tracking: Option<String>,
    pub by: Option<String>,
}

/// What applying an update wrote: the order as it is now, and the new sold count of each
/// SKU whose units it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub order: Order,
    pub sold: Vec<(Sku, u32)>,
}

/// Moves a stored order to `update.status`. The first change to paid takes its units out of
/// stock (`count` reads a SKU's count) and notes the SKUs that went past their level in
/// `order.oversold`; a second payment event for an order whose money was already taken
/// takes nothing. A new payment link counts an attempt. The change joins the history.
pub fn apply_update(
    mut order: Order,
    update: &Update,
    now: Timestamp,
    mut count: impl FnMut(&Sku) -> Count,
) -> Applied {
    let mut sold = Vec::new();
    if update.status == OrderStatus::Paid && !order.status.money_taken() {
        // Per SKU, however many lines name it: each count is read once.
        let mut units: Vec<(Sku, u32)> = Vec::new();
        for (sku, quantity) in order.quantities() {
            match units.iter_mut().find(|(s, _)| s == sku) {
                Some((_, total)) => *total = total.saturating_add(quantity),
                None => units.push((sku.clone(), quantity)),
            }
        }
        let mut oversold = Vec::new();
        for (sku, quantity) in units {
            let known = count(&sku);
            let after = known.sold.saturating_add(quantity);
            if known.level.is_some_and(|level| after > level) {
                oversold.push(sku.clone());
            }
            sold.push((sku, after));
        }
        order.oversold = oversold;
    }
    order.status = update.status;
    OrderChange::record(
        &mut order.history,
        OrderChange {
            at: now,
            status: update.status,
            by: update.by.clone(),
            tracking: update.tracking.clone(),
        },
    );
    if update.tracking.is_some() {
        order.tracking.clone_from(&update.tracking);
    }
    if update.status == OrderStatus::PendingPayment {
        order.payment_attempts = order.payment_attempts.saturating_add(1);
    }
    Applied { order, sold }
}

/// How many of each SKU are left to sell: the level minus what was sold, never below zero.
/// SKUs without a level are not listed.
pub fn remaining(levels: &[(Sku, u32)], sold: &[(Sku, u32)]) -> Vec<(Sku, u32)> {
    levels
        .iter()
        .map(|(sku, level)| {
            let taken = sold.iter().find(|(s, _)| s == sku).map_or(0, |(_, n)| *n);
            (sku.clone(), level.saturating_sub(taken))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductId;
    use crate::customer::CustomerId;
    use crate::money::Money;
    use crate::order::{ContactPoint, OrderId, OrderLine};
    use std::collections::BTreeMap;

    fn eur(minor: i64) -> Money {
        Money {
            minor,
            currency: crate::money::Currency::new("EUR").expect("a currency"),
        }
    }

    fn order(lines: &[(&str, u32)]) -> Order {
        Order {
            id: OrderId("O-1".into()),
            customer: CustomerId("c".into()),
            name: "Ana".into(),
            contact: ContactPoint::Phone("+40700000000".into()),
            lines: lines
                .iter()
                .map(|(sku, quantity)| OrderLine {
                    sku: Sku((*sku).into()),
                    product: ProductId("p".into()),
                    title: "Lamp".into(),
                    quantity: *quantity,
                    unit_price: eur(1_000),
                })
                .collect(),
            total: eur(1_000),
            status: OrderStatus::PendingPayment,
            placed_at: Timestamp(0),
            fulfilment: None,
            tracking: None,
            payment_attempts: 1,
            payment_failures: 0,
            oversold: Vec::new(),
            recovered_step: None,
            discount: None,
            booking: None,
            history: Vec::new(),
        }
    }

    fn paid() -> Update {
        Update {
            status: OrderStatus::Paid,
            tracking: None,
            by: None,
        }
    }

    #[test]
    fn the_payment_past_the_last_unit_is_the_oversold_one() {
        let mut counts: BTreeMap<&str, Count> = BTreeMap::from([
            (
                "LAMP",
                Count {
                    sold: 0,
                    level: Some(1),
                },
            ),
            (
                "MUG",
                Count {
                    sold: 5,
                    level: None,
                },
            ),
        ]);
        let mut pay = |order: Order| {
            let applied = apply_update(order, &paid(), Timestamp(9), |sku| counts[sku.0.as_str()]);
            for (sku, sold) in &applied.sold {
                if let Some(count) = counts.get_mut(sku.0.as_str()) {
                    count.sold = *sold;
                }
            }
            applied.order
        };
        let first = pay(order(&[("LAMP", 1), ("MUG", 2)]));
        assert!(first.oversold.is_empty());
        let second = pay(order(&[("LAMP", 1)]));
        assert_eq!(second.oversold, [Sku("LAMP".into())]);
        assert_eq!(counts["LAMP"].sold, 2);
        assert_eq!(counts["MUG"].sold, 7, "counted, never oversold");
    }

    #[test]
    fn a_second_payment_event_takes_nothing_and_each_change_is_recorded() {
        let once = apply_update(order(&[("LAMP", 1)]), &paid(), Timestamp(1), |_| Count {
            sold: 0,
            level: Some(3),
        });
        assert_eq!(once.sold, [(Sku("LAMP".into()), 1)]);
        let twice = apply_update(once.order, &paid(), Timestamp(2), |_| unreachable!());
        assert!(twice.sold.is_empty());
        let shipped = apply_update(
            twice.order,
            &Update {
                status: OrderStatus::Shipped,
                tracking: Some("https://t.example/1".into()),
                by: Some("Ana".into()),
            },
            Timestamp(3),
            |_| unreachable!(),
        );
        let order = shipped.order;
        assert_eq!(order.tracking.as_deref(), Some("https://t.example/1"));
        let moves: Vec<(OrderStatus, Option<&str>)> = order
            .history
            .iter()
            .map(|c| (c.status, c.by.as_deref()))
            .collect();
        assert_eq!(
            moves,
            [
                (OrderStatus::Paid, None),
                (OrderStatus::Paid, None),
                (OrderStatus::Shipped, Some("Ana"))
            ]
        );
    }

    #[test]
    fn two_lines_of_one_sku_count_together() {
        let applied = apply_update(
            order(&[("LAMP", 1), ("LAMP", 1)]),
            &paid(),
            Timestamp(1),
            |_| Count {
                sold: 0,
                level: Some(1),
            },
        );
        assert_eq!(applied.sold, [(Sku("LAMP".into()), 2)]);
        assert_eq!(applied.order.oversold, [Sku("LAMP".into())]);
    }

    #[test]
    fn a_new_payment_link_counts_an_attempt() {
        let update = Update {
            status: OrderStatus::PendingPayment,
            tracking: None,
            by: None,
        };
        let applied = apply_update(order(&[]), &update, Timestamp(1), |_| unreachable!());
        assert_eq!(applied.order.payment_attempts, 2);
    }

    #[test]
    fn remaining_never_goes_below_zero() {
        let levels = [(Sku("A".into()), 2), (Sku("B".into()), 1)];
        let sold = [(Sku("A".into()), 1), (Sku("B".into()), 3)];
        assert_eq!(
            remaining(&levels, &sold),
            [(Sku("A".into()), 1), (Sku("B".into()), 0)]
        );
    }
}

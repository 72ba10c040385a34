//! One conversation as the console shows it: the customer's whole history across their
//! channels, each send's delivery status, what the bot understood, cart, orders and notes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use flows::{Catalog, CustomerId, Event, Inbound, InboundMessage, understand};

use super::ConsoleState;
use super::describe::{self, inbound_text, reply_parts};
use super::list::summary_json;
use super::window::reply_window;
use crate::api_error::ApiError;
use crate::clock;
use crate::render::format_money;
use crate::store::{HistoryEntry, Store};

/// The newest records shown; older ones stay in the store.
const TIMELINE_LIMIT: usize = 500;

pub async fn conversation(
    State(state): State<ConsoleState>,
    axum::Extension(authed): axum::Extension<super::session::Authed>,
    Path(customer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let customer = CustomerId(customer);
    let names = describe::StaffNames::load(state.store.as_ref()).await?;
    let summary = state
        .store
        .summary(&customer)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such conversation"))?;
    let found = Found {
        summary,
        customer: state.store.customer(&customer).await?,
        merges: state.store.merged_into(&customer).await?,
    };
    let view = build(&state, &customer, &names, found).await?;
    crate::data_rights::audit::record(
        state.store.as_ref(),
        &authed.operator.name,
        "view",
        Some(&customer),
        "",
    )
    .await?;
    Ok(Json(view))
}

/// What the view needs from the async roles, read before the timeline is built.
struct Found {
    summary: crate::store::ConversationSummary,
    customer: Option<flows::Customer>,
    merges: Vec<crate::store::MergeRecord>,
}

async fn build(
    state: &ConsoleState,
    id: &CustomerId,
    names: &describe::StaffNames,
    found: Found,
) -> Result<Value, ApiError> {
    let Found {
        summary,
        customer,
        merges,
    } = found;
    let store = state.store.as_ref();
    let Some(conversation) = store.conversation(id).await? else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such conversation"));
    };
    let ctx = state.shared.context();
    let locale = conversation.locale;
    // Customers linked into this one keep their own history: one timeline, by time.
    let mut entries = store.history(id, TIMELINE_LIMIT).await?;
    let links: Vec<Value> = merges
        .iter()
        .map(|merge| {
            json!({
                "customer": merge.from.id,
                "name": merge.from.display_name,
                "identities": merge.from.identities.iter().map(|i| json!({
                    "channel": i.channel.name(), "id": i.external_id,
                })).collect::<Vec<_>>(),
                "at": merge.at.millis(),
            })
        })
        .collect();
    for merged in merges {
        entries.extend(store.history(&merged.from.id, TIMELINE_LIMIT).await?);
    }
    // How a message was read is for the numbers, not the operator's timeline.
    entries.retain(|entry| !matches!(entry, HistoryEntry::Reading { .. }));
    entries.sort_by_key(HistoryEntry::at);
    let skip = entries.len().saturating_sub(TIMELINE_LIMIT);
    let mut offered = Offered::default();
    let mut timeline: Vec<Value> = Vec::with_capacity(entries.len() - skip);
    for entry in &entries[skip..] {
        timeline.push(item(state, store, &ctx.catalog, id, entry, names, &mut offered).await?);
    }
    let cart_lines: Vec<Value> = conversation
        .cart
        .lines
        .iter()
        .map(|line| {
            let (name, price) = match ctx.catalog.variant(&line.sku) {
                Some((product, variant)) => (
                    format!(
                        "{} ({})",
                        product.name.get(locale),
                        variant.name.get(locale)
                    ),
                    format_money(ctx.catalog.money(variant.price_minor), locale),
                ),
                None => (line.sku.0.clone(), String::new()),
            };
            json!({ "sku": line.sku, "name": name, "quantity": line.quantity, "price": price })
        })
        .collect();
    let orders: Vec<Value> = conversation
        .orders
        .recent
        .iter()
        .rev()
        .map(|order| {
            json!({
                "id": order.id, "status": order.status.name(),
                "total": format_money(order.total, locale), "at": order.placed_at.millis(),
                "discount": order.discount.as_ref().map(|d| json!({
                    "code": d.code, "percent": d.percent,
                    "amount": format_money(d.amount, locale),
                })),
            })
        })
        .collect();
    let booking = &ctx.settings.booking;
    let bookings: Vec<Value> = conversation
        .appointments.list
        .iter()
        .rev()
        .map(|b| {
            json!({
                "id": b.id,
                "service": booking.service(&b.service).map_or_else(|| b.service.0.clone(), |s| s.name.get(locale).to_owned()),
                "staff": booking.staff_member(&b.staff).map_or_else(|| b.staff.0.clone(), |s| s.name.clone()),
                "start": b.start.millis(),
                "when": crate::render::dates::format_when(b.start, booking.zone.name(), None, locale),
                "status": b.status,
                "confirmed": b.confirmed,
            })
        })
        .collect();
    let window = reply_window(&state.settings, &conversation, clock::now());
    Ok(json!({
        "summary": summary_json(state, &summary, customer.as_ref(), names).await?,
        "customer": {
            "id": id,
            "name": customer.as_ref().and_then(|c| c.display_name.clone()),
            "locale": locale.code(),
            // What the customer said to cart reminders, and when; "stop" ends them for good.
            "consent": {
                "reminders": conversation.recovery.consent.as_ref().map(|c| json!({
                    "granted": c.granted, "at": c.at.millis(),
                })),
                "stopped": conversation.recovery.opted_out,
                // Per purpose: the answer in force, and the latest question (its wording's
                // version), from the consent ledger.
                "purposes": flows::consent::Purpose::ALL.iter().map(|purpose| {
                    let asked = conversation.consents.0.iter().rev().find_map(|entry| match entry {
                        flows::consent::ConsentEntry::Asked { purpose: p, at, text, locale, version, channel } if p == purpose => Some(json!({
                            "at": at.millis(), "text": text.id(), "locale": locale.code(),
                            "version": version, "channel": channel.map(flows::Channel::name),
                        })),
                        _ => None,
                    });
                    let answered = conversation.consents.0.iter().rev().find_map(|entry| match entry {
                        flows::consent::ConsentEntry::Answered { purpose: p, at, granted, channel, .. } if p == purpose => Some(json!({
                            "at": at.millis(), "granted": granted, "channel": channel.map(flows::Channel::name),
                        })),
                        _ => None,
                    });
                    json!({ "purpose": purpose.name(), "asked": asked, "answer": answered })
                }).collect::<Vec<_>>(),
            },
            "identities": customer.as_ref().map(|c| c.identities.iter().map(|i| json!({
                "channel": i.channel.name(), "id": i.external_id,
            })).collect::<Vec<_>>()).unwrap_or_default(),
            "profile": {
                "name": conversation.profile.name,
                "contact": conversation.profile.contact,
                "address": conversation.profile.address,
            },
        },
        "timeline": timeline,
        "cart": {
            "lines": cart_lines,
            "total": format_money(conversation.cart.total(&ctx.catalog), locale),
        },
        "orders": orders,
        "bookings": bookings,
        "no_shows": conversation.appointments.no_shows,
        "links": links,
        "window": {
            "channel": window.channel.map(|c| c.name()),
            "open": window.refusal.is_none(),
            "note": window.refusal.or(window.note),
        },
    }))
}

/// The buttons of the bot's latest reply, by action id: a press is shown by its label
/// ("pressed “10:00”"), not its id ("slot:ion:29940960").
#[derive(Default)]
struct Offered(Vec<(String, String)>);

impl Offered {
    fn replace(&mut self, rendered: &adapters::rendered::RenderedReply) {
        self.0.clear();
        for choice in &rendered.choices {
            self.0.push((choice.id.clone(), choice.label.clone()));
        }
        for card in &rendered.cards {
            for action in &card.actions {
                let label = format!("{} · {}", action.label, card.title);
                self.0.push((action.id.clone(), label));
            }
        }
        if let Some(cart) = &rendered.cart {
            for line in &cart.lines {
                for action in &line.actions {
                    let label = format!("{} · {}", action.label, line.title);
                    self.0.push((action.id.clone(), label));
                }
            }
        }
    }

    fn label(&self, event: &Event) -> Option<&str> {
        let Event::Inbound(Inbound {
            message: InboundMessage::Action(id),
            ..
        }) = event
        else {
            return None;
        };
        self.0
            .iter()
            .find(|(offered, _)| offered == id)
            .map(|(_, label)| label.as_str())
    }
}

async fn item(
    state: &ConsoleState,
    store: &dyn Store,
    catalog: &Catalog,
    customer: &CustomerId,
    entry: &HistoryEntry,
    names: &describe::StaffNames,
    offered: &mut Offered,
) -> Result<Value, ApiError> {
    Ok(match entry {
        HistoryEntry::In {
            at, channel, event, ..
        } => json!({
            "kind": "in", "at": at.millis(), "channel": channel.name(), "by": "customer",
            "text": offered.label(event).map_or_else(|| inbound_text(event), |label| format!("[pressed “{label}”]")),
            "understood": understood(event, catalog),
            "media": media(customer, event),
            "lang": written_in(event, catalog),
        }),
        HistoryEntry::Out {
            at,
            outbox_id,
            channel,
            locale,
            reply,
        } => {
            let rendered = state.renderer.reply(*locale, reply);
            offered.replace(&rendered);
            let (choices, cards) = reply_parts(&rendered);
            let (status, error) = delivery(store, *outbox_id).await?;
            json!({
                "kind": "out", "at": at.millis(), "channel": channel.name(),
                "by": match (&reply.operator, reply.by_operator) {
                    (Some(operator), _) => names.of(operator),
                    (None, true) => "operator".to_owned(),
                    (None, false) => "bot".to_owned(),
                },
                "text": rendered.text, "choices": choices, "cards": cards,
                "link": rendered.link.as_ref().map(|l| l.url.clone()),
                "status": status, "error": error,
                // An operator's reply sent translated: what they wrote.
                "original": match reply.text.args.get("original") {
                    Some(flows::Arg::Str(original)) => Some(original.clone()),
                    _ => None,
                },
            })
        }
        HistoryEntry::Held { at, locale, reply } => {
            let rendered = state.renderer.reply(*locale, reply);
            offered.replace(&rendered);
            let (choices, cards) = reply_parts(&rendered);
            json!({
                "kind": "held", "at": at.millis(), "by": "bot", "text": rendered.text,
                "choices": choices, "cards": cards,
            })
        }
        HistoryEntry::Operator { at, event } => json!({
            "kind": "operator", "at": at.millis(),
            "by": event.operator().map(|o| names.of(o)).unwrap_or_default(),
            "text": describe::operator_action(event, names),
        }),
        HistoryEntry::Note { at, operator, text } => json!({
            "kind": "note", "at": at.millis(), "by": names.of(operator), "text": text,
        }),
        HistoryEntry::Handoff { at, reason } => json!({
            "kind": "handoff", "at": at.millis(), "by": "bot",
            "text": describe::handoff_reason(*reason),
        }),
        HistoryEntry::Reading { at, by_model } => json!({
            "kind": "handoff", "at": at.millis(), "by": "bot",
            "text": describe::reading(*by_model),
        }),
    })
}

/// The shipped language a customer's text is written in, when it says (for translation).
fn written_in(event: &Event, catalog: &Catalog) -> Option<&'static str> {
    let Event::Inbound(Inbound {
        message: InboundMessage::Text(text),
        ..
    }) = event
    else {
        return None;
    };
    flows::language::detect(text, Some(catalog.language_words())).map(|g| g.locale.code())
}

/// What the rules make of a text today (the catalog may have changed since it was written).
fn understood(event: &Event, catalog: &Catalog) -> Option<String> {
    let Event::Inbound(Inbound {
        message: InboundMessage::Text(text),
        ..
    }) = event
    else {
        return None;
    };
    // Said only when the rules recognise something: a name or a phone typed at checkout is
    // "not understood" by the rules alone, though the flow took it as asked.
    match understand(text, catalog) {
        flows::Intent::Unknown => None,
        intent => Some(describe::intent_in_words(
            &intent,
            catalog,
            flows::Locale::En,
        )),
    }
}

fn media(customer: &CustomerId, event: &Event) -> Option<Value> {
    let Event::Inbound(Inbound {
        channel,
        message:
            InboundMessage::Media {
                kind,
                media_id,
                mime,
                ..
            },
        ..
    }) = event
    else {
        return None;
    };
    let name = describe::media_name(*kind);
    let url = media_id
        .as_ref()
        .and_then(|id| super::media::console_url(customer, *channel, id));
    Some(json!({
        "kind": if matches!(kind, flows::MediaKind::Image | flows::MediaKind::Sticker) { "image" } else { "file" },
        "name": name, "mime": mime, "url": url,
    }))
}

/// The best news about a send: read beats delivered beats sent; a failure says why.
async fn delivery(
    store: &dyn Store,
    outbox_id: u64,
) -> Result<(&'static str, Option<String>), ApiError> {
    if let Some(letter) = store.dead_letter(outbox_id).await? {
        return Ok(("failed", Some(letter.reason)));
    }
    if let Some(pending) = store.outbox_entry(outbox_id).await? {
        return Ok(("pending", pending.last_error));
    }
    let mut best = ("sent", None);
    for sent in store.sent_for(outbox_id).await? {
        for record in store.deliveries(sent.channel, &sent.platform_id).await? {
            let rank = |s: &str| match s {
                "failed" => 4,
                "read" => 3,
                "delivered" => 2,
                _ => 1,
            };
            if rank(&record.state) > rank(best.0) {
                best = match record.state.as_str() {
                    "failed" => ("failed", record.error.clone()),
                    "read" => ("read", None),
                    "delivered" => ("delivered", None),
                    _ => best,
                };
            }
        }
    }
    Ok(best)
}

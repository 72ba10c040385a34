//! What the model may answer: one call of these tools, whose arguments are the core's own
//! types (a search query, a product and variant, a service and a time in words, a language).
//! Every argument is checked against the catalog and bounded before it becomes an `Intent`:
//! an unknown product or category makes the call invalid (the rules answer), an unknown
//! variant or an impossible quantity is dropped. Nothing here can set a price, a total, a
//! discount or an order's state: the core renders every reply from its own data.

use async_openai::types::chat::{ChatCompletionTool, ChatCompletionTools, FunctionObject};
use flows::catalog::{CategoryId, ProductId, Sku};
use flows::understanding::absent::Absent;
use flows::{Context, Intent, Locale};
use serde::Deserialize;
use serde_json::{Value, json};

/// Words of a search the model may name, and characters of any text it passes on.
const MAX_WORDS: usize = 12;
const MAX_TEXT_CHARS: usize = 300;
const MAX_WHAT_CHARS: usize = 60;

/// Why a call was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("no such tool: {0}")]
    UnknownTool(String),
    #[error("arguments do not fit the tool: {0}")]
    Arguments(String),
    #[error("names a product, category or service the shop does not have")]
    NotInCatalog,
}

fn tool(
    name: &str,
    description: &str,
    properties: Value,
    required: &[&str],
) -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            parameters: Some(json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            })),
            strict: Some(true),
        },
    })
}

fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

/// The tools, as the chat-completions API takes them. Strict schemas: every property
/// required, absent ones as null.
pub fn definitions() -> Vec<ChatCompletionTools> {
    let codes: Vec<&str> = Locale::ALL.iter().map(|l| l.code()).collect();
    vec![
        tool(
            "search_products",
            "Find products by the customer's description: words naming the product (in \
             the customer's language, as they wrote them), an optional category id from the \
             catalog list, colours in English (red, navy, black...), sizes as the catalog \
             writes them (S, M, 42), a price range in the shop's currency.",
            json!({
                "words": { "type": "array", "items": { "type": "string" } },
                "category": nullable("string"),
                "colours": { "type": "array", "items": { "type": "string" } },
                "sizes": { "type": "array", "items": { "type": "string" } },
                "min_price": nullable("number"),
                "max_price": nullable("number"),
            }),
            &[
                "words",
                "category",
                "colours",
                "sizes",
                "min_price",
                "max_price",
            ],
        ),
        tool(
            "show_product",
            "Show one product of the catalog list by its id.",
            json!({ "product_id": { "type": "string" } }),
            &["product_id"],
        ),
        tool(
            "add_to_cart",
            "Put a product of the catalog list in the cart; the variant SKU and quantity only \
             if the customer said them.",
            json!({
                "product_id": { "type": "string" },
                "sku": nullable("string"),
                "quantity": nullable("integer"),
            }),
            &["product_id", "sku", "quantity"],
        ),
        tool(
            "book_appointment",
            "Book an appointment: a service id from the services list if named, and the day \
             and time in the customer's own words (e.g. 'tomorrow at 10').",
            json!({ "service_id": nullable("string"), "when": nullable("string") }),
            &["service_id", "when"],
        ),
        tool(
            "ask_for_person",
            "The customer wants to talk to a person.",
            json!({}),
            &[],
        ),
        tool(
            "set_language",
            "The customer asks to be answered in another language.",
            json!({ "language": { "type": "string", "enum": codes } }),
            &["language"],
        ),
        tool(
            "answer_from_knowledge",
            "A question about the shop itself (delivery, returns, sizes, opening hours, \
             payment...): the question, rephrased to stand alone.",
            json!({ "question": { "type": "string" } }),
            &["question"],
        ),
        tool(
            "small_talk",
            "Greeting, thanks, or a plain yes or no.",
            json!({ "kind": { "type": "string", "enum": ["greeting", "thanks", "yes", "no"] } }),
            &["kind"],
        ),
        tool(
            "not_carried",
            "The customer asks for something the catalog list does not have: what they asked \
             for, in their words.",
            json!({ "what": { "type": "string" } }),
            &["what"],
        ),
        tool(
            "navigate",
            "Go to a part of the shop: the menu, the cart, checkout, their orders, the \
             categories, their appointments, or help.",
            json!({ "to": { "type": "string", "enum":
                ["menu", "cart", "checkout", "orders", "categories", "appointments", "help"] } }),
            &["to"],
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    words: Vec<String>,
    category: Option<String>,
    colours: Vec<String>,
    sizes: Vec<String>,
    min_price: Option<f64>,
    max_price: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductArgs {
    product_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    product_id: String,
    sku: Option<String>,
    quantity: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookArgs {
    service_id: Option<String>,
    when: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageArgs {
    language: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionArgs {
    question: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindArgs {
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatArgs {
    what: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NavigateArgs {
    to: String,
}

fn parse<'a, T: Deserialize<'a>>(arguments: &'a str) -> Result<T, Invalid> {
    serde_json::from_str(arguments).map_err(|e| Invalid::Arguments(e.to_string()))
}

fn bounded(text: &str, limit: usize) -> String {
    flows::words::head(text.trim(), limit).to_owned()
}

/// A price in the shop's currency as minor units; negative, absurd or non-finite: none.
fn minor_units(amount: Option<f64>, ctx: &Context) -> Option<i64> {
    let amount = amount.filter(|a| a.is_finite() && *a >= 0.0 && *a <= 1e9)?;
    let digits = i32::try_from(ctx.catalog.currency().minor_digits()).unwrap_or(2);
    let scale = 10f64.powi(digits);
    Some((amount * scale).round() as i64)
}

/// The core's intent for one tool call on the customer's `message`, checked against the
/// catalog.
pub fn read_call(
    name: &str,
    arguments: &str,
    message: &str,
    ctx: &Context,
) -> Result<Intent, Invalid> {
    let catalog = &ctx.catalog;
    match name {
        "search_products" => {
            let args: SearchArgs = parse(arguments)?;
            let category = match args.category {
                Some(id) => {
                    let id = CategoryId(id);
                    Some(
                        catalog
                            .category(&id)
                            .map(|c| c.id.clone())
                            .ok_or(Invalid::NotInCatalog)?,
                    )
                }
                None => None,
            };
            let words: Vec<String> = args
                .words
                .iter()
                .flat_map(|w| {
                    let folded = flows::words::fold(w);
                    flows::words::tokens(&folded)
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .take(MAX_WORDS)
                .collect();
            let colours = args
                .colours
                .iter()
                .filter_map(|c| flows::search::canonical_colour(&flows::words::fold(c)))
                .map(str::to_owned)
                .take(MAX_WORDS)
                .collect();
            let sizes = args
                .sizes
                .iter()
                .map(|s| bounded(s, 8).to_uppercase())
                .filter(|s| !s.is_empty())
                .take(MAX_WORDS)
                .collect();
            let query = flows::search::SearchQuery {
                words,
                category,
                colours,
                sizes,
                price: flows::search::PriceRange {
                    min_minor: minor_units(args.min_price, ctx),
                    max_minor: minor_units(args.max_price, ctx),
                },
                currency: None,
            };
            if query.words.is_empty() && !query.has_filters() {
                return Err(Invalid::Arguments("an empty search".into()));
            }
            Ok(Intent::Search(query))
        }
        "show_product" => {
            let args: ProductArgs = parse(arguments)?;
            let id = ProductId(args.product_id);
            catalog.product(&id).ok_or(Invalid::NotInCatalog)?;
            Ok(Intent::Products(vec![id]))
        }
        "add_to_cart" => {
            let args: AddArgs = parse(arguments)?;
            let product = ProductId(args.product_id);
            catalog.product(&product).ok_or(Invalid::NotInCatalog)?;
            // A variant of another product, or none of this one: the usual question instead.
            let sku = args
                .sku
                .map(Sku)
                .filter(|sku| catalog.variant(sku).is_some_and(|(p, _)| p.id == product));
            let quantity = args
                .quantity
                .and_then(|q| u32::try_from(q).ok())
                .filter(|q| (1..=ctx.settings.max_quantity).contains(q));
            Ok(Intent::Add {
                product,
                sku,
                quantity,
            })
        }
        "book_appointment" => {
            let args: BookArgs = parse(arguments)?;
            let service = match args.service_id {
                Some(id) => {
                    let id = flows::booking::ServiceId(id);
                    ctx.settings
                        .booking
                        .service(&id)
                        .ok_or(Invalid::NotInCatalog)?;
                    Some(id)
                }
                None => None,
            };
            Ok(Intent::BookAt {
                service,
                when: args.when.map(|w| bounded(&w, 80)).filter(|w| !w.is_empty()),
            })
        }
        "ask_for_person" => {
            let _: Empty = parse(arguments)?;
            Ok(Intent::Human)
        }
        "set_language" => {
            let args: LanguageArgs = parse(arguments)?;
            Locale::from_tag(&args.language)
                .map(Intent::SetLanguage)
                .ok_or_else(|| Invalid::Arguments(format!("language {:?}", args.language)))
        }
        "answer_from_knowledge" => {
            let args: QuestionArgs = parse(arguments)?;
            let question = bounded(&args.question, MAX_TEXT_CHARS);
            if question.is_empty() {
                return Err(Invalid::Arguments("an empty question".into()));
            }
            Ok(Intent::AskShop { question })
        }
        "small_talk" => {
            let args: KindArgs = parse(arguments)?;
            match args.kind.as_str() {
                "greeting" => Ok(Intent::Greeting),
                "thanks" => Ok(Intent::Thanks),
                "yes" => Ok(Intent::Yes),
                "no" => Ok(Intent::No),
                other => Err(Invalid::Arguments(format!("kind {other:?}"))),
            }
        }
        "not_carried" => {
            let args: WhatArgs = parse(arguments)?;
            // Quoted back in the shop's voice: only the customer's own words, one line.
            let said = flows::words::fold(message);
            let said: std::collections::HashSet<&str> =
                flows::words::tokens(&said).into_iter().collect();
            let words: Vec<&str> = args
                .what
                .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
                .filter(|w| !w.is_empty())
                .collect();
            let theirs = words.iter().all(|w| {
                flows::words::tokens(&flows::words::fold(w))
                    .iter()
                    .all(|t| said.contains(t))
            });
            if words.is_empty() || !theirs {
                return Err(Invalid::Arguments(
                    "names words the customer did not write".into(),
                ));
            }
            let what = bounded(&words.join(" "), MAX_WHAT_CHARS);
            Ok(Intent::NotCarried(Absent {
                what,
                instead: None,
                mentioned_by: Vec::new(),
            }))
        }
        "navigate" => {
            let args: NavigateArgs = parse(arguments)?;
            match args.to.as_str() {
                "menu" => Ok(Intent::Menu),
                "cart" => Ok(Intent::Cart),
                "checkout" => Ok(Intent::Checkout),
                "orders" => Ok(Intent::Orders),
                "categories" => Ok(Intent::Browse),
                "appointments" => Ok(Intent::Bookings),
                "help" => Ok(Intent::Help),
                other => Err(Invalid::Arguments(format!("to {other:?}"))),
            }
        }
        other => Err(Invalid::UnknownTool(bounded(other, 64))),
    }
}

//! Canned replies: Fluent messages in `config/canned/<locale>.ftl`, one per reply, with a
//! `.title` attribute for the menu and the placeholders `$name` (the customer's name) and
//! `$order` (their latest order number). The shop edits the files; souk reads them at start.

use std::collections::HashMap;
use std::path::Path;

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use fluent_templates::fluent_bundle::concurrent::FluentBundle;
use fluent_templates::fluent_bundle::{FluentArgs, FluentResource};
use serde_json::{Value, json};

use flows::{CustomerId, Locale};

use super::ConsoleState;
use crate::api_error::ApiError;

pub struct CannedReplies {
    by_locale: HashMap<Locale, Bundle>,
}

struct Bundle {
    bundle: FluentBundle<FluentResource>,
    /// Message ids in file order (Fluent keeps no order of its own).
    ids: Vec<String>,
}

impl CannedReplies {
    pub fn empty() -> CannedReplies {
        CannedReplies {
            by_locale: HashMap::new(),
        }
    }

    /// Reads every `<locale>.ftl` in `dir`; a file with syntax errors is refused with them.
    pub fn load(dir: &Path) -> anyhow::Result<CannedReplies> {
        let mut by_locale = HashMap::new();
        for locale in Locale::ALL {
            let path = dir.join(format!("{}.ftl", locale.code()));
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            let ids = source
                .lines()
                .filter_map(|line| line.split_once(" ="))
                .map(|(id, _)| id)
                .filter(|id| {
                    !id.is_empty()
                        && id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
                .map(str::to_owned)
                .collect();
            let resource = FluentResource::try_new(source)
                .map_err(|(_, errors)| anyhow::anyhow!("{}: {:?}", path.display(), errors))?;
            let language = locale
                .code()
                .parse()
                .map_err(|e| anyhow::anyhow!("{}: {e}", locale.code()))?;
            let mut bundle = FluentBundle::new_concurrent(vec![language]);
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| anyhow::anyhow!("{}: {errors:?}", path.display()))?;
            by_locale.insert(locale, Bundle { bundle, ids });
        }
        Ok(CannedReplies { by_locale })
    }

    /// The replies in `locale` (else the fallback's), filled in. A placeholder with no value
    /// (no name given, no order yet) is left as a visible gap, `⟨name⟩`, listed in `gaps`:
    /// the console has the operator fill it and never sends it blank.
    pub fn render(&self, locale: Locale, fallback: Locale, name: &str, order: &str) -> Vec<Value> {
        let Some(Bundle { bundle, ids }) = self
            .by_locale
            .get(&locale)
            .or_else(|| self.by_locale.get(&fallback))
        else {
            return Vec::new();
        };
        let mut args = FluentArgs::new();
        let value = |placeholder: &str, value: &str| {
            if value.trim().is_empty() {
                gap(placeholder)
            } else {
                value.to_owned()
            }
        };
        args.set("name", value("name", name));
        args.set("order", value("order", order));
        let mut errors = Vec::new();
        ids.iter()
            .filter_map(|id| {
                let message = bundle.get_message(id)?;
                let text = bundle.format_pattern(message.value()?, Some(&args), &mut errors);
                let title = message
                    .get_attribute("title")
                    .map(|a| {
                        bundle
                            .format_pattern(a.value(), None, &mut errors)
                            .into_owned()
                    })
                    .unwrap_or_else(|| id.clone());
                let gaps: Vec<&str> = ["name", "order"]
                    .into_iter()
                    .filter(|placeholder| text.contains(&gap(placeholder)))
                    .collect();
                Some(json!({ "id": id, "title": title, "text": text, "gaps": gaps }))
            })
            .collect()
    }
}

/// How a placeholder without a value shows in a canned reply.
fn gap(placeholder: &str) -> String {
    format!("⟨{placeholder}⟩")
}

pub async fn replies(
    State(state): State<ConsoleState>,
    UrlPath(customer): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let customer = CustomerId(customer);
    let conversation = state
        .store
        .conversation(&customer)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such conversation"))?;
    let shown = state
        .store
        .customer(&customer)
        .await?
        .and_then(|c| c.display_name);
    let name = conversation
        .profile
        .name
        .clone()
        .or(shown)
        .unwrap_or_default();
    let order = conversation
        .orders
        .recent
        .last()
        .map(|o| o.id.0.clone())
        .unwrap_or_default();
    let replies = state.canned.render(
        conversation.locale,
        state.settings.shop.default_locale,
        &name,
        &order,
    );
    Ok(Json(json!({ "replies": replies })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_without_a_value_is_a_visible_gap_never_a_blank() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("en.ftl"),
            "greeting = Hi { $name }, thanks for waiting!\n    .title = Greeting\nstatus = Order { $order } is on its way.\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let canned = CannedReplies::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let replies = canned.render(Locale::En, Locale::En, "", "");
        assert_eq!(replies[0]["text"], "Hi ⟨name⟩, thanks for waiting!");
        assert_eq!(replies[0]["gaps"], serde_json::json!(["name"]));
        assert_eq!(replies[1]["text"], "Order ⟨order⟩ is on its way.");
        let filled = canned.render(Locale::En, Locale::En, "Dana", "A-1");
        assert_eq!(filled[0]["text"], "Hi Dana, thanks for waiting!");
        assert_eq!(filled[0]["gaps"], serde_json::json!([]));
    }
}

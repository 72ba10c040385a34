//! An export and an erasure as HTTP answers, for the admin API and the console alike.

use axum::Json;
use serde::Deserialize;

use crate::api_error::ApiError;

/// How an export is asked for: `json` (default) or `text`, the readable summary.
#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

impl ExportQuery {
    pub fn format(&self) -> Option<&str> {
        self.format.as_deref()
    }
}

/// The export of `customer` as the response body (JSON, or the summary as plain text),
/// recorded in the audit log as `actor`'s first.
pub async fn export_response(
    store: &std::sync::Arc<dyn crate::store::Store>,
    renderer: &crate::render::Renderer,
    actor: &str,
    customer: &flows::CustomerId,
    format: Option<&str>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    crate::data_rights::audit::record(
        store.as_ref(),
        actor,
        "export",
        Some(customer),
        format.unwrap_or("json"),
    )
    .await?;
    let export =
        crate::data_rights::export::export(store.as_ref(), renderer, customer, crate::clock::now())
            .await?;
    let reference = crate::console::reference(customer);
    Ok(match format {
        Some("text") => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{reference}.txt\""),
                ),
            ],
            export.summary,
        )
            .into_response(),
        _ => (
            [(
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{reference}.json\""),
            )],
            Json(export.document),
        )
            .into_response(),
    })
}

/// How long a request to erase waits for the customer's worker before answering 202.
const ERASE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// Asks the customer's worker to erase them (durably first) and answers when it did: 200
/// `{"erased": true}`, or 202 while it is still queued (it will happen; the same request
/// again is harmless). The audit record is written by the erasure itself.
pub async fn erase_response(
    ingest: &crate::driver::Ingest,
    applied: &crate::driver::applied::Applied,
    actor: &str,
    customer: &flows::CustomerId,
) -> Result<axum::response::Response, ApiError> {
    use crate::api_error::not_applied;
    use crate::driver::submit::{Waited, submit_and_wait};
    use axum::response::IntoResponse;
    let entry = crate::store::InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("erase-{}", crate::clock::random_hex_128()),
        dedup_key: None,
        customer: customer.clone(),
        event: flows::Event::EraseRequested {
            by: flows::words::head(actor, 64).to_owned(),
        },
        received_at: crate::clock::now(),
    };
    let reference = crate::console::reference(customer);
    match submit_and_wait(ingest, applied, entry, ERASE_PATIENCE).await? {
        Waited::Applied => Ok(Json(serde_json::json!({
            "erased": true,
            "reference": reference,
        }))
        .into_response()),
        Waited::Queued => Ok((
            axum::http::StatusCode::ACCEPTED,
            Json(serde_json::json!({ "erased": false, "queued": true, "reference": reference })),
        )
            .into_response()),
        waited @ Waited::SetAside => Err(not_applied(waited)),
    }
}

//! An export as an HTTP answer, for the admin API and the console alike.

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

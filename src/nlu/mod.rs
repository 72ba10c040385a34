//! The language model behind the rules (`[nlu]`): what the rules cannot place is read by a
//! model on any OpenAI-compatible endpoint, which answers only through tools whose arguments
//! are the core's own types. Guarded (`guard.rs`) and never trusted: every call is checked
//! against the catalog (`tools.rs`); on any failure the core gets `None` and the rules answer.
//! The core also waits under a timer, so a lost answer (a crash mid-call) is answered too.

pub mod client;
pub mod guard;
pub mod prompt;
pub mod settings;
pub mod tools;
pub mod translate;

use std::sync::Arc;
use std::time::Instant;

use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionToolChoiceOption, CreateChatCompletionRequest,
    ToolChoiceOptions,
};
use flows::{Context, CustomerId, Event, Intent, Locale};

use crate::driver::Shared;
use crate::render::Renderer;
use crate::store::HistoryEntry;
use client::{CallError, ModelClient};
use guard::Guard;
use settings::NluSettings;

/// Tokens the model may write: one tool call is small.
const MAX_COMPLETION_TOKENS: u32 = 300;

/// One message to read, as the core asked for it.
#[derive(Debug, Clone)]
pub struct Job {
    pub text: String,
    pub locale: Locale,
    /// The conversation's request number, carried back with the reading.
    pub request: u32,
    /// The flow's step after the asking step ("idle", "browsing"...).
    pub step: String,
    pub cart_items: u32,
}

/// What a reading came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub intent: Option<Intent>,
    /// For the metrics: "ok", or why the rules answer instead.
    pub outcome: &'static str,
}

impl Reading {
    fn fallback(outcome: &'static str) -> Reading {
        Reading {
            intent: None,
            outcome,
        }
    }
}

pub struct Nlu {
    settings: NluSettings,
    client: ModelClient,
    guard: Guard,
    tools: Vec<async_openai::types::chat::ChatCompletionTools>,
    remembered: translate::Remembered,
}

impl Nlu {
    /// The model, when `[nlu]` names one.
    pub fn from_settings(settings: &NluSettings) -> anyhow::Result<Option<Arc<Nlu>>> {
        if !settings.enabled() {
            return Ok(None);
        }
        Ok(Some(Arc::new(Nlu {
            client: ModelClient::new(settings)?,
            guard: Guard::new(settings),
            tools: tools::definitions(),
            remembered: translate::Remembered::default(),
            settings: settings.clone(),
        })))
    }

    pub fn settings(&self) -> &NluSettings {
        &self.settings
    }

    pub fn client(&self) -> &ModelClient {
        &self.client
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    pub fn remembered(&self) -> &translate::Remembered {
        &self.remembered
    }

    fn request(
        &self,
        ctx: &Context,
        renderer: &Renderer,
        history: &[HistoryEntry],
        job: &Job,
    ) -> CreateChatCompletionRequest {
        let situation = prompt::Situation {
            locale: job.locale,
            step: &job.step,
            cart_items: job.cart_items,
        };
        CreateChatCompletionRequest {
            model: self.settings.model.clone(),
            messages: prompt::messages(
                ctx,
                renderer,
                history,
                &situation,
                &job.text,
                self.settings.catalog_products,
            ),
            tools: Some(self.tools.clone()),
            tool_choice: Some(ChatCompletionToolChoiceOption::Mode(
                ToolChoiceOptions::Auto,
            )),
            temperature: Some(0.0),
            max_completion_tokens: Some(MAX_COMPLETION_TOKENS),
            ..Default::default()
        }
    }

    /// Reads one message: the model's tool call as an intent, or `None` and why.
    pub async fn read(
        &self,
        ctx: &Context,
        renderer: &Renderer,
        history: &[HistoryEntry],
        customer: &CustomerId,
        job: &Job,
        now_millis: i64,
    ) -> Reading {
        let admitted = match self.guard.admit(customer, now_millis).await {
            Ok(admitted) => admitted,
            Err(skip) => return Reading::fallback(skip.label()),
        };
        let request = self.request(ctx, renderer, history, job);
        let started = Instant::now();
        let answer = self.client.complete(&request).await;
        metrics::histogram!("souk_nlu_call_seconds").record(started.elapsed().as_secs_f64());
        let response = match answer {
            Ok(response) => response,
            Err(error) => {
                admitted.outcome(error.is_endpoint_failure().then_some(false));
                tracing::warn!(%error, "the language model did not answer");
                return Reading::fallback(error_label(&error));
            }
        };
        admitted.outcome(Some(true));
        self.charge(customer, &request, response.usage.as_ref());
        let Some(choice) = response.choices.first() else {
            return Reading::fallback("no_call");
        };
        if choice.message.refusal.is_some() {
            return Reading::fallback("refusal");
        }
        // The first function call counts; a model that calls several is read by its first.
        let call = choice
            .message
            .tool_calls
            .iter()
            .flatten()
            .find_map(|call| match call {
                ChatCompletionMessageToolCalls::Function(call) => Some(&call.function),
                _ => None,
            });
        let Some(call) = call else {
            return Reading::fallback("no_call");
        };
        match tools::read_call(&call.name, &call.arguments, &job.text, ctx) {
            Ok(intent) => Reading {
                intent: Some(intent),
                outcome: "ok",
            },
            Err(invalid) => {
                tracing::info!(%invalid, tool = %flows::words::head(&call.name, 64), "the model's call was not taken");
                Reading::fallback("invalid_call")
            }
        }
    }
}

impl Nlu {
    /// Counts a call's tokens against the budgets: as the endpoint reports them, else as
    /// estimated (a character in four is a token), so a server that leaves `usage` out
    /// still spends its budget.
    pub(crate) fn charge(
        &self,
        budget: &CustomerId,
        request: &CreateChatCompletionRequest,
        usage: Option<&async_openai::types::chat::CompletionUsage>,
    ) {
        let (prompt, completion) = match usage {
            Some(usage) => (
                u64::from(usage.prompt_tokens),
                u64::from(usage.completion_tokens),
            ),
            None => {
                let characters = serde_json::to_string(&request.messages)
                    .map(|json| json.chars().count())
                    .unwrap_or(0);
                let written = request
                    .max_completion_tokens
                    .unwrap_or(MAX_COMPLETION_TOKENS);
                ((characters / 4) as u64, u64::from(written))
            }
        };
        metrics::counter!("souk_nlu_tokens_total", "kind" => "prompt").increment(prompt);
        metrics::counter!("souk_nlu_tokens_total", "kind" => "completion").increment(completion);
        self.guard.spent(budget, prompt.saturating_add(completion));
    }
}

fn error_label(error: &CallError) -> &'static str {
    error.label()
}

/// Reads `customer`'s message after the step that asked committed, and hands the reading
/// back to the conversation (`Event::NluResult`, keyed by the request so it lands once).
pub fn spawn(shared: &Shared, customer: CustomerId, job: Job) {
    let Some(nlu) = shared.nlu.clone() else {
        tracing::warn!("NLU requested but no language model is configured");
        return;
    };
    let store = shared.store.clone();
    let ingest = shared.ingest.clone();
    let ctx = shared.context();
    let renderer = shared.renderer.clone();
    tokio::spawn(async move {
        let turns = nlu.settings().history_turns;
        // The newest entries are the asking message itself and its (empty) step; the turns
        // before it are context.
        let history = match store.history(&customer, turns + 1).await {
            Ok(mut entries) => {
                if let Some(HistoryEntry::In { .. }) = entries.last() {
                    entries.pop();
                }
                entries
            }
            Err(error) => {
                tracing::warn!(%error, "history for the language model unreadable");
                Vec::new()
            }
        };
        let now = crate::clock::now().millis();
        let reading = nlu
            .read(&ctx, &renderer, &history, &customer, &job, now)
            .await;
        metrics::counter!("souk_nlu_calls_total", "outcome" => reading.outcome).increment(1);
        let key = format!("nlu:{}:{}", customer, job.request);
        let event = Event::NluResult {
            intent: reading.intent,
            request: Some(job.request),
        };
        if let Err(error) = ingest.accept_keyed(key, customer, event).await {
            // The core's timer answers the message with the rules.
            tracing::warn!(%error, "could not hand the model's reading back");
        }
    });
}

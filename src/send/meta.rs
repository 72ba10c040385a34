//! Sending through Meta's Graph API: WhatsApp Cloud API and the Messenger/Instagram Send
//! API. Checks the messaging window first (a message that may not leave is refused with its
//! reason), renders within the product's limits, paces to the configured throughput, and
//! classifies the API's errors into retry, give up, or window closed.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use adapters::meta::graph_error::{GraphFailure, classify};
use adapters::meta::messenger_out::{MessengerProduct, MessengerRenderOptions, render_messenger};
use adapters::meta::whatsapp_out::{WhatsAppRenderOptions, render_whatsapp};
use adapters::meta::window::{WindowDecision, WindowProduct, decide};
use flows::{Arg, Channel, Reply};

use super::pacer::{Pacer, RecipientGap};
use super::{ChannelSender, Outgoing, SendError, SendResult};
use crate::clock;
use crate::render::{Renderer, format_money};
use crate::settings::MetaChannelSettings;
use crate::store::Store;

pub struct MetaSender {
    channel: Channel,
    settings: MetaChannelSettings,
    public_url: String,
    /// Parsed once: per send, parsing the URL and formatting the token cost more than the
    /// rest of the request building.
    endpoint: reqwest::Url,
    authorization: reqwest::header::HeaderValue,
    client: reqwest::Client,
    pacer: Pacer,
    recipients: RecipientGap,
    store: Arc<dyn Store>,
    renderer: Renderer,
}

/// The template parameter that takes the reply's link URL.
const LINK_URL_PARAM: &str = "link_url";

impl MetaSender {
    pub fn new(
        channel: Channel,
        settings: MetaChannelSettings,
        public_url: String,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<MetaSender> {
        let id = match channel {
            Channel::WhatsApp => settings.phone_number_id.clone(),
            _ => settings.page_id.clone(),
        }
        .unwrap_or_default();
        let endpoint = format!(
            "{}/{}/{}/messages",
            settings.api_base.trim_end_matches('/'),
            settings.api_version,
            id
        );
        let endpoint = reqwest::Url::parse(&endpoint)
            .map_err(|e| anyhow::anyhow!("{channel}: api_base does not make a valid URL: {e}"))?;
        let token = settings
            .access_token
            .as_ref()
            .map(|t| t.expose())
            .unwrap_or_default();
        let mut authorization = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| {
                anyhow::anyhow!("{channel}: the access token has characters a header cannot carry")
            })?;
        authorization.set_sensitive(true);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)))
            // The Graph API answers where it is asked; a redirect would carry the token
            // elsewhere (and following them parsed every response's URL once more).
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(MetaSender {
            channel,
            pacer: Pacer::per_second(settings.messages_per_second),
            recipients: RecipientGap::new(Duration::from_millis(settings.recipient_gap_ms)),
            settings,
            public_url,
            endpoint,
            authorization,
            client,
            store,
            renderer: Renderer,
        })
    }

    fn window_product(&self) -> WindowProduct {
        match self.channel {
            Channel::WhatsApp => WindowProduct::WhatsApp,
            Channel::Instagram => WindowProduct::Instagram,
            _ => WindowProduct::Messenger,
        }
    }

    /// The request bodies for this reply, or why it may not be sent now.
    /// The bodies to send, and whether they are a template (a different message from the
    /// free-form reply, so parts sent of that one do not count for it).
    async fn payloads(&self, outgoing: &Outgoing) -> Result<(Vec<Value>, bool), SendError> {
        let recipient = outgoing.entry.recipient.as_str();
        let now = clock::now();
        // The snapshot taken at commit decides the common case; only when it says the window
        // closed is the conversation read, in case the customer wrote again since.
        if decide(self.window_product(), outgoing.entry.last_inbound_at, now)
            == WindowDecision::Open
        {
            return Ok((self.render(outgoing, recipient, None), false));
        }
        let store = self.store.clone();
        let customer = outgoing.entry.customer.clone();
        let conversation = store
            .conversation(&customer)
            .await
            .map_err(|e| retryable(format!("store: {e}"), None, outgoing.entry.parts_sent))?;
        let last_inbound =
            conversation.and_then(|c| c.reach.last_inbound_by_channel.get(&self.channel).copied());
        match decide(self.window_product(), last_inbound, now) {
            WindowDecision::Open => Ok((self.render(outgoing, recipient, None), false)),
            WindowDecision::TemplateOnly => self
                .template(&outgoing.entry.reply, outgoing, recipient)
                .map(|t| (vec![t], true)),
            // Messenger and Instagram let a person (never the bot) answer for 7 days.
            WindowDecision::HumanAgentTagOnly if outgoing.entry.reply.by_operator => Ok((
                self.render(outgoing, recipient, Some(HUMAN_AGENT_TAG)),
                false,
            )),
            WindowDecision::HumanAgentTagOnly | WindowDecision::Closed => Err(SendError::Permanent(
                "window closed: the customer last wrote more than 24 hours ago; only a person may reply \
                 (HUMAN_AGENT tag, within 7 days)"
                    .into(),
            )),
        }
    }

    /// `tag` is a Messenger message tag; it makes the message type `MESSAGE_TAG`.
    fn render(&self, outgoing: &Outgoing, recipient: &str, tag: Option<&str>) -> Vec<Value> {
        let rendered = &outgoing.rendered;
        match self.channel {
            Channel::WhatsApp => {
                let label = self
                    .renderer
                    .key(outgoing.entry.locale, flows::TextKey::ChoiceOptions);
                let options = WhatsAppRenderOptions {
                    to: recipient,
                    public_base_url: &self.public_url,
                    catalog_id: self.settings.catalog_id.as_deref(),
                    list_button_label: &label,
                };
                render_whatsapp(rendered, &options)
            }
            _ => {
                let product = if self.channel == Channel::Instagram {
                    MessengerProduct::Instagram
                } else {
                    MessengerProduct::Messenger
                };
                let options = MessengerRenderOptions {
                    recipient,
                    public_base_url: &self.public_url,
                    messaging_type: if tag.is_some() {
                        "MESSAGE_TAG"
                    } else {
                        "RESPONSE"
                    },
                    tag,
                };
                render_messenger(product, rendered, &options)
            }
        }
    }

    /// Outside WhatsApp's 24-hour window only an approved template may go out: the core's
    /// message key picks it, its arguments fill the parameters.
    fn template(
        &self,
        reply: &Reply,
        outgoing: &Outgoing,
        recipient: &str,
    ) -> Result<Value, SendError> {
        let key = reply.text.key.id();
        // A message that is a variant of another (the thanks for a payment of an order no
        // longer in the conversation's list) goes out as that one's template.
        let template = self.settings.templates.get(key).or_else(|| {
            (reply.text.key == flows::TextKey::OrderPaidUnlisted)
                .then(|| self.settings.templates.get(flows::TextKey::OrderPaid.id()))
                .flatten()
        });
        let Some(template) = template else {
            return Err(SendError::Permanent(format!(
                "window closed: more than 24 hours since the customer's last message and no approved \
                 template is configured for `{key}` (channels.whatsapp.templates.{key})"
            )));
        };
        let locale = outgoing.entry.locale;
        let parameters: Vec<Value> = template
            .params
            .iter()
            .map(|name| {
                let text = match reply.text.args.get(name) {
                    Some(Arg::Str(s)) => s.clone(),
                    Some(Arg::Int(n)) => n.to_string(),
                    Some(Arg::Money(m)) => format_money(*m, locale),
                    Some(Arg::When { at, zone, also }) => {
                        crate::render::dates::format_when(*at, zone, also.as_deref(), locale)
                    }
                    Some(Arg::Day(iso)) => crate::render::dates::format_day(iso, locale),
                    Some(Arg::Clock { at, zone, also }) => {
                        crate::render::dates::format_clock(*at, zone, also.as_deref())
                    }
                    // A template cannot carry the reply's button, so its URL (a tracking or
                    // payment link) can be a parameter of its own.
                    None if name == LINK_URL_PARAM => reply
                        .link
                        .as_ref()
                        .map(|l| l.url.clone())
                        .unwrap_or_default(),
                    None => String::new(),
                };
                json!({"type": "text", "text": text})
            })
            .collect();
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": recipient,
            "type": "template",
            "template": {"name": template.name, "language": {"code": template.language}},
        });
        if !parameters.is_empty() {
            body["template"]["components"] = json!([{"type": "body", "parameters": parameters}]);
        }
        Ok(body)
    }

    /// One API call; the platform's message id on success.
    async fn post(
        &self,
        recipient: &str,
        body: &Value,
        parts_sent: u32,
    ) -> Result<String, SendError> {
        self.recipients.wait(recipient).await;
        self.pacer.wait().await;
        let response = self
            .client
            .post(self.endpoint.clone())
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .json(body)
            .send()
            .await
            .map_err(|e| {
                retryable(
                    format!("request failed: {}", without_url(&e)),
                    None,
                    parts_sent,
                )
            })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // An unreadable body is no reason to send again: the status decides.
        let body = response.bytes().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(accepted_id(&body));
        }
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Err(match classify(status, &answer) {
            GraphFailure::Retry { message, .. } => retryable(message, retry_after, parts_sent),
            GraphFailure::WindowClosed { message, .. } => {
                SendError::Permanent(format!("{WINDOW_CLOSED}: {message}"))
            }
            GraphFailure::Permanent { message, .. } => SendError::Permanent(message),
        })
    }
}

/// What the Graph API answers to an accepted send: WhatsApp's `messages[0].id`, or
/// Messenger's and Instagram's `message_id`.
#[derive(Default, serde::Deserialize)]
struct Accepted {
    #[serde(default)]
    messages: Vec<AcceptedMessage>,
    #[serde(default)]
    message_id: Option<String>,
}

#[derive(serde::Deserialize)]
struct AcceptedMessage {
    #[serde(default)]
    id: Option<String>,
}

/// The platform's id for an accepted send, empty when the answer names none. Read into the
/// two fields that carry it, not into a whole JSON tree: this runs for every message sent.
fn accepted_id(body: &[u8]) -> String {
    let sent: Accepted = serde_json::from_slice(body).unwrap_or_default();
    sent.messages
        .into_iter()
        .next()
        .and_then(|message| message.id)
        .or(sent.message_id)
        .unwrap_or_default()
}

fn retryable(reason: String, retry_after: Option<Duration>, parts_sent: u32) -> SendError {
    SendError::Retryable {
        reason,
        retry_after,
        parts_sent,
    }
}

/// reqwest errors can include the URL; ours carries no secret (the token is a header), but
/// keep logs short and stable anyway.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        error.without_url_ref().to_string()
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let text = self.to_string();
        text.split(" for url").next().unwrap_or_default().to_owned()
    }
}

/// Messenger's tag for a person's reply up to 7 days after the customer's last message.
const HUMAN_AGENT_TAG: &str = "HUMAN_AGENT";

/// How refusals for a closed messaging window start, whoever noticed first.
const WINDOW_CLOSED: &str = "window closed";

impl ChannelSender for MetaSender {
    fn send(&self, outgoing: Outgoing) -> BoxFuture<'_, SendResult> {
        Box::pin(async move {
            let (payloads, templated) = self.payloads(&outgoing).await?;
            let mut ids = Vec::new();
            let already = if templated {
                0
            } else {
                usize::try_from(outgoing.entry.parts_sent).unwrap_or(0)
            };
            for (index, payload) in payloads.iter().enumerate().skip(already) {
                let parts_sent = u32::try_from(index).unwrap_or(u32::MAX);
                match self
                    .post(&outgoing.entry.recipient, payload, parts_sent)
                    .await
                {
                    Ok(id) => ids.push(id),
                    // WhatsApp says the window closed (our clock or the commit-time snapshot
                    // disagreed with Meta's): the configured template is the way to send.
                    Err(SendError::Permanent(reason))
                        if reason.starts_with(WINDOW_CLOSED)
                            && !templated
                            && self.channel == Channel::WhatsApp =>
                    {
                        let template = self.template(
                            &outgoing.entry.reply,
                            &outgoing,
                            &outgoing.entry.recipient,
                        )?;
                        ids.push(
                            self.post(&outgoing.entry.recipient, &template, parts_sent)
                                .await?,
                        );
                        return Ok(ids);
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(ids)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::accepted_id;

    #[test]
    fn the_platform_id_is_read_from_each_products_answer() {
        // WhatsApp Cloud API.
        let whatsapp = br#"{"messaging_product":"whatsapp","contacts":[{"input":"48600","wa_id":"48600"}],"messages":[{"id":"wamid.HBgL"}]}"#;
        assert_eq!(accepted_id(whatsapp), "wamid.HBgL");
        // Messenger and Instagram Send API.
        let messenger = br#"{"recipient_id":"1254477777772919","message_id":"m_AG5Hz2Uq7"}"#;
        assert_eq!(accepted_id(messenger), "m_AG5Hz2Uq7");
        // A message entry without an id falls back to `message_id`.
        assert_eq!(
            accepted_id(br#"{"messages":[{}],"message_id":"m_1"}"#),
            "m_1"
        );
        // An answer naming no id, or no JSON at all, is accepted without one.
        assert_eq!(accepted_id(br#"{"messages":[]}"#), "");
        assert_eq!(accepted_id(b"<html>ok</html>"), "");
        assert_eq!(accepted_id(b""), "");
    }
}

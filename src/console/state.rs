//! What the console's handlers share: the parts of the application they use, and nothing
//! of the web chat's or the webhooks'. The HTTP layer builds it from its own state, so the
//! console does not depend on the HTTP layer.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::driver::{Ingest, Shared};
use crate::render::Renderer;
use crate::settings::Settings;
use crate::store::Store;

#[derive(Clone)]
pub struct ConsoleState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub ingest: Ingest,
    pub renderer: Renderer,
    /// Cancelled when shutdown begins; the event stream ends on it.
    pub shutdown: CancellationToken,
    /// Conversations that changed, for open consoles.
    pub console_feed: super::ConsoleFeed,
    /// The running catalog and flow settings, the outbox feed, waiting callers.
    pub shared: Arc<Shared>,
    pub login_limiter: Arc<super::LoginLimiter>,
    pub canned: Arc<super::CannedReplies>,
}

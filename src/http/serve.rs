//! souk's own accept loop, in place of `axum::serve`, which runs hyper without a timer: with
//! it no header timeout applies, and a thousand idle connections held the process's every
//! file descriptor ("accept error: Too many open files") for as long as they stayed open.
//! Here each connection must send its request headers within `header_timeout` (hyper starts
//! that clock again while a keep-alive connection waits for its next request, so it is also
//! the idle timeout), at most `max_connections` are open at once, and an accept error backs
//! off briefly instead of spinning. When every slot is taken, the connection idle the longest
//! (no request in progress, no event stream) is closed to make room, so a crowd of silent
//! connections cannot keep a health check or a customer waiting for the header timeout.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower_service::Service as _;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    /// How long a graceful stop waits for open requests (SSE streams end on their own).
    pub grace: Duration,
}

/// One open connection, as the eviction sees it.
struct Open {
    /// When it last started or finished a request (or was accepted).
    last_active: Mutex<Instant>,
    /// Requests whose response has not been produced yet.
    in_flight: AtomicUsize,
    /// It serves a server-sent event stream: a customer or operator watching live.
    streaming: AtomicBool,
    close: CancellationToken,
}

impl Open {
    fn touch(&self) {
        *self
            .last_active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
    }

    fn idle_since(&self) -> Option<Instant> {
        let busy =
            self.in_flight.load(Ordering::Acquire) > 0 || self.streaming.load(Ordering::Acquire);
        (!busy).then(|| {
            *self
                .last_active
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
    }
}

#[derive(Default)]
struct Registry {
    next: AtomicUsize,
    open: Mutex<HashMap<usize, Arc<Open>>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Arc<Open>>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Closes the connection idle the longest; false when every one is busy.
    fn evict_idlest(&self) -> bool {
        let open = self.lock();
        let idlest = open
            .values()
            .filter(|conn| !conn.close.is_cancelled())
            .filter_map(|conn| conn.idle_since().map(|since| (since, conn)))
            .min_by_key(|(since, _)| *since);
        match idlest {
            Some((_, conn)) => {
                conn.close.cancel();
                metrics::counter!("souk_http_connections_evicted_total").increment(1);
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish
/// (up to `grace`) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let stopping = CancellationToken::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let registry = Arc::new(Registry::default());
    tokio::pin!(shutdown);
    loop {
        if slots.available_permits() == 0 {
            registry.evict_idlest();
        }
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or the peer gave up before we took it: wait a
                    // little (another connection may close) and go on.
                    metrics::counter!("souk_accept_errors_total").increment(1);
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        metrics::gauge!("souk_http_connections").increment(1.0);
        let router = router.clone();
        let builder = builder.clone();
        let stopping = stopping.clone();
        let id = registry.next.fetch_add(1, Ordering::Relaxed);
        let open = Arc::new(Open {
            last_active: Mutex::new(Instant::now()),
            in_flight: AtomicUsize::new(0),
            streaming: AtomicBool::new(false),
            close: CancellationToken::new(),
        });
        registry.lock().insert(id, open.clone());
        let registry = registry.clone();
        tokio::spawn(async move {
            let watched = open.clone();
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    // The peer address feeds the console's and the web chat's rate limits.
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    let mut router = router.clone();
                    let open = watched.clone();
                    open.in_flight.fetch_add(1, Ordering::AcqRel);
                    open.touch();
                    async move {
                        let response = router.call(request).await;
                        if let Ok(response) = &response
                            && response
                                .headers()
                                .get(axum::http::header::CONTENT_TYPE)
                                .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"))
                        {
                            open.streaming.store(true, Ordering::Release);
                        }
                        open.in_flight.fetch_sub(1, Ordering::AcqRel);
                        open.touch();
                        response
                    }
                });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_connection_end(result),
                // Evicted to make room: dropped at once (it was idle).
                () = open.close.cancelled() => {}
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    log_connection_end(connection.await);
                }
            }
            registry.lock().remove(&id);
            metrics::gauge!("souk_http_connections").decrement(1.0);
            drop(slot);
        });
    }
    // Stop accepting; ask every connection to finish its request and close, then wait for
    // them (each holds a slot until it ends).
    drop(listener);
    stopping.cancel();
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period; closing them");
    }
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        if error.is_timeout() {
            metrics::counter!("souk_http_connection_timeouts_total").increment(1);
        }
        tracing::debug!(%error, "connection ended");
    }
}

/// Binds the listening socket with a deep accept queue: a burst of connects (hundreds at
/// once) waits there instead of having its SYNs dropped and retried a second later, which
/// is what a health check behind such a burst saw with the default of 128.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(4_096)
}

/// Raises the soft open-file limit to the hard one (the default soft limit, often 1,024, is
/// what a few idle clients exhausted), and returns how many connections fit under it with
/// room left for the store's files, outgoing requests and the platform gateways.
pub fn connection_budget(wanted: usize) -> usize {
    const RESERVED: u64 = 256;
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1_024, |(soft, _)| soft)
        }
    };
    let fits = usize::try_from(limit.saturating_sub(RESERVED).max(16)).unwrap_or(usize::MAX);
    if fits < wanted {
        tracing::warn!(
            open_file_limit = limit,
            max_connections = fits,
            "server.max_connections lowered to fit the open-file limit"
        );
    }
    wanted.min(fits)
}

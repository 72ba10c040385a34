//! Durable timers at scale: a store holding 1,000,000 pending timers, 990,000 of them days
//! ahead and 10,000 falling due within one second a few seconds after start-up.
//!
//!     cargo run --release --example timers_bench -- [pending] [due-together] [spread-ms] [lead-s]
//!
//! Defaults: 1000000 10000 1000 15. Three phases:
//!
//! 1. Fill (set-up, not the target), in a child process so that its memory does not count:
//!    every timer belongs to a conversation of its own (a `Conversation::new` with its
//!    session-expiry timer armed) and is written as a `StepCommit` through `commit_batch`,
//!    the way a worker writes it. The timers that fall due together are written last, due
//!    `lead-s` seconds after the fill ends, spread evenly over `spread-ms`. The store is then
//!    settled as `souk serve` does after a graceful stop (`souk::store::settle`, timed: a start
//!    after a crash pays that time on top of the start-up below).
//! 2. Start-up: `App::build` on that store, then serving on 127.0.0.1, until `/readyz`
//!    answers 200. Resident memory (VmRSS, VmHWM) is read before and after.
//! 3. Lateness of every timer that falls due together, as the running app processes it
//!    (timers task → inbox → worker step → group commit), observed from outside in two ways:
//!    - fired: a thread polls the store's earliest pending timer (`next_timer_due`) about
//!      every millisecond; a timer has fired (left the timer tree and entered the inbox, one
//!      transaction) once the earliest pending one is due later than it;
//!    - committed: the operators' console feed (`/console/api/events`, server-sent events)
//!      names each conversation its worker published after the group commit returned, that
//!      is after the step's transaction (conversation written, inbox entry removed) and its
//!      fsync. The time the event reaches this client over 127.0.0.1 is the commit time.
//!
//!    Lateness = that time − the timer's due time. At the end every conversation is read back
//!    to check that its timer was really stepped.
//!
//! Targets (from the issue): p99 lateness under 1 s, start-up under 2 s.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;

use flows::{Conversation, CustomerId, Locale, Span, TimerKind, Timestamp};
use souk::settings::Settings;
use souk::store::{ConsoleSession, Operator, Role, StepCommit, Store, TimerChange, TimerEntry};
use souk::{App, AppOptions};

// The allocator the binary uses, so memory and speed are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The hidden first argument that makes this program the fill child.
const FILL: &str = "--fill";
/// Steps per store transaction while filling.
const FILL_BATCH: usize = 1_000;
/// The fill commits consume no inbox entry; removing an absent key is a no-op.
const NO_INBOX_ENTRY: u64 = u64::MAX;
/// The console's session cookie (docs/console-api.md).
const CONSOLE_COOKIE: &str = "souk_console";
const DAY_MS: i64 = 24 * 3_600_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(FILL) {
        return fill(&args[1..]);
    }
    let arg = |index: usize, default: u64| -> anyhow::Result<u64> {
        args.get(index)
            .map_or(Ok(default), |a| a.parse())
            .map_err(|e| anyhow::anyhow!("argument {}: {e}", index + 1))
    };
    let config = Config {
        pending: arg(0, 1_000_000)?,
        due: arg(1, 10_000)?,
        spread_ms: arg(2, 1_000)?.max(1),
        lead_s: arg(3, 15)?,
    };
    anyhow::ensure!(
        config.due >= 1 && config.due <= config.pending,
        "due-together must be between 1 and pending"
    );
    if std::env::var_os("RUST_LOG").is_some() {
        souk::telemetry::init_tracing();
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(config))
}

#[derive(Clone, Copy)]
struct Config {
    pending: u64,
    due: u64,
    spread_ms: u64,
    lead_s: u64,
}

/// 128 pseudo-random bits from the index, as hex: the shape of souk's own customer ids, so
/// conversations land all over the key space as real ones do.
fn customer_id(index: u64) -> CustomerId {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    CustomerId(format!(
        "{:016x}{:016x}",
        mix(index),
        mix(index ^ 0x5555_5555_5555_5555)
    ))
}

/// When timer `j` of the ones falling due together is due.
fn due_of(due_start: i64, j: u64, config: &Config) -> Timestamp {
    let offset = i64::try_from(j * config.spread_ms / config.due).unwrap_or(0);
    Timestamp(due_start + offset)
}

/// A conversation whose session-expiry timer is armed for `due`: what a worker commits
/// after a customer's message. Its last message is a day before `due`, so when the timer
/// fires the silence is real and the step resets the session (the timer slot is emptied).
fn armed(customer: CustomerId, due: Timestamp, now: Timestamp) -> StepCommit {
    let mut conversation = Conversation::new(customer.clone(), Locale::En);
    conversation.reach.last_inbound_at = Some(Timestamp(due.millis() - DAY_MS));
    conversation.session_timer_due = Some(due);
    StepCommit {
        inbox_seq: NO_INBOX_ENTRY,
        conversation,
        history: Vec::new(),
        outbox: Vec::new(),
        timers: vec![TimerChange::Set(TimerEntry {
            customer,
            kind: TimerKind::SessionExpiry,
            due,
        })],
        orders: Vec::new(),
        order_updates: Vec::new(),
        payment_jobs: Vec::new(),
        now,
    }
}

/// The child: fills the store, settles it, prints `filled <due start ms> <fill ms> <bytes on
/// disk> <settle ms>`.
fn fill(args: &[String]) -> anyhow::Result<()> {
    // Its own process, no runtime yet: one for the store's calls.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(fill_store(args))
}

async fn fill_store(args: &[String]) -> anyhow::Result<()> {
    let [dir, pending, due, spread_ms, lead_s] = args else {
        anyhow::bail!("usage: {FILL} DIR PENDING DUE SPREAD_MS LEAD_S");
    };
    let config = Config {
        pending: pending.parse()?,
        due: due.parse()?,
        spread_ms: spread_ms.parse()?,
        lead_s: lead_s.parse()?,
    };
    let store = souk::store::open(&store_settings(dir)).await?;
    let started = Instant::now();
    let now = souk::clock::now();
    let far = config.pending - config.due;
    // Days ahead: between two and nine days from now, in no particular order.
    let mut rng = fastrand::Rng::with_seed(11);
    let mut written = 0u64;
    let mut batch = Vec::with_capacity(FILL_BATCH);
    for i in 0..far {
        let due = now.plus(Span(2 * DAY_MS + rng.i64(0..7 * DAY_MS)));
        batch.push(armed(customer_id(i), due, now));
        if batch.len() == FILL_BATCH {
            store.commit_batch(std::mem::take(&mut batch)).await?;
        }
        written += 1;
        if written % 100_000 == 0 {
            eprintln!(
                "  filled {written} timers in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if !batch.is_empty() {
        store.commit_batch(std::mem::take(&mut batch)).await?;
    }
    // Their second is placed from the end of the fill, so it falls after start-up however
    // long the fill took.
    let lead = i64::try_from(config.lead_s)? * 1_000;
    let due_start = souk::clock::now().millis() + lead;
    let now = souk::clock::now();
    for j in 0..config.due {
        batch.push(armed(
            customer_id(far + j),
            due_of(due_start, j, &config),
            now,
        ));
        if batch.len() == FILL_BATCH {
            store.commit_batch(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.commit_batch(batch).await?;
    }
    store.flush().await?;
    let fill_ms = started.elapsed().as_millis();
    let size = store.size_on_disk().await?;
    drop(store);
    // The filling process stops the way `souk serve` stops on SIGTERM: it settles the store
    // (sled replays its log and writes a fresh snapshot), so the start measured next is the
    // start after a graceful stop; a start after a crash pays this time on top. In this
    // process, so that its memory does not count either.
    let settle_ms = souk::store::settle(&store_settings(dir))?.as_millis();
    println!("filled {due_start} {fill_ms} {size} {settle_ms}");
    Ok(())
}

/// VmRSS and VmHWM of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Wall-clock time in microseconds since the epoch (due times are wall-clock milliseconds).
fn wall_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The `p`-quantile of sorted lateness values (microseconds), in milliseconds.
fn quantile_ms(sorted: &[i64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1e3
}

fn summarize(name: &str, mut lateness_us: Vec<i64>, expected: usize) -> Option<f64> {
    lateness_us.sort_unstable();
    if lateness_us.is_empty() {
        println!("  {name}: none observed (of {expected})");
        return None;
    }
    let p99 = quantile_ms(&lateness_us, 0.99);
    println!(
        "  {name}: {} of {expected} observed; lateness p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (min {:.1} ms)",
        lateness_us.len(),
        quantile_ms(&lateness_us, 0.50),
        quantile_ms(&lateness_us, 0.90),
        p99,
        quantile_ms(&lateness_us, 1.0),
        quantile_ms(&lateness_us, 0.0),
    );
    Some(p99)
}

/// Polls the store's earliest pending timer and notes, for each timer of `due` (sorted),
/// the first time it was no longer pending. Cheap: one read of the tree's first key.
fn watch_firing(
    store: Arc<dyn Store>,
    due: Vec<Timestamp>,
    stop: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
) -> Vec<Option<i64>> {
    let mut fired = vec![None; due.len()];
    let mut next = 0;
    let first_due_us = due.first().map_or(0, |d| d.millis() * 1_000);
    while next < due.len() && !stop.load(Ordering::Relaxed) {
        // Sleep coarsely until shortly before the first one is due.
        if wall_us() < first_due_us - 200_000 {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        // On its own thread, off the runtime the app runs on: it waits for the answer.
        let earliest = match runtime.block_on(store.next_timer_due()) {
            Ok(earliest) => earliest,
            Err(error) => {
                eprintln!("next_timer_due failed: {error}");
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
        };
        let at = wall_us();
        // Timers due in the same millisecond fire in the same transaction (every timer due
        // at the scan's `now` goes at once), so "the earliest pending is later" is exact.
        while next < due.len() && earliest.is_none_or(|e| e > due[next]) {
            fired[next] = Some(at);
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    fired
}

/// Reads the console feed and notes when each watched conversation was first announced.
/// The feed ends a stream that falls more than 1024 changes behind; it is then reopened
/// (changes in between are lost and show up as unobserved).
async fn watch_commits(
    client: reqwest::Client,
    url: String,
    cookie: String,
    index: Arc<HashMap<String, usize>>,
    count: usize,
    deadline: Instant,
) -> (Vec<Option<i64>>, usize) {
    let mut committed: Vec<Option<i64>> = vec![None; count];
    let mut seen = 0;
    let mut reopened = 0;
    while seen < count && Instant::now() < deadline {
        let response = match client
            .get(&url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
        {
            Ok(response) if response.status() == 200 => response,
            Ok(response) => {
                eprintln!("console feed answered {}", response.status());
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(error) => {
                eprintln!("console feed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut stream = response.bytes_stream();
        let mut buffer = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = match tokio::time::timeout(left, stream.next()).await {
                Ok(Some(Ok(chunk))) => chunk,
                Ok(Some(Err(_)) | None) => break,
                Err(_) => return (committed, reopened),
            };
            let at = wall_us();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                for line in event.lines() {
                    let Some(data) = line.strip_prefix("data:") else {
                        continue;
                    };
                    let Ok(value) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
                        continue;
                    };
                    let Some(&i) = value["customer"].as_str().and_then(|c| index.get(c)) else {
                        continue;
                    };
                    if committed[i].is_none() {
                        committed[i] = Some(at);
                        seen += 1;
                    }
                }
            }
            if seen == count {
                return (committed, reopened);
            }
        }
        reopened += 1;
    }
    (committed, reopened)
}

async fn run(config: Config) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");

    // 1. Fill, in a child process.
    println!(
        "durable timers: {} pending, {} of them due within {} ms, {} s after the fill ends",
        config.pending, config.due, config.spread_ms, config.lead_s
    );
    let output = Command::new(std::env::current_exe()?)
        .arg(FILL)
        .arg(&data)
        .args([
            config.pending.to_string(),
            config.due.to_string(),
            config.spread_ms.to_string(),
            config.lead_s.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(output.status.success(), "the fill failed");
    let report = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<i64> = report
        .lines()
        .find_map(|l| l.strip_prefix("filled "))
        .ok_or_else(|| anyhow::anyhow!("the fill printed no result: {report}"))?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [due_start, fill_ms, size, settle_ms] = fields[..] else {
        anyhow::bail!("unexpected fill result: {report}");
    };
    println!(
        "fill (set-up): {} timers in {:.1} s ({:.0} timers/s, batches of {FILL_BATCH} steps); store on disk {:.0} MiB",
        config.pending,
        fill_ms as f64 / 1e3,
        config.pending as f64 / (fill_ms.max(1) as f64 / 1e3),
        size as f64 / (1024.0 * 1024.0)
    );
    println!(
        "settle after the fill (what a graceful stop does; a start after a crash adds it): {settle_ms} ms"
    );

    // 2. Start-up.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut settings = Settings::load(&root.join("config/souk.toml"))?;
    settings.store.path = data.clone();
    // Only 127.0.0.1 traffic, whatever the environment says.
    settings.channels.whatsapp.enabled = false;
    settings.channels.messenger.enabled = false;
    settings.channels.instagram.enabled = false;
    settings.channels.telegram.enabled = false;
    settings.channels.discord.enabled = false;
    let client = reqwest::Client::new();
    let (rss_before, _) = memory_kib();
    let started = Instant::now();
    let app = App::build(settings, AppOptions::default()).await?;
    let built = started.elapsed();
    let store = app.store();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));
    loop {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "not ready after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ready = started.elapsed();
    let ready_at_ms = souk::clock::now().millis();
    let (rss_ready, hwm_ready) = memory_kib();
    println!(
        "start-up: App::build {:.0} ms, ready (/readyz 200) after {:.0} ms — target < 2000 ms: {}",
        built.as_secs_f64() * 1e3,
        ready.as_secs_f64() * 1e3,
        if ready < Duration::from_secs(2) {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "memory after start-up: VmRSS {:.0} MiB (before App::build {:.0} MiB, so +{:.0} MiB), VmHWM {:.0} MiB",
        mib(rss_ready),
        mib(rss_before),
        mib(rss_ready.saturating_sub(rss_before)),
        mib(hwm_ready)
    );
    if ready_at_ms >= due_start {
        println!(
            "warning: the app was ready {} ms after the first timer fell due; lateness includes start-up",
            ready_at_ms - due_start
        );
    } else {
        println!(
            "the due second starts {:.1} s after the app was ready",
            (due_start - ready_at_ms) as f64 / 1e3
        );
    }

    // 3. Lateness.
    let far = config.pending - config.due;
    let count = usize::try_from(config.due)?;
    let ids: Vec<CustomerId> = (0..config.due).map(|j| customer_id(far + j)).collect();
    let due: Vec<Timestamp> = (0..config.due)
        .map(|j| due_of(due_start, j, &config))
        .collect();
    let index: Arc<HashMap<String, usize>> = Arc::new(
        ids.iter()
            .enumerate()
            .map(|(i, id)| (id.0.clone(), i))
            .collect(),
    );
    // A console session written straight into the store (no password login: argon2 would
    // only cost time here), for the feed.
    let now = souk::clock::now();
    store
        .put_operator(
            &Operator {
                name: "bench".into(),
                display_name: String::new(),
                role: Role::Agent,
                password_hash: "unused: the session is made directly".into(),
                created_at: now,
            },
            true,
        )
        .await?;
    let token = "timers-bench-session-token";
    store
        .put_console_session(
            &souk::console::session_digest(token),
            &ConsoleSession {
                operator: "bench".into(),
                csrf: "unused".into(),
                created_at: now,
                expires_at: now.plus(Span::hours(1)),
            },
        )
        .await?;
    let deadline_us = (due_start + i64::try_from(config.spread_ms)? + 120_000) * 1_000;
    let deadline =
        Instant::now() + Duration::from_micros(u64::try_from(deadline_us - wall_us()).unwrap_or(0));
    let commits = tokio::spawn(watch_commits(
        client.clone(),
        format!("{base}/console/api/events"),
        format!("{CONSOLE_COOKIE}={token}"),
        index,
        count,
        deadline,
    ));
    let stop_firing = Arc::new(AtomicBool::new(false));
    let firing = {
        let store = store.clone();
        let due = due.clone();
        let stop = stop_firing.clone();
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || watch_firing(store, due, stop, runtime))
    };
    let (committed, reopened) = commits.await?;
    stop_firing.store(true, Ordering::Relaxed);
    let fired = firing
        .join()
        .map_err(|_| anyhow::anyhow!("the firing watcher panicked"))?;
    let (rss_end, hwm_end) = memory_kib();

    // Every conversation read back: was its timer stepped (the slot emptied or re-armed)?
    let mut stepped = 0;
    for (id, due) in ids.iter().zip(&due) {
        if store
            .conversation(id)
            .await?
            .is_some_and(|c| c.session_timer_due != Some(*due))
        {
            stepped += 1;
        }
    }
    let still_pending = store
        .next_timer_due()
        .await?
        .is_some_and(|next| next <= due[count - 1]);

    let lateness = |times: &[Option<i64>]| -> Vec<i64> {
        times
            .iter()
            .zip(&due)
            .filter_map(|(at, due)| at.map(|at| at - due.millis() * 1_000))
            .collect()
    };
    let last_commit = committed.iter().flatten().max().copied();
    println!(
        "lateness of the {count} timers due between +0 and +{} ms (time observed − due time):",
        config.spread_ms
    );
    summarize(
        "fired (left the timer tree for the inbox; store polled about every 1 ms)",
        lateness(&fired),
        count,
    );
    let p99 = summarize(
        "committed (worker stepped it, group commit written and fsynced; console feed over 127.0.0.1)",
        lateness(&committed),
        count,
    );
    if let Some(last) = last_commit {
        println!(
            "  last commit observed {:.0} ms after the first timer was due",
            (last - due_start * 1_000) as f64 / 1e3
        );
    }
    println!(
        "  read back: {stepped} of {count} conversations stepped by their timer; timers of the due second still pending: {}; feed reopened {reopened} times",
        if still_pending { "yes" } else { "none" }
    );
    println!(
        "memory after the burst: VmRSS {:.0} MiB, VmHWM {:.0} MiB",
        mib(rss_end),
        mib(hwm_end)
    );
    let all_seen = committed.iter().all(Option::is_some);
    println!(
        "targets: start-up < 2 s: {}; p99 commit lateness < 1 s: {}",
        if ready < Duration::from_secs(2) {
            "met"
        } else {
            "MISSED"
        },
        match p99 {
            Some(p99) if p99 >= 1_000.0 => "MISSED",
            Some(_) if all_seen => "met",
            _ => "UNKNOWN (not every commit was observed)",
        }
    );

    let stopping = Instant::now();
    let _ = stop.send(());
    server.await??;
    println!("shutdown: {:.0} ms", stopping.elapsed().as_secs_f64() * 1e3);
    // The store's file lock goes with the last handle.
    drop(store);

    // How much of start-up is the store: opening it alone, now that the app has let go.
    let opening = Instant::now();
    let reopened = souk::store::open(&store_settings(&data)).await?;
    println!(
        "store open alone (after the run, page cache warm): {:.0} ms",
        opening.elapsed().as_secs_f64() * 1e3
    );
    drop(reopened);
    Ok(())
}

/// The store settings `souk serve` would use for a store at `dir`.
fn store_settings(dir: impl AsRef<std::path::Path>) -> souk::settings::StoreSettings {
    souk::settings::StoreSettings::sled(dir.as_ref())
}

//! What each kind of per-message sled write costs, on sled alone: the writes one step and
//! one delivery made before the history log took history and sent records (a round of 80
//! steps in one transaction, then the deliveries as plain writes, then a flush), with the
//! benchmark's record sizes and 1,000 conversations. Prints the CPU time per step with all
//! writes and with each kind left out, so the differences are each kind's cost:
//!
//!     cargo run --release --example sled_write_costs [ROUNDS]
//!
//! (ROUNDS of 80 steps, 1,500 by default; the trees grow as in a long run.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

/// One kind of write a message made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Write {
    /// The inbound event's dedup mark: a random key, a tree that keeps growing.
    Processed,
    /// The conversation (571 bytes) under one of 1,000 keys, rewritten.
    Conversation,
    /// The console summary (147 bytes), read and rewritten.
    Summary,
    /// The outbox entry (300 bytes): inserted in the round, removed at delivery.
    Outbox,
    /// The sent record (100 bytes) at delivery, at the growing end of its tree.
    Sent,
}

const ALL: [Write; 5] = [
    Write::Processed,
    Write::Conversation,
    Write::Summary,
    Write::Outbox,
    Write::Sent,
];
const STEPS_PER_ROUND: u64 = 80;

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_500);
    println!("{rounds} rounds of {STEPS_PER_ROUND} steps; souk's CPU per step:");
    let all = run(rounds, &ALL);
    println!("  every write:          {all:6.2} µs");
    for left_out in ALL {
        let kept: Vec<Write> = ALL.into_iter().filter(|w| *w != left_out).collect();
        let without = run(rounds, &kept);
        println!(
            "  without {:<14} {without:6.2} µs  ({:+.2})",
            format!("{left_out:?}:"),
            without - all
        );
    }
    println!("  none:                 {:6.2} µs", run(rounds, &[]));
}

/// CPU microseconds per step (this process's user and system time, sled's threads too).
fn run(rounds: u64, writes: &[Write]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new()
        .path(dir.path())
        .flush_every_ms(Some(500))
        .open()
        .unwrap();
    let tree = |name: &str| db.open_tree(name).unwrap();
    let (processed, conversations, summaries) =
        (tree("processed"), tree("conversations"), tree("summaries"));
    let (outbox, sent, history) = (tree("outbox"), tree("sent"), tree("history"));
    let has = |write: Write| writes.contains(&write);
    let (conversation, summary) = (vec![b'c'; 571], vec![b's'; 147]);
    let (entry, record) = (vec![b'o'; 300], vec![b'x'; 100]);
    let mut random = xorshift(0x9E37_79B9_7F4A_7C15);
    let cpu_before = cpu_seconds();
    for round in 0..rounds {
        let steps: Vec<(String, String)> = (0..STEPS_PER_ROUND)
            .map(|_| {
                let mark = format!("wamid.HBgL{:016x}{:016x}", random(), random());
                (mark, format!("{:032x}", random() % 1_000))
            })
            .collect();
        let first = round * STEPS_PER_ROUND;
        (&processed, &conversations, &summaries, &outbox, &history)
            .transaction(|(p, c, s, o, h)| {
                for (id, (mark, customer)) in (first..).zip(&steps) {
                    if has(Write::Processed) {
                        p.insert(mark.as_bytes(), &[1u8; 8])?;
                    }
                    if has(Write::Conversation) {
                        c.insert(customer.as_bytes(), conversation.as_slice())?;
                    }
                    if has(Write::Summary) {
                        s.get(customer.as_bytes())?;
                        s.insert(customer.as_bytes(), summary.as_slice())?;
                    }
                    if has(Write::Outbox) {
                        o.insert(&id.to_be_bytes(), entry.as_slice())?;
                    }
                }
                h.insert(b"\xffend", &[0u8; 16])?;
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .unwrap();
        for id in first..first + STEPS_PER_ROUND {
            if has(Write::Sent) {
                let mut key = b"#".to_vec();
                key.extend_from_slice(&id.to_be_bytes());
                key.extend_from_slice(b"whatsapp\0wamid");
                sent.insert(key, record.as_slice()).unwrap();
            }
            if has(Write::Outbox) {
                outbox.remove(id.to_be_bytes()).unwrap();
            }
        }
        db.flush().unwrap();
    }
    let cpu = cpu_seconds() - cpu_before;
    cpu * 1e6 / (rounds * STEPS_PER_ROUND) as f64
}

fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// User and system time of this process so far (/proc/self/stat, in clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

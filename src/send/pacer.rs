//! Paces sends to a platform's throughput limit (e.g. WhatsApp's 80 messages per second per
//! number): each send takes the next free slot, waiting if it is in the future.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct Pacer {
    interval: Duration,
    next_slot: Mutex<Instant>,
}

impl Pacer {
    pub fn per_second(rate: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(1) / rate.max(1),
            next_slot: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this send's slot. Slots are handed out in call order.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            // An idle period does not bank a burst beyond one interval.
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Keeps a least gap between messages to the same recipient. Conversations already send
/// one at a time; this spaces the parts of one reply.
pub struct RecipientGap {
    gap: Duration,
    last: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
}

/// Recipients not written to for this long are forgotten, bounding the map.
const FORGET_AFTER: Duration = Duration::from_secs(60);

impl RecipientGap {
    pub fn new(gap: Duration) -> RecipientGap {
        RecipientGap {
            gap,
            last: std::sync::Mutex::default(),
        }
    }

    pub async fn wait(&self, recipient: &str) {
        if self.gap.is_zero() {
            return;
        }
        let slot = {
            let mut last = self
                .last
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            if last.len() > 10_000 {
                last.retain(|_, at| now.saturating_duration_since(*at) < FORGET_AFTER);
            }
            let slot = last
                .get(recipient)
                .map_or(now, |previous| (*previous + self.gap).max(now));
            last.insert(recipient.to_owned(), slot);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_sends_by_the_rate() {
        let pacer = Pacer::per_second(10);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Slots at 0, 100, 200, 300, 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn spaces_messages_to_one_recipient_only() {
        let gap = RecipientGap::new(Duration::from_millis(250));
        let start = Instant::now();
        gap.wait("a").await;
        gap.wait("b").await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "different recipients do not wait"
        );
        gap.wait("a").await;
        gap.wait("a").await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
    }
}

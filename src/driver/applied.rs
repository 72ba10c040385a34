//! Callers that wait for one event's step (the console applying an operator's action, then
//! answering with the conversation as it is after it) get told when it was committed or set
//! aside, on a channel of their own, instead of polling the inbox.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::oneshot;

/// What became of a watched event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Its step is committed.
    Applied,
    /// Its step kept failing; it is out of the queue for an admin to look at.
    SetAside,
}

#[derive(Default)]
pub struct Applied {
    waiting: Mutex<HashMap<u64, oneshot::Sender<Settled>>>,
    /// So the workers skip the lock when nobody waits, which is nearly always.
    count: AtomicUsize,
}

impl Applied {
    /// Watch inbox entry `seq`; call before it is dispatched, so its news cannot be missed.
    pub fn watch(&self, seq: u64) -> oneshot::Receiver<Settled> {
        let (sender, receiver) = oneshot::channel();
        let mut waiting = self.lock();
        if waiting.insert(seq, sender).is_none() {
            self.count.fetch_add(1, Ordering::Release);
        }
        receiver
    }

    /// Stop watching `seq` (the caller gave up waiting).
    pub fn forget(&self, seq: u64) {
        if self.lock().remove(&seq).is_some() {
            self.count.fetch_sub(1, Ordering::Release);
        }
    }

    /// The steps of `seqs` are committed (or set aside).
    pub fn settled(&self, seqs: impl IntoIterator<Item = u64>, how: Settled) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut waiting = self.lock();
        for seq in seqs {
            if let Some(sender) = waiting.remove(&seq) {
                self.count.fetch_sub(1, Ordering::Release);
                // The caller may have gone; nothing to tell then.
                let _ = sender.send(how);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Settled>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watcher_hears_its_event_once_and_others_are_ignored() {
        let applied = Applied::default();
        let mut first = applied.watch(7);
        applied.settled([3, 7, 9], Settled::Applied);
        assert_eq!(first.try_recv(), Ok(Settled::Applied));
        let mut second = applied.watch(8);
        applied.forget(8);
        applied.settled([8], Settled::SetAside);
        assert!(second.try_recv().is_err(), "forgotten");
        assert_eq!(applied.count.load(Ordering::Acquire), 0);
    }
}

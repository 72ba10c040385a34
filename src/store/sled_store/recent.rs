//! The conversations and customer records workers read before each step, kept in memory.
//!
//! Reading them from sled cost a worker two tree walks and a JSON decode per event, and,
//! worse, a read waits on sled 0.34's global transaction lock: while a group commit's
//! transaction ran, any worker reading its next conversation stalled a runtime thread.
//! A step's commit already holds the conversation it wrote, so the cache is filled from
//! the commits themselves and the workers' reads rarely reach sled.
//!
//! Coherence, the invariant: a cached value is the newest committed one.
//! - Steps' commits put their conversations here after their transaction, while holding
//!   `writes`; every other write of conversations or customer records (merges, unmerges,
//!   erasures, a number moved) holds `writes` too and empties the cache after its
//!   transaction. So the cache changes in the order the store did.
//! - A reader that missed fills in what it read only if nothing was emptied meanwhile
//!   (`generation`) and no commit put a value there first (that one is newer).
//! - Only records that exist are kept: a new customer's first read misses, which is cheap.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use flows::{Conversation, Customer, CustomerId};

/// Entries kept of each kind; past it the cache is emptied and refills with the active ones
/// (a conversation in memory is a few KB: a few tens of MB at most).
const CAPACITY: usize = 4096;

#[derive(Default)]
pub(super) struct Recent {
    kept: Mutex<Kept>,
    writes: Mutex<()>,
}

#[derive(Default)]
struct Kept {
    /// Bumped whenever entries are dropped: a read begun before must not fill in.
    generation: u64,
    conversations: HashMap<CustomerId, Conversation>,
    customers: HashMap<CustomerId, Customer>,
}

/// What the cache held for one customer, and when it was asked.
pub(super) struct Lookup {
    pub conversation: Option<Conversation>,
    pub customer: Option<Customer>,
    generation: u64,
}

impl Kept {
    fn forget_all(&mut self) {
        self.generation += 1;
        self.conversations.clear();
        self.customers.clear();
    }

    fn make_room(&mut self) {
        if self.conversations.len() >= CAPACITY || self.customers.len() >= CAPACITY {
            self.forget_all();
        }
    }
}

impl Recent {
    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn lookup(&self, id: &CustomerId) -> Lookup {
        let kept = self.kept();
        Lookup {
            conversation: kept.conversations.get(id).cloned(),
            customer: kept.customers.get(id).cloned(),
            generation: kept.generation,
        }
    }

    /// Keeps what a reader found in the store after `lookup` missed.
    pub fn fill(
        &self,
        asked: &Lookup,
        id: &CustomerId,
        conversation: Option<&Conversation>,
        customer: Option<&Customer>,
    ) {
        let mut kept = self.kept();
        if kept.generation != asked.generation {
            return;
        }
        kept.make_room();
        if kept.generation != asked.generation {
            return;
        }
        if let Some(conversation) = conversation
            && !kept.conversations.contains_key(id)
        {
            kept.conversations.insert(id.clone(), conversation.clone());
        }
        if let Some(customer) = customer
            && !kept.customers.contains_key(id)
        {
            kept.customers.insert(id.clone(), customer.clone());
        }
    }

    /// Held from before a write of conversations or customer records until the cache has
    /// followed it (`stepped` or `forget_all`).
    pub fn writing(&self) -> MutexGuard<'_, ()> {
        self.writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Steps committed these conversations (in commit order: a later one wins).
    pub fn stepped<'a>(&self, conversations: impl IntoIterator<Item = &'a Conversation>) {
        let mut kept = self.kept();
        for conversation in conversations {
            kept.make_room();
            kept.conversations
                .insert(conversation.customer.clone(), conversation.clone());
        }
    }

    /// After any other write of conversations or customer records.
    pub fn forget_all(&self) {
        self.kept().forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: &str, note: &str) -> Conversation {
        let mut conversation = Conversation::new(CustomerId(id.into()), flows::Locale::En);
        // Versions told apart by the name the customer gave.
        conversation.profile.name = Some(note.into());
        conversation
    }

    fn name(found: &Option<Conversation>) -> Option<String> {
        found.as_ref().and_then(|c| c.profile.name.clone())
    }

    #[test]
    fn a_commit_is_what_the_next_read_gets() {
        let recent = Recent::default();
        let id = CustomerId("c1".into());
        assert!(recent.lookup(&id).conversation.is_none());
        recent.stepped([&conversation("c1", "v1")]);
        assert_eq!(name(&recent.lookup(&id).conversation), Some("v1".into()));
        recent.stepped([&conversation("c1", "v2")]);
        assert_eq!(name(&recent.lookup(&id).conversation), Some("v2".into()));
    }

    #[test]
    fn a_read_older_than_a_commit_does_not_replace_it() {
        let recent = Recent::default();
        let id = CustomerId("c1".into());
        let asked = recent.lookup(&id);
        // The reader read v1 from the store; a commit of v2 lands before it fills in.
        recent.stepped([&conversation("c1", "v2")]);
        recent.fill(&asked, &id, Some(&conversation("c1", "v1")), None);
        assert_eq!(name(&recent.lookup(&id).conversation), Some("v2".into()));
    }

    #[test]
    fn a_read_begun_before_another_write_is_not_kept() {
        let recent = Recent::default();
        let id = CustomerId("c1".into());
        let asked = recent.lookup(&id);
        // A merge rewrote the conversation after the reader read it.
        recent.forget_all();
        recent.fill(
            &asked,
            &id,
            Some(&conversation("c1", "before the merge")),
            None,
        );
        assert!(recent.lookup(&id).conversation.is_none());
        let asked = recent.lookup(&id);
        recent.fill(&asked, &id, Some(&conversation("c1", "after")), None);
        assert_eq!(name(&recent.lookup(&id).conversation), Some("after".into()));
    }

    #[test]
    fn customer_records_are_kept_until_another_write_and_absent_ones_never() {
        let recent = Recent::default();
        let id = CustomerId("c1".into());
        let customer = Customer {
            id: id.clone(),
            identities: Vec::new(),
            display_name: Some("Ana".into()),
            locale: None,
            created_at: flows::Timestamp(0),
        };
        // A new customer's first read finds nothing: nothing is kept for it.
        let asked = recent.lookup(&id);
        recent.fill(&asked, &id, None, None);
        assert!(recent.lookup(&id).customer.is_none());
        let asked = recent.lookup(&id);
        recent.fill(&asked, &id, None, Some(&customer));
        assert_eq!(recent.lookup(&id).customer, Some(customer));
        // Steps never write customer records: a commit leaves it alone.
        recent.stepped([&conversation("c1", "v1")]);
        assert!(recent.lookup(&id).customer.is_some());
        // A merge, an erasure or a moved number does not.
        recent.forget_all();
        let after = recent.lookup(&id);
        assert!(after.customer.is_none() && after.conversation.is_none());
    }

    #[test]
    fn it_stays_within_its_capacity() {
        let recent = Recent::default();
        for n in 0..CAPACITY * 2 + 3 {
            recent.stepped([&conversation(&format!("c{n}"), "v")]);
        }
        let kept = recent.kept();
        assert!(kept.conversations.len() <= CAPACITY);
        assert!(!kept.conversations.is_empty());
    }
}

//! Which dedup keys sled's `processed` tree may hold, answered from memory: the inbox log
//! checks every new event's key, and reading the tree would wait for sled's global lock
//! while a group-commit round's transaction runs (up to ~10 ms under load), on the path a
//! webhook's 200 waits for. A Bloom filter says "certainly not" for almost every new key;
//! only a "maybe" (a real duplicate, or about one new key in a thousand) reads the tree.
//!
//! Filters are added as keys accumulate (each twice the size of the one before), so the
//! false-positive rate stays near its target however many keys the store keeps. Keys pruned
//! or erased from the tree stay in the filters until they are rebuilt from the tree after
//! the daily retention prune (so their memory follows the retention window, not the
//! process's age): a "maybe" too many costs one read, never a wrong answer.

use bloomfilter::Bloom;

/// Keys the first filter is sized for; later ones double.
const FIRST_CAPACITY: usize = 1 << 16;

/// Each filter's false-positive target.
const FALSE_POSITIVES: f64 = 0.001;

pub(super) struct SeenKeys {
    filters: Filters,
    /// While a rebuild scans the tree: the filters that replace these, which also get
    /// every key inserted meanwhile.
    next: Option<Filters>,
}

struct Filters {
    filters: Vec<Filter>,
}

struct Filter {
    bloom: Bloom<[u8]>,
    capacity: usize,
    count: usize,
}

impl Filter {
    fn with_capacity(capacity: usize) -> Option<Filter> {
        match Bloom::new_for_fp_rate(capacity, FALSE_POSITIVES) {
            Ok(bloom) => Some(Filter {
                bloom,
                capacity,
                count: 0,
            }),
            Err(error) => {
                tracing::error!(error, capacity, "could not size a dedup-key filter");
                None
            }
        }
    }
}

impl SeenKeys {
    pub(super) fn new() -> SeenKeys {
        SeenKeys {
            filters: Filters::new(),
            next: None,
        }
    }

    pub(super) fn insert(&mut self, key: &[u8]) {
        self.filters.insert(key);
        if let Some(next) = &mut self.next {
            next.insert(key);
        }
    }

    /// `false`: the key was never inserted. `true`: it may have been (read the tree).
    pub(super) fn may_contain(&self, key: &[u8]) -> bool {
        self.filters.may_contain(key)
    }

    /// Starts filling new filters: insert what the tree holds with `rebuilding`, then
    /// `rebuilt` swaps them in. Keys inserted in between go to both.
    pub(super) fn rebuild(&mut self) {
        self.next = Some(Filters::new());
    }

    pub(super) fn rebuilding(&mut self, key: &[u8]) {
        if let Some(next) = &mut self.next {
            next.insert(key);
        }
    }

    pub(super) fn rebuilt(&mut self) {
        if let Some(next) = self.next.take() {
            self.filters = next;
        }
    }

    /// A rebuild that could not finish: the filters in use stay.
    pub(super) fn abandon_rebuild(&mut self) {
        self.next = None;
    }
}

impl Filters {
    fn new() -> Filters {
        Filters {
            filters: Filter::with_capacity(FIRST_CAPACITY).into_iter().collect(),
        }
    }

    fn insert(&mut self, key: &[u8]) {
        let full = self
            .filters
            .last()
            .is_none_or(|filter| filter.count >= filter.capacity);
        if full {
            let capacity = self
                .filters
                .last()
                .map_or(FIRST_CAPACITY, |filter| filter.capacity.saturating_mul(2));
            if let Some(filter) = Filter::with_capacity(capacity) {
                self.filters.push(filter);
            }
        }
        if let Some(filter) = self.filters.last_mut() {
            filter.bloom.set(key);
            filter.count += 1;
        }
    }

    fn may_contain(&self, key: &[u8]) -> bool {
        // Without any filter (one could not be sized) every key is a "maybe".
        self.filters.is_empty() || self.filters.iter().any(|filter| filter.bloom.check(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inserted_key_is_always_a_maybe_and_new_keys_rarely_are() {
        let mut seen = SeenKeys::new();
        let inserted = 3 * FIRST_CAPACITY;
        for n in 0..inserted {
            seen.insert(format!("wamid.{n}").as_bytes());
        }
        assert!(
            seen.filters.filters.len() >= 2,
            "filters are added as keys accumulate"
        );
        for n in 0..inserted {
            assert!(seen.may_contain(format!("wamid.{n}").as_bytes()));
        }
        let maybes = (0..100_000)
            .filter(|n| seen.may_contain(format!("other.{n}").as_bytes()))
            .count();
        // Two filters at 0.1% each: about 200 in 100,000; far fewer than half would do.
        assert!(maybes < 1_000, "{maybes} false positives in 100,000");
    }

    #[test]
    fn a_rebuild_keeps_what_the_tree_holds_and_what_came_meanwhile_and_forgets_the_rest() {
        let mut seen = SeenKeys::new();
        for n in 0..1_000 {
            seen.insert(format!("old.{n}").as_bytes());
        }
        seen.rebuild();
        // The tree still holds the first 100 (the rest were pruned); a mark lands mid-scan.
        for n in 0..100 {
            seen.rebuilding(format!("old.{n}").as_bytes());
        }
        seen.insert(b"meanwhile");
        assert!(
            seen.may_contain(b"old.999"),
            "the old filters answer until the swap"
        );
        seen.rebuilt();
        assert!((0..100).all(|n| seen.may_contain(format!("old.{n}").as_bytes())));
        assert!(seen.may_contain(b"meanwhile"));
        let remembered = (100..1_000)
            .filter(|n| seen.may_contain(format!("old.{n}").as_bytes()))
            .count();
        assert!(remembered < 10, "{remembered} pruned keys still a maybe");
    }
}

//! A small map bounded in entries and age, for what a Lambda instance remembers between
//! requests that strangers can name (the business lookups made before authentication).
//! At most `capacity` entries are kept; each is trusted for `ttl`; the oldest goes first.
//! Times are passed in, so the bound is tested without waiting.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct BoundedCache<K, V> {
    capacity: usize,
    ttl: Duration,
    entries: HashMap<K, (Instant, V)>,
    /// Keys in the order they were stored, with the time each was stored: the front is the
    /// oldest. A key stored again leaves its earlier place behind; that place is skipped.
    order: VecDeque<(K, Instant)>,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    /// A cache of at most `capacity` entries (at least one), each trusted for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            ttl,
            entries: HashMap::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
        }
    }

    /// The value stored for `key` less than `ttl` before `now`.
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(_, value)| value.clone())
    }

    /// Stores `value` for `key` at `now`: expired entries go first, then the oldest while the
    /// cache is full.
    pub fn insert(&mut self, key: K, value: V, now: Instant) {
        while let Some((_, at)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl {
                break;
            }
            self.evict_front();
        }
        if !self.entries.contains_key(&key) {
            while self.entries.len() >= self.capacity && !self.order.is_empty() {
                self.evict_front();
            }
        }
        self.entries.insert(key.clone(), (now, value));
        self.order.push_back((key, now));
        // Places left behind by keys stored again are dropped once they could outnumber the
        // entries, so the queue stays within twice the capacity.
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order
                .retain(|(key, at)| entries.get(key).is_some_and(|(stored, _)| stored == at));
        }
    }

    /// How many entries are held (expired ones included until they are evicted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn evict_front(&mut self) {
        if let Some((key, at)) = self.order.pop_front()
            && self
                .entries
                .get(&key)
                .is_some_and(|(stored, _)| *stored == at)
        {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_at_most_its_capacity_and_evicts_the_oldest_first() {
        let start = Instant::now();
        let mut cache = BoundedCache::new(3, Duration::from_secs(60));
        for i in 0..10_000u32 {
            cache.insert(i, i, start + Duration::from_millis(u64::from(i)));
            assert!(cache.len() <= 3);
            assert!(cache.order.len() <= 6);
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(cache.get(&9_999, now), Some(9_999));
        assert_eq!(cache.get(&9_997, now), Some(9_997));
        assert_eq!(cache.get(&9_996, now), None, "evicted as the oldest");
        assert_eq!(cache.get(&0, now), None);
    }

    #[test]
    fn entries_expire_and_a_key_stored_again_keeps_one_entry() {
        let start = Instant::now();
        let ttl = Duration::from_secs(60);
        let mut cache = BoundedCache::new(2, ttl);
        cache.insert("a", None, start);
        assert_eq!(
            cache.get(&"a", start + ttl / 2),
            Some(None),
            "a negative answer"
        );
        assert_eq!(cache.get(&"a", start + ttl), None, "expired");
        // Stored again many times: still one entry, and the queue stays bounded.
        for i in 0..100u64 {
            cache.insert("a", Some(i), start + ttl + Duration::from_millis(i));
            assert!(cache.order.len() <= 4);
        }
        assert_eq!(cache.len(), 1);
        let later = start + ttl + Duration::from_secs(1);
        assert_eq!(cache.get(&"a", later), Some(Some(99)));
        // "b" then "c": "a" is the oldest, and goes.
        cache.insert("b", Some(1), later);
        cache.insert("c", Some(2), later);
        assert_eq!((cache.len(), cache.get(&"a", later)), (2, None));
        // Expired entries leave before anything live is evicted.
        let much_later = later + ttl;
        cache.insert("d", None, much_later);
        assert_eq!(cache.len(), 1);
        assert!(!cache.is_empty());
    }
}

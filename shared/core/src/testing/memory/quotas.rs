//! Quotas: one counter per key, with the takers it granted, until its window ends.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::ports::{PortError, QuotaTaken, Quotas};

#[derive(Debug, Clone)]
struct Window {
    takers: Vec<String>,
    ends: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct MemoryQuotas {
    windows: Mutex<HashMap<String, Window>>,
}

impl MemoryQuotas {
    /// Units taken under keys that start with `key_prefix`.
    pub fn used(&self, key_prefix: &str) -> usize {
        lock(&self.windows)
            .iter()
            .filter(|(k, _)| k.starts_with(key_prefix))
            .map(|(_, w)| w.takers.len())
            .sum()
    }
}

impl Quotas for MemoryQuotas {
    async fn take(
        &self,
        key: &str,
        taker: &str,
        limit: u32,
        window_ends: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<QuotaTaken, PortError> {
        let mut windows = lock(&self.windows);
        let window = windows
            .entry(key.to_string())
            .and_modify(|w| {
                if w.ends <= now {
                    w.takers.clear();
                    w.ends = window_ends;
                }
            })
            .or_insert_with(|| Window {
                takers: Vec::new(),
                ends: window_ends,
            });
        let used = |w: &Window| u32::try_from(w.takers.len()).unwrap_or(u32::MAX);
        if window.takers.iter().any(|t| t == taker) {
            return Ok(QuotaTaken::Granted { used: used(window) });
        }
        if used(window) >= limit {
            return Ok(QuotaTaken::Exhausted);
        }
        window.takers.push(taker.to_string());
        Ok(QuotaTaken::Granted { used: used(window) })
    }

    async fn give_back(&self, key: &str, taker: &str) -> Result<(), PortError> {
        if let Some(window) = lock(&self.windows).get_mut(key) {
            window.takers.retain(|t| t != taker);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[tokio::test]
    async fn a_quota_grants_its_limit_once_per_taker_then_starts_again() {
        let q = MemoryQuotas::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let ends = now + Duration::hours(1);
        let take = |taker: &'static str, at| q.take("k", taker, 2, ends, at);
        assert_eq!(take("a", now).await, Ok(QuotaTaken::Granted { used: 1 }));
        assert_eq!(take("a", now).await, Ok(QuotaTaken::Granted { used: 1 }));
        assert_eq!(take("b", now).await, Ok(QuotaTaken::Granted { used: 2 }));
        assert_eq!(take("c", now).await, Ok(QuotaTaken::Exhausted));
        assert_eq!(take("b", now).await, Ok(QuotaTaken::Granted { used: 2 }));
        q.give_back("k", "a").await.unwrap();
        q.give_back("k", "a").await.unwrap();
        assert_eq!(take("c", now).await, Ok(QuotaTaken::Granted { used: 2 }));
        assert_eq!(
            q.take("k", "c", 2, ends + Duration::hours(1), ends).await,
            Ok(QuotaTaken::Granted { used: 1 })
        );
    }
}

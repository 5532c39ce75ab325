//! Idempotency keys with their claims and records.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::lock;
use crate::ports::{Claim, IdempotencyStore, PortError};

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyState {
    InProgress {
        hash: String,
        until: DateTime<Utc>,
    },
    Completed {
        hash: String,
        result: String,
        until: DateTime<Utc>,
    },
}

#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    keys: Mutex<HashMap<String, KeyState>>,
}

impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_for: Duration,
    ) -> Result<Claim, PortError> {
        let mut keys = lock(&self.keys);
        match keys.get(key) {
            Some(
                KeyState::Completed { hash, until, .. } | KeyState::InProgress { hash, until },
            ) if *until > now && hash != payload_hash => {
                return Ok(Claim::Mismatch);
            }
            Some(KeyState::Completed { result, until, .. }) if *until > now => {
                return Ok(Claim::Completed(result.clone()));
            }
            Some(KeyState::InProgress { until, .. }) if *until > now => {
                return Ok(Claim::InProgress);
            }
            _ => {}
        }
        keys.insert(
            key.to_string(),
            KeyState::InProgress {
                hash: payload_hash.to_string(),
                until: now + in_progress_for,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        result: &str,
        now: DateTime<Utc>,
        keep_for: Duration,
    ) -> Result<(), PortError> {
        lock(&self.keys).insert(
            key.to_string(),
            KeyState::Completed {
                hash: payload_hash.to_string(),
                result: result.to_string(),
                until: now + keep_for,
            },
        );
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        lock(&self.keys).remove(key);
        Ok(())
    }
}

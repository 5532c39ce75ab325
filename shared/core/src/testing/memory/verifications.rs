//! The codes texted to callers and the numbers each call proved.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::callers::{CODE_ATTEMPTS, CODES_PER_CALL, CodeCheck, CodeIssue, PendingCode};
use crate::ports::{CallerVerifications, PortError};
use crate::values::phone::PhoneNumber;

/// One record per (business, call), under one lock: as atomic as the DynamoDB item.
#[derive(Debug, Default)]
pub struct MemoryVerifications {
    calls: Mutex<HashMap<(String, String), CallCodes>>,
}

#[derive(Debug, Default, Clone)]
struct CallCodes {
    pending: Option<(PendingCode, u32)>,
    sent: u32,
    verified: Vec<PhoneNumber>,
}

impl MemoryVerifications {
    /// How many codes were stored for a call (what a test checks after an attack).
    pub fn codes_sent(&self, business_id: &str, call_id: &str) -> u32 {
        lock(&self.calls)
            .get(&(business_id.to_string(), call_id.to_string()))
            .map_or(0, |c| c.sent)
    }
}

impl CallerVerifications for MemoryVerifications {
    async fn store_code(
        &self,
        business_id: &str,
        call_id: &str,
        code: &PendingCode,
    ) -> Result<CodeIssue, PortError> {
        let mut calls = lock(&self.calls);
        let entry = calls
            .entry((business_id.to_string(), call_id.to_string()))
            .or_default();
        if entry.sent >= CODES_PER_CALL {
            return Ok(CodeIssue::TooManyForCall);
        }
        entry.sent += 1;
        entry.pending = Some((code.clone(), CODE_ATTEMPTS));
        Ok(CodeIssue::Stored)
    }

    async fn check_code(
        &self,
        business_id: &str,
        call_id: &str,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck, PortError> {
        let mut calls = lock(&self.calls);
        let Some(entry) = calls.get_mut(&(business_id.to_string(), call_id.to_string())) else {
            return Ok(CodeCheck::NoCode);
        };
        let Some((pending, attempts)) = entry.pending.as_mut() else {
            return Ok(CodeCheck::NoCode);
        };
        if *attempts == 0 {
            return Ok(CodeCheck::NoAttemptsLeft);
        }
        *attempts -= 1;
        if pending.expires_at <= now {
            return Ok(CodeCheck::Expired);
        }
        if pending.code_hash != code_hash {
            return Ok(CodeCheck::Wrong {
                attempts_left: *attempts,
            });
        }
        let phone = pending.phone.clone();
        entry.pending = None;
        if !entry.verified.contains(&phone) {
            entry.verified.push(phone.clone());
        }
        Ok(CodeCheck::Verified(phone))
    }

    async fn verified(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<Vec<PhoneNumber>, PortError> {
        Ok(lock(&self.calls)
            .get(&(business_id.to_string(), call_id.to_string()))
            .map(|c| c.verified.clone())
            .unwrap_or_default())
    }
}

//! Call records, leads and the calls counted on customers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::lock;
use crate::domain::calls::CallRecord;
use crate::domain::leads::LeadRecord;
use crate::ports::{CallStore, CustomerContact, PortError, Saved};
use crate::values::phone::PhoneNumber;

/// Counts down armed events: `arm(n)` makes the next `n` `take`s true.
#[derive(Debug, Default)]
pub struct Countdown(AtomicUsize);

impl Countdown {
    pub fn arm(&self, n: usize) {
        self.0.store(n, Ordering::SeqCst);
    }

    fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Calls, leads and the calls counted on customers, keyed by business and call id or phone.
#[derive(Debug, Default)]
pub struct MemoryCallStore {
    calls: Mutex<HashMap<(String, String), CallRecord>>,
    leads: Mutex<HashMap<(String, String), LeadRecord>>,
    /// Per (business, phone): calls counted and the last call id.
    pub contacts: Mutex<HashMap<(String, String), (u32, String)>>,
    /// Makes the next `n` saves find a newer version (as a concurrent writer would).
    pub stale: Countdown,
}

impl MemoryCallStore {
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.calls).values().cloned().collect()
    }

    pub fn leads(&self) -> Vec<LeadRecord> {
        lock(&self.leads).values().cloned().collect()
    }
}

fn is_next<T>(stored: Option<&T>, version: u64, of: impl Fn(&T) -> u64) -> bool {
    stored.map_or(0, of) + 1 == version
}

impl CallStore for MemoryCallStore {
    async fn call(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<Option<CallRecord>, PortError> {
        Ok(lock(&self.calls)
            .get(&(business_id.to_string(), call_id.to_string()))
            .cloned())
    }

    async fn save_call(
        &self,
        record: &CallRecord,
        contact: Option<&CustomerContact>,
    ) -> Result<Saved, PortError> {
        if self.stale.take() {
            return Ok(Saved::Stale);
        }
        let mut calls = lock(&self.calls);
        let key = (record.business_id.clone(), record.call_id.clone());
        if !is_next(calls.get(&key), record.version, |c| c.version) {
            return Ok(Saved::Stale);
        }
        calls.insert(key, record.clone());
        if let Some(contact) = contact {
            let mut contacts = lock(&self.contacts);
            let entry = contacts
                .entry((record.business_id.clone(), contact.phone.to_string()))
                .or_insert((0, String::new()));
            entry.0 += 1;
            entry.1 = contact.call_id.clone();
        }
        Ok(Saved::Written)
    }

    async fn lead(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<LeadRecord>, PortError> {
        Ok(lock(&self.leads)
            .get(&(business_id.to_string(), phone.to_string()))
            .cloned())
    }

    async fn save_lead(&self, lead: &LeadRecord) -> Result<Saved, PortError> {
        let mut leads = lock(&self.leads);
        let key = (lead.business_id.clone(), lead.phone.to_string());
        if !is_next(leads.get(&key), lead.version, |l| l.version) {
            return Ok(Saved::Stale);
        }
        leads.insert(key, lead.clone());
        Ok(Saved::Written)
    }
}

//! Stored businesses and secrets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;
use crate::domain::business::Business;
use crate::ports::{BusinessDirectory, CallRoute, PortError, SecretStore};
use crate::values::secrets::SecretRef;

/// Stored businesses, found by the ids they claim.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    businesses: Mutex<Vec<Arc<Business>>>,
}

impl MemoryDirectory {
    pub fn add(&self, business: Business) {
        lock(&self.businesses).push(Arc::new(business));
    }
}

impl BusinessDirectory for MemoryDirectory {
    async fn business_for(&self, route: CallRoute<'_>) -> Result<Option<Arc<Business>>, PortError> {
        Ok(lock(&self.businesses)
            .iter()
            .find(|b| match route {
                CallRoute::Assistant(id) => b.assistant_ids.iter().any(|a| a == id),
                CallRoute::PhoneNumber(id) => b.phone_number_ids.iter().any(|p| p == id),
            })
            .cloned())
    }

    async fn business(&self, id: &str) -> Result<Option<Arc<Business>>, PortError> {
        Ok(lock(&self.businesses).iter().find(|b| b.id == id).cloned())
    }
}

/// Secrets by reference; a reference not put here is "not found" (a conflict: retrying
/// will not make it appear).
#[derive(Debug, Default)]
pub struct MemorySecrets {
    pub secrets: Mutex<HashMap<SecretRef, String>>,
    /// How many reads reached the store.
    pub reads: AtomicUsize,
}

impl MemorySecrets {
    pub fn with(secrets: &[(&str, &str)]) -> Self {
        let store = Self::default();
        for (reference, secret) in secrets {
            if let Ok(reference) = SecretRef::parse(reference) {
                lock(&store.secrets).insert(reference, secret.to_string());
            }
        }
        store
    }
}

impl SecretStore for MemorySecrets {
    async fn secret(&self, reference: &SecretRef) -> Result<String, PortError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        lock(&self.secrets)
            .get(reference)
            .cloned()
            .ok_or_else(|| PortError::Conflict(format!("no secret at {reference}")))
    }
}

//! SecretStore on SSM Parameter Store: parameters are read with decryption, and Secrets
//! Manager secrets through SSM's `/aws/reference/secretsmanager/` names, so one client (and
//! one SDK crate in the webhook's zip) serves both.
//!
//! Values are cached per Lambda instance for `cache_for` (5 minutes by default): a business's
//! secret is read once, not per call. A failed read is remembered for a few seconds, so a
//! burst of requests for a business whose secret is missing does not become a burst of SSM
//! calls (SSM allows 40 reads per second by default).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use callbook_core::SecretRef;
use callbook_core::{PortError, SecretStore};

use crate::sdk_message;

pub const DEFAULT_CACHE: Duration = Duration::from_secs(300);
const REMEMBER_FAILURE: Duration = Duration::from_secs(5);

type Cached = (Instant, Result<String, PortError>);

#[derive(Debug)]
pub struct SsmSecretStore {
    client: Client,
    cache_for: Duration,
    cache: Mutex<HashMap<SecretRef, Cached>>,
}

impl SsmSecretStore {
    pub fn new(client: Client) -> Self {
        Self::with_cache(client, DEFAULT_CACHE)
    }

    pub fn with_cache(client: Client, cache_for: Duration) -> Self {
        Self {
            client,
            cache_for,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, reference: &SecretRef) -> Option<Result<String, PortError>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let (at, value) = cache.get(reference)?;
        let trusted_for = if value.is_ok() {
            self.cache_for
        } else {
            REMEMBER_FAILURE.min(self.cache_for)
        };
        (at.elapsed() < trusted_for).then(|| value.clone())
    }

    async fn read(&self, reference: &SecretRef) -> Result<String, PortError> {
        let out = self
            .client
            .get_parameter()
            .name(reference.parameter_name())
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(GetParameterError::ParameterNotFound(_)) => {
                    PortError::Conflict(format!("no secret at {reference}"))
                }
                _ => PortError::unavailable("read secret", sdk_message(&e)),
            })?;
        out.parameter
            .and_then(|p| p.value)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| PortError::Conflict(format!("the secret at {reference} is empty")))
    }
}

impl SecretStore for SsmSecretStore {
    async fn secret(&self, reference: &SecretRef) -> Result<String, PortError> {
        if let Some(value) = self.cached(reference) {
            return value;
        }
        let value = self.read(reference).await;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(reference.clone(), (Instant::now(), value.clone()));
        value
    }
}

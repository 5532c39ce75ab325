//! Webhook authentication, before anything else is done with the body. Two modes, chosen per
//! deployment (`VAPI_AUTH_MODE`):
//! - `secret` (default): `X-Vapi-Secret: <secret>` or `Authorization: Bearer <secret>`;
//! - `hmac`: a signature over `{timestamp}.{body}` (configurable) in a signature header, with
//!   the timestamp in its own header, as Vapi's HMAC credential sends it. Timestamps outside
//!   the tolerance window (default ±5 minutes) are refused: a captured request cannot be
//!   replayed later.
//!
//! Two secrets may be active at once (`VAPI_WEBHOOK_SECRET` and
//! `VAPI_WEBHOOK_SECRET_PREVIOUS`) so a secret can be rotated without dropping calls. Every
//! comparison is constant-time; secrets never reach a log (their `Debug` is redacted).

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::values::config::{ConfigError, setting};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing credentials: send X-Vapi-Secret or Authorization: Bearer")]
    Missing,
    #[error("missing signature: send the {0} and {1} headers")]
    MissingSignature(String, String),
    #[error("invalid credentials")]
    Invalid,
    #[error("the signature timestamp is unreadable")]
    BadTimestamp,
    #[error("the signature timestamp is outside the allowed window")]
    Stale,
}

/// A configured secret: its digest (for comparing presented secrets) and, for HMAC, the key.
#[derive(Clone)]
pub struct WebhookSecret {
    digest: [u8; 32],
    key: Vec<u8>,
}

impl WebhookSecret {
    pub fn new(secret: &str) -> Option<Self> {
        (!secret.is_empty()).then(|| Self {
            digest: Sha256::digest(secret.as_bytes()).into(),
            key: secret.as_bytes().to_vec(),
        })
    }

    /// Comparing digests keeps the comparison constant-time whatever the presented length.
    fn matches(&self, presented: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        bool::from(digest.ct_eq(&self.digest))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    Sha256,
    Sha512,
    Sha1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    Hex,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacConfig {
    /// Lower-case header names.
    pub signature_header: String,
    pub timestamp_header: String,
    pub algorithm: HmacAlgorithm,
    pub encoding: SignatureEncoding,
    /// Before the encoded signature, e.g. `sha256=` (compared case-insensitively).
    pub prefix: String,
    /// What is signed: `{timestamp}` and `{body}` are replaced.
    pub payload: String,
    pub tolerance: Duration,
}

impl Default for HmacConfig {
    fn default() -> Self {
        Self {
            signature_header: "x-signature".into(),
            timestamp_header: "x-timestamp".into(),
            algorithm: HmacAlgorithm::Sha256,
            encoding: SignatureEncoding::Hex,
            prefix: String::new(),
            payload: "{timestamp}.{body}".into(),
            tolerance: Duration::minutes(5),
        }
    }
}

#[derive(Debug, Clone)]
pub enum AuthMode {
    Secret,
    Hmac(HmacConfig),
}

/// How this deployment authenticates Vapi, with its active secrets (one or two).
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub mode: AuthMode,
    secrets: Vec<WebhookSecret>,
}

impl Authenticator {
    /// `X-Vapi-Secret` / Bearer with one secret.
    pub fn shared_secret(secret: &str) -> Option<Self> {
        Some(Self {
            mode: AuthMode::Secret,
            secrets: vec![WebhookSecret::new(secret)?],
        })
    }

    pub fn new(mode: AuthMode, secrets: Vec<WebhookSecret>) -> Option<Self> {
        (!secrets.is_empty() && secrets.len() <= 2).then_some(Self { mode, secrets })
    }

    /// From the environment: `VAPI_AUTH_MODE` (`secret` or `hmac`), `VAPI_WEBHOOK_SECRET`,
    /// `VAPI_WEBHOOK_SECRET_PREVIOUS`, and for HMAC `VAPI_HMAC_SIGNATURE_HEADER`,
    /// `VAPI_HMAC_TIMESTAMP_HEADER`, `VAPI_HMAC_ALGORITHM`, `VAPI_HMAC_ENCODING`,
    /// `VAPI_HMAC_PREFIX`, `VAPI_HMAC_PAYLOAD`, `VAPI_TIMESTAMP_TOLERANCE_SECONDS`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = setting(lookup, "VAPI_WEBHOOK_SECRET")
            .and_then(|s| WebhookSecret::new(&s))
            .ok_or(ConfigError::Missing(
                "VAPI_WEBHOOK_SECRET (or VAPI_WEBHOOK_SECRET_REF)",
            ))?;
        let mut secrets = vec![secret];
        if let Some(previous) =
            setting(lookup, "VAPI_WEBHOOK_SECRET_PREVIOUS").and_then(|s| WebhookSecret::new(&s))
        {
            secrets.push(previous);
        }
        let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
        let mode = match setting(lookup, "VAPI_AUTH_MODE").as_deref() {
            None | Some("secret") => AuthMode::Secret,
            Some("hmac") => {
                let d = HmacConfig::default();
                let header = |name: &'static str, default: String| {
                    setting(lookup, name).map_or(default, |h| h.to_ascii_lowercase())
                };
                AuthMode::Hmac(HmacConfig {
                    signature_header: header("VAPI_HMAC_SIGNATURE_HEADER", d.signature_header),
                    timestamp_header: header("VAPI_HMAC_TIMESTAMP_HEADER", d.timestamp_header),
                    algorithm: match setting(lookup, "VAPI_HMAC_ALGORITHM").as_deref() {
                        None | Some("sha256") => HmacAlgorithm::Sha256,
                        Some("sha512") => HmacAlgorithm::Sha512,
                        Some("sha1") => HmacAlgorithm::Sha1,
                        Some(other) => {
                            return Err(invalid(
                                "VAPI_HMAC_ALGORITHM",
                                format!("{other:?}: use sha256, sha512 or sha1"),
                            ));
                        }
                    },
                    encoding: match setting(lookup, "VAPI_HMAC_ENCODING").as_deref() {
                        None | Some("hex") => SignatureEncoding::Hex,
                        Some("base64") => SignatureEncoding::Base64,
                        Some(other) => {
                            return Err(invalid(
                                "VAPI_HMAC_ENCODING",
                                format!("{other:?}: use hex or base64"),
                            ));
                        }
                    },
                    prefix: lookup("VAPI_HMAC_PREFIX").unwrap_or_default(),
                    payload: setting(lookup, "VAPI_HMAC_PAYLOAD")
                        .map_or(Ok(d.payload), |p| signed_template(&p).map(|()| p))?,
                    tolerance: match setting(lookup, "VAPI_TIMESTAMP_TOLERANCE_SECONDS") {
                        None => d.tolerance,
                        Some(v) => v
                            .parse::<i64>()
                            .ok()
                            .filter(|s| (1..=3600).contains(s))
                            .map(Duration::seconds)
                            .ok_or_else(|| {
                                invalid(
                                    "VAPI_TIMESTAMP_TOLERANCE_SECONDS",
                                    format!("{v:?}: 1 to 3600"),
                                )
                            })?,
                    },
                })
            }
            Some(other) => {
                return Err(invalid(
                    "VAPI_AUTH_MODE",
                    format!("{other:?}: use secret or hmac"),
                ));
            }
        };
        Ok(Self { mode, secrets })
    }

    /// Checks a request against the deployment's secrets; `header` looks a header up by
    /// (lower-case) name.
    pub fn check<'a>(
        &self,
        header: impl Fn(&str) -> Option<&'a [u8]>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        self.check_with(&self.secrets, header, body, now)
    }

    /// Checks a request in the deployment's mode against other secrets: a business's own.
    pub fn check_with<'a>(
        &self,
        secrets: &[WebhookSecret],
        header: impl Fn(&str) -> Option<&'a [u8]>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        match &self.mode {
            AuthMode::Secret => check_secret(secrets, header),
            AuthMode::Hmac(config) => check_hmac(secrets, config, header, body, now),
        }
    }
}

/// Whether an `Authorization` header's value is `Bearer <token>`, compared in constant time
/// (the monitoring routes' check: no other header is read).
pub fn bearer_matches(token: &WebhookSecret, authorization: Option<&[u8]>) -> bool {
    check_secret(std::slice::from_ref(token), |name| {
        (name == "authorization").then_some(authorization).flatten()
    })
    .is_ok()
}

fn check_secret<'a>(
    secrets: &[WebhookSecret],
    header: impl Fn(&str) -> Option<&'a [u8]>,
) -> Result<(), AuthError> {
    let mut presented = Vec::new();
    if let Some(value) = header("x-vapi-secret") {
        presented.push(value.trim_ascii());
    }
    if let Some(value) = header("authorization") {
        let value = value.trim_ascii();
        if value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ") {
            presented.push(value[7..].trim_ascii());
        }
    }
    if presented.is_empty() {
        return Err(AuthError::Missing);
    }
    // Every candidate against every secret: no early exit that timing could reveal.
    let mut ok = false;
    for value in &presented {
        for secret in secrets {
            ok |= secret.matches(value);
        }
    }
    if ok { Ok(()) } else { Err(AuthError::Invalid) }
}

fn check_hmac<'a>(
    secrets: &[WebhookSecret],
    config: &HmacConfig,
    header: impl Fn(&str) -> Option<&'a [u8]>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let (Some(signature), Some(timestamp)) = (
        header(&config.signature_header),
        header(&config.timestamp_header),
    ) else {
        return Err(AuthError::MissingSignature(
            config.signature_header.clone(),
            config.timestamp_header.clone(),
        ));
    };
    let timestamp = timestamp.trim_ascii();
    let at = parse_timestamp(timestamp).ok_or(AuthError::BadTimestamp)?;
    if (now - at).abs() > config.tolerance {
        return Err(AuthError::Stale);
    }
    let signature = signature.trim_ascii();
    let prefix = config.prefix.as_bytes();
    let encoded = if signature.len() >= prefix.len()
        && signature[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        &signature[prefix.len()..]
    } else {
        return Err(AuthError::Invalid);
    };
    let presented = match config.encoding {
        SignatureEncoding::Hex => hex::decode(encoded).ok(),
        SignatureEncoding::Base64 => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        }
    }
    .ok_or(AuthError::Invalid)?;
    let message = signed_payload(&config.payload, timestamp, body);
    let mut ok = false;
    for secret in secrets {
        ok |= verify(config.algorithm, &secret.key, &message, &presented);
    }
    if ok { Ok(()) } else { Err(AuthError::Invalid) }
}

/// Seconds or milliseconds since the epoch, or an RFC 3339 time.
fn parse_timestamp(raw: &[u8]) -> Option<DateTime<Utc>> {
    let text = std::str::from_utf8(raw).ok()?;
    if let Ok(n) = text.parse::<i64>() {
        // Milliseconds from 2001 on are above 1e12; seconds stay below it until 33658.
        return if n.abs() >= 1_000_000_000_000 {
            Utc.timestamp_millis_opt(n).single()
        } else {
            Utc.timestamp_opt(n, 0).single()
        };
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A payload template must sign both the body and the timestamp: without `{body}` a captured
/// signature would authorise any other body within the tolerance window, and without
/// `{timestamp}` a captured request could be replayed for ever.
fn signed_template(template: &str) -> Result<(), ConfigError> {
    for part in ["{body}", "{timestamp}"] {
        if !template.contains(part) {
            return Err(ConfigError::Invalid {
                name: "VAPI_HMAC_PAYLOAD",
                reason: format!("{template:?} must contain {{body}} and {{timestamp}}"),
            });
        }
    }
    Ok(())
}

/// The signed bytes: the template with `{timestamp}` and `{body}` put in.
pub fn signed_payload(template: &str, timestamp: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len() + body.len() + timestamp.len());
    for (i, part) in template.split("{body}").enumerate() {
        if i > 0 {
            out.extend_from_slice(body);
        }
        for (j, piece) in part.split("{timestamp}").enumerate() {
            if j > 0 {
                out.extend_from_slice(timestamp);
            }
            out.extend_from_slice(piece.as_bytes());
        }
    }
    out
}

/// Constant-time HMAC verification (`Mac::verify_slice`).
fn verify(algorithm: HmacAlgorithm, key: &[u8], message: &[u8], presented: &[u8]) -> bool {
    fn with<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8], presented: &[u8]) -> bool {
        match <M as Mac>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(message);
                mac.verify_slice(presented).is_ok()
            }
            Err(_) => false,
        }
    }
    match algorithm {
        HmacAlgorithm::Sha256 => with::<Hmac<Sha256>>(key, message, presented),
        HmacAlgorithm::Sha512 => with::<Hmac<Sha512>>(key, message, presented),
        HmacAlgorithm::Sha1 => with::<Hmac<sha1::Sha1>>(key, message, presented),
    }
}

/// The signature a sender computes (tests and tools sign with it).
pub fn sign(algorithm: HmacAlgorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn with<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        match <M as Mac>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match algorithm {
        HmacAlgorithm::Sha256 => with::<Hmac<Sha256>>(key, message),
        HmacAlgorithm::Sha512 => with::<Hmac<Sha512>>(key, message),
        HmacAlgorithm::Sha1 => with::<Hmac<sha1::Sha1>>(key, message),
    }
}

#[cfg(test)]
mod tests;

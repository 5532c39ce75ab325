//! Webhook authentication: `X-Vapi-Secret: <secret>` or `Authorization: Bearer <secret>`,
//! compared in constant time. Runs before anything else looks at the body.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing credentials: send X-Vapi-Secret or Authorization: Bearer")]
    Missing,
    #[error("invalid credentials")]
    Invalid,
}

/// The configured secret, kept only as its digest so it never reaches a log or a dump.
#[derive(Clone)]
pub struct WebhookSecret([u8; 32]);

impl WebhookSecret {
    pub fn new(secret: &str) -> Option<Self> {
        (!secret.is_empty()).then(|| Self(Sha256::digest(secret.as_bytes()).into()))
    }

    /// Comparing digests keeps the comparison constant-time whatever the presented length.
    fn matches(&self, presented: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        bool::from(digest.ct_eq(&self.0))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Checks the credentials of a request; `header` looks a header up by (lower-case) name.
pub fn authenticate<'a>(
    secret: &WebhookSecret,
    header: impl Fn(&str) -> Option<&'a [u8]>,
) -> Result<(), AuthError> {
    let mut presented = false;
    let mut ok = false;
    if let Some(value) = header("x-vapi-secret") {
        presented = true;
        ok |= secret.matches(trim(value));
    }
    if let Some(value) = header("authorization") {
        let value = trim(value);
        if value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ") {
            presented = true;
            ok |= secret.matches(trim(&value[7..]));
        }
    }
    match (presented, ok) {
        (_, true) => Ok(()),
        (false, _) => Err(AuthError::Missing),
        (true, false) => Err(AuthError::Invalid),
    }
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(headers: &[(&str, &str)]) -> Result<(), AuthError> {
        let secret = WebhookSecret::new("s3cret-value-123").unwrap();
        authenticate(&secret, |name| {
            headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_bytes())
        })
    }

    #[test]
    fn accepts_either_header() {
        assert_eq!(check(&[("x-vapi-secret", "s3cret-value-123")]), Ok(()));
        assert_eq!(
            check(&[("authorization", "Bearer s3cret-value-123")]),
            Ok(())
        );
        assert_eq!(
            check(&[("authorization", "bearer  s3cret-value-123 ")]),
            Ok(())
        );
        assert_eq!(
            check(&[
                ("x-vapi-secret", "wrong"),
                ("authorization", "Bearer s3cret-value-123")
            ]),
            Ok(())
        );
    }

    #[test]
    fn refuses_missing_or_wrong() {
        assert_eq!(check(&[]), Err(AuthError::Missing));
        assert_eq!(
            check(&[("authorization", "Basic abc")]),
            Err(AuthError::Missing)
        );
        assert_eq!(check(&[("x-vapi-secret", "")]), Err(AuthError::Invalid));
        assert_eq!(
            check(&[("x-vapi-secret", "s3cret-value-12")]),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            check(&[("authorization", "Bearer S3CRET-VALUE-123")]),
            Err(AuthError::Invalid)
        );
        assert!(WebhookSecret::new("").is_none());
        assert_eq!(
            format!("{:?}", WebhookSecret::new("x").unwrap()),
            "WebhookSecret(<redacted>)"
        );
    }
}

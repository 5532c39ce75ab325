//! Where a webhook secret is kept when it is not in the environment: an SSM parameter or a
//! Secrets Manager secret. A business's profile and the deployment's settings hold only the
//! reference (`ssm:/callbook/acme/webhook` or `secretsmanager:callbook/acme`), never the
//! secret, so no table or template output ever contains one.

use std::fmt;

use thiserror::Error;

/// The errors never repeat what was written: it may be a secret pasted in the wrong place.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SecretRefError {
    #[error(
        "not a secret reference: write ssm:<parameter name> or secretsmanager:<secret id or ARN>"
    )]
    UnknownKind,
    #[error("the name after ssm: or secretsmanager: is empty")]
    Empty,
    #[error("a secret reference is at most 512 characters of letters, digits and /_+=.@-:")]
    Malformed,
}

/// A reference to a secret kept in SSM Parameter Store or Secrets Manager.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// A parameter (SecureString or String), read with decryption.
    Ssm(String),
    /// A secret's current value (`AWSCURRENT`), as a string.
    SecretsManager(String),
}

impl SecretRef {
    pub fn parse(raw: &str) -> Result<Self, SecretRefError> {
        let raw = raw.trim();
        let (kind, name) = raw.split_once(':').ok_or(SecretRefError::UnknownKind)?;
        if name.is_empty() {
            return Err(SecretRefError::Empty);
        }
        // The characters SSM and Secrets Manager allow in names and ARNs.
        let allowed = |c: char| c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c);
        if raw.len() > 512 || !name.chars().all(allowed) {
            return Err(SecretRefError::Malformed);
        }
        match kind {
            "ssm" => Ok(Self::Ssm(name.to_string())),
            "secretsmanager" => Ok(Self::SecretsManager(name.to_string())),
            _ => Err(SecretRefError::UnknownKind),
        }
    }

    /// Under the names the deployed webhook may read (template.yaml's ReadWebhookSecrets):
    /// `/callbook/...` in SSM, `callbook/...` in Secrets Manager (by name or ARN).
    pub fn readable_by_webhook(&self) -> bool {
        match self {
            Self::Ssm(name) => name.starts_with("/callbook/"),
            Self::SecretsManager(id) => {
                id.starts_with("callbook/")
                    || (id.starts_with("arn:") && id.contains(":secret:callbook/"))
            }
        }
    }

    /// The SSM parameter name that reads it: Secrets Manager secrets are read through SSM's
    /// `/aws/reference/secretsmanager/` names, so one client serves both.
    pub fn parameter_name(&self) -> String {
        match self {
            Self::Ssm(name) => name.clone(),
            Self::SecretsManager(id) => format!("/aws/reference/secretsmanager/{id}"),
        }
    }
}

/// The reference as written (it names where the secret is, not the secret).
impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssm(name) => write!(f, "ssm:{name}"),
            Self::SecretsManager(id) => write!(f, "secretsmanager:{id}"),
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_store() {
        assert_eq!(
            SecretRef::parse("ssm:/callbook/acme/webhook"),
            Ok(SecretRef::Ssm("/callbook/acme/webhook".into()))
        );
        let arn = "secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:callbook/acme-AbCdEf";
        assert_eq!(
            SecretRef::parse(arn).map(|r| r.to_string()),
            Ok(arn.to_string())
        );
        assert_eq!(
            SecretRef::parse(" secretsmanager:callbook/acme ")
                .unwrap()
                .parameter_name(),
            "/aws/reference/secretsmanager/callbook/acme"
        );
    }

    #[test]
    fn a_bad_reference_says_how_to_write_one() {
        assert!(matches!(
            SecretRef::parse("s3cret-value-123"),
            Err(SecretRefError::UnknownKind)
        ));
        assert!(matches!(
            SecretRef::parse("vault:x"),
            Err(SecretRefError::UnknownKind)
        ));
        assert!(matches!(
            SecretRef::parse("ssm:"),
            Err(SecretRefError::Empty)
        ));
        assert!(matches!(
            SecretRef::parse("ssm:/a b"),
            Err(SecretRefError::Malformed)
        ));
        assert!(matches!(
            SecretRef::parse(&format!("ssm:/{}", "a".repeat(600))),
            Err(SecretRefError::Malformed)
        ));
        let message = SecretRef::parse("vault:x").unwrap_err().to_string();
        assert!(message.contains("ssm:<parameter name>"), "{message}");
    }

    #[test]
    fn the_webhook_reads_only_callbook_names() {
        for readable in [
            "ssm:/callbook/acme/webhook",
            "secretsmanager:callbook/acme",
            "secretsmanager:arn:aws:secretsmanager:eu-west-2:123456789012:secret:callbook/acme-AbCdEf",
        ] {
            assert!(
                SecretRef::parse(readable).unwrap().readable_by_webhook(),
                "{readable}"
            );
        }
        for other in [
            "ssm:/prod/db",
            "ssm:callbook/x",
            "secretsmanager:prod/callbook/x",
        ] {
            assert!(
                !SecretRef::parse(other).unwrap().readable_by_webhook(),
                "{other}"
            );
        }
    }
}

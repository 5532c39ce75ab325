//! Email syntax check: what a mail server would accept from a caller spelling their address.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("the email address is empty")]
    Empty,
    #[error("the email address is not valid")]
    Invalid,
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(EmailError::Empty);
        }
        if raw.len() > 254 {
            return Err(EmailError::Invalid);
        }
        let (local, domain) = raw.rsplit_once('@').ok_or(EmailError::Invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
        } else {
            Err(EmailError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: the first character and the domain.
    pub fn redacted(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(
            EmailAddress::parse(" test@Example.COM ").unwrap().as_str(),
            "test@example.com"
        );
        assert!(EmailAddress::parse("first.last+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "test",
            "test@",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a..b@c.com",
            ".a@c.com",
            "a@-c.com",
            "a@c.c0m",
            "a@c.1",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
        assert_eq!(EmailAddress::parse(""), Err(EmailError::Empty));
        assert_eq!(
            EmailAddress::parse(&format!("{}@example.com", "a".repeat(65))),
            Err(EmailError::Invalid)
        );
    }

    #[test]
    fn redacts_the_local_part() {
        assert_eq!(
            EmailAddress::parse("test@example.com").unwrap().redacted(),
            "t***@example.com"
        );
    }
}

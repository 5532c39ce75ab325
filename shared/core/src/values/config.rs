//! Settings read from the environment (Lambda) or the provisioned stack (locally), and the
//! one error every misconfiguration becomes.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// A secret named by a reference setting could not be read (missing, or no access).
    #[error("{name} could not be read: {reason}")]
    Unreadable { name: &'static str, reason: String },
}

/// Reads one setting; `lookup` is the environment in Lambda and the provisioned stack locally.
pub fn setting(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    setting(lookup, name).ok_or(ConfigError::Missing(name))
}

/// A whole-number setting within `range`, `default` when unset.
pub fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    match setting(lookup, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not a number in {range:?}"),
            }),
    }
}

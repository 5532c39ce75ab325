//! The deployment's own secrets, when they are kept in SSM or Secrets Manager rather than in
//! the environment: read once, at init, through the `SecretStore` port.

use crate::ports::SecretStore;
use crate::values::config::{ConfigError, setting};
use crate::values::secrets::SecretRef;

/// The deployment's secrets kept in SSM or Secrets Manager: `VAPI_WEBHOOK_SECRET_REF` and
/// `VAPI_WEBHOOK_SECRET_PREVIOUS_REF` name them (`ssm:<parameter>` or
/// `secretsmanager:<secret id>`), in place of `VAPI_WEBHOOK_SECRET` and
/// `VAPI_WEBHOOK_SECRET_PREVIOUS`; `MONITORING_TOKEN_REF` likewise for `MONITORING_TOKEN`.
/// Read once, at init; returns the values to use for those settings. A setting given both ways is refused, so it is clear which one is in force.
/// The webhook's secrets: the current and the previous Vapi secret.
pub const WEBHOOK_SECRETS: &[(&str, &str)] = &[
    ("VAPI_WEBHOOK_SECRET", "VAPI_WEBHOOK_SECRET_REF"),
    (
        "VAPI_WEBHOOK_SECRET_PREVIOUS",
        "VAPI_WEBHOOK_SECRET_PREVIOUS_REF",
    ),
];
/// The monitoring function's: its token.
pub const MONITORING_SECRETS: &[(&str, &str)] = &[("MONITORING_TOKEN", "MONITORING_TOKEN_REF")];

/// Only the `wanted` pairs (setting, its reference) are read: each function reads its own.
pub async fn stored_deployment_secrets<S: SecretStore>(
    store: &S,
    lookup: &impl Fn(&str) -> Option<String>,
    wanted: &[(&'static str, &'static str)],
) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let mut found = Vec::new();
    for &(plain, reference) in wanted {
        let Some(raw) = setting(lookup, reference) else {
            continue;
        };
        if setting(lookup, plain).is_some() {
            return Err(ConfigError::Invalid {
                name: reference,
                reason: format!("set {plain} or {reference}, not both"),
            });
        }
        let at = SecretRef::parse(&raw).map_err(|e| ConfigError::Invalid {
            name: reference,
            reason: e.to_string(),
        })?;
        let secret = store
            .secret(&at)
            .await
            .map_err(|e| ConfigError::Unreadable {
                name: reference,
                reason: e.to_string(),
            })?;
        found.push((plain, secret));
    }
    Ok(found)
}

/// The settings with the stored secrets in place: a name `stored` holds is answered from it,
/// every other from `lookup`.
pub fn with_stored<'a>(
    stored: &'a [(&'static str, String)],
    lookup: &'a impl Fn(&str) -> Option<String>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        stored
            .iter()
            .find(|(stored_name, _)| *stored_name == name)
            .map(|(_, secret)| secret.clone())
            .or_else(|| lookup(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deployment_secrets_can_be_kept_in_ssm_or_secrets_manager() {
        use crate::testing::memory::MemorySecrets;
        let store = MemorySecrets::with(&[
            ("ssm:/callbook/webhook", "from-ssm-secret-1"),
            ("secretsmanager:callbook/old", "from-sm-secret-22"),
        ]);
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let found = stored_deployment_secrets(
            &store,
            &env(&[
                ("VAPI_WEBHOOK_SECRET_REF", "ssm:/callbook/webhook"),
                (
                    "VAPI_WEBHOOK_SECRET_PREVIOUS_REF",
                    "secretsmanager:callbook/old",
                ),
            ]),
            WEBHOOK_SECRETS,
        )
        .await
        .unwrap();
        assert_eq!(
            found,
            vec![
                ("VAPI_WEBHOOK_SECRET", "from-ssm-secret-1".to_string()),
                (
                    "VAPI_WEBHOOK_SECRET_PREVIOUS",
                    "from-sm-secret-22".to_string()
                ),
            ]
        );
        // Nothing named: nothing read.
        let before = store.reads.load(std::sync::atomic::Ordering::SeqCst);
        let none = stored_deployment_secrets(
            &store,
            &env(&[("VAPI_WEBHOOK_SECRET", "x")]),
            WEBHOOK_SECRETS,
        )
        .await
        .unwrap();
        assert!(none.is_empty());
        assert_eq!(
            store.reads.load(std::sync::atomic::Ordering::SeqCst),
            before
        );

        let both = stored_deployment_secrets(
            &store,
            &env(&[
                ("VAPI_WEBHOOK_SECRET", "plain-secret-value"),
                ("VAPI_WEBHOOK_SECRET_REF", "ssm:/callbook/webhook"),
            ]),
            WEBHOOK_SECRETS,
        )
        .await;
        assert!(
            matches!(&both, Err(ConfigError::Invalid { name: "VAPI_WEBHOOK_SECRET_REF", reason }) if reason.contains("not both")),
            "{both:?}"
        );
        let missing = stored_deployment_secrets(
            &store,
            &env(&[("VAPI_WEBHOOK_SECRET_REF", "ssm:/nope")]),
            WEBHOOK_SECRETS,
        )
        .await;
        assert!(
            matches!(
                &missing,
                Err(ConfigError::Unreadable {
                    name: "VAPI_WEBHOOK_SECRET_REF",
                    ..
                })
            ),
            "{missing:?}"
        );
        let malformed = stored_deployment_secrets(
            &store,
            &env(&[("VAPI_WEBHOOK_SECRET_REF", "/callbook/x")]),
            WEBHOOK_SECRETS,
        )
        .await;
        assert!(matches!(malformed, Err(ConfigError::Invalid { .. })));

        // A reference another function reads is not read here.
        let others = stored_deployment_secrets(
            &store,
            &env(&[("VAPI_WEBHOOK_SECRET_REF", "ssm:/callbook/webhook")]),
            MONITORING_SECRETS,
        )
        .await
        .unwrap();
        assert!(others.is_empty());
    }
}

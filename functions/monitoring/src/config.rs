//! The monitoring function built from its environment, with its AWS adapters. The monitoring
//! token is read here, once, when it is kept in SSM or Secrets Manager.

use callbook_aws::cloudwatch::CloudWatchMetrics;
use callbook_aws::figures::DynamoFigures;
use callbook_aws::health::AwsHealthProbe;
use callbook_aws::metrics::namespace_from;
use callbook_aws::secrets::SsmSecretStore;
use callbook_aws::{Resources, SdkConfig, SystemClock, Table};
use callbook_core::{ConfigError, WebhookSecret, required, setting, stored_deployment_secrets};

use crate::{Aws, HealthCache, Monitoring};

/// Builds the handler with its AWS adapters from configuration (`lookup` reads the
/// environment): `MONITORING_TOKEN` (or `_REF`), `ALARM_PREFIX` (the stack's alarms),
/// `METRICS_NAMESPACE`, the tables and queues the probe checks, `BUSINESSES_TABLE`.
pub async fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Monitoring<Aws>, ConfigError> {
    let secrets = SsmSecretStore::new(aws_sdk_ssm::Client::new(sdk));
    let stored = stored_deployment_secrets(
        &secrets,
        lookup,
        callbook_core::deployment::MONITORING_SECRETS,
    )
    .await?;
    let lookup = &callbook_core::deployment::with_stored(&stored, lookup);
    let names = Resources::from_lookup(lookup);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(Monitoring {
        monitoring_token: monitoring_token(lookup)?,
        health_cache: HealthCache::default(),
        health: AwsHealthProbe::for_resources(
            dynamodb.clone(),
            aws_sdk_sqs::Client::new(sdk),
            &names,
        ),
        metrics: CloudWatchMetrics::new(
            aws_sdk_cloudwatch::Client::new(sdk),
            namespace_from(lookup),
            required(lookup, "ALARM_PREFIX")?,
        ),
        figures: DynamoFigures::new(dynamodb, names.table(Table::Businesses)?),
        clock: SystemClock,
    })
}

/// At least 16 characters, or none (then only the minimal health status is served).
pub fn monitoring_token(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<WebhookSecret>, ConfigError> {
    match setting(lookup, "MONITORING_TOKEN") {
        None => Ok(None),
        Some(token) if token.len() >= 16 => Ok(WebhookSecret::new(&token)),
        Some(_) => Err(ConfigError::Invalid {
            name: "MONITORING_TOKEN",
            reason: "at least 16 characters".into(),
        }),
    }
}

//! The webhook built from its environment, with its AWS adapters. The deployment's secret is
//! read here, once, when it is kept in SSM or Secrets Manager.

use std::sync::Arc;

use callbook_aws::business::DynamoBusinessDirectory;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::quotas::DynamoQuotas;
use callbook_aws::secrets::SsmSecretStore;
use callbook_aws::slots::DynamoSlotStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::verifications::DynamoVerifications;
use callbook_aws::{Resources, SdkConfig, SystemClock, Table};
use callbook_core::{
    Authenticator, Business, ColdStart, ConfigError, JobKind, setting, stored_deployment_secrets,
};

use crate::{Aws, DEFAULT_MAX_BODY_BYTES, UnroutedCalls, Webhook};

/// Builds the webhook with its AWS adapters from configuration (`lookup` reads the environment).
pub async fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Webhook<Aws>, ConfigError> {
    let secrets = SsmSecretStore::new(aws_sdk_ssm::Client::new(sdk));
    let stored =
        stored_deployment_secrets(&secrets, lookup, callbook_core::deployment::WEBHOOK_SECRETS)
            .await?;
    let lookup = &callbook_core::deployment::with_stored(&stored, lookup);
    let names = Resources::from_lookup(lookup);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(Webhook {
        auth: Authenticator::from_lookup(lookup)?,
        max_body_bytes: max_body_bytes(lookup)?,
        business: Arc::new(Business::from_lookup(lookup)?),
        unrouted_calls: UnroutedCalls::from_lookup(lookup)?,
        queue: SqsJobQueue::for_kinds(
            sqs,
            &names,
            &[JobKind::Booking, JobKind::Notification, JobKind::Analytics],
        )?,
        directory: DynamoBusinessDirectory::new(dynamodb.clone(), names.table(Table::Businesses)?),
        answers: DynamoIdempotencyStore::new(dynamodb.clone(), names.table(Table::Idempotency)?),
        verifications: DynamoVerifications::new(dynamodb.clone(), names.table(Table::Idempotency)?),
        quotas: DynamoQuotas::new(dynamodb.clone(), names.table(Table::Idempotency)?),
        calendar: DynamoSlotStore::new(dynamodb.clone(), names.table(Table::Bookings)?),
        bookings: DynamoBookingStore::new(
            dynamodb,
            names.table(Table::Customers)?,
            names.table(Table::Bookings)?,
        ),
        secrets,
        clock: SystemClock,
        metrics: EmfLog::from_lookup(lookup),
        cold_start: ColdStart::default(),
    })
}

fn max_body_bytes(lookup: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    match setting(lookup, "MAX_BODY_BYTES") {
        None => Ok(DEFAULT_MAX_BODY_BYTES),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1_024..=10_485_760).contains(n))
            .ok_or_else(|| ConfigError::Invalid {
                name: "MAX_BODY_BYTES",
                reason: format!("{v:?}: 1024 to 10485760"),
            }),
    }
}

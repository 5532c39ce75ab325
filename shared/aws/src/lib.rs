//! callbook-aws: one AWS adapter per port of callbook-core, plus what every function's `main`
//! shares: the deployment's table and queue names (`config`), SDK config, logging, the system
//! clock, and the one skeleton every SQS worker runs on (`worker`). Clients are built once,
//! at init.

pub mod bounded_cache;
pub mod business;
pub mod calls;
pub mod clock;
#[cfg(any(feature = "cloudwatch", test))]
pub mod cloudwatch;
pub mod config;
pub mod dynamo;
pub mod figures;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod notify;
pub mod quotas;
pub mod secrets;
pub mod slots;
pub mod sqs;
pub mod telemetry;
pub mod verifications;
pub mod worker;

pub use aws_config::SdkConfig;
pub use clock::SystemClock;
pub use config::{Queue, Resources, Table};
pub use worker::Worker;

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Renders an SDK error with its service code and message (the Display of `SdkError` is terse).
pub(crate) fn sdk_message<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

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
pub mod replies;
#[cfg(any(feature = "scheduler", test))]
pub mod schedules;
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

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`), with
/// every call sent to `LOCAL_ENDPOINT_URL` when it is set. `sam local invoke --env-vars` only
/// overrides variables the template declares, and `AWS_ENDPOINT_URL` declared empty would be
/// read as an invalid URL; so the template declares this one empty (AWS's own endpoints) and
/// infra/env.local.json points it at the local emulator.
pub async fn sdk_config() -> SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    match std::env::var("LOCAL_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => loader.endpoint_url(url),
        _ => loader,
    }
    .load()
    .await
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

//! callbook-aws: one AWS adapter per port of callbook-core, plus what every function's `main`
//! shares (SDK config, logging, SQS batch handling). Clients are built once, at init.

pub mod business;
pub mod calls;
pub mod dynamo;
pub mod health;
pub mod idempotency;
pub mod notify;
pub mod secrets;
pub mod slots;
pub mod sqs;
pub mod sqs_batch;
pub mod telemetry;

pub use aws_config::SdkConfig;

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

//! The webhook Lambda: `POST /vapi-webhook` (Vapi server messages; the `/monitoring/*` routes
//! are the monitoring function's). A request goes: the HTTP edge (`edge`) → the gate (`gate`: size, the call's
//! business, authentication, content type) → the message: tool calls (`tool_calls`, one file
//! per tool under `tools/`) or call events (`events`) → the queues → the answer. Everything
//! the caller hears is in `spoken`.
//!
//! Order matters: authenticate before anything else is done with the body, then parse,
//! validate, enqueue, and answer only once SQS has accepted every job the answer promises.

mod config;
mod edge;
mod events;
mod gate;
mod measured;
pub mod spoken;
mod tool_calls;
mod tools;
mod unrouted;

use std::sync::Arc;

use callbook_aws::SystemClock;
use callbook_aws::business::DynamoBusinessDirectory;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::quotas::DynamoQuotas;
use callbook_aws::secrets::SsmSecretStore;
use callbook_aws::slots::DynamoSlotStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::verifications::DynamoVerifications;
use callbook_core::{
    Authenticator, BookingStore, Business, BusinessDirectory, CallerVerifications, Clock,
    ColdStart, IdempotencyStore, JobQueue, MetricsSink, Quotas, SecretStore, SlotStore,
};

pub use config::build;
pub use measured::FUNCTION;
pub use unrouted::UnroutedCalls;

pub const WEBHOOK_PATH: &str = "/vapi-webhook";
/// The largest body accepted (256 KiB): Vapi's largest messages, end-of-call reports of long
/// calls, stay well below it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// The webhook's ports, by role. Production (`Aws`), the tests and the dev server each name
/// their set with one marker type, so adding a port touches this trait and those markers.
pub trait WebhookPorts {
    /// The booking, notification (caller codes) and analytics queues.
    type Queue: JobQueue;
    /// The business calendar: a booking reserves its slots before the caller hears "booked".
    type Calendar: SlotStore;
    /// Recorded bookings, read to find the one a caller wants to move or cancel.
    type Bookings: BookingStore;
    /// Stored businesses, found by the assistant or phone number a call came through.
    type Directory: BusinessDirectory;
    /// Each tool call's answer, remembered so a repeat hears the same (`tool_calls`).
    type Answers: IdempotencyStore;
    /// Bookings and changes per call and per number per day (`tools/limits.rs`).
    type Quotas: Quotas;
    /// Businesses' own webhook secrets, by the reference their profile holds.
    type Secrets: SecretStore;
    /// Codes texted to prove a caller holds a number, and the numbers each call proved.
    type Verifications: CallerVerifications;
    type Clock: Clock;
    /// Each request's latency, tool outcomes, rejections (`measured`; EMF on stdout in Lambda).
    type Metrics: MetricsSink;
}

pub struct Webhook<P: WebhookPorts> {
    /// How Vapi proves a request is its own (shared secret or HMAC; see `callbook_core`'s
    /// `vapi::auth`).
    pub auth: Authenticator,
    /// Larger bodies are refused with 413 before anything else is done with them.
    pub max_body_bytes: usize,
    /// The install's default business: calls naming no assistant or phone number, or its own
    /// assistant, are its; so are calls no stored business claims, unless they are refused.
    pub business: Arc<Business>,
    /// Calls whose assistant or phone number no business claims: served by `business`, or
    /// refused (`UNROUTED_CALLS`).
    pub unrouted_calls: UnroutedCalls,
    pub queue: P::Queue,
    pub calendar: P::Calendar,
    pub bookings: P::Bookings,
    pub directory: P::Directory,
    pub answers: P::Answers,
    pub quotas: P::Quotas,
    pub secrets: P::Secrets,
    pub verifications: P::Verifications,
    pub clock: P::Clock,
    pub metrics: P::Metrics,
    /// The instance's first request counts a cold start.
    pub cold_start: ColdStart,
}

/// In Lambda: DynamoDB, SQS, SSM and the system clock.
pub enum Aws {}

impl WebhookPorts for Aws {
    type Queue = SqsJobQueue;
    type Calendar = DynamoSlotStore;
    type Bookings = DynamoBookingStore;
    type Directory = DynamoBusinessDirectory;
    type Answers = DynamoIdempotencyStore;
    type Quotas = DynamoQuotas;
    type Secrets = SsmSecretStore;
    type Verifications = DynamoVerifications;
    type Clock = SystemClock;
    type Metrics = EmfLog;
}

/// The webhook function's `main`: logging, then the SDK configuration and the webhook built
/// once from the environment; the runtime lends it to every request.
pub async fn serve() -> Result<(), lambda_http::Error> {
    callbook_aws::telemetry::init_tracing();
    let sdk = callbook_aws::sdk_config().await;
    let webhook = &build(&sdk, &callbook_aws::config::environment).await?;
    lambda_http::run(lambda_http::service_fn(move |request| async move {
        Ok::<_, lambda_http::Error>(webhook.handle(request).await)
    }))
    .await
}

#[cfg(test)]
mod tests;

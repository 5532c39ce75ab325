//! One skeleton for every SQS function, in the spirit of lambda_runtime's typed partial-batch
//! helper: a worker says which job its queue carries and how to run one; the skeleton reads
//! each message, runs its job once (`run_once`, keyed as the job type declares), and reports
//! only the failed messages (`ReportBatchItemFailures`), so SQS redelivers those and, after
//! `maxReceiveCount`, moves them to the DLQ. Each message runs in its own span, which names
//! the message and, once it is read, its job and what the job is about (`Correlated`: the
//! business, call, tool call and booking), so every line of the job carries them; a failure's
//! reason is logged, redacted.
//!
//! The invocation's deadline (Lambda's, from its context) bounds the work: a job's result is
//! recorded with backoff until shortly before it (`run_once_by`), and a message is not
//! started when too little time is left for it (it goes back untouched, unclaimed).

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_core::{
    Clock, ColdStart, ConfigError, Correlated, Dimension, IdempotencyStore, Measurement, Metric,
    MetricsSink, OnceError, PortError, QueueJob, Ran, redact_text, run_once_by,
};
use chrono::{DateTime, Duration, Utc};
use lambda_runtime::{LambdaEvent, service_fn};
use thiserror::Error;
use tracing::field::Empty;
use tracing::{Instrument, Span, info};

use crate::SdkConfig;

/// An SQS function's handler.
pub trait Worker: Sync {
    /// What its queue carries.
    type Job: QueueJob + Send + Sync;
    type Error: std::error::Error + Send;
    /// Where each job's claim and record are kept.
    type JobsDone: IdempotencyStore;
    type Clock: Clock;
    type Metrics: MetricsSink;

    /// The function's name, the `Function` dimension of its metrics.
    const FUNCTION: &'static str;

    fn jobs_done(&self) -> &Self::JobsDone;

    fn clock(&self) -> &Self::Clock;

    /// Where the skeleton's metrics (job age, retries, failures, cold start) and the
    /// worker's own go.
    fn metrics(&self) -> &Self::Metrics;

    fn cold_start(&self) -> &ColdStart;

    /// Does the job; `Ok` is what is recorded (a repeat finds it and skips the job). A failure
    /// gives the claim up, so the redelivery runs it again.
    fn run(&self, job: &Self::Job) -> impl Future<Output = Result<String, Self::Error>> + Send;

    /// The batch, as Lambda's event source mapping hands it over, with the template's
    /// timeout (`TIMEOUT`) from now.
    fn handle(&self, event: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send
    where
        Self: Sized,
    {
        let deadline = self.clock().now() + TIMEOUT;
        handle(self, event, deadline)
    }

    /// The batch, to be answered by `deadline` (the invocation's).
    fn handle_by(
        &self,
        event: SqsEvent,
        deadline: DateTime<Utc>,
    ) -> impl Future<Output = SqsBatchResponse> + Send
    where
        Self: Sized,
    {
        handle(self, event, deadline)
    }
}

/// The workers' function timeout in template.yaml, for a batch handled without a Lambda
/// context.
pub const TIMEOUT: Duration = Duration::seconds(30);
/// Kept from the deadline for answering: the last record try ends this long before it.
const ANSWER_RESERVE: Duration = Duration::seconds(2);
/// A message is not started with less than this left: a claim, a send and a record take
/// well under a second; the rest is room for slow calls, so a job is not cut off holding a
/// claim (which, for a notification, would block its redeliveries).
const START_RESERVE: Duration = Duration::seconds(8);

/// Why a message failed; it comes back after the visibility timeout.
#[derive(Debug, Error)]
pub enum JobFailure<E> {
    #[error("the message has no body")]
    NoBody,
    #[error("the message is not a job of the {kind} queue: {error}")]
    Unreadable {
        kind: &'static str,
        error: serde_json::Error,
    },
    /// Running elsewhere, used before for other content, the store down, or the job failed.
    #[error(transparent)]
    NotRun(#[from] OnceError<E>),
    /// Done, but not recorded: retried, and the job's own conditional writes keep the repeat
    /// from doing anything twice (a notification's claim outlasts its redeliveries).
    #[error("the job ran but could not be recorded: {0}")]
    Unrecorded(PortError),
    /// Too close to the invocation's deadline to start: back to the queue, unclaimed.
    #[error("not started: too close to the invocation's deadline")]
    NoTimeLeft,
}

/// The ids of the messages a batch response sends back to the queue.
pub fn failed_messages(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// Runs every message of the batch once, by `deadline`; returns the ones that failed.
pub async fn handle<W: Worker>(
    worker: &W,
    event: SqsEvent,
    deadline: DateTime<Utc>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut measured: Vec<Measurement> = worker.cold_start().measure().into_iter().collect();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let receive_count = message
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        measured.extend(picked_up::<W>(&message, worker.clock().now()));
        let span = tracing::info_span!(
            "message",
            message_id = %id,
            receive_count = %receive_count,
            job = Empty,
            business = Empty,
            call_id = Empty,
            tool_call_id = Empty,
            reference = Empty,
        );
        // Boxed: the nested SDK futures are too deep for the compiler's layout otherwise.
        let result = Box::pin(run_message(worker, message, deadline))
            .instrument(span.clone())
            .await;
        if let Err(e) = result {
            if matches!(e, JobFailure::NoTimeLeft) {
                // Deferred untouched, not failed: no error and no failure counted.
                span.in_scope(|| {
                    info!("not started: too close to the deadline; back to the queue")
                });
            } else {
                // Provider errors can quote the recipient: redact before logging.
                let reason = redact_text(&e.to_string());
                span.in_scope(
                    || tracing::error!(error = %reason, "message failed; it will be retried"),
                );
                measured.push(
                    Measurement::count(Metric::JobFailures).by(Dimension::Queue, W::Job::KIND),
                );
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    worker.metrics().emit(W::FUNCTION, &measured);
    response
}

/// What a message says when it is picked up: how long it waited since SQS first accepted it
/// (`SentTimestamp`, in ms since the epoch), and whether this is a retry (received before).
fn picked_up<W: Worker>(message: &SqsMessage, now: DateTime<Utc>) -> Vec<Measurement> {
    let queue = W::Job::KIND;
    let attribute = |name: &str| {
        message
            .attributes
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let mut measured = Vec::with_capacity(2);
    if let Some(sent) = attribute("SentTimestamp") {
        let age = (now.timestamp_millis() - sent).max(0);
        measured.push(Measurement::new(Metric::JobAge, age as f64).by(Dimension::Queue, queue));
    }
    if attribute("ApproximateReceiveCount").is_some_and(|n| n > 1) {
        measured.push(Measurement::count(Metric::Retries).by(Dimension::Queue, queue));
    }
    measured
}

async fn run_message<W: Worker>(
    worker: &W,
    message: SqsMessage,
    deadline: DateTime<Utc>,
) -> Result<(), JobFailure<W::Error>> {
    if worker.clock().now() + START_RESERVE > deadline {
        return Err(JobFailure::NoTimeLeft);
    }
    let body = message.body.as_deref().ok_or(JobFailure::NoBody)?;
    let job = W::Job::parse(body).map_err(|error| JobFailure::Unreadable {
        kind: W::Job::KIND,
        error,
    })?;
    let (key, fingerprint) = (job.key(), job.fingerprint());
    let span = Span::current();
    span.record("job", key.as_str());
    let ids = job.correlation();
    for (field, id) in [
        ("business", ids.business_id),
        ("call_id", ids.call_id),
        ("tool_call_id", ids.tool_call_id),
        ("reference", ids.reference),
    ] {
        if let Some(id) = id {
            span.record(field, id);
        }
    }
    let ran = run_once_by(
        worker.jobs_done(),
        worker.clock(),
        W::Job::POLICY,
        Some(deadline - ANSWER_RESERVE),
        &key,
        &fingerprint,
        || worker.run(&job),
    )
    .await?;
    match ran {
        Ran::Now(_) => Ok(()),
        Ran::Before(_) => {
            info!(%fingerprint, "job done before: skipped");
            Ok(())
        }
        Ran::Unrecorded(_, e) => {
            tracing::error!(
                "done but not recorded before the deadline; its claim holds off repeats until it expires"
            );
            Err(JobFailure::Unrecorded(e))
        }
    }
}

/// A worker function's `main`: logging, then the SDK configuration and the worker built once
/// from the environment; the runtime lends the worker to every invocation.
pub async fn serve<W, B>(build: B) -> Result<(), lambda_runtime::Error>
where
    W: Worker,
    B: FnOnce(&SdkConfig, &fn(&str) -> Option<String>) -> Result<W, ConfigError>,
{
    crate::telemetry::init_tracing();
    let sdk = crate::sdk_config().await;
    let environment: fn(&str) -> Option<String> = crate::config::environment;
    let worker = &build(&sdk, &environment)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        // Lambda's deadline, in milliseconds since the epoch; without it, the template's timeout.
        let deadline = i64::try_from(event.context.deadline)
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(|| worker.clock().now() + TIMEOUT);
        Ok::<_, lambda_runtime::Error>(handle(worker, event.payload, deadline).await)
    }))
    .await
}

#[cfg(test)]
mod tests;

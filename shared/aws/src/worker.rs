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
            // Provider errors can quote the recipient: redact before logging.
            let reason = redact_text(&e.to_string());
            span.in_scope(
                || tracing::error!(error = %reason, "message failed; it will be retried"),
            );
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
            measured
                .push(Measurement::count(Metric::JobFailures).by(Dimension::Queue, W::Job::KIND));
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
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;
    use callbook_core::testing::faults::Faulty;
    use callbook_core::testing::memory::{FixedClock, MemoryIdempotencyStore, MemoryMetrics};
    use callbook_core::{Correlation, OncePolicy, QUEUE_JOB};
    use chrono::{TimeZone, Utc};
    use serde::Deserialize;

    /// A job that says what to do: succeed, or fail.
    #[derive(Deserialize)]
    struct Chore {
        id: String,
        fails: bool,
    }

    impl QueueJob for Chore {
        const KIND: &'static str = "chore";
        const POLICY: OncePolicy = QUEUE_JOB;

        fn key(&self) -> String {
            format!("chore#{}", self.id)
        }

        fn fingerprint(&self) -> String {
            format!("{}|{}", self.id, self.fails)
        }
    }

    /// A chore is about call `id` of business "b1".
    impl Correlated for Chore {
        fn correlation(&self) -> Correlation<'_> {
            Correlation {
                business_id: Some("b1"),
                call_id: Some(&self.id),
                ..Correlation::default()
            }
        }
    }

    struct Chores {
        jobs_done: Faulty<MemoryIdempotencyStore>,
        clock: FixedClock,
        /// Makes the record of the next runs fail, as a store going down mid-job would.
        unrecordable: bool,
        metrics: MemoryMetrics,
        cold_start: ColdStart,
    }

    impl Worker for Chores {
        type Job = Chore;
        type Error = PortError;
        type JobsDone = Faulty<MemoryIdempotencyStore>;
        type Clock = FixedClock;
        type Metrics = MemoryMetrics;
        const FUNCTION: &'static str = "chore-worker";

        fn jobs_done(&self) -> &Self::JobsDone {
            &self.jobs_done
        }

        fn clock(&self) -> &FixedClock {
            &self.clock
        }

        fn metrics(&self) -> &MemoryMetrics {
            &self.metrics
        }

        fn cold_start(&self) -> &ColdStart {
            &self.cold_start
        }

        async fn run(&self, chore: &Chore) -> Result<String, PortError> {
            if self.unrecordable {
                self.jobs_done.faults.fail_next(1_000);
            }
            if chore.fails {
                return Err(PortError::unavailable("chore", "it failed"));
            }
            Ok("done".into())
        }
    }

    fn batch(bodies: &[(&str, &str)]) -> SqsEvent {
        let mut event = SqsEvent::default();
        for (id, body) in bodies {
            let mut message = SqsMessage::default();
            message.message_id = Some(id.to_string());
            message.body = Some(body.to_string());
            event.records.push(message);
        }
        event
    }

    fn chores(unrecordable: bool) -> Chores {
        Chores {
            jobs_done: Faulty::default(),
            clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()),
            unrecordable,
            metrics: MemoryMetrics::default(),
            cold_start: ColdStart::default(),
        }
    }

    #[tokio::test]
    async fn only_the_messages_that_failed_go_back_and_a_done_job_is_skipped() {
        let worker = chores(false);
        let event = batch(&[
            ("m1", r#"{"id": "a", "fails": false}"#),
            ("m2", r#"{"id": "b", "fails": true}"#),
            ("m3", "not json"),
            ("m4", r#"{"id": "a", "fails": true}"#),
        ]);
        // m4 reuses job a's id with other content: refused, not run.
        assert_eq!(
            failed_messages(&worker.handle(event).await),
            ["m2", "m3", "m4"]
        );
        let again = batch(&[("m5", r#"{"id": "a", "fails": false}"#)]);
        assert!(failed_messages(&worker.handle(again).await).is_empty());
    }

    /// The record is tried until shortly before the deadline (paused time: no real wait).
    #[tokio::test(start_paused = true)]
    async fn a_job_that_ran_but_could_not_be_recorded_goes_back_to_the_queue() {
        let worker = chores(true);
        let event = batch(&[("m1", r#"{"id": "a", "fails": false}"#)]);
        let started = tokio::time::Instant::now();
        assert_eq!(failed_messages(&worker.handle(event).await), ["m1"]);
        let spent = started.elapsed();
        assert!(
            spent > std::time::Duration::from_secs(20)
                && spent < std::time::Duration::from_secs(28),
            "{spent:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_that_fails_for_seconds_still_lands() {
        // The claim succeeds, then the record fails ten times in a row: it still lands, and
        // the redelivery finds the job done.
        let flaky = FlakyRecord(chores(false));
        let event = batch(&[("m1", r#"{"id": "b", "fails": false}"#)]);
        assert!(failed_messages(&flaky.handle(event).await).is_empty());
        assert_eq!(flaky.0.jobs_done.faults.failed(), 10);
        let again = batch(&[("m2", r#"{"id": "b", "fails": false}"#)]);
        assert!(failed_messages(&flaky.0.handle(again).await).is_empty());
    }

    /// Chores whose record fails its first ten tries.
    struct FlakyRecord(Chores);

    impl Worker for FlakyRecord {
        type Job = Chore;
        type Error = PortError;
        type JobsDone = Faulty<MemoryIdempotencyStore>;
        type Clock = FixedClock;
        type Metrics = MemoryMetrics;
        const FUNCTION: &'static str = "chore-worker";

        fn jobs_done(&self) -> &Self::JobsDone {
            &self.0.jobs_done
        }

        fn clock(&self) -> &FixedClock {
            &self.0.clock
        }

        fn metrics(&self) -> &MemoryMetrics {
            &self.0.metrics
        }

        fn cold_start(&self) -> &ColdStart {
            &self.0.cold_start
        }

        async fn run(&self, _: &Chore) -> Result<String, PortError> {
            self.0.jobs_done.faults.fail_next(10);
            Ok("done".into())
        }
    }

    #[tokio::test]
    async fn a_message_is_not_started_too_close_to_the_deadline() {
        let worker = chores(false);
        let event = batch(&[("m1", r#"{"id": "a", "fails": false}"#)]);
        let soon = worker.clock.0 + Duration::seconds(3);
        assert_eq!(failed_messages(&handle(&worker, event, soon).await), ["m1"]);
        // Not claimed: with time, it runs.
        let event = batch(&[("m2", r#"{"id": "a", "fails": false}"#)]);
        assert!(failed_messages(&worker.handle(event).await).is_empty());
        assert_eq!(worker.jobs_done.faults.calls(), 2);
    }

    /// Every line of a message names it; once its job is read, the job's ids too.
    #[tokio::test]
    async fn every_line_of_a_job_carries_its_message_and_its_ids() {
        let out = callbook_core::testing::CapturedLines::default();
        let writer = out.clone();
        let _logs =
            tracing::subscriber::set_default(crate::telemetry::json_lines("info", move || {
                writer.clone()
            }));
        let worker = chores(false);
        let event = batch(&[
            ("m1", r#"{"id": "a", "fails": false}"#),
            ("m2", r#"{"id": "a", "fails": false}"#),
            ("m3", r#"{"id": "b", "fails": true}"#),
            ("m4", "not json"),
        ]);
        assert_eq!(failed_messages(&worker.handle(event).await), ["m3", "m4"]);
        let lines = out.lines();
        let by_message = |id: &str| -> Vec<_> {
            lines
                .iter()
                .filter(|line| line.get("message_id").and_then(|v| v.as_str()) == Some(id))
                .collect()
        };
        // m2 is skipped (done before), m3 and m4 failed: a line each; m1 logs nothing.
        assert_eq!(lines.len(), 3, "{}", out.text());
        for (id, call) in [("m2", "a"), ("m3", "b")] {
            let logged = by_message(id);
            assert_eq!(logged.len(), 1, "{}", out.text());
            assert_eq!(logged[0]["business"], "b1");
            assert_eq!(logged[0]["call_id"], call);
            assert_eq!(logged[0]["job"], format!("chore#{call}"));
        }
        // Unreadable: no job, so no ids beyond the message's.
        let unreadable = by_message("m4");
        assert_eq!(unreadable.len(), 1, "{}", out.text());
        assert!(!unreadable[0].contains_key("business"));
    }

    #[tokio::test]
    async fn each_message_measures_its_age_retries_and_failures_and_the_first_batch_a_cold_start() {
        let worker = chores(false);
        let sent = worker.clock.0.timestamp_millis() - 1_500;
        let mut event = batch(&[
            ("m1", r#"{"id": "a", "fails": false}"#),
            ("m2", r#"{"id": "b", "fails": true}"#),
        ]);
        for (message, receives) in event.records.iter_mut().zip(["1", "3"]) {
            message
                .attributes
                .insert("SentTimestamp".into(), sent.to_string());
            message
                .attributes
                .insert("ApproximateReceiveCount".into(), receives.into());
        }
        assert_eq!(failed_messages(&worker.handle(event).await), ["m2"]);
        let emitted = worker.metrics.emitted();
        assert!(emitted.iter().all(|(f, _)| f == "chore-worker"));
        let ages: Vec<_> = emitted
            .iter()
            .filter(|(_, m)| m.metric == Metric::JobAge)
            .map(|(_, m)| (m.value, m.dimension(Dimension::Queue)))
            .collect();
        assert_eq!(ages, [(1_500.0, Some("chore")), (1_500.0, Some("chore"))]);
        assert_eq!(worker.metrics.total(Metric::Retries), 1.0);
        assert_eq!(worker.metrics.total(Metric::JobFailures), 1.0);
        assert_eq!(worker.metrics.total(Metric::ColdStarts), 1.0);
        // A second batch: no cold start.
        let again = batch(&[("m3", r#"{"id": "c", "fails": false}"#)]);
        assert!(failed_messages(&worker.handle(again).await).is_empty());
        assert_eq!(worker.metrics.total(Metric::ColdStarts), 1.0);
    }
}

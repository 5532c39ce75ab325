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
        spent > std::time::Duration::from_secs(20) && spent < std::time::Duration::from_secs(28),
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
    let (out, _logs) = callbook_core::testing::logs::capture_lines(|| {
        crate::telemetry::json_lines("info", || callbook_core::testing::logs::ThisThread)
    });
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

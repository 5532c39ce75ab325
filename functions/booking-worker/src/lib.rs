//! The booking worker: records each accepted booking (booking + customer, once per job) and
//! applies each change (reschedule, cancel) once, freeing the calendar cells the booking no
//! longer needs; then asks for the customer's SMS and email, and tells the analytics worker
//! what happened in the call.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_aws::SdkConfig;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::slots::DynamoSlotStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::sqs_batch::process_batch;
use callbook_core::business::{ConfigError, required};
use callbook_core::calls::{Activity, CallActivity};
use callbook_core::jobs::{
    AnalyticsJob, BookingChange, BookingChangeJob, BookingJob, BookingQueueMessage, BookingSummary,
    Job, JobKind, NotificationJob, NotificationKind,
};
use callbook_core::once::{OnceError, QUEUE_JOB, Ran, run_once};
use callbook_core::ports::{
    BookingStore, Clock, IdempotencyStore, JobQueue, PortError, RecordOutcome, SlotStore,
    SystemClock,
};
use callbook_core::reference::stable_id;
use thiserror::Error;
use tracing::info;

#[derive(Debug, Error)]
pub enum BookingJobError {
    #[error("the message is not a booking job: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the message has no body")]
    NoBody,
    #[error("another delivery of this job is running; it will be retried")]
    InProgress,
    #[error("this job id was used before for another job")]
    Mismatch,
    #[error(transparent)]
    Port(#[from] PortError),
}

impl From<OnceError<BookingJobError>> for BookingJobError {
    fn from(e: OnceError<BookingJobError>) -> Self {
        match e {
            OnceError::InProgress => Self::InProgress,
            OnceError::Mismatch => Self::Mismatch,
            OnceError::Store(e) => Self::Port(e),
            OnceError::Work(e) => e,
        }
    }
}

pub struct BookingWorker<S, T, Q, I, C> {
    pub store: S,
    /// The calendar, for freeing what a change gives up.
    pub slots: T,
    pub queue: Q,
    /// Each job runs once (its writes are conditional too, so a repeat after an expired
    /// claim writes nothing twice).
    pub jobs_done: I,
    pub clock: C,
}

pub type AwsBookingWorker = BookingWorker<
    DynamoBookingStore,
    DynamoSlotStore,
    SqsJobQueue,
    DynamoIdempotencyStore,
    SystemClock,
>;

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsBookingWorker, ConfigError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(BookingWorker {
        store: DynamoBookingStore::new(
            dynamodb.clone(),
            required(lookup, "CUSTOMERS_TABLE")?,
            required(lookup, "BOOKINGS_TABLE")?,
        ),
        slots: DynamoSlotStore::new(dynamodb.clone(), required(lookup, "BOOKINGS_TABLE")?),
        jobs_done: DynamoIdempotencyStore::new(dynamodb, required(lookup, "IDEMPOTENCY_TABLE")?),
        queue: SqsJobQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            vec![
                (
                    JobKind::Notification,
                    required(lookup, "NOTIFICATION_QUEUE_URL")?,
                ),
                (JobKind::Analytics, required(lookup, "ANALYTICS_QUEUE_URL")?),
            ],
        ),
        clock: SystemClock,
    })
}

impl<S: BookingStore, T: SlotStore, Q: JobQueue, I: IdempotencyStore, C: Clock>
    BookingWorker<S, T, Q, I, C>
{
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        // Boxed: the nested SDK futures are too deep for the compiler's layout otherwise.
        process_batch(event, |message| Box::pin(self.process(message))).await
    }

    async fn process(&self, message: SqsMessage) -> Result<(), BookingJobError> {
        let body = message.body.as_deref().ok_or(BookingJobError::NoBody)?;
        let message = match serde_json::from_str::<BookingQueueMessage>(body) {
            Ok(message) => message,
            // The untagged enum's error says nothing useful; the booking's does.
            Err(_) => {
                return Err(serde_json::from_str::<BookingJob>(body)
                    .err()
                    .map_or(BookingJobError::NoBody, BookingJobError::Unreadable));
            }
        };
        let (key, hash) = match &message {
            BookingQueueMessage::Booking(job) => {
                (format!("booking#{}", job.job_id), booking_fingerprint(job))
            }
            BookingQueueMessage::Change(job) => {
                (format!("change#{}", job.job_id), change_fingerprint(job))
            }
        };
        let ran = run_once(&self.jobs_done, &self.clock, QUEUE_JOB, &key, &hash, || {
            self.apply(&message)
        })
        .await;
        match ran? {
            Ran::Now(_) => {}
            Ran::Before(_) => info!(job = %key, fingerprint = %hash, "job done before: skipped"),
        }
        Ok(())
    }

    async fn apply(&self, message: &BookingQueueMessage) -> Result<String, BookingJobError> {
        match message {
            BookingQueueMessage::Booking(job) => self.record(job).await,
            BookingQueueMessage::Change(job) => self.change(job).await,
        }
    }

    async fn record(&self, job: &BookingJob) -> Result<String, BookingJobError> {
        let outcome = self.store.record_booking(job, self.clock.now()).await?;
        info!(reference = %job.reference, business = %job.business_id, ?outcome, "booking recorded");
        // Also on a redelivery: the previous attempt may have stopped before this step.
        // Notification ids are deterministic, so the notification worker sends each once.
        let mut jobs: Vec<Job> = NotificationJob::booking_confirmations(job)
            .into_iter()
            .chain(NotificationJob::owner_new_booking(job))
            .map(Job::Notification)
            .collect();
        if let Some(call_id) = &job.call_id {
            jobs.push(Job::Analytics(AnalyticsJob::CallActivity(CallActivity {
                business_id: job.business_id.clone(),
                call_id: call_id.clone(),
                customer_phone: job.customer.phone.clone(),
                activity: Activity::Booked,
                reference: job.reference.clone(),
                value_cents: job.price_cents,
                at: job.requested_at,
            })));
        }
        self.queue.enqueue(&jobs).await?;
        if outcome == RecordOutcome::AlreadyRecorded {
            info!(reference = %job.reference, "redelivered booking job: nothing written twice");
        }
        Ok(format!("{outcome:?}"))
    }

    async fn change(&self, job: &BookingChangeJob) -> Result<String, BookingJobError> {
        let applied = self.store.apply_change(job, self.clock.now()).await?;
        // Freed after the record says so: a crash in between is redelivered, finds the job in
        // the audit trail, and frees the same cells again (only those this booking holds).
        self.slots
            .release(&job.business_id, &applied.release, &job.reference)
            .await?;
        info!(
            reference = %job.reference,
            business = %job.business_id,
            change = %job.job_id,
            notify = applied.notify,
            released = applied.release.len(),
            "booking change applied"
        );
        if !applied.notify {
            return Ok("applied before".into());
        }
        let booking = &applied.booking;
        let (kind, activity) = match job.change {
            BookingChange::Cancel { .. } => {
                (NotificationKind::BookingCancelled, Activity::Cancelled)
            }
            BookingChange::Reschedule { .. } => {
                (NotificationKind::BookingRescheduled, Activity::Rescheduled)
            }
        };
        let summary = BookingSummary {
            reference: booking.reference.clone(),
            customer_name: booking.customer_name.clone(),
            customer_phone: Some(booking.customer_phone.clone()),
            service: booking.service.clone(),
            start_local: booking.start_local,
            time_zone: booking.time_zone.clone(),
        };
        let mut jobs: Vec<Job> = NotificationJob::to_customer(
            &job.job_id,
            &job.business_id,
            &job.business_name,
            kind,
            &summary,
            &booking.customer_phone,
            &booking.customer_email,
        )
        .map(Job::Notification)
        .into();
        if let Some(call_id) = &job.call_id {
            jobs.push(Job::Analytics(AnalyticsJob::CallActivity(CallActivity {
                business_id: job.business_id.clone(),
                call_id: call_id.clone(),
                customer_phone: booking.customer_phone.clone(),
                activity,
                reference: job.reference.clone(),
                value_cents: None,
                at: job.requested_at,
            })));
        }
        self.queue.enqueue(&jobs).await?;
        Ok("applied".into())
    }
}

/// What makes a booking job that job: not when it was queued (a retried enqueue of the same
/// booking carries a later `requestedAt`).
fn booking_fingerprint(job: &BookingJob) -> String {
    stable_id(
        format!(
            "{}|{}|{}|{}|{}",
            job.business_id,
            job.reference,
            job.start_utc.to_rfc3339(),
            job.service,
            job.customer.phone.as_str()
        )
        .as_bytes(),
    )
}

fn change_fingerprint(job: &BookingChangeJob) -> String {
    stable_id(
        format!(
            "{}|{}|{}",
            job.business_id,
            job.reference,
            serde_json::to_string(&job.change).unwrap_or_default()
        )
        .as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use callbook_core::memory::{
        FixedClock, MemoryBookingStore, MemoryIdempotencyStore, MemoryQueue, MemorySlotStore,
    };
    use callbook_core::ports::SlotStore;
    use std::sync::Arc;

    /// What the webhook did before these jobs existed: a booking's cells, and the cells of a
    /// new time it reserved for a reschedule.
    async fn reserve_as_the_webhook_did(w: &TestWorker, event: &SqsEvent) {
        for record in &event.records {
            let job: BookingQueueMessage =
                serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
            let (reference, cells, tag) = match &job {
                BookingQueueMessage::Booking(b) => (
                    b.reference.clone(),
                    b.slot_cells.clone(),
                    b.holder.clone().unwrap_or_else(|| "booked".into()),
                ),
                BookingQueueMessage::Change(c) => match &c.change {
                    BookingChange::Reschedule { reserved, .. } => (
                        c.reference.clone(),
                        reserved.clone(),
                        format!("r-{}", c.job_id),
                    ),
                    BookingChange::Cancel { .. } => continue,
                },
            };
            if !cells.is_empty() {
                w.slots
                    .reserve("default", &cells, 1, &reference, &tag)
                    .await
                    .unwrap();
            }
        }
    }
    use chrono::{TimeZone, Utc};
    use serde_json::{Value, json};

    type TestWorker = BookingWorker<
        MemoryBookingStore,
        Arc<MemorySlotStore>,
        MemoryQueue,
        MemoryIdempotencyStore,
        FixedClock,
    >;

    /// The store writes a change's cells with its record, to the calendar the worker frees.
    fn worker() -> TestWorker {
        let store = MemoryBookingStore::default();
        BookingWorker {
            slots: store.calendar.clone(),
            store,
            queue: MemoryQueue::default(),
            jobs_done: MemoryIdempotencyStore::default(),
            clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 5).unwrap()),
        }
    }

    fn sample_event() -> SqsEvent {
        let text = include_str!("../../../events/booking-worker-sqs.json");
        serde_json::from_str(text).unwrap()
    }

    fn failures(r: &SqsBatchResponse) -> Vec<String> {
        r.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect()
    }

    #[tokio::test]
    async fn records_the_booking_and_customer_then_asks_for_notifications() {
        let w = worker();
        let response = w.handle(sample_event()).await;
        assert!(failures(&response).is_empty());
        let bookings = w.store.bookings();
        assert_eq!(bookings.len(), 1);
        let b = &bookings[0];
        assert_eq!(
            (b.reference.as_str(), b.status.as_str(), b.audit.len()),
            ("K7P2X9", "confirmed", 1)
        );
        assert_eq!(b.start_local.to_rfc3339(), "2026-11-25T14:00:00-05:00");
        let customers = w.store.customers();
        assert_eq!(customers.len(), 1);
        assert_eq!(
            (customers[0].booking_count, customers[0].name.as_str()),
            (1, "Test User")
        );
        let sent = w.queue.sent();
        let ids: Vec<String> = sent.iter().map(Job::id).collect();
        assert_eq!(
            ids,
            [
                "default#K7P2X9#booking-confirmation#sms",
                "default#K7P2X9#booking-confirmation#email",
                "default#call#3f1c2a9e-5b7d-4c1e-9a8f-2d6b0e4c7a11#booked#K7P2X9"
            ]
        );
    }

    #[tokio::test]
    async fn the_same_job_twice_writes_once() {
        let mut w = worker();
        w.handle(sample_event()).await;
        let response = w.handle(sample_event()).await;
        assert!(failures(&response).is_empty());
        assert_eq!(w.store.bookings().len(), 1);
        assert_eq!(w.store.customers()[0].booking_count, 1);
        // The job is remembered: the repeat does nothing at all.
        assert_eq!(w.queue.sent().len(), 3);

        // Forgotten (its record expired): the conditional writes still write nothing twice;
        // the follow-up jobs are asked for again, with the same ids, deduplicated downstream.
        w.jobs_done = MemoryIdempotencyStore::default();
        let response = w.handle(sample_event()).await;
        assert!(failures(&response).is_empty());
        assert_eq!(w.store.bookings().len(), 1);
        assert_eq!(w.store.customers()[0].booking_count, 1);
        assert_eq!(w.queue.sent().len(), 6);
    }

    /// The worker dies after its DynamoDB write and before the message is deleted (here: the
    /// follow-up enqueue fails): the message comes back, the claim was given up, and the
    /// redelivery writes nothing twice and asks for the follow-ups once.
    #[tokio::test]
    async fn a_crash_after_the_write_is_redelivered_and_nothing_is_doubled() {
        let w = worker();
        w.queue.failures.fail_next(1);
        let response = w.handle(sample_event()).await;
        assert_eq!(failures(&response).len(), 1, "back to the queue");
        assert_eq!(w.store.bookings().len(), 1, "the write happened");
        assert!(w.queue.sent().is_empty());
        let response = w.handle(sample_event()).await;
        assert!(failures(&response).is_empty());
        assert_eq!(w.store.bookings().len(), 1);
        assert_eq!(w.store.customers()[0].booking_count, 1);
        assert_eq!(w.queue.sent().len(), 3);
    }

    #[tokio::test]
    async fn a_job_id_reused_for_another_booking_is_refused_and_kept_for_the_dlq() {
        let w = worker();
        w.handle(sample_event()).await;
        let mut other = sample_event();
        let mut job: Value =
            serde_json::from_str(other.records[0].body.as_deref().unwrap()).unwrap();
        job["service"] = json!("Cleaning");
        other.records[0].body = Some(job.to_string());
        let response = w.handle(other).await;
        assert_eq!(failures(&response).len(), 1);
        assert_eq!(w.store.bookings().len(), 1);
        assert_eq!(w.store.bookings()[0].service, "Consultation");
    }

    #[tokio::test]
    async fn failures_are_reported_per_message() {
        let w = worker();
        let mut event = sample_event();
        let mut bad = event.records[0].clone();
        bad.message_id = Some("bad-1".into());
        bad.body = Some("{\"not\": \"a job\"}".into());
        event.records.push(bad);
        let response = w.handle(event).await;
        assert_eq!(failures(&response), ["bad-1"]);
        assert_eq!(w.store.bookings().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_enqueue_sends_the_message_back_and_the_retry_completes() {
        let w = worker();
        w.queue.failures.fail_next(1);
        let response = w.handle(sample_event()).await;
        assert_eq!(failures(&response).len(), 1);
        assert_eq!(w.store.bookings().len(), 1);
        let response = w.handle(sample_event()).await;
        assert!(failures(&response).is_empty());
        assert_eq!(w.store.customers()[0].booking_count, 1);
        assert_eq!(w.queue.sent().len(), 3);
    }

    fn changes_event() -> SqsEvent {
        let text = include_str!("../../../events/booking-worker-sqs-changes.json");
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn a_reschedule_then_a_cancel_apply_once_free_the_calendar_and_notify() {
        use callbook_core::booking::BookingStatus;
        let w = worker();
        let event = changes_event();
        reserve_as_the_webhook_did(&w, &event).await;
        let mut first_two = event.clone();
        first_two.records.truncate(2);
        assert!(failures(&w.handle(first_two.clone()).await).is_empty());
        let b = &w.store.bookings()[0];
        assert_eq!(
            (b.status, b.start_local.to_rfc3339().as_str(), b.audit.len()),
            (BookingStatus::Rescheduled, "2026-11-27T10:00:00-05:00", 2)
        );
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert!(
            w.slots.taken("default", day(25)).await.unwrap().is_empty(),
            "the old time is free"
        );
        assert_eq!(w.slots.taken("default", day(27)).await.unwrap().len(), 2);

        // Redelivered: nothing applied twice; the cancel then frees the new time too.
        assert!(failures(&w.handle(event).await).is_empty());
        let b = &w.store.bookings()[0];
        assert_eq!((b.status, b.audit.len()), (BookingStatus::Cancelled, 3));
        assert!(w.slots.taken("default", day(27)).await.unwrap().is_empty());
        let customer = &w.store.customers()[0];
        assert_eq!(customer.lifetime_value_cents, 0, "booked 150.00, cancelled");

        let ids: Vec<String> = w.queue.sent().iter().map(Job::id).collect();
        for id in [
            "default#K7P2X9#reschedule#5e0c#booking-rescheduled#sms",
            "default#K7P2X9#cancel#booking-cancelled#email",
            "default#call#3f1c2a9e-5b7d-4c1e-9a8f-2d6b0e4c7a11#cancelled#K7P2X9",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
    }

    /// Two moves in quick succession, the second planned by the webhook before the first
    /// applied: whatever order and however often they arrive, the booking holds exactly the
    /// cells its record names.
    #[tokio::test]
    async fn moves_planned_from_a_stale_view_never_leave_the_booking_without_its_cells() {
        use callbook_core::slots::SlotCell;
        let w = worker();
        let mut event = changes_event();
        event.records.truncate(1);
        reserve_as_the_webhook_did(&w, &event).await;
        assert!(failures(&w.handle(event.clone()).await).is_empty());
        let booking = w.store.bookings()[0].clone();
        let cell = |h: u32, m: u32| SlotCell {
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
            start_utc: Utc.with_ymd_and_hms(2026, 11, 25, h + 5, m, 0).unwrap(),
        };
        let move_job = |id: &str, h: u32, m: u32, reserved: Vec<SlotCell>, secs: i64| {
            let start = Utc.with_ymd_and_hms(2026, 11, 25, h + 5, m, 0).unwrap();
            let next = start + chrono::Duration::minutes(30);
            BookingChangeJob {
                job_id: id.into(),
                business_id: "default".into(),
                business_name: "Clinic".into(),
                reference: booking.reference.clone(),
                change: BookingChange::Reschedule {
                    start_utc: start,
                    start_local: start.fixed_offset(),
                    slot_cells: vec![
                        SlotCell {
                            day: cell(0, 0).day,
                            start_utc: start,
                        },
                        SlotCell {
                            day: cell(0, 0).day,
                            start_utc: next,
                        },
                    ],
                    reserved,
                    holder: Some(format!("tag-{id}")),
                    capacity: 1,
                },
                call_id: None,
                tool_call_id: None,
                requested_at: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
                    + chrono::Duration::seconds(secs),
            }
        };
        // Booked 14:00-15:00. r1: to 16:00. r2, planned while it still stood at 14:00: to
        // 14:30, so the webhook reserved only 15:00 (it thought 14:30 was the booking's).
        let r1 = move_job("r1", 16, 0, vec![cell(16, 0), cell(16, 30)], 1);
        let r2 = move_job("r2", 14, 30, vec![cell(15, 0)], 2);
        for (job, tag) in [(&r1, "w1"), (&r2, "w2")] {
            let BookingChange::Reschedule { reserved, .. } = &job.change else {
                unreachable!()
            };
            w.slots
                .reserve("default", reserved, 1, &booking.reference, tag)
                .await
                .unwrap();
        }
        let as_event = |jobs: &[&BookingChangeJob]| {
            let mut e = event.clone();
            let template = e.records[0].clone();
            e.records = jobs
                .iter()
                .map(|j| {
                    let mut r = template.clone();
                    r.message_id = Some(j.job_id.clone());
                    r.body = Some(serde_json::to_string(j).unwrap());
                    r
                })
                .collect();
            e
        };
        // r1, r2, then r1 again (a redelivery).
        assert!(failures(&w.handle(as_event(&[&r1, &r2, &r1])).await).is_empty());
        let b = &w.store.bookings()[0];
        assert_eq!(b.slot_cells, vec![cell(14, 30), cell(15, 0)]);
        let day = cell(0, 0).day;
        let taken: Vec<(SlotCell, u32)> = w.slots.taken("default", day).await.unwrap();
        assert_eq!(taken, vec![(cell(14, 30), 1), (cell(15, 0), 1)]);
    }

    #[tokio::test]
    async fn a_change_to_a_booking_not_yet_recorded_is_retried() {
        let w = worker();
        let mut event = changes_event();
        event.records.remove(0);
        assert_eq!(failures(&w.handle(event).await).len(), 2);
        assert!(w.queue.sent().is_empty());
    }

    #[tokio::test]
    async fn a_store_failure_sends_the_message_back() {
        let w = worker();
        w.store.failures.fail_next(1);
        assert_eq!(failures(&w.handle(sample_event()).await).len(), 1);
        assert!(w.store.bookings().is_empty() && w.queue.sent().is_empty());
    }

    /// Every sample event of this worker in events/ goes through the handler without failures.
    #[tokio::test]
    async fn every_sample_event_is_processed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("booking-worker-")
            {
                continue;
            }
            let event: SqsEvent =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let w = worker();
            reserve_as_the_webhook_did(&w, &event).await;
            assert!(
                failures(&w.handle(event).await).is_empty(),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert!(seen >= 1, "no booking-worker-* samples in events/");
    }
}

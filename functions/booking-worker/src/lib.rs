//! The booking worker: records each accepted booking (booking + customer, once per job) and
//! then asks for the customer's SMS and email confirmations.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_aws::SdkConfig;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::sqs_batch::process_batch;
use callbook_core::business::{ConfigError, required};
use callbook_core::jobs::{BookingJob, Job, NotificationJob};
use callbook_core::ports::{BookingStore, Clock, JobQueue, PortError, RecordOutcome, SystemClock};
use thiserror::Error;
use tracing::info;

#[derive(Debug, Error)]
pub enum BookingJobError {
    #[error("the message is not a booking job: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the message has no body")]
    NoBody,
    #[error(transparent)]
    Port(#[from] PortError),
}

pub struct BookingWorker<S, Q, C> {
    pub store: S,
    pub queue: Q,
    pub clock: C,
}

pub type AwsBookingWorker = BookingWorker<DynamoBookingStore, SqsJobQueue, SystemClock>;

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsBookingWorker, ConfigError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(BookingWorker {
        store: DynamoBookingStore::new(
            dynamodb,
            required(lookup, "CUSTOMERS_TABLE")?,
            required(lookup, "BOOKINGS_TABLE")?,
        ),
        queue: SqsJobQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            None,
            Some(required(lookup, "NOTIFICATION_QUEUE_URL")?),
        ),
        clock: SystemClock,
    })
}

impl<S: BookingStore, Q: JobQueue, C: Clock> BookingWorker<S, Q, C> {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |message| self.process(message)).await
    }

    async fn process(&self, message: SqsMessage) -> Result<(), BookingJobError> {
        let job: BookingJob =
            serde_json::from_str(message.body.as_deref().ok_or(BookingJobError::NoBody)?)?;
        let outcome = self.store.record_booking(&job, self.clock.now()).await?;
        info!(reference = %job.reference, business = %job.business_id, ?outcome, "booking recorded");
        // Also on a redelivery: the previous attempt may have stopped before this step.
        // Notification ids are deterministic, so the notification worker sends each once.
        let notifications = NotificationJob::booking_confirmations(&job).map(Job::Notification);
        self.queue.enqueue(&notifications).await?;
        if outcome == RecordOutcome::AlreadyRecorded {
            info!(reference = %job.reference, "redelivered booking job: nothing written twice");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callbook_core::memory::{FixedClock, MemoryBookingStore, MemoryQueue};
    use chrono::{TimeZone, Utc};

    fn worker() -> BookingWorker<MemoryBookingStore, MemoryQueue, FixedClock> {
        BookingWorker {
            store: MemoryBookingStore::default(),
            queue: MemoryQueue::default(),
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
        let ids: Vec<&str> = sent.iter().map(Job::id).collect();
        assert_eq!(
            ids,
            [
                "default#K7P2X9#booking-confirmation#sms",
                "default#K7P2X9#booking-confirmation#email"
            ]
        );
    }

    #[tokio::test]
    async fn the_same_job_twice_writes_once() {
        let w = worker();
        w.handle(sample_event()).await;
        let response = w.handle(sample_event()).await;
        assert!(failures(&response).is_empty());
        assert_eq!(w.store.bookings().len(), 1);
        assert_eq!(w.store.customers()[0].booking_count, 1);
        // The notification jobs are asked for again, with the same ids, and deduplicated downstream.
        assert_eq!(w.queue.sent().len(), 4);
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
        assert_eq!(w.queue.sent().len(), 2);
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
            assert!(
                failures(&worker().handle(event).await).is_empty(),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert!(seen >= 1, "no booking-worker-* samples in events/");
    }
}

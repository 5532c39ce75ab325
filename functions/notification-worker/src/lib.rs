//! The notification worker: sends each notification job once, by SMS (SNS) or email (SESv2),
//! rendered from our templates. A failed send goes back to the queue; never dropped.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_aws::SdkConfig;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::notify::{SesEmail, SnsSms};
use callbook_aws::sqs_batch::process_batch;
use callbook_core::business::{ConfigError, required};
use callbook_core::jobs::{NotificationJob, Recipient};
use callbook_core::ports::{
    Claim, Clock, EmailSender, IdempotencyStore, PortError, SmsSender, SystemClock,
};
use callbook_core::templates::{email_for, sms_for};
use chrono::Duration;
use thiserror::Error;
use tracing::info;

/// How long a send may hold its claim before another delivery may retry it.
const SEND_CLAIM: Duration = Duration::minutes(5);
/// How long a sent notification is remembered (well past SQS's 14-day retention).
const REMEMBER_SENT: Duration = Duration::days(30);

#[derive(Debug, Error)]
pub enum NotificationError {
    #[error("the message is not a notification job: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the message has no body")]
    NoBody,
    #[error("another delivery of this notification is being sent")]
    InProgress,
    #[error(transparent)]
    Port(#[from] PortError),
}

pub struct NotificationWorker<I, S, E, C> {
    pub sent: I,
    pub sms: S,
    pub email: E,
    pub clock: C,
}

pub type AwsNotificationWorker =
    NotificationWorker<DynamoIdempotencyStore, SnsSms, SesEmail, SystemClock>;

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsNotificationWorker, ConfigError> {
    Ok(NotificationWorker {
        sent: DynamoIdempotencyStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            required(lookup, "IDEMPOTENCY_TABLE")?,
        ),
        sms: SnsSms::new(aws_sdk_sns::Client::new(sdk)),
        email: SesEmail::new(
            aws_sdk_sesv2::Client::new(sdk),
            required(lookup, "SENDER_EMAIL")?,
        ),
        clock: SystemClock,
    })
}

impl<I: IdempotencyStore, S: SmsSender, E: EmailSender, C: Clock> NotificationWorker<I, S, E, C> {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |message| self.process(message)).await
    }

    async fn process(&self, message: SqsMessage) -> Result<(), NotificationError> {
        let job: NotificationJob =
            serde_json::from_str(message.body.as_deref().ok_or(NotificationError::NoBody)?)?;
        let key = format!("notification#{}", job.notification_id);
        match self.sent.claim(&key, self.clock.now(), SEND_CLAIM).await? {
            Claim::Completed(_) => {
                info!(notification = %job.notification_id, "already sent: skipped");
                return Ok(());
            }
            Claim::InProgress => return Err(NotificationError::InProgress),
            Claim::Acquired => {}
        }
        match self.send(&job).await {
            Ok(provider_id) => {
                info!(notification = %job.notification_id, %provider_id, "sent");
                // Sent but not recorded would mean a second send once the claim expires: try
                // hard to record it (the SDK retries each attempt too).
                let mut attempt = 0;
                loop {
                    match self
                        .sent
                        .complete(&key, &provider_id, self.clock.now(), REMEMBER_SENT)
                        .await
                    {
                        Ok(()) => return Ok(()),
                        Err(e) if attempt >= 3 => return Err(e.into()),
                        Err(_) => {
                            attempt += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(100 << attempt))
                                .await;
                        }
                    }
                }
            }
            Err(e) => {
                // Give the claim up so the redelivery can send; if this fails too, the claim
                // expires after SEND_CLAIM.
                let _ = self.sent.release(&key).await;
                Err(e.into())
            }
        }
    }

    async fn send(&self, job: &NotificationJob) -> Result<String, PortError> {
        // A job without what its kind is about can never be sent: it goes to the DLQ.
        let unrenderable = || PortError::Corrupt {
            what: "notification job",
            message: format!("{} has nothing to say for its kind", job.notification_id),
        };
        match &job.recipient {
            Recipient::Sms { phone } => {
                let text = sms_for(job).ok_or_else(unrenderable)?;
                self.sms.send_sms(phone, &text).await
            }
            Recipient::Email { email } => {
                let rendered = email_for(job).ok_or_else(unrenderable)?;
                self.email.send_email(email, &rendered).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callbook_core::memory::{FixedClock, MemoryEmail, MemoryIdempotencyStore, MemorySms};
    use chrono::{TimeZone, Utc};

    type TestWorker =
        NotificationWorker<MemoryIdempotencyStore, MemorySms, MemoryEmail, FixedClock>;

    fn worker() -> TestWorker {
        NotificationWorker {
            sent: MemoryIdempotencyStore::default(),
            sms: MemorySms::default(),
            email: MemoryEmail::default(),
            clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 10).unwrap()),
        }
    }

    fn sample_event() -> SqsEvent {
        serde_json::from_str(include_str!("../../../events/notification-worker-sqs.json")).unwrap()
    }

    fn failures(r: &SqsBatchResponse) -> Vec<String> {
        r.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect()
    }

    fn counts(w: &TestWorker) -> (usize, usize) {
        (
            w.sms.sent.lock().unwrap().len(),
            w.email.sent.lock().unwrap().len(),
        )
    }

    #[tokio::test]
    async fn sends_one_sms_and_one_email_from_the_templates() {
        let w = worker();
        assert!(failures(&w.handle(sample_event()).await).is_empty());
        let sms = w.sms.sent.lock().unwrap().clone();
        assert_eq!(sms[0].0.as_str(), "+17025551234");
        assert!(
            sms[0]
                .1
                .contains("Wednesday, November 25 at 2:00 PM EST. Reference K7P2X9")
        );
        let email = w.email.sent.lock().unwrap().clone();
        assert_eq!(email[0].0.as_str(), "test@example.com");
        assert!(email[0].1.html.contains("<strong>K7P2X9</strong>"));
    }

    #[tokio::test]
    async fn a_redelivered_notification_is_not_sent_twice() {
        let w = worker();
        w.handle(sample_event()).await;
        assert!(failures(&w.handle(sample_event()).await).is_empty());
        assert_eq!(counts(&w), (1, 1));
    }

    #[tokio::test]
    async fn a_failed_send_goes_back_to_the_queue_and_the_retry_sends() {
        let w = worker();
        w.email.failures.fail_next(1);
        let response = w.handle(sample_event()).await;
        assert_eq!(
            failures(&response),
            [sample_event().records[1].message_id.clone().unwrap()]
        );
        assert_eq!(counts(&w), (1, 0));
        assert!(failures(&w.handle(sample_event()).await).is_empty());
        assert_eq!(counts(&w), (1, 1));
    }

    #[tokio::test]
    async fn a_send_in_progress_elsewhere_is_retried_later() {
        let w = worker();
        let key = "notification#default#K7P2X9#booking-confirmation#sms";
        w.sent
            .claim(key, w.clock.now(), Duration::minutes(5))
            .await
            .unwrap();
        let response = w.handle(sample_event()).await;
        assert_eq!(failures(&response).len(), 1);
        assert_eq!(counts(&w), (0, 1));
    }

    #[tokio::test]
    async fn an_unreadable_job_is_a_failure_not_a_drop() {
        let w = worker();
        let mut event = sample_event();
        event.records[0].body = Some("{\"channel\": \"pigeon\"}".into());
        assert_eq!(failures(&w.handle(event).await).len(), 1);
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
                .starts_with("notification-worker-")
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
        assert!(seen >= 1, "no notification-worker-* samples in events/");
    }
}

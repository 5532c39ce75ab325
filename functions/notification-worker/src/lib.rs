//! The notification worker: sends each notification job once, by SMS (SNS) or email (SESv2),
//! rendered from our templates. A failed send goes back to the queue; never dropped.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_aws::SdkConfig;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::notify::{SesEmail, SmsOptOuts, SnsSms};
use callbook_aws::sqs_batch::process_batch;
use callbook_core::business::{ConfigError, number, required, setting};
use callbook_core::email::EmailAddress;
use callbook_core::jobs::{NotificationJob, Recipient};
use callbook_core::once::{OnceError, OncePolicy, Ran, run_once};
use callbook_core::phone::PhoneNumber;
use callbook_core::ports::{
    Clock, EmailSender, IdempotencyStore, OptOuts, PortError, SmsSender, SystemClock,
};
use callbook_core::reference::stable_id;
use callbook_core::resilience::{Failover, Guarded};
use callbook_core::templates::RenderedEmail;
use callbook_core::templates::{email_for, sms_for};
use chrono::Duration;
use thiserror::Error;
use tracing::info;

/// What is recorded for an SMS not sent because the phone opted out.
const OPTED_OUT: &str = "opted-out";
/// A send may hold its claim 5 minutes before another delivery may retry it; a sent
/// notification is remembered 30 days (well past SQS's 14-day retention).
const SENDING: OncePolicy = OncePolicy {
    claim_for: Duration::minutes(5),
    keep_for: Duration::days(30),
};

#[derive(Debug, Error)]
pub enum NotificationError {
    #[error("the message is not a notification job: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the message has no body")]
    NoBody,
    #[error("another delivery of this notification is being sent")]
    InProgress,
    #[error("this notification id was used for another message")]
    Mismatch,
    #[error(transparent)]
    Port(#[from] PortError),
}

pub struct NotificationWorker<I, S, E, O, C> {
    pub sent: I,
    pub sms: S,
    pub email: E,
    /// Phones that asked for no more SMS get none.
    pub opt_outs: O,
    pub clock: C,
}

pub type AwsNotificationWorker = NotificationWorker<
    DynamoIdempotencyStore,
    Paced<Failover<SnsSms, SystemClock>>,
    Paced<Failover<SesEmail, SystemClock>>,
    SmsOptOuts,
    SystemClock,
>;

/// SNS and SES in the function's region, then (with `SECONDARY_REGION`) in a second region
/// when the first fails or its circuit is open; each paced to its per-instance rate.
pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsNotificationWorker, ConfigError> {
    let failures = number(lookup, "BREAKER_FAILURES", 5, 1..=100)?;
    let cool_down = Duration::seconds(i64::from(number(
        lookup,
        "BREAKER_COOL_DOWN_SECONDS",
        30,
        1..=3600,
    )?));
    let sms_rate = number(lookup, "SMS_PER_SECOND", 50, 1..=1000)?;
    let email_rate = number(lookup, "EMAILS_PER_SECOND", 5, 1..=1000)?;
    let sender = required(lookup, "SENDER_EMAIL")?;
    let secondary = setting(lookup, "SECONDARY_REGION");
    let sns_secondary = secondary.as_deref().map(|region| {
        let conf = aws_sdk_sns::config::Builder::from(sdk)
            .region(aws_config::Region::new(region.to_string()))
            .build();
        Guarded::new(
            "sns-secondary",
            SnsSms::new(aws_sdk_sns::Client::from_conf(conf)),
            failures,
            cool_down,
        )
    });
    let ses_secondary = secondary.as_deref().map(|region| {
        let conf = aws_sdk_sesv2::config::Builder::from(sdk)
            .region(aws_config::Region::new(region.to_string()))
            .build();
        Guarded::new(
            "ses-secondary",
            SesEmail::new(aws_sdk_sesv2::Client::from_conf(conf), sender.clone()),
            failures,
            cool_down,
        )
    });
    Ok(NotificationWorker {
        sent: DynamoIdempotencyStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            required(lookup, "IDEMPOTENCY_TABLE")?,
        ),
        sms: Paced::new(
            sms_rate,
            Failover {
                primary: Guarded::new(
                    "sns",
                    SnsSms::new(aws_sdk_sns::Client::new(sdk)),
                    failures,
                    cool_down,
                ),
                secondary: sns_secondary,
                clock: SystemClock,
            },
        ),
        email: Paced::new(
            email_rate,
            Failover {
                primary: Guarded::new(
                    "ses",
                    SesEmail::new(aws_sdk_sesv2::Client::new(sdk), sender.clone()),
                    failures,
                    cool_down,
                ),
                secondary: ses_secondary,
                clock: SystemClock,
            },
        ),
        opt_outs: SmsOptOuts::new(
            aws_sdk_dynamodb::Client::new(sdk),
            required(lookup, "CUSTOMERS_TABLE")?,
            aws_sdk_sns::Client::new(sdk),
        ),
        clock: SystemClock,
    })
}

/// At most `per_second` sends a second from this instance: with the event source's
/// `MaximumConcurrency` this bounds the account-wide rate by construction (see the README).
#[derive(Debug)]
pub struct Paced<P> {
    interval: std::time::Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
    pub inner: P,
}

impl<P> Paced<P> {
    pub fn new(per_second: u32, inner: P) -> Self {
        Self {
            interval: std::time::Duration::from_secs(1) / per_second.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            inner,
        }
    }

    /// Waits for this send's turn.
    async fn turn(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

impl<P: SmsSender> SmsSender for Paced<P> {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        self.turn().await;
        self.inner.send_sms(to, text).await
    }
}

impl<P: EmailSender> EmailSender for Paced<P> {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        self.turn().await;
        self.inner.send_email(to, email).await
    }
}

impl<I, S, E, O, C> NotificationWorker<I, S, E, O, C>
where
    I: IdempotencyStore,
    S: SmsSender,
    E: EmailSender,
    O: OptOuts,
    C: Clock,
{
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        // Boxed: the nested SDK futures are too deep for the compiler's layout otherwise.
        process_batch(event, |message| Box::pin(self.process(message))).await
    }

    async fn process(&self, message: SqsMessage) -> Result<(), NotificationError> {
        let job: NotificationJob =
            serde_json::from_str(message.body.as_deref().ok_or(NotificationError::NoBody)?)?;
        let key = format!("notification#{}", job.notification_id);
        // What makes it the same message: its id, kind and recipient.
        let hash = stable_id(
            format!(
                "{}|{}|{}",
                job.notification_id,
                job.kind.as_str(),
                serde_json::to_string(&job.recipient).unwrap_or_default()
            )
            .as_bytes(),
        );
        // A failed opt-out check is a failed send: the claim is given up and the message
        // retried, never sent unchecked. Sent but not recorded would mean a second send once
        // the claim expires, so recording is retried (`run_once`).
        let sent = run_once(&self.sent, &self.clock, SENDING, &key, &hash, || async {
            match &job.recipient {
                Recipient::Sms { phone } => {
                    if self.opt_outs.opted_out(&job.business_id, phone).await? {
                        info!(notification = %job.notification_id, phone = %phone.redacted(), "opted out of SMS: not sent");
                        return Ok(OPTED_OUT.to_string());
                    }
                    self.send(&job).await
                }
                Recipient::Email { .. } => self.send(&job).await,
            }
        })
        .await;
        match sent {
            Ok(Ran::Now(provider_id)) => {
                info!(notification = %job.notification_id, %provider_id, "sent");
                Ok(())
            }
            Ok(Ran::Before(_)) => {
                info!(notification = %job.notification_id, "already sent: skipped");
                Ok(())
            }
            Err(OnceError::InProgress) => Err(NotificationError::InProgress),
            Err(OnceError::Mismatch) => Err(NotificationError::Mismatch),
            Err(OnceError::Store(e) | OnceError::Work(e)) => Err(e.into()),
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
    use callbook_core::memory::{
        FixedClock, MemoryEmail, MemoryIdempotencyStore, MemoryOptOuts, MemorySms,
    };
    use chrono::{TimeZone, Utc};

    type TestWorker = NotificationWorker<
        MemoryIdempotencyStore,
        MemorySms,
        MemoryEmail,
        MemoryOptOuts,
        FixedClock,
    >;

    fn worker() -> TestWorker {
        NotificationWorker {
            sent: MemoryIdempotencyStore::default(),
            sms: MemorySms::default(),
            email: MemoryEmail::default(),
            opt_outs: MemoryOptOuts::default(),
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
            .claim(key, "another-hash", w.clock.now(), Duration::minutes(5))
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

    #[tokio::test(start_paused = true)]
    async fn sends_are_paced_to_the_per_instance_rate() {
        let paced = Paced::new(50, MemorySms::default());
        let to = PhoneNumber::parse(
            "+17025551234",
            callbook_core::phone::PhoneRegion::from_code("US").unwrap(),
        )
        .unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..100 {
            paced.send_sms(&to, "hi").await.unwrap();
        }
        // 100 sends at 50/s: the last goes out 99 intervals (1.98 s) after the first.
        assert_eq!(start.elapsed(), std::time::Duration::from_millis(1980));
        assert_eq!(paced.inner.sent.lock().unwrap().len(), 100);
    }

    #[tokio::test]
    async fn a_phone_that_opted_out_gets_no_sms_but_its_email_goes() {
        let w = worker();
        let phone = PhoneNumber::parse(
            "+17025551234",
            callbook_core::phone::PhoneRegion::from_code("US").unwrap(),
        )
        .unwrap();
        w.opt_outs
            .phones
            .lock()
            .unwrap()
            .push(("default".into(), phone));
        assert!(failures(&w.handle(sample_event()).await).is_empty());
        assert_eq!(counts(&w), (0, 1));
        // Recorded as handled: a redelivery does not send it either.
        assert!(failures(&w.handle(sample_event()).await).is_empty());
        assert_eq!(counts(&w), (0, 1));
        // The opt-out list unreachable: the message goes back to the queue, nothing is sent,
        // and its claim is given up so the retry can send it.
        let w = worker();
        w.opt_outs.failures.fail_next(1);
        let response = w.handle(sample_event()).await;
        assert_eq!(failures(&response).len(), 1);
        assert_eq!(counts(&w), (0, 1));
        assert!(failures(&w.handle(sample_event()).await).is_empty());
        assert_eq!(counts(&w), (1, 1));
    }
}

use super::*;
use aws_lambda_events::event::sqs::SqsEvent;
use callbook_aws::worker::failed_messages as failures;
use callbook_core::PhoneNumber;
use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{
    FixedClock, MemoryEmail, MemoryFigures, MemoryIdempotencyStore, MemoryMetrics, MemoryOptOuts,
    MemorySms,
};
use callbook_core::testing::sample_events;
use chrono::{TimeZone, Utc};

/// The worker's ports in memory; the ones a test makes fail are wrapped in `Faulty`.
enum InMemory {}

impl NotificationWorkerPorts for InMemory {
    type JobsDone = MemoryIdempotencyStore;
    type Sms = MemorySms;
    type Email = Faulty<MemoryEmail>;
    type OptOuts = Faulty<MemoryOptOuts>;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
    type Figures = MemoryFigures;
}

type TestWorker = NotificationWorker<InMemory>;

fn worker() -> TestWorker {
    NotificationWorker {
        jobs_done: MemoryIdempotencyStore::default(),
        sms: MemorySms::default(),
        email: Faulty::default(),
        opt_outs: Faulty::default(),
        clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 10).unwrap()),
        metrics: MemoryMetrics::default(),
        figures: MemoryFigures::default(),
        cold_start: ColdStart::default(),
    }
}

/// The metric's (channel, reason) values emitted, in order.
fn by_channel(metrics: &MemoryMetrics, metric: Metric) -> Vec<(String, Option<String>)> {
    metrics
        .emitted()
        .into_iter()
        .filter(|(_, m)| m.metric == metric)
        .map(|(_, m)| {
            (
                m.dimension(Dimension::Channel)
                    .unwrap_or_default()
                    .to_string(),
                m.dimension(Dimension::Reason).map(str::to_string),
            )
        })
        .collect()
}

async fn figures_of(figures: &MemoryFigures) -> callbook_core::FigureCounts {
    let day = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
    figures
        .counts("default", day, day + Duration::hours(23))
        .await
        .unwrap()
}

fn sample_event() -> SqsEvent {
    serde_json::from_str(include_str!("../../../events/notification-worker-sqs.json")).unwrap()
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
    // Each counted once, by channel.
    assert_eq!(
        by_channel(&w.metrics, Metric::Sent),
        [("sms".to_string(), None), ("email".to_string(), None)]
    );
    let figures = figures_of(&w.figures).await;
    assert_eq!(
        (figures.get("texts_sent"), figures.get("emails_sent")),
        (Some(&1), Some(&1))
    );
}

#[tokio::test]
async fn a_failed_send_goes_back_to_the_queue_and_the_retry_sends() {
    let w = worker();
    w.email.faults.fail_next(1);
    let response = w.handle(sample_event()).await;
    assert_eq!(
        failures(&response),
        [sample_event().records[1].message_id.clone().unwrap()]
    );
    assert_eq!(counts(&w), (1, 0));
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(counts(&w), (1, 1));
    // The failed attempt is a failure for now, not the business's failed email.
    assert_eq!(
        by_channel(&w.metrics, Metric::SendFailures),
        [("email".to_string(), Some(UNAVAILABLE.to_string()))]
    );
    assert_eq!(w.metrics.total(Metric::Sent), 2.0);
    assert_eq!(figures_of(&w.figures).await.get("emails_failed"), None);
}

#[tokio::test]
async fn a_send_in_progress_elsewhere_is_retried_later() {
    let w = worker();
    let key = "notification#default#K7P2X9#booking-confirmation#sms";
    w.jobs_done
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
    for (name, text) in sample_events("notification-worker-") {
        let event: SqsEvent = serde_json::from_str(&text).unwrap();
        assert!(failures(&worker().handle(event).await).is_empty(), "{name}");
    }
}

#[tokio::test(start_paused = true)]
async fn sends_are_paced_to_the_per_instance_rate() {
    let paced = Paced::new(50, MemorySms::default());
    let to = PhoneNumber::parse(
        "+17025551234",
        callbook_core::PhoneRegion::from_code("US").unwrap(),
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
        callbook_core::PhoneRegion::from_code("US").unwrap(),
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
    w.opt_outs.faults.fail_next(1);
    let response = w.handle(sample_event()).await;
    assert_eq!(failures(&response).len(), 1);
    assert_eq!(counts(&w), (0, 1));
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(counts(&w), (1, 1));
}

/// A number of no country (+882 international networks) never gets an SMS, even from a job
/// queued before the booking worker left such texts out; it is done, not retried.
#[tokio::test]
async fn a_number_of_no_country_gets_no_sms() {
    let w = worker();
    let mut event = sample_event();
    for record in &mut event.records {
        let mut job: serde_json::Value =
            serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
        if job["recipient"]["channel"] == "sms" {
            job["recipient"]["phone"] = serde_json::json!("+8823456789012");
        }
        record.body = Some(job.to_string());
    }
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    assert_eq!(counts(&w), (0, 1));
    assert!(failures(&w.handle(event).await).is_empty());
    assert_eq!(counts(&w), (0, 1));
}

/// The record of a notification in `event`'s message `index`, as a repeat would find it.
async fn record_of<P: NotificationWorkerPorts>(
    w: &NotificationWorker<P>,
    event: &SqsEvent,
    index: usize,
) -> Option<String> {
    use callbook_core::{Claim, QueueJob};
    let body = event.records[index].body.as_deref().unwrap();
    let job = NotificationJob::parse(body).unwrap();
    match w
        .jobs_done
        .claim(
            &job.key(),
            &job.fingerprint(),
            w.clock.now(),
            Duration::seconds(1),
        )
        .await
        .unwrap()
    {
        Claim::Completed(record) => Some(record),
        _ => None,
    }
}

fn sample_phone() -> PhoneNumber {
    PhoneNumber::parse(
        "+17025551234",
        callbook_core::PhoneRegion::from_code("US").unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_refused_recipient_is_recorded_with_its_reason_and_never_retried() {
    let w = worker();
    w.sms.refused.lock().unwrap().push(sample_phone());
    w.email
        .refused
        .lock()
        .unwrap()
        .push(callbook_core::EmailAddress::parse("test@example.com").unwrap());
    // Neither goes back to the queue: the provider's refusal is final.
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(counts(&w), (0, 0));
    assert_eq!(
        record_of(&w, &sample_event(), 0).await.as_deref(),
        Some("rejected: invalid_number")
    );
    assert_eq!(
        record_of(&w, &sample_event(), 1).await.as_deref(),
        Some("rejected: email_rejected")
    );
    // A redelivery skips them: the provider is not asked again.
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(*w.sms.refusals.lock().unwrap(), 1);
    // Counted once each, by channel and class.
    assert_eq!(
        by_channel(&w.metrics, Metric::SendFailures),
        [
            ("sms".to_string(), Some("invalid_number".to_string())),
            ("email".to_string(), Some("email_rejected".to_string())),
        ]
    );
    let figures = figures_of(&w.figures).await;
    assert_eq!(
        (figures.get("texts_failed"), figures.get("emails_failed")),
        (Some(&1), Some(&1))
    );
}

#[tokio::test]
async fn an_opted_out_phone_is_recorded_as_a_refusal_with_its_reason() {
    let w = worker();
    w.opt_outs
        .phones
        .lock()
        .unwrap()
        .push(("default".into(), sample_phone()));
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(
        record_of(&w, &sample_event(), 0).await.as_deref(),
        Some("rejected: opted_out")
    );
}

/// SMS through the circuit breaker, as in Lambda (threshold 2).
enum Breaking {}

impl NotificationWorkerPorts for Breaking {
    type JobsDone = MemoryIdempotencyStore;
    type Sms = callbook_core::resilience::Failover<MemorySms, FixedClock>;
    type Email = MemoryEmail;
    type OptOuts = MemoryOptOuts;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
    type Figures = MemoryFigures;
}

/// Many bad numbers in a row leave the breaker closed: the next good number is sent.
#[tokio::test]
async fn refused_numbers_never_open_the_breaker_for_the_other_messages() {
    use callbook_core::resilience::{BreakerState, Failover, Guarded};
    let clock = worker().clock;
    let w = NotificationWorker::<Breaking> {
        jobs_done: MemoryIdempotencyStore::default(),
        sms: Failover {
            primary: Guarded::new("sns", MemorySms::default(), 2, Duration::seconds(30)),
            secondary: None,
            clock,
        },
        email: MemoryEmail::default(),
        opt_outs: MemoryOptOuts::default(),
        clock,
        metrics: MemoryMetrics::default(),
        figures: MemoryFigures::default(),
        cold_start: ColdStart::default(),
    };
    let region = callbook_core::PhoneRegion::from_code("US").unwrap();
    let mut event = SqsEvent::default();
    for n in 0..6 {
        let mut message = sample_event().records[0].clone();
        let number = format!("+1702555{:04}", 1000 + n);
        let phone = PhoneNumber::parse(&number, region).unwrap();
        if n < 5 {
            w.sms.primary.provider.refused.lock().unwrap().push(phone);
        }
        message.message_id = Some(format!("m{n}"));
        message.body = message.body.map(|b| {
            b.replace("+17025551234", &number)
                .replace("K7P2X9#", &format!("K7P2X{n}#"))
        });
        event.records.push(message);
    }
    assert!(failures(&w.handle(event).await).is_empty());
    assert_eq!(w.sms.primary.provider.sent.lock().unwrap().len(), 1);
    assert_eq!(
        w.sms.primary.breaker.state(),
        BreakerState::Closed { failures: 0 }
    );
}

/// A provider failing twice in a row opens its breaker: one `BreakerOpens` by channel.
#[tokio::test]
async fn a_breaker_that_opens_is_counted_once_by_channel() {
    use callbook_core::resilience::{Failover, Guarded};
    let clock = worker().clock;
    let w = NotificationWorker::<Failing> {
        jobs_done: MemoryIdempotencyStore::default(),
        sms: Failover {
            primary: Guarded::new("sns", Faulty::default(), 2, Duration::seconds(30)),
            secondary: None,
            clock,
        },
        email: MemoryEmail::default(),
        opt_outs: MemoryOptOuts::default(),
        clock,
        metrics: MemoryMetrics::default(),
        figures: MemoryFigures::default(),
        cold_start: ColdStart::default(),
    };
    w.sms.primary.provider.faults.fail_next(100);
    let mut event = SqsEvent::default();
    for n in 0..4 {
        let mut message = sample_event().records[0].clone();
        message.message_id = Some(format!("m{n}"));
        message.body = message
            .body
            .map(|b| b.replace("K7P2X9#", &format!("K7P2X{n}#")));
        event.records.push(message);
    }
    assert_eq!(failures(&w.handle(event).await).len(), 4);
    assert_eq!(
        by_channel(&w.metrics, Metric::BreakerOpens),
        [("sms".to_string(), None)]
    );
    // Two failed at the provider, two met the open circuit: all four failed for now.
    assert_eq!(w.metrics.total(Metric::SendFailures), 4.0);
    assert_eq!(w.metrics.total(Metric::ColdStarts), 1.0);
}

/// SMS through a breaker in front of a provider that fails on demand.
enum Failing {}

impl NotificationWorkerPorts for Failing {
    type JobsDone = MemoryIdempotencyStore;
    type Sms = callbook_core::resilience::Failover<Faulty<MemorySms>, FixedClock>;
    type Email = MemoryEmail;
    type OptOuts = MemoryOptOuts;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
    type Figures = MemoryFigures;
}

/// An SQS event of these notification jobs (the sample's envelope).
fn event_of(jobs: &[NotificationJob]) -> SqsEvent {
    let template = sample_event().records[0].clone();
    let mut event = sample_event();
    event.records = jobs
        .iter()
        .enumerate()
        .map(|(i, job)| {
            let mut record = template.clone();
            record.message_id = Some(format!("answer-{i}"));
            record.body = Some(serde_json::to_string(job).unwrap());
            record
        })
        .collect();
    event
}

fn answer(id: &str, kind: NotificationKind, answer: Option<SmsAnswer>) -> NotificationJob {
    NotificationJob {
        notification_id: id.into(),
        business_id: "default".into(),
        business_name: "Clinic".into(),
        kind,
        recipient: Recipient::Sms {
            phone: sample_phone(),
        },
        booking: None,
        lead: None,
        code: None,
        reminder: None,
        answer,
    }
}

/// After STOP, the one text that goes to the opted-out number is the answer confirming it;
/// any other answer (or an opt-out answer's kind without it) is refused as opted out.
#[tokio::test]
async fn only_the_opt_out_confirmation_reaches_an_opted_out_number() {
    let w = worker();
    w.opt_outs
        .phones
        .lock()
        .unwrap()
        .push(("default".into(), sample_phone()));
    let event = event_of(&[
        answer(
            "a-stop",
            NotificationKind::SmsAnswer,
            Some(SmsAnswer::OptedOut),
        ),
        answer("a-help", NotificationKind::SmsAnswer, Some(SmsAnswer::Help)),
        answer(
            "a-start",
            NotificationKind::SmsAnswer,
            Some(SmsAnswer::OptedIn),
        ),
        answer(
            "a-code",
            NotificationKind::CallerCode,
            Some(SmsAnswer::OptedOut),
        ),
    ]);
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    let sent = w.sms.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].1.contains("you're unsubscribed"), "{}", sent[0].1);
    for index in 1..4 {
        assert_eq!(
            record_of(&w, &event, index).await.as_deref(),
            Some("rejected: opted_out")
        );
    }
}

use super::*;
use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{
    FixedClock, MemoryBookingStore, MemoryDirectory, MemoryIdempotencyStore, MemoryLastReminders,
    MemoryMetrics, MemoryOptOuts, MemoryQueue, MemoryQuotas,
};
use callbook_core::{
    BookingChange, BookingJob, BookingRecord, BookingReference, BookingStatus, CustomerDetails,
    EmailAddress, Job, NotificationJob, NotificationKind, PhoneNumber, Recipient, Reminded,
    SmsAnswer, SmsReply,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

const PHONE: &str = "+17025551234";
const STRANGER: &str = "+17025559999";
const REFERENCE: &str = "K7P2X9";

enum InMemory {}

impl SmsRepliesPorts for InMemory {
    type Directory = MemoryDirectory;
    type Bookings = Faulty<MemoryBookingStore>;
    type Queue = Faulty<MemoryQueue>;
    type OptOuts = MemoryOptOuts;
    type LastReminders = MemoryLastReminders;
    type JobsDone = MemoryIdempotencyStore;
    type Quotas = MemoryQuotas;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
}

type TestReplies = SmsReplies<InMemory>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn business(settings: &'static [(&'static str, &'static str)]) -> Business {
    Business::from_lookup(&|name: &str| {
        settings
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// Replies on, three texts a day per number; one upcoming booking of PHONE, reminded.
fn replies_with(settings: &'static [(&'static str, &'static str)]) -> TestReplies {
    let r: TestReplies = SmsReplies {
        business: Arc::new(business(settings)),
        directory: MemoryDirectory::default(),
        bookings: Faulty::default(),
        queue: Faulty::default(),
        opt_outs: MemoryOptOuts::default(),
        last_reminders: MemoryLastReminders::default(),
        jobs_done: MemoryIdempotencyStore::default(),
        quotas: MemoryQuotas::default(),
        clock: FixedClock(now()),
        metrics: MemoryMetrics::default(),
        cold_start: ColdStart::default(),
    };
    r.bookings.insert(booking(PHONE, now() + Duration::days(1)));
    r
}

fn replies() -> TestReplies {
    replies_with(&[("SMS_REPLIES", "on"), ("TEXTS_PER_NUMBER_PER_DAY", "3")])
}

fn phone(raw: &str) -> PhoneNumber {
    PhoneNumber::try_from(raw.to_string()).unwrap()
}

fn booking(customer: &str, start: DateTime<Utc>) -> BookingRecord {
    let job = BookingJob {
        job_id: format!("default#{REFERENCE}"),
        business_id: "default".into(),
        business_name: "Clinic".into(),
        reference: BookingReference::parse(REFERENCE).unwrap(),
        customer: CustomerDetails {
            name: "Ann Lee".parse().unwrap(),
            phone: phone(customer),
            email: EmailAddress::parse("ann@example.com").unwrap(),
        },
        service: "Consultation".into(),
        duration_minutes: 60,
        price_cents: None,
        start_utc: start,
        start_local: start.fixed_offset(),
        time_zone: "UTC".into(),
        slot_cells: Vec::new(),
        call_id: None,
        tool_call_id: None,
        requested_at: now(),
        owner: Vec::new(),
        holder: None,
        texts: Default::default(),
        followups: None,
    };
    BookingRecord::from_job(&job, now() - Duration::days(2))
}

async fn remind(r: &TestReplies, to: &str) {
    r.last_reminders
        .remember(
            &phone(to),
            &Reminded {
                business_id: "default".into(),
                reference: BookingReference::parse(REFERENCE).unwrap(),
                at: now() - Duration::hours(1),
            },
        )
        .await
        .unwrap();
}

fn inbound(from: &str, text: &str, id: &str) -> String {
    serde_json::json!({
        "originationNumber": from,
        "destinationNumber": "+18005550100",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": text,
        "inboundMessageId": id,
        "previousPublishedMessageId": "prev-1",
    })
    .to_string()
}

fn event(messages: &[String]) -> SnsEvent {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:inbound:sub",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": format!("sns-{i}"),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:inbound",
                    "Subject": null,
                    "Message": m,
                    "Timestamp": "2026-11-24T15:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "x",
                    "SigningCertUrl": "https://example.com/cert",
                    "UnsubscribeUrl": "https://example.com/unsub",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

async fn text(r: &TestReplies, from: &str, body: &str, id: &str) {
    r.handle(event(&[inbound(from, body, id)])).await.unwrap();
}

fn answers(r: &TestReplies) -> Vec<NotificationJob> {
    r.queue
        .sent()
        .into_iter()
        .filter_map(|j| match j {
            Job::Notification(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn answer_kinds(r: &TestReplies) -> Vec<Option<SmsAnswer>> {
    answers(r).iter().map(|n| n.answer).collect()
}

fn changes(r: &TestReplies) -> Vec<callbook_core::BookingChangeJob> {
    r.queue
        .sent()
        .into_iter()
        .filter_map(|j| match j {
            Job::BookingChange(c) => Some(c),
            _ => None,
        })
        .collect()
}

async fn opted_out(r: &TestReplies, number: &str) -> bool {
    r.opt_outs
        .opted_out("default", &phone(number))
        .await
        .unwrap()
}

#[tokio::test]
async fn stop_opts_out_with_one_confirmation_and_start_opts_back_in() {
    let r = replies();
    text(&r, PHONE, "Stop. Thank you", "in-1").await;
    assert!(opted_out(&r, PHONE).await);
    assert_eq!(answer_kinds(&r), [Some(SmsAnswer::OptedOut)]);
    let sent = &answers(&r)[0];
    assert_eq!(sent.kind, NotificationKind::SmsAnswer);
    assert_eq!(
        sent.recipient,
        Recipient::Sms {
            phone: phone(PHONE)
        }
    );

    // Opted out: a HELP gets no answer, a C no answer either (nothing may be texted).
    text(&r, PHONE, "help", "in-2").await;
    assert_eq!(answers(&r).len(), 1);

    text(&r, PHONE, "START", "in-3").await;
    assert!(!opted_out(&r, PHONE).await);
    assert_eq!(
        answer_kinds(&r),
        [Some(SmsAnswer::OptedOut), Some(SmsAnswer::OptedIn)]
    );
}

#[tokio::test]
async fn cancel_the_word_is_an_opt_out_not_a_cancellation() {
    let r = replies();
    remind(&r, PHONE).await;
    text(&r, PHONE, "CANCEL", "in-1").await;
    assert!(opted_out(&r, PHONE).await);
    assert!(changes(&r).is_empty());
    assert_eq!(answer_kinds(&r), [Some(SmsAnswer::OptedOut)]);
}

#[tokio::test]
async fn help_and_unreadable_texts_get_the_help_line_once_each() {
    let r = replies();
    text(&r, PHONE, "HELP", "in-1").await;
    text(&r, PHONE, "Can I come later?", "in-2").await;
    assert_eq!(
        answer_kinds(&r),
        [Some(SmsAnswer::Help), Some(SmsAnswer::Help)]
    );
    assert!(changes(&r).is_empty());
    let ids: Vec<String> = answers(&r).into_iter().map(|n| n.notification_id).collect();
    assert_ne!(ids[0], ids[1], "each text its own answer");
}

#[tokio::test]
async fn c_confirms_the_reminded_booking_and_answers_with_it() {
    let r = replies();
    remind(&r, PHONE).await;
    text(&r, PHONE, "yes!", "in-1").await;
    let changes = changes(&r);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].change, BookingChange::Confirm);
    assert_eq!(changes[0].reference.as_str(), REFERENCE);
    // Per start: confirmed again after a move, it is another change.
    assert!(
        changes[0]
            .job_id
            .starts_with(&format!("default#{REFERENCE}#confirm#")),
        "{}",
        changes[0].job_id
    );
    let answers = answers(&r);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].answer, Some(SmsAnswer::Confirmed));
    let summary = answers[0].booking.as_ref().unwrap();
    assert_eq!(summary.reference.as_str(), REFERENCE);
    let sms = callbook_core::templates::sms_for(&answers[0]).unwrap();
    assert!(sms.contains("is confirmed"), "{sms}");
}

#[tokio::test]
async fn x_cancels_as_the_tool_does_and_the_cancellation_is_the_answer() {
    let r = replies();
    remind(&r, PHONE).await;
    text(&r, PHONE, "x", "in-1").await;
    let changes = changes(&r);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].change, BookingChange::Cancel { reason: None });
    // The cancelAppointment tool's id: by phone and by text, one change.
    assert_eq!(changes[0].job_id, format!("default#{REFERENCE}#cancel"));
    assert!(answers(&r).is_empty());
}

#[tokio::test]
async fn c_or_x_without_a_booking_of_that_number_answers_no_booking() {
    // Never reminded.
    let r = replies();
    text(&r, PHONE, "C", "in-1").await;
    assert!(changes(&r).is_empty());
    assert_eq!(answer_kinds(&r), [Some(SmsAnswer::NoBooking)]);

    // A stranger texting from another number, with the same booking's reminder claimed.
    let r = replies();
    remind(&r, STRANGER).await;
    text(&r, STRANGER, "X", "in-1").await;
    assert!(changes(&r).is_empty(), "only the booking's own number acts");
    assert_eq!(answer_kinds(&r), [Some(SmsAnswer::NoBooking)]);

    // Already cancelled, or past.
    for record in [
        BookingRecord {
            status: BookingStatus::Cancelled,
            ..booking(PHONE, now() + Duration::days(1))
        },
        booking(PHONE, now() - Duration::hours(1)),
    ] {
        let r = replies();
        r.bookings.insert(record);
        remind(&r, PHONE).await;
        text(&r, PHONE, "X", "in-1").await;
        assert!(changes(&r).is_empty());
        assert_eq!(answer_kinds(&r), [Some(SmsAnswer::NoBooking)]);
    }
}

#[tokio::test]
async fn with_replies_off_c_and_x_get_the_help_line_and_do_nothing() {
    let r = replies_with(&[("SMS_REPLIES", "off")]);
    remind(&r, PHONE).await;
    text(&r, PHONE, "C", "in-1").await;
    text(&r, PHONE, "X", "in-2").await;
    assert!(changes(&r).is_empty());
    assert_eq!(
        answer_kinds(&r),
        [
            Some(SmsAnswer::HelpWithoutReplies),
            Some(SmsAnswer::HelpWithoutReplies)
        ]
    );
    let text = callbook_core::templates::sms_for(&answers(&r)[0]).unwrap();
    assert!(!text.contains("Reply C"), "{text}");
}

#[tokio::test]
async fn a_redelivered_text_is_handled_once() {
    let r = replies();
    remind(&r, PHONE).await;
    let message = inbound(PHONE, "C", "in-1");
    r.handle(event(std::slice::from_ref(&message)))
        .await
        .unwrap();
    r.handle(event(&[message])).await.unwrap();
    assert_eq!(changes(&r).len(), 1);
    assert_eq!(answers(&r).len(), 1);
}

#[tokio::test]
async fn a_failure_is_retried_and_then_answers_once() {
    let r = replies();
    remind(&r, PHONE).await;
    r.queue.faults.fail_next(1);
    let message = event(&[inbound(PHONE, "C", "in-1")]);
    assert!(r.handle(message).await.is_err());
    assert!(r.queue.sent().is_empty());
    r.handle(event(&[inbound(PHONE, "C", "in-1")]))
        .await
        .unwrap();
    assert_eq!(changes(&r).len(), 1);
    assert_eq!(answers(&r).len(), 1);

    r.bookings.faults.fail_next(1);
    assert!(
        r.handle(event(&[inbound(PHONE, "X", "in-2")]))
            .await
            .is_err()
    );
    assert_eq!(
        changes(&r).len(),
        1,
        "nothing done when the booking cannot be read"
    );
}

#[tokio::test]
async fn answers_stop_at_the_numbers_texts_for_the_day() {
    let r = replies();
    for i in 0..5 {
        text(&r, STRANGER, "hello?", &format!("in-{i}")).await;
    }
    assert_eq!(answers(&r).len(), 3, "TEXTS_PER_NUMBER_PER_DAY");
}

#[tokio::test]
async fn unreadable_messages_are_dropped_not_retried() {
    let r = replies();
    let not_ours = "{\"hello\":1}".to_string();
    let bad_number = inbound("07025551234", "STOP", "in-1");
    r.handle(event(&[not_ours, bad_number])).await.unwrap();
    assert!(r.queue.sent().is_empty());
    assert!(!opted_out(&r, PHONE).await);
}

#[tokio::test]
async fn replies_are_counted_by_kind() {
    let r = replies();
    remind(&r, PHONE).await;
    r.handle(event(&[
        inbound(PHONE, "C", "in-1"),
        inbound(PHONE, "what?", "in-2"),
        inbound(PHONE, "STOP", "in-3"),
    ]))
    .await
    .unwrap();
    let counted: Vec<String> = r
        .metrics
        .emitted()
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.metric == Metric::SmsReplies)
        .filter_map(|m| m.dimension(Dimension::Reply).map(str::to_string))
        .collect();
    assert_eq!(
        counted,
        [
            SmsReply::Confirm.as_str(),
            SmsReply::Unknown.as_str(),
            SmsReply::OptOut.as_str()
        ]
    );
}

#[tokio::test]
async fn the_reminding_business_is_the_one_replied_to() {
    let r = replies();
    let other = business(&[
        ("BUSINESS_ID", "dentist"),
        ("BUSINESS_NAME", "Dentist"),
        ("SMS_REPLIES", "on"),
    ]);
    r.directory.add(other);
    r.last_reminders
        .remember(
            &phone(PHONE),
            &Reminded {
                business_id: "dentist".into(),
                reference: BookingReference::parse(REFERENCE).unwrap(),
                at: now(),
            },
        )
        .await
        .unwrap();
    text(&r, PHONE, "STOP", "in-1").await;
    assert!(
        r.opt_outs
            .opted_out("dentist", &phone(PHONE))
            .await
            .unwrap()
    );
    // The STOP went to the number every business texts from: it stops them all.
    assert!(opted_out(&r, PHONE).await);
    assert_eq!(answers(&r)[0].business_id, "dentist");
}

#[tokio::test]
async fn a_second_stop_is_recorded_but_not_answered() {
    let r = replies();
    text(&r, PHONE, "STOP", "in-1").await;
    text(&r, PHONE, "stop please", "in-2").await;
    text(&r, PHONE, "Unsubscribe", "in-3").await;
    assert_eq!(answer_kinds(&r), [Some(SmsAnswer::OptedOut)]);
    assert!(opted_out(&r, PHONE).await);
    // START lifts it, and is answered.
    text(&r, PHONE, "START", "in-4").await;
    assert!(!opted_out(&r, PHONE).await);
    assert_eq!(
        answer_kinds(&r),
        [Some(SmsAnswer::OptedOut), Some(SmsAnswer::OptedIn)]
    );
}

/// The sample event in events/ (as `sam local invoke` sends it) is handled: C, then STOP.
#[tokio::test]
async fn every_sample_event_is_handled() {
    for (name, text) in callbook_core::testing::sample_events("sms-replies-") {
        let r = replies();
        remind(&r, PHONE).await;
        let event: SnsEvent = serde_json::from_str(&text).unwrap();
        r.handle(event)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(changes(&r).len(), 1, "{name}");
        assert_eq!(
            answer_kinds(&r),
            [Some(SmsAnswer::Confirmed), Some(SmsAnswer::OptedOut)],
            "{name}"
        );
    }
}

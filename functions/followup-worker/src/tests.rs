use super::*;
use aws_lambda_events::event::sqs::SqsEvent;
use callbook_aws::worker::failed_messages as failures;
use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{
    FixedClock, MemoryBookingStore, MemoryCallStore, MemoryIdempotencyStore, MemoryLastReminders,
    MemoryMetrics, MemoryQueue,
};
use callbook_core::{Attendance, BookingJob, LeadJob, LeadRecord, PhoneNumber};
use chrono::{DateTime, TimeZone, Utc};

enum InMemory {}

impl FollowUpWorkerPorts for InMemory {
    type Bookings = Faulty<MemoryBookingStore>;
    type Calls = MemoryCallStore;
    type Queue = Faulty<MemoryQueue>;
    type LastReminders = MemoryLastReminders;
    type JobsDone = MemoryIdempotencyStore;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
}

type TestWorker = FollowUpWorker<InMemory>;

/// The day before the sample booking (2026-11-25 14:00 New York), when its 24 h reminder fires.
fn worker_at(now: DateTime<Utc>) -> TestWorker {
    FollowUpWorker {
        bookings: Faulty::default(),
        calls: MemoryCallStore::default(),
        queue: Faulty::default(),
        last_reminders: MemoryLastReminders::default(),
        jobs_done: MemoryIdempotencyStore::default(),
        clock: FixedClock(now),
        metrics: MemoryMetrics::default(),
        cold_start: ColdStart::default(),
    }
}

fn worker() -> TestWorker {
    worker_at(Utc.with_ymd_and_hms(2026, 11, 24, 19, 0, 3).unwrap())
}

fn sample() -> SqsEvent {
    serde_json::from_str(include_str!("../../../events/followup-worker-sqs.json")).unwrap()
}

/// The sample event's record `i` alone.
fn only(i: usize) -> SqsEvent {
    let mut event = sample();
    event.records = vec![event.records.remove(i)];
    event
}

fn job_of(event: &SqsEvent) -> FollowUpJob {
    serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap()
}

fn booking_job() -> BookingJob {
    let event: SqsEvent =
        serde_json::from_str(include_str!("../../../events/booking-worker-sqs.json")).unwrap();
    serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap()
}

async fn booked(w: &TestWorker) -> BookingJob {
    let job = booking_job();
    w.bookings
        .record_booking(&job, Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 5).unwrap())
        .await
        .unwrap();
    job
}

fn notifications(w: &TestWorker) -> Vec<NotificationJob> {
    w.queue
        .sent()
        .into_iter()
        .filter_map(|j| match j {
            Job::Notification(n) => Some(n),
            _ => None,
        })
        .collect()
}

async fn change(w: &TestWorker, change: BookingChange) {
    let job = BookingChangeJob {
        job_id: format!("change-{}", serde_json::to_string(&change).unwrap().len()),
        business_id: "default".into(),
        business_name: "Callbook Demo Clinic".into(),
        reference: booking_job().reference,
        change,
        call_id: None,
        tool_call_id: None,
        requested_at: Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0).unwrap(),
        texts: TextPermission::Allowed,
        followups: None,
    };
    w.bookings
        .apply_change(&job, job.requested_at)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_due_reminder_texts_and_emails_once_and_remembers_what_a_reply_is_about() {
    let w = worker();
    let booking = booked(&w).await;
    assert!(failures(&w.handle(only(0)).await).is_empty());
    // Scheduler delivers at least once: the same job again sends nothing more.
    assert!(failures(&w.handle(only(0)).await).is_empty());

    let sent = notifications(&w);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|n| n.kind == NotificationKind::Reminder));
    let channels: Vec<&str> = sent.iter().map(|n| n.recipient.channel()).collect();
    assert_eq!(channels, ["sms", "email"]);
    let text = callbook_core::templates::sms_for(&sent[0]).unwrap();
    assert!(
        text.contains("your Consultation tomorrow at 2:00 PM EST")
            && text.contains(callbook_core::templates::REPLY_LINE),
        "{text}"
    );
    let email = callbook_core::templates::email_for(&sent[1]).unwrap();
    assert!(
        email.subject.contains("tomorrow at 2:00 PM EST"),
        "{}",
        email.subject
    );

    let last = w
        .last_reminders
        .last(&booking.customer.phone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (last.business_id.as_str(), last.reference.as_str()),
        ("default", "K7P2X9")
    );
}

#[tokio::test]
async fn a_cancelled_or_moved_booking_gets_no_reminder() {
    let w = worker();
    booked(&w).await;
    change(&w, BookingChange::Cancel { reason: None }).await;
    assert!(failures(&w.handle(only(0)).await).is_empty());
    assert!(notifications(&w).is_empty());

    let w = worker();
    let booking = booked(&w).await;
    let start = booking.start_utc + chrono::Duration::days(1);
    change(
        &w,
        BookingChange::Reschedule {
            start_utc: start,
            start_local: start.fixed_offset(),
            slot_cells: Vec::new(),
            reserved: Vec::new(),
            holder: None,
            capacity: 1,
        },
    )
    .await;
    assert!(failures(&w.handle(only(0)).await).is_empty());
    assert!(notifications(&w).is_empty());
    assert!(
        w.last_reminders
            .last(&booking.customer.phone)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn without_replies_or_texts_a_reminder_says_so_and_goes_by_email_alone() {
    let w = worker();
    let booking = booked(&w).await;
    let FollowUpJob::Reminder(mut job) = job_of(&only(0)) else {
        panic!("the sample's first job is a reminder")
    };
    job.replies = false;
    assert_eq!(
        w.run(&FollowUpJob::Reminder(job.clone())).await.unwrap(),
        "sent"
    );
    let sent = notifications(&w);
    let text = callbook_core::templates::sms_for(&sent[0]).unwrap();
    assert!(!text.contains("Reply C"), "{text}");
    assert!(
        w.last_reminders
            .last(&booking.customer.phone)
            .await
            .unwrap()
            .is_none()
    );

    let w = worker();
    booked(&w).await;
    job.texts = TextPermission::NotToThatCountry;
    job.replies = true;
    w.run(&FollowUpJob::Reminder(job)).await.unwrap();
    let channels: Vec<&str> = notifications(&w)
        .iter()
        .map(|n| n.recipient.channel())
        .collect();
    assert_eq!(channels, ["email"]);
    assert!(
        w.last_reminders
            .last(&booking.customer.phone)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_failed_enqueue_is_retried_and_then_sends_once() {
    let w = worker();
    booked(&w).await;
    w.queue.faults.fail_next(1);
    assert_eq!(failures(&w.handle(only(0)).await).len(), 1);
    assert!(notifications(&w).is_empty());
    assert!(failures(&w.handle(only(0)).await).is_empty());
    assert_eq!(notifications(&w).len(), 2);
}

#[tokio::test]
async fn an_ended_appointment_is_marked_for_the_business_once() {
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 2).unwrap());
    booked(&w).await;
    assert_eq!(w.run(&job_of(&only(1))).await.unwrap(), "marked");
    assert_eq!(w.run(&job_of(&only(1))).await.unwrap(), "nothing to do");
    let b = &w.bookings.bookings()[0];
    assert_eq!(b.attendance, Some(Attendance::ToConfirm));
    assert!(
        b.audit
            .last()
            .unwrap()
            .note
            .contains("attendance to confirm")
    );
    assert!(w.queue.sent().is_empty(), "nobody hears of it");

    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 2).unwrap());
    booked(&w).await;
    change(&w, BookingChange::Cancel { reason: None }).await;
    assert_eq!(w.run(&job_of(&only(1))).await.unwrap(), "nothing to do");
    assert_eq!(w.bookings.bookings()[0].attendance, None);
}

fn lead_phone() -> PhoneNumber {
    "+17025559876".to_string().try_into().unwrap()
}

async fn lead(w: &TestWorker, converted: bool) {
    let job: LeadJob = serde_json::from_value(serde_json::json!({
        "jobId": "default#call#3f1c2a9e-5b7d-4c1e-9a8f-2d6b0e4c7a11#lead",
        "businessId": "default",
        "businessName": "Callbook Demo Clinic",
        "callId": "3f1c2a9e-5b7d-4c1e-9a8f-2d6b0e4c7a11",
        "name": "Dana Smith",
        "phone": "+17025559876",
        "email": null,
        "interest": "Whitening",
        "notes": null,
        "source": "assistant",
        "capturedAt": "2026-11-24T15:00:00Z"
    }))
    .unwrap();
    let mut record = LeadRecord::new(&job);
    record.interests = vec!["Whitening".into()];
    record.name = Some("Dana Smith".into());
    record.version = 1;
    if converted {
        record.status = LeadStatus::Converted;
    }
    w.calls.save_lead(&record).await.unwrap();
}

#[tokio::test]
async fn a_lead_who_did_not_book_hears_back_once_and_one_who_did_hears_nothing() {
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 1).unwrap());
    lead(&w, false).await;
    assert!(failures(&w.handle(only(2)).await).is_empty());
    assert!(failures(&w.handle(only(2)).await).is_empty());
    let sent = notifications(&w);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::LeadFollowUp);
    assert_eq!(
        sent[0].recipient,
        Recipient::Sms {
            phone: lead_phone()
        }
    );
    let text = callbook_core::templates::sms_for(&sent[0]).unwrap();
    assert!(
        text.contains("hi Dana, thanks for your interest in Whitening"),
        "{text}"
    );

    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 1).unwrap());
    lead(&w, true).await;
    assert_eq!(w.run(&job_of(&only(2))).await.unwrap(), "nothing to do");

    // Booked since as a customer (in another call).
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 1).unwrap());
    lead(&w, false).await;
    let mut job = booking_job();
    job.customer.phone = lead_phone();
    w.bookings
        .record_booking(&job, Utc.with_ymd_and_hms(2026, 11, 24, 18, 0, 0).unwrap())
        .await
        .unwrap();
    assert_eq!(w.run(&job_of(&only(2))).await.unwrap(), "nothing to do");
    assert!(notifications(&w).is_empty());
}

/// A returning customer who calls again and becomes a lead: their earlier booking, made
/// before and since cancelled, does not silence the follow-up; their call does not either.
#[tokio::test]
async fn a_returning_customer_whose_old_booking_was_cancelled_still_hears_back() {
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 1).unwrap());
    lead(&w, false).await;
    let mut job = booking_job();
    job.customer.phone = lead_phone();
    w.bookings
        .record_booking(&job, Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap())
        .await
        .unwrap();
    let mut cancel = BookingChangeJob {
        job_id: "old-cancel".into(),
        business_id: "default".into(),
        business_name: "Callbook Demo Clinic".into(),
        reference: job.reference.clone(),
        change: BookingChange::Cancel { reason: None },
        call_id: None,
        tool_call_id: None,
        requested_at: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
        texts: TextPermission::Allowed,
        followups: None,
    };
    w.bookings
        .apply_change(&cancel, cancel.requested_at)
        .await
        .unwrap();
    assert_eq!(w.run(&job_of(&only(2))).await.unwrap(), "sent");

    // Had it been booked again since the capture, nothing.
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 1).unwrap());
    lead(&w, false).await;
    w.bookings
        .record_booking(&job, Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap())
        .await
        .unwrap();
    cancel.job_id = "another-cancel".into();
    w.bookings
        .apply_change(&cancel, cancel.requested_at)
        .await
        .unwrap();
    let mut again = booking_job();
    again.customer.phone = lead_phone();
    again.reference = callbook_core::BookingReference::parse("M4N8Q2").unwrap();
    again.job_id = "again".into();
    w.bookings
        .record_booking(
            &again,
            Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(w.run(&job_of(&only(2))).await.unwrap(), "nothing to do");
}

#[tokio::test]
async fn a_reminder_more_than_an_hour_late_is_dropped() {
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 24, 20, 30, 0).unwrap());
    booked(&w).await;
    assert_eq!(w.run(&job_of(&only(0))).await.unwrap(), "nothing to do");
    assert!(notifications(&w).is_empty());
    let w = worker_at(Utc.with_ymd_and_hms(2026, 11, 24, 19, 55, 0).unwrap());
    booked(&w).await;
    assert_eq!(w.run(&job_of(&only(0))).await.unwrap(), "sent");
}

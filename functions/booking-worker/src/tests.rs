use super::*;
use aws_lambda_events::event::sqs::SqsEvent;
use callbook_aws::worker::failed_messages as failures;
use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{
    FixedClock, MemoryBookingStore, MemoryFigures, MemoryIdempotencyStore, MemoryMetrics,
    MemoryQueue, MemorySchedules, MemorySlotStore,
};
use callbook_core::testing::sample_events;
use callbook_core::{SlotStore, TextPermission};

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
                BookingChange::Cancel { .. }
                | BookingChange::Confirm
                | BookingChange::Ended { .. } => continue,
            },
        };
        if !cells.is_empty() {
            w.calendar
                .reserve("default", &cells, 1, &reference, &tag)
                .await
                .unwrap();
        }
    }
}
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

/// The worker's ports in memory; the stores a test makes fail are wrapped in `Faulty`.
enum InMemory {}

impl BookingWorkerPorts for InMemory {
    type Bookings = Faulty<MemoryBookingStore>;
    type Calendar = MemorySlotStore;
    type Queue = Faulty<MemoryQueue>;
    type JobsDone = MemoryIdempotencyStore;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
    type Figures = Faulty<MemoryFigures>;
    type Schedules = Faulty<MemorySchedules>;
}

type TestWorker = BookingWorker<InMemory>;

/// The store writes a change's cells with its record, to the calendar the worker frees.
fn worker() -> TestWorker {
    let bookings = Faulty::<MemoryBookingStore>::default();
    BookingWorker {
        calendar: bookings.calendar.clone(),
        bookings,
        queue: Faulty::default(),
        jobs_done: MemoryIdempotencyStore::default(),
        clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 5).unwrap()),
        metrics: MemoryMetrics::default(),
        figures: Faulty::default(),
        schedules: Faulty::default(),
        cold_start: ColdStart::default(),
    }
}

/// The business's figures for the test's day.
async fn figures(w: &TestWorker) -> callbook_core::FigureCounts {
    let day = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
    w.figures
        .counts("default", day, day + chrono::Duration::hours(23))
        .await
        .unwrap()
}

fn sample_event() -> SqsEvent {
    let text = include_str!("../../../events/booking-worker-sqs.json");
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn records_the_booking_and_customer_then_asks_for_notifications() {
    let w = worker();
    let response = w.handle(sample_event()).await;
    assert!(failures(&response).is_empty());
    let bookings = w.bookings.bookings();
    assert_eq!(bookings.len(), 1);
    let b = &bookings[0];
    assert_eq!(
        (b.reference.as_str(), b.status.as_str(), b.audit.len()),
        ("K7P2X9", "confirmed", 1)
    );
    assert_eq!(b.start_local.to_rfc3339(), "2026-11-25T14:00:00-05:00");
    let customers = w.bookings.customers();
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
    assert_eq!(w.bookings.bookings().len(), 1);
    assert_eq!(w.bookings.customers()[0].booking_count, 1);
    // The job is remembered: the repeat does nothing at all.
    assert_eq!(w.queue.sent().len(), 3);

    // Forgotten (its record expired): the conditional writes still write nothing twice;
    // the follow-up jobs are asked for again, with the same ids, deduplicated downstream.
    w.jobs_done = MemoryIdempotencyStore::default();
    let response = w.handle(sample_event()).await;
    assert!(failures(&response).is_empty());
    assert_eq!(w.bookings.bookings().len(), 1);
    assert_eq!(w.bookings.customers()[0].booking_count, 1);
    assert_eq!(w.queue.sent().len(), 6);
    // Counted once: where the booking was written, not on either repeat.
    assert_eq!(w.metrics.total(Metric::Bookings), 1.0);
    assert_eq!(figures(&w).await.get("bookings"), Some(&1));
    assert!(
        w.metrics
            .emitted()
            .iter()
            .all(|(function, _)| function == FUNCTION)
    );
}

/// The figures' store down: the booking and its follow-ups stand, the figure is lost (never
/// retried, so never doubled), the metric still counts it.
#[tokio::test]
async fn a_figures_failure_never_fails_the_booking() {
    let w = worker();
    w.figures.faults.fail_next(1);
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(w.bookings.bookings().len(), 1);
    assert_eq!(w.queue.sent().len(), 3);
    assert_eq!(w.metrics.total(Metric::Bookings), 1.0);
    assert!(figures(&w).await.is_empty());
}

/// The worker dies after its DynamoDB write and before the message is deleted (here: the
/// follow-up enqueue fails): the message comes back, the claim was given up, and the
/// redelivery writes nothing twice and asks for the follow-ups once.
#[tokio::test]
async fn a_crash_after_the_write_is_redelivered_and_nothing_is_doubled() {
    let w = worker();
    w.queue.faults.fail_next(1);
    let response = w.handle(sample_event()).await;
    assert_eq!(failures(&response).len(), 1, "back to the queue");
    assert_eq!(w.bookings.bookings().len(), 1, "the write happened");
    assert!(w.queue.sent().is_empty());
    let response = w.handle(sample_event()).await;
    assert!(failures(&response).is_empty());
    assert_eq!(w.bookings.bookings().len(), 1);
    assert_eq!(w.bookings.customers()[0].booking_count, 1);
    assert_eq!(w.queue.sent().len(), 3);
    assert_eq!(
        w.metrics.total(Metric::Bookings),
        1.0,
        "counted by the first try"
    );
}

#[tokio::test]
async fn a_job_id_reused_for_another_booking_is_refused_and_kept_for_the_dlq() {
    let w = worker();
    w.handle(sample_event()).await;
    let mut other = sample_event();
    let mut job: Value = serde_json::from_str(other.records[0].body.as_deref().unwrap()).unwrap();
    job["service"] = json!("Cleaning");
    other.records[0].body = Some(job.to_string());
    let response = w.handle(other).await;
    assert_eq!(failures(&response).len(), 1);
    assert_eq!(w.bookings.bookings().len(), 1);
    assert_eq!(w.bookings.bookings()[0].service, "Consultation");
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
    assert_eq!(w.bookings.bookings().len(), 1);
}

#[tokio::test]
async fn a_failed_enqueue_sends_the_message_back_and_the_retry_completes() {
    let w = worker();
    w.queue.faults.fail_next(1);
    let response = w.handle(sample_event()).await;
    assert_eq!(failures(&response).len(), 1);
    assert_eq!(w.bookings.bookings().len(), 1);
    let response = w.handle(sample_event()).await;
    assert!(failures(&response).is_empty());
    assert_eq!(w.bookings.customers()[0].booking_count, 1);
    assert_eq!(w.queue.sent().len(), 3);
}

fn changes_event() -> SqsEvent {
    let text = include_str!("../../../events/booking-worker-sqs-changes.json");
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn a_reschedule_then_a_cancel_apply_once_free_the_calendar_and_notify() {
    use callbook_core::BookingStatus;
    let w = worker();
    let event = changes_event();
    reserve_as_the_webhook_did(&w, &event).await;
    let mut first_two = event.clone();
    first_two.records.truncate(2);
    assert!(failures(&w.handle(first_two.clone()).await).is_empty());
    let b = &w.bookings.bookings()[0];
    assert_eq!(
        (b.status, b.start_local.to_rfc3339().as_str(), b.audit.len()),
        (BookingStatus::Rescheduled, "2026-11-27T10:00:00-05:00", 2)
    );
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    assert!(
        w.calendar
            .taken("default", day(25))
            .await
            .unwrap()
            .is_empty(),
        "the old time is free"
    );
    assert_eq!(w.calendar.taken("default", day(27)).await.unwrap().len(), 2);

    // Redelivered: nothing applied twice; the cancel then frees the new time too.
    assert!(failures(&w.handle(event).await).is_empty());
    let b = &w.bookings.bookings()[0];
    assert_eq!((b.status, b.audit.len()), (BookingStatus::Cancelled, 3));
    assert!(
        w.calendar
            .taken("default", day(27))
            .await
            .unwrap()
            .is_empty()
    );
    let customer = &w.bookings.customers()[0];
    assert_eq!(customer.lifetime_value_cents, 0, "booked 150.00, cancelled");
    // One move and one cancel, though the move was delivered twice.
    assert_eq!(w.metrics.total(Metric::Changes), 1.0);
    assert_eq!(w.metrics.total(Metric::Cancellations), 1.0);
    let counted = figures(&w).await;
    assert_eq!(
        (counted.get("changes"), counted.get("cancellations")),
        (Some(&1), Some(&1))
    );

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
    use callbook_core::SlotCell;
    let w = worker();
    let mut event = changes_event();
    event.records.truncate(1);
    reserve_as_the_webhook_did(&w, &event).await;
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    let booking = w.bookings.bookings()[0].clone();
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
            texts: Default::default(),
            followups: None,
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
        w.calendar
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
    let b = &w.bookings.bookings()[0];
    assert_eq!(b.slot_cells, vec![cell(14, 30), cell(15, 0)]);
    let day = cell(0, 0).day;
    let taken: Vec<(SlotCell, u32)> = w.calendar.taken("default", day).await.unwrap();
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
    w.bookings.faults.fail_next(1);
    assert_eq!(failures(&w.handle(sample_event()).await).len(), 1);
    assert!(w.bookings.bookings().is_empty() && w.queue.sent().is_empty());
}

/// Every sample event of this worker in events/ goes through the handler without failures.
#[tokio::test]
async fn every_sample_event_is_processed() {
    for (name, text) in sample_events("booking-worker-") {
        let event: SqsEvent = serde_json::from_str(&text).unwrap();
        let w = worker();
        reserve_as_the_webhook_did(&w, &event).await;
        assert!(failures(&w.handle(event).await).is_empty(), "{name}");
    }
}

/// A booking whose number the business does not text (another country, or a number of no
/// country): the email alone is asked for.
#[tokio::test]
async fn a_number_the_business_does_not_text_gets_the_email_only() {
    for (phone, texts) in [
        ("+37491234567", TextPermission::NotToThatCountry),
        ("+8823456789012", TextPermission::Allowed),
    ] {
        let w = worker();
        let mut event = sample_event();
        let mut job: serde_json::Value =
            serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
        job["customer"]["phone"] = serde_json::json!(phone);
        job["texts"] = serde_json::to_value(texts).unwrap();
        event.records[0].body = Some(job.to_string());
        reserve_as_the_webhook_did(&w, &event).await;
        assert!(failures(&w.handle(event).await).is_empty());
        let ids: Vec<String> = w.queue.sent().iter().map(Job::id).collect();
        assert_eq!(
            ids,
            [
                "default#K7P2X9#booking-confirmation#email",
                "default#call#3f1c2a9e-5b7d-4c1e-9a8f-2d6b0e4c7a11#booked#K7P2X9"
            ],
            "{phone}"
        );
    }
}

/// Every line of a job names its message, the job and what it is about (issue 12), through
/// the subscriber Lambda uses; none carries the customer's number, email or name.
#[tokio::test]
async fn every_line_of_a_job_carries_its_ids_and_no_personal_data() {
    let (out, _logs) = callbook_core::testing::logs::capture_lines(|| {
        callbook_aws::telemetry::json_lines("info", || callbook_core::testing::logs::ThisThread)
    });
    let w = worker();
    // The first try cannot queue its notifications (an error line); the redelivery can.
    w.queue.faults.fail_next(1);
    assert_eq!(failures(&w.handle(sample_event()).await).len(), 1);
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    let event = sample_event();
    let message_id = event.records[0].message_id.clone().unwrap();
    let job: Value = serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    let lines = out.lines();
    assert!(lines.len() >= 3, "{}", out.text());
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"),
        "{}",
        out.text()
    );
    for line in &lines {
        assert_eq!(
            line["message_id"].as_str(),
            Some(message_id.as_str()),
            "{line:?}"
        );
        for (field, key) in [
            ("business", "businessId"),
            ("call_id", "callId"),
            ("tool_call_id", "toolCallId"),
            ("reference", "reference"),
        ] {
            assert_eq!(line.get(field), Some(&job[key]), "{field}: {line:?}");
        }
        assert!(
            line["job"].as_str().unwrap().starts_with("booking#"),
            "{line:?}"
        );
    }
    let text = out.text();
    let customer = &job["customer"];
    for personal in ["name", "phone", "email"] {
        let value = customer[personal].as_str().unwrap();
        assert!(!text.contains(value), "{value} logged: {text}");
    }
}

mod reminders;

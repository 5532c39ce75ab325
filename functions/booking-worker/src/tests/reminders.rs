//! The booking's schedules: its reminders and its end, put when it is booked, moved with it,
//! deleted with it.

use super::*;
use callbook_core::{FollowUpSettings, ended_schedule_name, reminder_schedule_name};
use chrono::{DateTime, Utc};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The sample events as the webhook now queues them: with the business's settings
/// (24 h and 2 h, quiet 21:00-08:00), `edit` changing each job's JSON first.
fn with_settings(mut event: SqsEvent, edit: impl Fn(&mut Value)) -> SqsEvent {
    for record in &mut event.records {
        let mut job: Value = serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
        job["followups"] = serde_json::to_value(FollowUpSettings::default()).unwrap();
        edit(&mut job);
        record.body = Some(job.to_string());
    }
    event
}

fn booked_at(start_utc: &str) -> SqsEvent {
    let start = at(start_utc);
    let local = start
        .with_timezone(&chrono_tz::America::New_York)
        .fixed_offset();
    with_settings(sample_event(), |job| {
        job["startUtc"] = json!(start_utc);
        job["startLocal"] = json!(local.to_rfc3339());
        job["slotCells"] = json!([]);
    })
}

fn name(minutes: u32) -> String {
    let reference = callbook_core::BookingReference::parse("K7P2X9").unwrap();
    reminder_schedule_name("default", &reference, minutes)
}

fn ended() -> String {
    let reference = callbook_core::BookingReference::parse("K7P2X9").unwrap();
    ended_schedule_name("default", &reference)
}

/// The schedules waiting: name → (when, the start it is for).
fn waiting(w: &TestWorker) -> Vec<(String, DateTime<Utc>)> {
    w.schedules
        .waiting()
        .into_iter()
        .map(|(name, job)| (name, job.due_at()))
        .collect()
}

fn expected(mut schedules: Vec<(String, &str)>) -> Vec<(String, DateTime<Utc>)> {
    schedules.sort();
    schedules.into_iter().map(|(n, t)| (n, at(t))).collect()
}

#[tokio::test]
async fn a_booking_gets_its_two_reminders_and_its_end() {
    let w = worker();
    // 14:00 in New York on the 25th, booked at 10:00 the day before.
    assert!(failures(&w.handle(booked_at("2026-11-25T19:00:00Z")).await).is_empty());
    assert_eq!(
        waiting(&w),
        expected(vec![
            (name(24 * 60), "2026-11-24T19:00:00Z"),
            (name(120), "2026-11-25T17:00:00Z"),
            (ended(), "2026-11-25T20:00:00Z"),
        ])
    );
    let Some(FollowUpJob::Reminder(reminder)) = w.schedules.waiting().remove(&name(120)) else {
        panic!("the 2 h reminder is a reminder");
    };
    assert_eq!(
        (
            reminder.business_name.as_str(),
            reminder.reference.as_str(),
            reminder.minutes_before,
            reminder.start_utc,
            reminder.replies,
        ),
        (
            "Callbook Demo Clinic",
            "K7P2X9",
            120,
            at("2026-11-25T19:00:00Z"),
            false
        )
    );
}

#[tokio::test]
async fn a_job_queued_before_follow_ups_schedules_nothing() {
    let w = worker();
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(w.bookings.bookings().len(), 1);
    assert!(w.schedules.waiting().is_empty());
}

#[tokio::test]
async fn a_booking_less_than_a_day_ahead_gets_only_the_two_hour_reminder() {
    let w = worker();
    // 13:00 local the same day, three hours after booking: the 24 h one is past.
    assert!(failures(&w.handle(booked_at("2026-11-24T18:00:00Z")).await).is_empty());
    assert_eq!(
        waiting(&w),
        expected(vec![
            (name(120), "2026-11-24T16:00:00Z"),
            (ended(), "2026-11-24T19:00:00Z"),
        ])
    );
}

#[tokio::test]
async fn a_reminder_in_the_quiet_hours_goes_the_evening_before() {
    let w = worker();
    // 09:00 local on the 26th: 2 h before is 07:00, quiet; it goes at 21:00 on the 25th.
    assert!(failures(&w.handle(booked_at("2026-11-26T14:00:00Z")).await).is_empty());
    assert_eq!(
        waiting(&w),
        expected(vec![
            (name(24 * 60), "2026-11-25T14:00:00Z"),
            (name(120), "2026-11-26T02:00:00Z"),
            (ended(), "2026-11-26T15:00:00Z"),
        ])
    );
}

#[tokio::test]
async fn a_redelivered_booking_leaves_the_same_schedules() {
    let mut w = worker();
    let event = booked_at("2026-11-25T19:00:00Z");
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    let first = w.schedules.waiting();
    // Its record forgotten: the job runs again and puts the same schedules again.
    w.jobs_done = MemoryIdempotencyStore::default();
    assert!(failures(&w.handle(event).await).is_empty());
    assert_eq!(w.schedules.waiting(), first);
    assert_eq!(first.len(), 3);
}

#[tokio::test]
async fn a_failed_put_sends_the_booking_back_and_the_retry_schedules_it() {
    let w = worker();
    w.schedules.faults.fail_next(1);
    let event = booked_at("2026-11-25T19:00:00Z");
    assert_eq!(failures(&w.handle(event.clone()).await).len(), 1);
    assert!(w.schedules.waiting().is_empty());
    assert!(failures(&w.handle(event).await).is_empty());
    assert_eq!(w.schedules.waiting().len(), 3);
    assert_eq!(w.bookings.customers()[0].booking_count, 1);
}

#[tokio::test]
async fn a_move_moves_both_reminders_and_the_end_then_a_cancel_deletes_them() {
    let w = worker();
    let event = with_settings(changes_event(), |_| {});
    reserve_as_the_webhook_did(&w, &event).await;
    let mut booked = event.clone();
    booked.records.truncate(1);
    assert!(failures(&w.handle(booked).await).is_empty());
    assert_eq!(w.schedules.waiting().len(), 3);

    // Moved to 10:00 local on the 27th: 2 h before is 08:00, just out of the quiet hours.
    let mut moved = event.clone();
    moved.records.truncate(2);
    assert!(failures(&w.handle(moved).await).is_empty());
    assert_eq!(
        waiting(&w),
        expected(vec![
            (name(24 * 60), "2026-11-26T15:00:00Z"),
            (name(120), "2026-11-27T13:00:00Z"),
            (ended(), "2026-11-27T16:00:00Z"),
        ])
    );
    assert!(w.schedules.waiting().values().all(|job| match job {
        FollowUpJob::Reminder(r) => r.start_utc == at("2026-11-27T15:00:00Z"),
        FollowUpJob::AppointmentEnded(e) => e.start_utc == at("2026-11-27T15:00:00Z"),
        FollowUpJob::LeadFollowUp(_) => false,
    }));

    assert!(failures(&w.handle(event).await).is_empty());
    assert!(w.schedules.waiting().is_empty(), "cancelled: nothing left");
}

#[tokio::test]
async fn a_move_to_less_than_a_day_ahead_deletes_the_day_before_reminder() {
    let w = worker();
    assert!(failures(&w.handle(booked_at("2026-11-25T19:00:00Z")).await).is_empty());
    let move_to = |start: &str| {
        let mut event = with_settings(changes_event(), |job| {
            job["change"]["startUtc"] = json!(start);
            job["change"]["slotCells"] = json!([]);
            job["change"]["reserved"] = json!([]);
        });
        event.records = vec![event.records[1].clone()];
        event
    };
    // To 15:00 local today, five hours ahead.
    assert!(failures(&w.handle(move_to("2026-11-24T20:00:00Z")).await).is_empty());
    assert_eq!(
        waiting(&w),
        expected(vec![
            (name(120), "2026-11-24T18:00:00Z"),
            (ended(), "2026-11-24T21:00:00Z"),
        ])
    );
}

#[tokio::test]
async fn a_failed_delete_sends_the_cancel_back_and_the_retry_deletes_them() {
    let w = worker();
    let event = with_settings(changes_event(), |_| {});
    reserve_as_the_webhook_did(&w, &event).await;
    let mut booked = event.clone();
    booked.records.truncate(1);
    assert!(failures(&w.handle(booked).await).is_empty());
    let mut cancel = event.clone();
    cancel.records = vec![event.records[2].clone()];
    w.schedules.faults.fail_next(1);
    assert_eq!(failures(&w.handle(cancel.clone()).await).len(), 1);
    assert_eq!(w.schedules.waiting().len(), 3);
    assert!(failures(&w.handle(cancel).await).is_empty());
    assert!(w.schedules.waiting().is_empty());
    assert_eq!(w.metrics.total(Metric::Cancellations), 1.0);
}

/// The schedule calls each job adds (one port call is one Scheduler round trip, two when a put
/// finds the schedule there and updates it): a booking 3 puts, a move 3 puts, a cancel 3
/// deletes, a move to less than a day ahead 2 puts and 1 delete.
#[tokio::test]
async fn each_job_costs_one_schedule_call_per_schedule_it_changes() {
    let w = worker();
    let event = with_settings(changes_event(), |_| {});
    reserve_as_the_webhook_did(&w, &event).await;
    let calls = || w.schedules.faults.calls();
    let one = |i: usize| {
        let mut single = event.clone();
        single.records = vec![event.records[i].clone()];
        single
    };
    assert!(failures(&w.handle(one(0)).await).is_empty());
    assert_eq!(calls(), 3, "booked");
    assert!(failures(&w.handle(one(1)).await).is_empty());
    assert_eq!(calls(), 6, "moved");
    assert!(failures(&w.handle(one(2)).await).is_empty());
    assert_eq!(calls(), 9, "cancelled");

    let w = worker();
    let calls = || w.schedules.faults.calls();
    assert!(failures(&w.handle(booked_at("2026-11-25T19:00:00Z")).await).is_empty());
    let mut closer = with_settings(changes_event(), |job| {
        job["change"]["startUtc"] = json!("2026-11-24T20:00:00Z");
        job["change"]["slotCells"] = json!([]);
        job["change"]["reserved"] = json!([]);
    });
    closer.records = vec![closer.records[1].clone()];
    assert!(failures(&w.handle(closer).await).is_empty());
    assert_eq!(calls(), 3 + 3, "2 puts and the 24 h one deleted");
}

/// The booking job redelivered after its booking was cancelled (its record of being done
/// expired, or it failed after recording): the cancel's deletions stand.
#[tokio::test]
async fn a_booking_redelivered_after_its_cancel_puts_nothing_back() {
    let mut w = worker();
    let event = with_settings(changes_event(), |_| {});
    reserve_as_the_webhook_did(&w, &event).await;
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    assert!(w.schedules.waiting().is_empty());
    w.jobs_done = MemoryIdempotencyStore::default();
    let mut booking = event.clone();
    booking.records.truncate(1);
    assert!(failures(&w.handle(booking).await).is_empty());
    assert!(
        w.schedules.waiting().is_empty(),
        "{:?}",
        w.schedules.waiting()
    );
}

/// Redelivered after a move: its schedules stay where the move put them.
#[tokio::test]
async fn a_booking_redelivered_after_its_move_leaves_the_moved_schedules() {
    let mut w = worker();
    let event = with_settings(changes_event(), |_| {});
    reserve_as_the_webhook_did(&w, &event).await;
    let mut two = event.clone();
    two.records.truncate(2);
    assert!(failures(&w.handle(two).await).is_empty());
    let moved = w.schedules.waiting();
    w.jobs_done = MemoryIdempotencyStore::default();
    let mut booking = event.clone();
    booking.records.truncate(1);
    assert!(failures(&w.handle(booking).await).is_empty());
    assert_eq!(w.schedules.waiting(), moved);
    assert_eq!(
        moved.get(&name(120)).map(FollowUpJob::due_at),
        Some(at("2026-11-27T13:00:00Z"))
    );
}

/// A move applied by another worker while this one put the booking's schedules: its puts may
/// land last, so the booking is read again and the schedules follow where it now is.
#[tokio::test]
async fn schedules_put_while_the_booking_moved_follow_it_to_its_new_time() {
    let w = worker();
    let event = with_settings(changes_event(), |_| {});
    reserve_as_the_webhook_did(&w, &event).await;
    let mut booked = event.clone();
    booked.records.truncate(1);
    assert!(failures(&w.handle(booked).await).is_empty());
    let old = w.schedules.waiting();

    // The other worker's move is in the record, but our older puts won the race.
    let BookingQueueMessage::Change(change) =
        serde_json::from_str(event.records[1].body.as_deref().unwrap()).unwrap()
    else {
        panic!("the second sample is a change")
    };
    let applied = w
        .bookings
        .apply_change(&change, w.clock.now())
        .await
        .unwrap();
    assert!(applied.applied_now);
    assert_eq!(w.schedules.waiting(), old);

    let settings = FollowUpSettings::default();
    let followed = Followed {
        settings: &settings,
        business_id: "default",
        business_name: "Callbook Demo Clinic",
        reference: &change.reference,
        texts: TextPermission::Allowed,
    };
    let old_start = at("2026-11-25T19:00:00Z");
    w.until_settled(&followed, Some(old_start)).await.unwrap();
    assert_eq!(
        waiting(&w),
        expected(vec![
            (name(24 * 60), "2026-11-26T15:00:00Z"),
            (name(120), "2026-11-27T13:00:00Z"),
            (ended(), "2026-11-27T16:00:00Z"),
        ])
    );

    // Cancelled meanwhile instead: nothing is left.
    w.bookings
        .apply_change(
            &serde_json::from_str::<BookingChangeJob>(event.records[2].body.as_deref().unwrap())
                .unwrap(),
            w.clock.now(),
        )
        .await
        .unwrap();
    w.until_settled(&followed, Some(at("2026-11-27T15:00:00Z")))
        .await
        .unwrap();
    assert!(w.schedules.waiting().is_empty());
}

//! Reminders through the local stack: a booking made through the webhook gets its schedules in
//! moto's Scheduler group (each puts its job on the followup queue when due), a move moves them,
//! a cancel deletes them, and a booking less than a day ahead gets only the 2 h one. The
//! business is open every day all day and has no quiet hours, so the times do not depend on
//! when the test runs (quiet hours are the booking worker's unit tests').

use super::*;
use callbook_core::{FollowUpJob, QueueJob, ended_schedule_name, reminder_schedule_name};
use chrono::{DateTime, Duration as Span, NaiveDate, TimeZone, Timelike};
use chrono_tz::America::New_York;

const DAY: u32 = 24 * 60;

struct Schedules {
    client: aws_sdk_scheduler::Client,
    group: String,
}

impl Schedules {
    async fn new(stack: &DevStack) -> Self {
        let group = stack
            .function_env("booking-worker")
            .into_iter()
            .find(|(k, _)| k == "SCHEDULE_GROUP")
            .map(|(_, v)| v)
            .expect("the booking worker has SCHEDULE_GROUP");
        Self {
            client: aws_sdk_scheduler::Client::new(&stack.sdk_config().await),
            group,
        }
    }

    /// The schedule's expression and job, or `None` when there is none of that name.
    async fn get(&self, name: &str) -> Option<(String, FollowUpJob)> {
        let got = self
            .client
            .get_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
            .ok()?;
        let input = got.target()?.input()?.to_string();
        Some((
            got.schedule_expression()?.to_string(),
            FollowUpJob::parse(&input).expect("the input is a follow-up job"),
        ))
    }

    /// Waits until `name` is due at `due` (its expression and its job's `due_at` agree).
    async fn due(&self, name: &str, due: DateTime<Utc>) -> FollowUpJob {
        let expression = format!("at({})", due.format("%Y-%m-%dT%H:%M:%S"));
        eventually(
            &format!("{name} due at {due}"),
            Duration::from_secs(20),
            || async {
                self.get(name)
                    .await
                    .filter(|(e, job)| *e == expression && job.due_at() == due)
                    .map(|(_, job)| job)
            },
        )
        .await
    }

    async fn gone(&self, name: &str) {
        eventually(
            &format!("{name} deleted"),
            Duration::from_secs(20),
            || async { self.get(name).await.is_none().then_some(()) },
        )
        .await;
    }
}

fn local(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    New_York
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn spoken_hour(at: DateTime<Utc>) -> String {
    at.with_timezone(&New_York).format("%-I:%M %p").to_string()
}

fn date_of(at: DateTime<Utc>) -> String {
    at.with_timezone(&New_York).format("%Y-%m-%d").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bookings_reminders_are_scheduled_moved_with_it_and_deleted_with_it() {
    let stack = DevStack::start_with_params(
        2,
        3,
        &[
            ("BusinessOpeningHours", "Mon-Sun 00:00-23:30"),
            ("QuietHours", "off"),
        ],
    );
    let schedules = Schedules::new(&stack).await;
    let reminder = |reference: &BookingReference, minutes: u32| {
        reminder_schedule_name("default", reference, minutes)
    };

    // Two days ahead at 2 PM: both reminders, and the end at 3 PM (a 60-minute Consultation).
    let day = Utc::now().with_timezone(&New_York).date_naive() + Span::days(2);
    let start = local(day, 14);
    let booked = book(
        &stack,
        "call-e2e-reminders",
        PHONE,
        "Test User",
        &date_of(start),
        "2pm",
    );
    let reference = reference_in(
        booked["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{booked}")),
    );
    let day_before = schedules
        .due(&reminder(&reference, DAY), start - Span::days(1))
        .await;
    let FollowUpJob::Reminder(job) = &day_before else {
        panic!("a reminder: {day_before:?}");
    };
    assert_eq!(
        (job.reference.as_str(), job.minutes_before, job.start_utc),
        (reference.as_str(), DAY, start)
    );
    // At the same local times as the appointment: 2 PM the day before, noon the same day.
    assert_eq!(spoken_hour(job.due_at), "2:00 PM");
    let two_hours = schedules
        .due(&reminder(&reference, 120), start - Span::hours(2))
        .await;
    assert_eq!(spoken_hour(two_hours.due_at()), "12:00 PM");
    let ended = ended_schedule_name("default", &reference);
    schedules.due(&ended, start + Span::hours(1)).await;

    // Moved to 11 AM the same day: both reminders and the end move.
    let moved = tool_call(
        &stack,
        "call-e2e-reminders",
        PHONE,
        "rescheduleAppointment",
        json!({"bookingReference": reference.as_str(), "newDate": date_of(start), "newTime": "11am"}),
    );
    assert!(moved["result"].is_string(), "{moved}");
    let new_start = local(day, 11);
    let job = schedules
        .due(&reminder(&reference, DAY), new_start - Span::days(1))
        .await;
    assert_eq!(spoken_hour(job.due_at()), "11:00 AM");
    let job = schedules
        .due(&reminder(&reference, 120), new_start - Span::hours(2))
        .await;
    assert_eq!(spoken_hour(job.due_at()), "9:00 AM");
    schedules.due(&ended, new_start + Span::hours(1)).await;

    // Cancelled: every one of them gone.
    let cancelled = tool_call(
        &stack,
        "call-e2e-reminders",
        PHONE,
        "cancelAppointment",
        json!({"bookingReference": reference.as_str()}),
    );
    assert!(cancelled["result"].is_string(), "{cancelled}");
    for name in [reminder(&reference, DAY), reminder(&reference, 120), ended] {
        schedules.gone(&name).await;
    }

    // Less than a day ahead (five hours or more, on the hour): only the 2 h reminder.
    let mut soon = (Utc::now() + Span::hours(6))
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    while soon.with_timezone(&New_York).hour() >= 22 {
        soon += Span::hours(1);
    }
    let booked = book(
        &stack,
        "call-e2e-reminders-soon",
        "+17025550142",
        "Soon Caller",
        &date_of(soon),
        &spoken_hour(soon),
    );
    let soon_ref = reference_in(
        booked["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{booked}")),
    );
    schedules
        .due(&reminder(&soon_ref, 120), soon - Span::hours(2))
        .await;
    schedules
        .due(
            &ended_schedule_name("default", &soon_ref),
            soon + Span::hours(1),
        )
        .await;
    assert!(
        schedules.get(&reminder(&soon_ref, DAY)).await.is_none(),
        "the 24 h reminder would be past: none"
    );
}

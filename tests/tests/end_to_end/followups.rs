//! Follow-ups through the local stack: the schedules a booking gets fire on the dev server's
//! clock (moved forward with `POST /dev/clock`), and the followup worker does what they say:
//! one reminder per schedule whatever Scheduler redelivers, nothing for a cancelled booking,
//! and the ended appointment marked for the business.

use super::*;

use chrono::{DateTime, Duration as Span};

/// The schedules in moto, by name: (when due, the job's JSON).
async fn schedules(
    scheduler: &aws_sdk_scheduler::Client,
) -> std::collections::BTreeMap<String, (DateTime<Utc>, String)> {
    let mut found = std::collections::BTreeMap::new();
    let listed = scheduler.list_schedules().send().await.unwrap();
    for summary in listed.schedules() {
        let name = summary.name().unwrap_or_default();
        let schedule = scheduler
            .get_schedule()
            .group_name(summary.group_name().unwrap_or("default"))
            .name(name)
            .send()
            .await
            .unwrap();
        let input = schedule
            .target()
            .and_then(|t| t.input())
            .unwrap_or_default();
        let job: Value = serde_json::from_str(input).unwrap();
        let due: DateTime<Utc> = job["dueAt"].as_str().unwrap().parse().unwrap();
        found.insert(name.to_string(), (due, input.to_string()));
    }
    found
}

fn open_day_after(day: &str) -> String {
    let mut day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    loop {
        day = day.succ_opt().unwrap();
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            return day.format("%Y-%m-%d").to_string();
        }
    }
}

/// Moves the dev server's clock to `at` (plus a little, so the schedule is due).
fn advance_to(stack: &DevStack, at: DateTime<Utc>) {
    let (status, clock) = get(&format!("{}/dev/clock", stack.base_url));
    assert_eq!(status, 200, "{clock}");
    let now: DateTime<Utc> = clock["now"].as_str().unwrap().parse().unwrap();
    let seconds = (at - now).num_seconds().max(0) + 5;
    let (status, moved) = post(
        &format!("{}/dev/clock", stack.base_url),
        &[],
        &json!({ "advanceSeconds": seconds }).to_string(),
    );
    assert_eq!(status, 200, "{moved}");
}

/// Puts a job on the followup queue as Scheduler would (again), and waits until it is done.
async fn deliver(tables: &Tables, input: &str) {
    let url = tables.queue_url("FollowupQueue").await;
    tables
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body(input)
        .send()
        .await
        .unwrap();
    settle(tables).await;
}

/// The followup and notification queues empty (their messages done).
async fn settle(tables: &Tables) {
    for queue in ["FollowupQueue", "NotificationQueue"] {
        eventually(queue, Duration::from_secs(20), || async {
            (tables.depth(queue).await == 0).then_some(())
        })
        .await;
    }
}

fn reminders(stack: &DevStack) -> Vec<String> {
    stack
        .sent_messages()
        .sms_to(PHONE)
        .into_iter()
        .filter(|t| t.contains("a reminder of your"))
        .map(String::from)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_booking_is_reminded_once_per_schedule_then_marked_and_a_cancelled_one_hears_nothing() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let scheduler = aws_sdk_scheduler::Client::new(&stack.sdk_config().await);

    // Two open days ahead, so the 24 h reminder is never already past.
    let date = open_day_after(&next_open_day());
    let booked = book(&stack, "call-followups", PHONE, "Test User", &date, "3pm");
    let reference = reference_in(booked["result"].as_str().unwrap());
    let planned = eventually(
        "the booking's schedules",
        Duration::from_secs(20),
        || async {
            let found = schedules(&scheduler).await;
            (found.len() == 3).then_some(found)
        },
    )
    .await;
    let named = |start: &str, end: &str| {
        planned
            .iter()
            .find(|(name, _)| name.starts_with(start) && name.ends_with(end))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {start}...{end} schedule in {planned:?}"))
    };
    let (day_before, day_before_job) = named("reminder-", "-1440m");
    let (ended_at, _) = named("ended-", "");

    // 24 h before: one text and one email saying "tomorrow".
    advance_to(&stack, day_before);
    let sent = eventually("the 24 h reminder", Duration::from_secs(20), || async {
        let sent = reminders(&stack);
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    assert!(
        sent[0].contains("your Consultation tomorrow at 3:00 PM"),
        "{sent:?}"
    );
    settle(&tables).await;
    let emails = |stack: &DevStack| {
        stack
            .sent_messages()
            .emails_to(EMAIL)
            .iter()
            .filter(|(subject, _)| subject.starts_with("Reminder:"))
            .count()
    };
    assert_eq!(emails(&stack), 1);
    assert_eq!(
        schedules(&scheduler).await.len(),
        2,
        "a fired schedule is deleted"
    );

    // Scheduler delivers at least once: the same job again sends nothing more.
    deliver(&tables, &day_before_job).await;
    assert_eq!(reminders(&stack).len(), 1);
    assert_eq!(emails(&stack), 1);

    // After the appointment: the 2 h reminder went ("today"), and the booking awaits the
    // business's word on attendance.
    advance_to(&stack, ended_at);
    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    eventually("the attendance mark", Duration::from_secs(20), || async {
        let booking = tables
            .item(&bookings_table, booking_key("default", reference.as_str()))
            .await?;
        (s(&booking, "attendance") == "toConfirm").then_some(())
    })
    .await;
    settle(&tables).await;
    let sent = reminders(&stack);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].contains("today at 3:00 PM"), "{sent:?}");
    assert!(schedules(&scheduler).await.is_empty());

    // A reminder arriving for a cancelled booking (another delivery time) sends nothing.
    let cancelled = tool_call(
        &stack,
        "call-followups-2",
        PHONE,
        "cancelAppointment",
        json!({"bookingReference": reference.spoken()}),
    );
    assert!(cancelled["result"].is_string(), "{cancelled}");
    eventually("the cancellation", Duration::from_secs(20), || async {
        let booking = tables
            .item(&bookings_table, booking_key("default", reference.as_str()))
            .await?;
        (s(&booking, "status") == "cancelled").then_some(())
    })
    .await;
    let mut late: Value = serde_json::from_str(&day_before_job).unwrap();
    late["dueAt"] = json!((day_before + Span::seconds(1)).to_rfc3339());
    deliver(&tables, &late.to_string()).await;
    assert_eq!(reminders(&stack).len(), 2);
    assert_eq!(emails(&stack), 2);
}

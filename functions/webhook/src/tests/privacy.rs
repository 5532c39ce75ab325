//! What a caller can make the business send (issue 11): names that are names, texts only to
//! the business's countries, and limits per call and per number per day. A refusal holds,
//! changes and queues nothing.

use super::*;
use callbook_core::{BookingRecord, LimitKind, NO_TEXTS_THERE, TextPermission, limit_reached};

fn booking_args(name: &str, phone: &str, time: &str) -> Value {
    json!({"customerName": name, "customerPhone": phone, "customerEmail": "ann@example.com",
           "serviceType": "Consultation", "date": "tomorrow", "time": time})
}

/// Nothing reserved, queued or counted.
fn nothing_done(w: &TestWebhook) {
    assert!(w.calendar.is_empty(), "nothing held");
    assert!(w.queue.sent().is_empty(), "nothing queued");
    assert_eq!(w.quotas.used("quota#"), 0, "nothing counted");
}

#[tokio::test]
async fn a_name_that_is_a_link_or_carries_hidden_characters_is_asked_again() {
    for name in [
        "https://evil.example/verify Smith",
        "evil.example Smith",
        "Ann\u{0}Lee",
        "Ann\u{1b}[2J Lee",
        "Ann \u{202E}eeL",
        "Ann Lee 2",
    ] {
        let w = webhook();
        let answer = tool(
            &w,
            "bookAppointment",
            booking_args(name, "+17025551234", "2pm"),
        )
        .await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains("say it again"), "{name:?}: {answer}");
        nothing_done(&w);

        let answer = tool(
            &w,
            "captureLead",
            json!({"name": name, "interest": "whitening"}),
        )
        .await;
        assert!(answer["error"].is_string(), "{name:?}: {answer}");
        nothing_done(&w);
    }
}

#[tokio::test]
async fn names_in_other_scripts_book() {
    for (i, name) in ["José Núñez", "محمد عبد الله", "李小龍", "Пётр Чайковский"]
        .into_iter()
        .enumerate()
    {
        let w = webhook();
        let time = format!("{}pm", i + 1);
        let answer = tool(
            &w,
            "bookAppointment",
            booking_args(name, "+17025551234", &time),
        )
        .await;
        assert!(answer["result"].is_string(), "{name}: {answer}");
        assert_eq!(booking_jobs(&w)[0].customer.name.as_str(), name);
    }
}

#[tokio::test]
async fn a_service_named_freely_is_words_not_a_link() {
    let w = webhook();
    let mut args = booking_args("Ann Lee", "+17025551234", "2pm");
    args["serviceType"] = json!("https://evil.example/verify");
    let answer = tool(&w, "bookAppointment", args).await;
    assert!(answer["error"].is_string(), "{answer}");
    nothing_done(&w);
}

#[tokio::test]
async fn a_number_in_another_country_is_booked_with_the_email_only() {
    for phone in ["+37491234567", "+8823456789012", "+447700900123"] {
        let w = webhook();
        let answer = tool(&w, "bookAppointment", booking_args("Ann Lee", phone, "2pm")).await;
        let result = answer["result"].as_str().unwrap_or_default();
        assert!(result.ends_with(NO_TEXTS_THERE), "{phone}: {answer}");
        let jobs = booking_jobs(&w);
        assert_eq!(jobs[0].texts, TextPermission::NotToThatCountry, "{phone}");
    }
    let w = webhook();
    let answer = tool(
        &w,
        "bookAppointment",
        booking_args("Ann Lee", "+17025551234", "2pm"),
    )
    .await;
    assert!(
        !answer["result"].as_str().unwrap().contains(NO_TEXTS_THERE),
        "{answer}"
    );
    assert_eq!(booking_jobs(&w)[0].texts, TextPermission::Allowed);
}

#[tokio::test]
async fn a_business_may_text_more_countries() {
    let mut w = webhook();
    w.business = Arc::new(
        Business::from_lookup(&|k: &str| (k == "TEXT_COUNTRIES").then(|| "US, AM".to_string()))
            .unwrap(),
    );
    let answer = tool(
        &w,
        "bookAppointment",
        booking_args("Ann Lee", "+37491234567", "2pm"),
    )
    .await;
    assert!(answer["result"].is_string(), "{answer}");
    assert_eq!(booking_jobs(&w)[0].texts, TextPermission::Allowed);
}

#[tokio::test]
async fn the_fourth_booking_in_a_call_is_refused_and_holds_nothing() {
    let w = webhook();
    for time in ["9am", "11am", "1pm"] {
        let answer = tool(
            &w,
            "bookAppointment",
            booking_args("Ann Lee", "+17025551234", time),
        )
        .await;
        assert!(answer["result"].is_string(), "{time}: {answer}");
    }
    let answer = tool(
        &w,
        "bookAppointment",
        booking_args("Ann Lee", "+17025551234", "3pm"),
    )
    .await;
    let error = answer["error"].as_str().unwrap_or_default();
    assert_eq!(error, limit_reached(LimitKind::PerCall, &w.business));
    assert_eq!(booking_jobs(&w).len(), 3);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let held = w.calendar.taken("default", day).await.unwrap();
    assert_eq!(held.len(), 6, "three one-hour bookings, two cells each");
    // A cancel in the same call is a change too: refused, nothing queued.
    let first = booking_jobs(&w)[0].clone();
    w.bookings
        .insert(BookingRecord::from_job(&first, w.clock.now()));
    let answer = tool(
        &w,
        "cancelAppointment",
        json!({"bookingReference": first.reference.as_str()}),
    )
    .await;
    assert_eq!(
        answer["error"].as_str().unwrap_or_default(),
        limit_reached(LimitKind::PerCall, &w.business)
    );
    assert_eq!(w.queue.sent().len(), 3);
}

#[tokio::test]
async fn a_number_gets_so_many_messages_a_day_across_calls() {
    let mut w = webhook();
    w.business = Arc::new(
        Business::from_lookup(&|k: &str| (k == "TEXTS_PER_NUMBER_PER_DAY").then(|| "2".into()))
            .unwrap(),
    );
    // The flat form: no call id, so only the number's limit applies.
    for (i, time) in ["9am", "11am", "1pm"].into_iter().enumerate() {
        let mut body = seed_body();
        body["parameters"]["time"] = json!(time);
        let (_, answer) = send(&w, authed(&body)).await;
        if i < 2 {
            assert!(answer["result"].is_string(), "{time}: {answer}");
        } else {
            assert_eq!(
                answer["error"].as_str().unwrap_or_default(),
                limit_reached(LimitKind::PerNumberPerDay, &w.business)
            );
        }
    }
    assert_eq!(booking_jobs(&w).len(), 2);
    // Another number still books.
    let (_, answer) = send(&w, authed(&another_caller(1))).await;
    assert!(answer["result"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_time_that_is_taken_gives_its_units_back() {
    let w = webhook();
    let (_, first) = send(&w, authed(&another_caller(1))).await;
    assert!(first["result"].is_string(), "{first}");
    let used = w.quotas.used("quota#");
    let answer = tool(
        &w,
        "bookAppointment",
        booking_args("Ann Lee", "+17025551234", "2pm"),
    )
    .await;
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(w.quotas.used("quota#"), used);
}

#[tokio::test]
async fn a_retry_after_a_system_failure_counts_once() {
    let w = webhook();
    w.queue.faults.fail_next(1);
    let body = tool_calls_body(json!([{"id": "t-retry", "type": "function", "function":
        {"name": "bookAppointment", "arguments": booking_args("Ann Lee", "+17025551234", "2pm")}}]));
    let (_, failed) = send(&w, authed(&body)).await;
    assert!(failed["results"][0]["error"].is_string(), "{failed}");
    let (_, retried) = send(&w, authed(&body)).await;
    assert!(retried["results"][0]["result"].is_string(), "{retried}");
    assert_eq!(w.quotas.used("quota#default#call#"), 1);
    assert_eq!(w.quotas.used("quota#default#texts#"), 1);
}

#[tokio::test]
async fn limits_that_cannot_be_read_hold_nothing() {
    let w = webhook();
    w.quotas.faults.fail_next(1);
    let answer = tool(
        &w,
        "bookAppointment",
        booking_args("Ann Lee", "+17025551234", "2pm"),
    )
    .await;
    assert_eq!(answer["error"].as_str(), Some(SYSTEM_PROBLEM), "{answer}");
    assert!(w.calendar.is_empty() && w.queue.sent().is_empty());
}

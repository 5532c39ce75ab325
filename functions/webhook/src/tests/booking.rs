use super::*;

#[tokio::test]
async fn the_seed_curl_books_and_enqueues_one_job() {
    let w = webhook();
    let (status, body) = send(&w, authed(&seed_body())).await;
    assert_eq!(status, StatusCode::OK);
    let result = body["result"].as_str().unwrap();
    assert!(result.starts_with("You're booked for Consultation on Wednesday, November 25 at 2:00 PM. Your booking reference is "), "{result}");
    let jobs = booking_jobs(&w);
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert!(result.contains(&job.reference.spoken()));
    assert_eq!(job.customer.phone.as_str(), "+17025551234");
    assert_eq!(
        job.start_utc,
        Utc.with_ymd_and_hms(2026, 11, 25, 19, 0, 0).unwrap()
    );
    assert_eq!(job.start_local.to_rfc3339(), "2026-11-25T14:00:00-05:00");
    assert_eq!(
        (job.business_name.as_str(), job.time_zone.as_str()),
        ("Test Clinic", "America/New_York")
    );
}

#[tokio::test]
async fn a_taken_slot_is_refused_with_times_that_have_room() {
    let w = webhook();
    let (_, first) = send(&w, authed(&another_caller(1))).await;
    assert!(first["result"].is_string(), "{first}");
    let (_, second) = send(&w, authed(&another_caller(2))).await;
    let refusal = second["error"].as_str().unwrap();
    assert!(
        refusal.starts_with("Sorry, Wednesday, November 25 at 2:00 PM is already booked."),
        "{refusal}"
    );
    // The first booking runs 2:00-3:00: 2:30 overlaps it, 3:00 is the nearest with room.
    assert!(
        refusal.contains("Wednesday, November 25 at 3:00 PM, 3:30 PM or 4:00 PM"),
        "{refusal}"
    );
    assert_eq!(booking_jobs(&w).len(), 1);
}

#[tokio::test]
async fn every_refusal_offers_only_times_with_room() {
    let w = webhook();
    // Monday 9:00-10:00 is booked.
    let mut monday = another_caller(1);
    monday["parameters"]["date"] = json!("Monday");
    monday["parameters"]["time"] = json!("9am");
    let (_, booked) = send(&w, authed(&monday)).await;
    assert!(booked["result"].is_string(), "{booked}");
    // Saturday is closed: the alternatives skip Monday 9:00 and 9:30 (which would overlap).
    let mut saturday = another_caller(2);
    saturday["parameters"]["date"] = json!("Saturday");
    let (_, refused) = send(&w, authed(&saturday)).await;
    let text = refused["error"].as_str().unwrap();
    assert!(text.starts_with("We're closed on Saturdays"), "{text}");
    assert!(
        text.contains("Monday, November 30 at 10:00 AM, 10:30 AM or 11:00 AM"),
        "{text}"
    );
}

fn with_catalogue(w: &mut TestWebhook) {
    Arc::make_mut(&mut w.business).services =
        "Consultation=60@150; Cleaning|Hygiene=30@89.50; Whitening=90"
            .parse()
            .unwrap();
}

fn book_service(i: usize, service: &str, time: &str) -> Value {
    let mut body = another_caller(i);
    body["parameters"]["serviceType"] = json!(service);
    body["parameters"]["time"] = json!(time);
    body
}

#[tokio::test]
async fn an_unknown_service_is_refused_with_the_catalogue() {
    let mut w = webhook();
    with_catalogue(&mut w);
    let (_, answer) = send(&w, authed(&book_service(1, "massage", "2pm"))).await;
    assert_eq!(
        answer["error"],
        "We don't offer massage. We offer Consultation, Cleaning and Whitening; which would you like?"
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn each_service_blocks_the_slots_its_duration_overlaps() {
    let mut w = webhook();
    with_catalogue(&mut w);
    // A 30-minute cleaning at 2:00 leaves 2:30 free; a 90-minute whitening at 2:30 takes 2:30-4:00.
    let (_, a) = send(&w, authed(&book_service(1, "hygiene", "2pm"))).await;
    assert!(
        a["result"]
            .as_str()
            .unwrap()
            .contains("You're booked for Cleaning"),
        "{a}"
    );
    let (_, b) = send(&w, authed(&book_service(2, "whitening", "2:30pm"))).await;
    assert!(b["result"].is_string(), "{b}");
    let (_, c) = send(&w, authed(&book_service(3, "consultation", "3:30pm"))).await;
    assert!(
        c["error"].as_str().unwrap().contains("already booked"),
        "{c}"
    );
    let (_, d) = send(&w, authed(&book_service(4, "consultation", "4pm"))).await;
    assert!(d["result"].is_string(), "{d}");
    let jobs = booking_jobs(&w);
    assert_eq!(
        jobs.iter()
            .map(|j| (j.service.as_str(), j.duration_minutes, j.price_cents))
            .collect::<Vec<_>>(),
        [
            ("Cleaning", 30, Some(8950)),
            ("Whitening", 90, None),
            ("Consultation", 60, Some(15000))
        ]
    );
}

#[tokio::test]
async fn the_same_caller_asking_again_for_the_same_time_gets_the_same_booking() {
    let mut w = webhook();
    Arc::make_mut(&mut w.business).capacity = 2; // room for a second booking: only the check can stop one
    // The caller books for the number they call from.
    let args = seed_body()["parameters"].clone();
    let call = |id: &str| {
        tool_calls_body(
            json!([{"id": id, "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
        )
    };
    // The model re-issues the call under a new id; then the flat form without ids.
    let (_, first) = send(&w, authed(&call("tc-1"))).await;
    let (_, again) = send(&w, authed(&call("tc-2"))).await;
    let (_, flat) = send(&w, authed(&seed_body())).await;
    let first = first["results"][0]["result"].as_str().unwrap().to_string();
    assert_eq!(again["results"][0]["result"], first.as_str());
    assert_eq!(flat["result"], first.as_str());
    let jobs = booking_jobs(&w);
    assert!(
        jobs.iter()
            .all(|j| j.job_id == jobs[0].job_id && j.reference == jobs[0].reference),
        "{jobs:?}"
    );
    // Another caller at the same time is a second booking.
    let (_, other) = send(&w, authed(&another_caller(2))).await;
    assert_ne!(other["result"], first.as_str());
    assert!(other["result"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_from_one_caller_book_once_even_with_room_to_spare() {
    let mut w = webhook();
    Arc::make_mut(&mut w.business).capacity = 5;
    let w = std::sync::Arc::new(w);
    let args = another_caller(1)["parameters"].clone();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (w, args) = (std::sync::Arc::clone(&w), args.clone());
            tokio::spawn(async move {
                let body = tool_calls_body(json!([{"id": format!("tc-{i}"), "type": "function",
                    "function": {"name": "bookAppointment", "arguments": args}}]));
                send(&w, authed(&body)).await.1["results"][0]["result"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(
        answers.iter().all(|a| !a.is_empty() && *a == answers[0]),
        "{answers:?}"
    );
    let jobs = booking_jobs(&w);
    assert!(jobs.iter().all(|j| j.reference == jobs[0].reference));
}

#[tokio::test]
async fn a_repeat_for_another_service_is_not_merged_into_the_first_booking() {
    let mut w = webhook();
    with_catalogue(&mut w);
    Arc::make_mut(&mut w.business).capacity = 2;
    let (_, first) = send(&w, authed(&book_service(1, "consultation", "2pm"))).await;
    let (_, second) = send(&w, authed(&book_service(1, "cleaning", "2pm"))).await;
    assert!(
        first["result"].is_string() && second["result"].is_string(),
        "{first} {second}"
    );
    assert_ne!(first["result"], second["result"]);
    let jobs = booking_jobs(&w);
    assert_eq!(
        (jobs[0].service.as_str(), jobs[1].service.as_str()),
        ("Consultation", "Cleaning")
    );
}

#[tokio::test]
async fn capacity_allows_that_many_at_once() {
    let mut w = webhook();
    Arc::make_mut(&mut w.business).capacity = 2;
    for i in 1..=2 {
        let (_, answer) = send(&w, authed(&another_caller(i))).await;
        assert!(answer["result"].is_string(), "{answer}");
    }
    let (_, third) = send(&w, authed(&another_caller(3))).await;
    assert!(
        third["error"].as_str().unwrap().contains("already booked"),
        "{third}"
    );
}

#[tokio::test]
async fn a_booking_the_queue_refused_keeps_its_slot_for_the_callers_retry() {
    let w = webhook();
    w.queue.faults.fail_next(1);
    let (_, failed) = send(&w, authed(&another_caller(1))).await;
    assert_eq!(failed["error"], SYSTEM_PROBLEM);
    assert!(w.queue.sent().is_empty());
    // The job may have reached SQS regardless: nobody else may take the slot...
    let (_, other) = send(&w, authed(&another_caller(2))).await;
    assert!(
        other["error"].as_str().unwrap().contains("already booked"),
        "{other}"
    );
    // ...and the caller's retry finds their reservation and enqueues the booking.
    let (_, retry) = send(&w, authed(&another_caller(1))).await;
    assert!(
        retry["result"]
            .as_str()
            .unwrap()
            .starts_with("You're booked"),
        "{retry}"
    );
    assert_eq!(booking_jobs(&w).len(), 1);
}

#[tokio::test]
async fn a_retry_that_fails_to_enqueue_keeps_the_first_attempts_slot() {
    let w = webhook();
    let body = tool_calls_body(
        json!([{"id": "call_K", "type": "function", "function": {"name": "bookAppointment", "arguments": seed_body()["parameters"]}}]),
    );
    let (_, first) = send(&w, authed(&body)).await;
    assert!(first["results"][0]["result"].is_string());
    w.queue.faults.fail_next(1);
    // The model re-issues the call under a new id: the caller's reservation is found.
    let body = tool_calls_body(
        json!([{"id": "call_K2", "type": "function", "function": {"name": "bookAppointment", "arguments": seed_body()["parameters"]}}]),
    );
    let (_, retry) = send(&w, authed(&body)).await;
    assert_eq!(retry["results"][0]["error"], SYSTEM_PROBLEM);
    // The first attempt's job is queued: its slot must still be held.
    let (_, other) = send(&w, authed(&another_caller(9))).await;
    assert!(
        other["error"].as_str().unwrap().contains("already booked"),
        "{other}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_bookings_of_one_slot_book_one() {
    let w = std::sync::Arc::new(webhook());
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let w = std::sync::Arc::clone(&w);
            tokio::spawn(async move { send(&w, authed(&another_caller(i))).await.1 })
        })
        .collect();
    let mut booked = 0;
    for t in tasks {
        let answer = t.await.unwrap();
        if answer["result"].is_string() {
            booked += 1;
        } else {
            assert!(
                answer["error"]
                    .as_str()
                    .unwrap()
                    .contains("The nearest times I can offer are"),
                "{answer}"
            );
        }
    }
    assert_eq!(booked, 1);
    assert_eq!(booking_jobs(&w).len(), 1);
}

#[tokio::test]
async fn a_closed_day_is_refused_with_alternatives() {
    let w = webhook();
    let mut body = seed_body();
    body["parameters"]["date"] = json!("Saturday");
    let (_, body) = send(&w, authed(&body)).await;
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("We're closed on Saturdays"), "{error}");
    assert!(error.contains("Monday, November 30 at 9:00 AM"), "{error}");
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn the_answer_waits_for_the_queue() {
    let w = webhook();
    w.queue.faults.fail_next(1);
    let (status, body) = send(&w, authed(&seed_body())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error"], SYSTEM_PROBLEM);
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn references_are_unique_per_business_and_stable_for_a_repeated_call() {
    let w = webhook();
    // Another booking already has the reference this tool call derives first.
    let derived = BookingReference::derive(b"default|call-123|tc-collide");
    let nine = w
        .business
        .zone
        .with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
        .unwrap();
    let elsewhere = callbook_core::cells_for(nine, 60, 30);
    w.calendar
        .reserve_new(
            "default",
            &elsewhere,
            1,
            &derived,
            "other",
            "another-request",
        )
        .await
        .unwrap();
    let body = tool_calls_body(json!([{"id": "tc-collide", "type": "function",
        "function": {"name": "bookAppointment", "arguments": seed_body()["parameters"]}}]));
    let (_, first) = send(&w, authed(&body)).await;
    let reference = booking_jobs(&w)[0].reference.clone();
    assert_ne!(reference, derived, "the taken reference is not reused");
    assert!(
        first["results"][0]["result"]
            .as_str()
            .unwrap()
            .contains(&reference.spoken())
    );
    // Without its remembered answer, the same tool call derives the same references in the
    // same order and finds its own booking.
    w.answers
        .release("tool#default#call-123#tc-collide")
        .await
        .unwrap();
    let (_, again) = send(&w, authed(&body)).await;
    assert_eq!(again, first);
    assert!(booking_jobs(&w).iter().all(|j| j.reference == reference));
}

/// At the call's limit (3 bookings or changes), a repeat of a booking the caller already has,
/// under a new tool call id, hears that booking; only a new booking is refused.
#[tokio::test]
async fn a_repeat_at_the_call_limit_hears_its_booking_and_only_a_new_one_is_refused() {
    let w = webhook();
    let ask = |id: &str, time: &str| {
        let mut args = another_caller(1)["parameters"].clone();
        args["time"] = json!(time);
        authed(&tool_calls_body(json!([{"id": id, "type": "function",
            "function": {"name": "bookAppointment", "arguments": args}}])))
    };
    let result = |answer: &Value| answer["results"][0].clone();
    let (_, first) = send(&w, ask("tc-1", "10am")).await;
    let first = result(&first)["result"].as_str().unwrap().to_string();
    for (id, time) in [("tc-2", "11am"), ("tc-3", "1pm")] {
        let (_, answer) = send(&w, ask(id, time)).await;
        assert!(result(&answer)["result"].is_string(), "{answer}");
    }
    let (_, repeat) = send(&w, ask("tc-4", "10am")).await;
    assert_eq!(result(&repeat)["result"], first.as_str(), "{repeat}");
    let (_, fourth) = send(&w, ask("tc-5", "3pm")).await;
    assert!(result(&fourth)["error"].is_string(), "{fourth}");
    assert_eq!(
        booking_jobs(&w).len(),
        4,
        "three bookings, the repeat queued again"
    );
}

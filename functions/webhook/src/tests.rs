use callbook_core::memory::{
    FixedClock, MemoryBookingStore, MemoryDirectory, MemoryIdempotencyStore, MemoryQueue,
    MemorySecrets, MemorySlotStore, StaticHealth,
};
use callbook_core::ports::ComponentHealth;
use chrono::TimeZone;
use lambda_http::http;

use callbook_core::reference::BookingReference;

use super::*;

// The local default, so the files in events/ work unchanged against `make dev`.
const SECRET: &str = "local-dev-secret";
const MONITORING_TOKEN: &str = "monitoring-token-0001";

type TestWebhook = Webhook<
    MemoryQueue,
    MemorySlotStore,
    MemoryBookingStore,
    MemoryDirectory,
    MemoryIdempotencyStore,
    StaticHealth,
    FixedClock,
    MemorySecrets,
>;

/// Tuesday 2026-11-24, 10:00 in New York: "tomorrow" is Wednesday, an open day.
fn webhook() -> TestWebhook {
    Webhook {
        auth: Authenticator::shared_secret(SECRET).unwrap(),
        secrets: MemorySecrets::default(),
        monitoring_token: WebhookSecret::new(MONITORING_TOKEN),
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        business: Arc::new(
            Business::from_lookup(&|k: &str| match k {
                "BUSINESS_NAME" => Some("Test Clinic".to_string()),
                "VAPI_ASSISTANT_ID" => Some("asst-test-1".to_string()),
                "TRANSFER_PHONE_NUMBER" => Some("+17025550100".to_string()),
                _ => None,
            })
            .unwrap(),
        ),
        queue: MemoryQueue::default(),
        slots: MemorySlotStore::default(),
        bookings: MemoryBookingStore::default(),
        directory: MemoryDirectory::default(),
        idempotency: MemoryIdempotencyStore::default(),
        health: StaticHealth(vec![ComponentHealth {
            name: "bookings".into(),
            healthy: true,
            detail: "ACTIVE".into(),
        }]),
        clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()),
    }
}

fn post(headers: &[(&str, &str)], body: &str) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("https://api.example.com/vapi-webhook");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::Text(body.to_string())).unwrap()
}

fn authed(body: &Value) -> Request {
    post(
        &[
            ("x-vapi-secret", SECRET),
            ("content-type", "application/json"),
        ],
        &body.to_string(),
    )
}

async fn send(w: &TestWebhook, request: Request) -> (StatusCode, Value) {
    let response = w.handle(request).await;
    let status = response.status();
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    (status, body)
}

fn seed_body() -> Value {
    json!({"function": "bookAppointment", "parameters": {
        "customerName": "Test User", "customerPhone": "+17025551234", "customerEmail": "test@example.com",
        "serviceType": "Consultation", "date": "tomorrow", "time": "2pm"}})
}

fn tool_calls_body(calls: Value) -> Value {
    json!({"message": {"type": "tool-calls", "timestamp": 1_795_532_280_000_i64,
        "call": {"id": "call-123", "customer": {"number": "+17025551234"}},
        "toolCallList": calls}})
}

fn booking_jobs(w: &TestWebhook) -> Vec<BookingJob> {
    w.queue
        .sent()
        .into_iter()
        .map(|j| match j {
            Job::Booking(b) => b,
            other => panic!("unexpected job {other:?}"),
        })
        .collect()
}

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
async fn tool_calls_answer_each_call_in_order_with_its_id() {
    let w = webhook();
    let args = seed_body()["parameters"].clone();
    let mut later = args.clone();
    later["time"] = json!("3:30pm");
    let body = tool_calls_body(json!([
        {"id": "call_A", "type": "function", "function": {"name": "bookAppointment", "arguments": args}},
        {"id": "call_B", "type": "function", "function": {"name": "bookAppointment", "arguments": later.to_string()}},
        {"id": "call_C", "type": "function", "function": {"name": "orderPizza", "arguments": {}}}
    ]));
    let (status, body) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    let results = body["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["toolCallId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call_A", "call_B", "call_C"]);
    assert!(
        results[0]["result"]
            .as_str()
            .unwrap()
            .contains("Wednesday, November 25 at 2:00 PM")
    );
    assert!(results[1]["result"].is_string());
    assert!(results[2]["error"].as_str().unwrap().contains("orderPizza"));
    assert_eq!(results[0]["name"], "bookAppointment");
    let jobs = booking_jobs(&w);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].call_id.as_deref(), Some("call-123"));
    assert_eq!(jobs[0].tool_call_id.as_deref(), Some("call_A"));
}

#[tokio::test]
async fn a_redelivered_tool_call_gets_the_same_booking_identity() {
    let w = webhook();
    let args = seed_body()["parameters"].clone();
    let body = tool_calls_body(
        json!([{"id": "call_R", "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
    );
    let (_, first) = send(&w, authed(&body)).await;
    let (_, second) = send(&w, authed(&body)).await;
    assert_eq!(first, second);
    // The second delivery is answered from the first's stored answer: one job.
    assert_eq!(booking_jobs(&w).len(), 1);
    // Without the stored answer (it expired, or the store was down), the same ids still
    // give the same booking identity, and the job is recorded once downstream.
    let w2 = webhook();
    send(&w2, authed(&body)).await;
    w2.idempotency
        .release("tool#default#call-123#call_R")
        .await
        .unwrap();
    send(&w2, authed(&body)).await;
    let jobs = booking_jobs(&w2);
    assert_eq!(
        (jobs[0].job_id.as_str(), &jobs[0].reference),
        (jobs[1].job_id.as_str(), &jobs[1].reference)
    );
    // Another tool call in the same call is another booking.
    let mut later = args.clone();
    later["time"] = json!("4pm");
    let other = tool_calls_body(
        json!([{"id": "call_S", "type": "function", "function": {"name": "bookAppointment", "arguments": later}}]),
    );
    send(&w, authed(&other)).await;
    assert_ne!(booking_jobs(&w)[1].reference, jobs[0].reference);
}

/// The seed's booking by another caller (different name, phone, email).
fn another_caller(i: usize) -> Value {
    let mut body = seed_body();
    body["parameters"]["customerName"] = json!(format!("Caller {i}"));
    body["parameters"]["customerPhone"] = json!(format!("+1702555{:04}", 2000 + i));
    body["parameters"]["customerEmail"] = json!(format!("caller{i}@example.com"));
    body
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
    let args = another_caller(1)["parameters"].clone();
    let call = |id: &str| {
        tool_calls_body(
            json!([{"id": id, "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
        )
    };
    // The model re-issues the call under a new id; then the flat form without ids.
    let (_, first) = send(&w, authed(&call("tc-1"))).await;
    let (_, again) = send(&w, authed(&call("tc-2"))).await;
    let (_, flat) = send(&w, authed(&another_caller(1))).await;
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
    w.queue.failures.fail_next(1);
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
    w.queue.failures.fail_next(1);
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

fn check(date: &str, preference: Option<&str>) -> Value {
    let mut args = json!({"serviceType": "Consultation", "date": date});
    if let Some(p) = preference {
        args["timePreference"] = json!(p);
    }
    tool_calls_body(
        json!([{"id": format!("tc-avail-{date}-{preference:?}"), "type": "function", "function": {"name": "checkAvailability", "arguments": args}}]),
    )
}

#[tokio::test]
async fn check_availability_offers_free_times_only() {
    let w = webhook();
    let (_, answer) = send(&w, authed(&check("tomorrow", None))).await;
    assert_eq!(
        answer["results"][0]["result"],
        "On Wednesday, November 25 I have 9:00 AM, 11:00 AM, 1:30 PM or 4:00 PM for a Consultation. Which would you like?"
    );
    let mut nine = seed_body();
    nine["parameters"]["time"] = json!("9am");
    send(&w, authed(&nine)).await;
    let (_, answer) = send(&w, authed(&check("tomorrow", Some("morning")))).await;
    let text = answer["results"][0]["result"].as_str().unwrap();
    assert!(
        text.starts_with("On Wednesday, November 25 I have 10:00 AM"),
        "{text}"
    );
    assert!(
        !text.contains("9:00 AM") && !text.contains("9:30 AM"),
        "{text}"
    );
    assert!(
        w.queue.sent().len() == 1,
        "checking availability enqueues nothing"
    );
}

#[tokio::test]
async fn a_full_or_closed_day_points_to_the_next_days_with_room() {
    let w = webhook();
    // Fill Wednesday: every cell from 9:00 to 17:00.
    let zone = w.business.zone;
    let day_cells = callbook_core::slots::cells_for(
        zone.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(),
        8 * 60,
        30,
    );
    let filler = BookingReference::derive(b"filler");
    w.slots
        .reserve("default", &day_cells, 1, &filler, "filler")
        .await
        .unwrap();
    let (_, answer) = send(&w, authed(&check("tomorrow", None))).await;
    assert_eq!(
        answer["results"][0]["result"],
        "Wednesday, November 25 is fully booked. The next days with room are Thursday, November 26 from 9:00 AM and Friday, November 27 from 9:00 AM. Would one of those work?"
    );
    let (_, answer) = send(&w, authed(&check("Saturday", None))).await;
    assert!(
        answer["results"][0]["result"].as_str().unwrap().starts_with(
            "We're closed on Saturday, November 28. The next days with room are Monday, November 30 from 9:00 AM"
        ),
        "{answer}"
    );
}

#[tokio::test]
async fn check_availability_explains_bad_input_and_a_calendar_it_cannot_read() {
    let w = webhook();
    let (_, answer) = send(&w, authed(&check("someday", None))).await;
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("could you say the day another way")
    );
    let (_, answer) = send(&w, authed(&check("2026-11-20", None))).await;
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("has already passed")
    );
    w.slots.failures.fail_next(1);
    let (_, answer) = send(&w, authed(&check("tomorrow", None))).await;
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("can't check the calendar")
    );
}

#[tokio::test]
async fn legacy_function_call_answers_result() {
    let w = webhook();
    let body = json!({"message": {"type": "function-call", "functionCall": {"name": "bookAppointment", "parameters": seed_body()["parameters"]}}});
    let (status, body) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["result"]
            .as_str()
            .unwrap()
            .contains("Your booking reference is")
    );
    assert_eq!(w.queue.sent().len(), 1);
}

#[tokio::test]
async fn bearer_and_missing_content_type_are_accepted() {
    let w = webhook();
    let bearer = format!("Bearer {SECRET}");
    let request = post(
        &[("authorization", bearer.as_str())],
        &seed_body().to_string(),
    );
    assert_eq!(send(&w, request).await.0, StatusCode::OK);
    let mut later = seed_body();
    later["parameters"]["time"] = json!("10am");
    let request = post(
        &[
            ("x-vapi-secret", SECRET),
            ("content-type", "application/json; charset=utf-8"),
        ],
        &later.to_string(),
    );
    assert_eq!(send(&w, request).await.0, StatusCode::OK);
    assert_eq!(w.queue.sent().len(), 2);
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_and_enqueue_nothing() {
    let w = webhook();
    for headers in [
        vec![],
        vec![("x-vapi-secret", "wrong")],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", SECRET)],
    ] {
        let (status, body) = send(&w, post(&headers, &seed_body().to_string())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert!(body["error"].is_string());
    }
    // Authentication comes before parsing: garbage without a secret is 401, not 400.
    assert_eq!(
        send(&w, post(&[], "{not json")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn unreadable_bodies_are_400_with_a_reason() {
    let w = webhook();
    for (body, expected) in [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1,2]", "must be a JSON object"),
        ("42", "must be a JSON object"),
        ("{\"hello\": 1}", "neither"),
        ("{\"message\": []}", "must be an object"),
        ("{\"message\": {\"call\": {}}}", "message.type"),
        ("{\"function\": 7}", "name of a tool"),
    ] {
        let (status, answer) = send(&w, post(&[("x-vapi-secret", SECRET)], body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer["error"].as_str().unwrap().contains(expected),
            "{body}: {answer}"
        );
    }
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let w = webhook();
    let request = post(
        &[("x-vapi-secret", SECRET), ("content-type", "text/plain")],
        &seed_body().to_string(),
    );
    let (status, body) = send(&w, request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body["error"].is_string());
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn invalid_arguments_are_spoken_errors_and_enqueue_nothing() {
    let w = webhook();
    let mut args = seed_body()["parameters"].clone();
    args["customerEmail"] = json!("not-an-email");
    let body = tool_calls_body(
        json!([{"id": "tc1", "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
    );
    let (status, body) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["toolCallId"], "tc1");
    assert!(
        body["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("email address")
    );
    assert!(body["results"][0].get("result").is_none());

    let (status, body) = send(
        &w,
        authed(&json!({"function": "bookAppointment", "parameters": {"customerName": "A"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("To book the appointment I still need the phone number")
    );

    let body = tool_calls_body(
        json!([{"id": "tc2", "function": {"name": "bookAppointment", "arguments": "{oops"}}]),
    );
    let (_, body) = send(&w, authed(&body)).await;
    assert!(
        body["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("couldn't read the details")
    );
    assert!(w.queue.sent().is_empty());
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
    w.queue.failures.fail_next(1);
    let (status, body) = send(&w, authed(&seed_body())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error"], SYSTEM_PROBLEM);
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn other_message_types_get_an_empty_object() {
    let w = webhook();
    for kind in ["speech-update", "some-future-type"] {
        let (status, body) = send(
            &w,
            authed(&json!({"message": {"type": kind, "call": {"id": "c"}}})),
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, json!({})), "{kind}");
    }
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn call_reports_and_statuses_go_to_the_analytics_queue() {
    let w = webhook();
    for kind in ["status-update", "end-of-call-report"] {
        let body = json!({"message": {"type": kind, "status": "in-progress", "call": {"id": "c", "customer": {"number": "+17025551234"}}}});
        let (status, answer) = send(&w, authed(&body)).await;
        assert_eq!((status, answer), (StatusCode::OK, json!({})), "{kind}");
    }
    let sent = w.queue.sent();
    assert!(matches!(
        sent.as_slice(),
        [
            Job::Analytics(AnalyticsJob::CallStatus(_)),
            Job::Analytics(AnalyticsJob::CallReport(_))
        ]
    ));
    // Without a call id there is nothing to key a record by: acknowledged, not queued.
    let body = json!({"message": {"type": "end-of-call-report"}});
    assert_eq!(send(&w, authed(&body)).await.0, StatusCode::OK);
    assert_eq!(w.queue.sent().len(), 2);
    // A refused enqueue is a 503, so a configured retry delivers it again.
    w.queue.failures.fail_next(1);
    let body = json!({"message": {"type": "end-of-call-report", "call": {"id": "c2"}}});
    assert_eq!(
        send(&w, authed(&body)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn assistant_request_names_the_business_assistant_or_refuses_aloud() {
    let mut w = webhook();
    let body = json!({"message": {"type": "assistant-request", "call": {"id": "c", "phoneNumberId": "pn-1"}}});
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"assistantId": "asst-test-1"}))
    );
    Arc::make_mut(&mut w.business).assistant_id = None;
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("Test Clinic can't take calls"),
        "{answer}"
    );
}

#[tokio::test]
async fn transfer_destination_is_the_business_number_or_a_spoken_error() {
    let mut w = webhook();
    let body = json!({"message": {"type": "transfer-destination-request", "call": {"id": "c"}}});
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer["destination"],
        json!({"type": "number", "number": "+17025550100"})
    );
    assert_eq!(answer["message"]["type"], "request-start");
    Arc::make_mut(&mut w.business).transfer_number = None;
    let (_, answer) = send(&w, authed(&body)).await;
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("can't transfer you"),
        "{answer}"
    );
    assert!(answer.get("destination").is_none());
}

#[tokio::test]
async fn health_reports_each_component_to_the_monitoring_token_only() {
    let mut w = webhook();
    let get = |path: &str, token: Option<&str>| {
        let mut request = http::Request::builder().method("GET").uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(Body::Empty).unwrap()
    };
    // Anyone: the status, nothing more.
    let (status, body) = send(&w, get("/monitoring/health", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert!(body.get("components").is_none(), "{body}");
    let (_, body) = send(&w, get("/monitoring/health", Some(SECRET))).await;
    assert!(
        body.get("components").is_none(),
        "the webhook secret is not the token"
    );
    // With the token: every component.
    let (_, body) = send(&w, get("/monitoring/health", Some(MONITORING_TOKEN))).await;
    assert_eq!(body["components"]["bookings"]["detail"], "ACTIVE");
    w.health.0.push(ComponentHealth {
        name: "booking-queue".into(),
        healthy: false,
        detail: "connection refused".into(),
    });
    let (status, body) = send(&w, get("/monitoring/health", None)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    let (_, body) = send(&w, get("/monitoring/health", Some(MONITORING_TOKEN))).await;
    assert_eq!(body["components"]["booking-queue"]["healthy"], false);

    // Every other monitoring route needs the token.
    for path in [
        "/monitoring/metrics",
        "/monitoring/dashboard",
        "/monitoring/performance",
    ] {
        assert_eq!(
            send(&w, get(path, None)).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            send(&w, get(path, Some("wrong-token-value-0"))).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(&w, get(path, Some(MONITORING_TOKEN))).await.0,
            StatusCode::NOT_FOUND,
            "authenticated, and not built yet"
        );
    }
    // No token configured: nothing opens them.
    w.monitoring_token = None;
    assert_eq!(
        send(&w, get("/monitoring/metrics", Some(MONITORING_TOKEN)))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let w = webhook();
    let request = http::Request::builder()
        .method("GET")
        .uri("/vapi-webhook")
        .body(Body::Empty)
        .unwrap();
    assert_eq!(send(&w, request).await.0, StatusCode::METHOD_NOT_ALLOWED);
    let request = http::Request::builder()
        .method("GET")
        .uri("/nope")
        .body(Body::Empty)
        .unwrap();
    assert_eq!(send(&w, request).await.0, StatusCode::NOT_FOUND);
}

/// Every API Gateway event in events/ goes through the handler, so the samples never rot.
#[tokio::test]
async fn every_sample_event_is_answered() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("webhook-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let request =
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = webhook();
        let (status, body) = send(&w, request).await;
        let expected: Value = serde_json::from_str::<Value>(&text).unwrap()["_expect"].clone();
        assert_eq!(
            status.as_u16() as u64,
            expected["status"].as_u64().unwrap(),
            "{name}: {body}"
        );
        if let Some(contains) = expected["bodyContains"].as_str() {
            assert!(body.to_string().contains(contains), "{name}: {body}");
        }
        assert_eq!(
            w.queue.sent().len() as u64,
            expected["jobs"].as_u64().unwrap_or(0),
            "{name}"
        );
        seen += 1;
    }
    assert!(
        seen >= 5,
        "expected the webhook samples in events/, found {seen}"
    );
}

/// Each file in events/ belongs to a function whose tests run it: a new sample cannot be forgotten.
#[test]
fn every_sample_event_belongs_to_a_function() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            [
                "webhook-",
                "booking-worker-",
                "notification-worker-",
                "analytics-worker-"
            ]
            .iter()
            .any(|p| name.starts_with(p))
                && name.ends_with(".json"),
            "events/{name}: name it after its function (webhook-, booking-worker-, notification-worker-) so a test runs it"
        );
    }
}

/// Books through the webhook and records the booking as the booking worker would.
async fn booked(w: &TestWebhook, time: &str, phone: &str) -> BookingJob {
    let mut body = seed_body();
    body["parameters"]["time"] = json!(time);
    body["parameters"]["customerPhone"] = json!(phone);
    let (_, answer) = send(w, authed(&body)).await;
    assert!(answer["result"].is_string(), "{answer}");
    let job = match w.queue.sent().last() {
        Some(Job::Booking(job)) => job.clone(),
        other => panic!("expected a booking job, got {other:?}"),
    };
    w.bookings
        .insert(callbook_core::booking::BookingRecord::from_job(
            &job,
            w.clock.now(),
        ));
    job
}

fn change_jobs(w: &TestWebhook) -> Vec<BookingChangeJob> {
    w.queue
        .sent()
        .into_iter()
        .filter_map(|j| match j {
            Job::BookingChange(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// A fresh tool-call id each time, as Vapi gives each tool call its own.
fn next_id() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!(
        "t-{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

async fn tool(w: &TestWebhook, name: &str, args: Value) -> Value {
    let body = tool_calls_body(json!([
        {"id": next_id(), "type": "function", "function": {"name": name, "arguments": args}}
    ]));
    let (status, answer) = send(w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    answer["results"][0].clone()
}

#[tokio::test]
async fn rescheduling_reserves_the_new_time_before_answering() {
    let w = webhook();
    let job = booked(&w, "2pm", "+17025551234").await;
    let answer = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": job.reference.spoken(), "newDate": "Friday", "newTime": "10am"}),
    )
    .await;
    assert_eq!(
        answer["result"].as_str().unwrap(),
        format!(
            "Done: your Consultation is moved from Wednesday, November 25 at 2:00 PM to Friday, November 27 at 10:00 AM. Your booking reference stays {}, and we'll send the new time by text and email.",
            job.reference.spoken()
        )
    );
    let changes = change_jobs(&w);
    assert_eq!(changes.len(), 1);
    let BookingChange::Reschedule { slot_cells, .. } = &changes[0].change else {
        panic!("a reschedule job");
    };
    assert_eq!(slot_cells.len(), 2);
    // The new time is held for this booking: another caller is offered other times.
    let mut other = seed_body();
    other["parameters"]["customerPhone"] = json!("+17025559999");
    other["parameters"]["date"] = json!("Friday");
    other["parameters"]["time"] = json!("10am");
    let (_, refused) = send(&w, authed(&other)).await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("Sorry, Friday, November 27 at 10:00 AM is already booked."),
        "{refused}"
    );
    // Moving to the time it already has, or to a closed day, is refused aloud.
    let same = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": job.reference.as_str(), "newDate": "tomorrow", "newTime": "2pm"}),
    )
    .await;
    assert_eq!(
        same["error"],
        "Your Consultation is already booked for Wednesday, November 25 at 2:00 PM."
    );
    let closed = tool(
        &w,
        "rescheduleAppointment",
        json!({"newDate": "Saturday", "newTime": "10am"}),
    )
    .await;
    assert!(
        closed["error"]
            .as_str()
            .unwrap()
            .starts_with("We're closed on Saturdays"),
        "{closed}"
    );
    assert_eq!(change_jobs(&w).len(), 1);
}

#[tokio::test]
async fn rescheduling_onto_a_taken_time_offers_others() {
    let w = webhook();
    let mine = booked(&w, "2pm", "+17025551234").await;
    booked(&w, "4pm", "+17025559999").await;
    let answer = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": mine.reference.as_str(), "newDate": "tomorrow", "newTime": "4pm"}),
    )
    .await;
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.starts_with("Sorry, Wednesday, November 25 at 4:00 PM is already booked. The nearest times I can offer are"),
        "{error}"
    );
    assert!(change_jobs(&w).is_empty());
}

#[tokio::test]
async fn cancelling_by_phone_finds_the_booking_or_asks_which() {
    let w = webhook();
    let first = booked(&w, "2pm", "+17025551234").await;
    let answer = tool(&w, "cancelAppointment", json!({"reason": "feeling better"})).await;
    assert_eq!(
        answer["result"],
        "Your Consultation on Wednesday, November 25 at 2:00 PM is cancelled, and we'll confirm by text and email."
    );
    let changes = change_jobs(&w);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].reference, first.reference);
    assert_eq!(
        changes[0].change,
        BookingChange::Cancel {
            reason: Some("feeling better".into())
        }
    );
    booked(&w, "3pm", "+17025551234").await;
    let answer = tool(&w, "cancelAppointment", json!({})).await;
    assert!(
        answer["error"].as_str().unwrap().starts_with(
            "You have 2 upcoming appointments: Consultation on Wednesday, November 25 at 2:00 PM"
        ),
        "{answer}"
    );
    let answer = tool(
        &w,
        "cancelAppointment",
        json!({"bookingReference": "ZZZZZZ"}),
    )
    .await;
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("I couldn't find a booking with reference Z-Z-Z-Z-Z-Z"),
        "{answer}"
    );
    // The store failing is a spoken problem, not an HTTP error.
    w.bookings.failures.fail_next(1);
    let answer = tool(&w, "cancelAppointment", json!({})).await;
    assert_eq!(answer["error"], LOOKUP_PROBLEM);
}

#[tokio::test]
async fn get_appointments_lists_the_callers_upcoming_bookings() {
    let w = webhook();
    let answer = tool(&w, "getAppointments", json!({})).await;
    assert_eq!(
        answer["result"],
        "I can't find any upcoming appointments for the number ending in 1234."
    );
    let job = booked(&w, "2pm", "+17025551234").await;
    booked(&w, "3pm", "+17025559999").await;
    let answer = tool(&w, "getAppointments", json!({})).await;
    assert_eq!(
        answer["result"].as_str().unwrap(),
        format!(
            "You have one upcoming appointment: Consultation on Wednesday, November 25 at 2:00 PM, reference {}.",
            job.reference.spoken()
        )
    );
}

#[tokio::test]
async fn capture_lead_queues_a_lead_job() {
    let w = webhook();
    let answer = tool(
        &w,
        "captureLead",
        json!({"name": "Ann Lee", "interest": "teeth whitening", "notes": "call after 5"}),
    )
    .await;
    assert_eq!(
        answer["result"],
        "Thank you, Ann. I've passed your interest in teeth whitening on to Test Clinic, and someone will call you back."
    );
    match w.queue.sent().as_slice() {
        [Job::Analytics(AnalyticsJob::Lead(lead))] => {
            assert_eq!(
                (lead.phone.as_str(), lead.call_id.as_deref()),
                ("+17025551234", Some("call-123"))
            );
        }
        other => panic!("expected one lead job, got {other:?}"),
    }
    let answer = tool(&w, "captureLead", json!({"name": "Ann"})).await;
    assert_eq!(
        answer["error"],
        "To pass this on I still need the area of interest."
    );
}

#[tokio::test]
async fn three_tool_calls_answer_three_results_in_order() {
    let w = webhook();
    let book = seed_body()["parameters"].clone();
    let body = tool_calls_body(json!([
        {"id": "call_A", "type": "function", "function": {"name": "checkAvailability", "arguments": {"serviceType": "Consultation", "date": "tomorrow"}}},
        {"id": "call_B", "type": "function", "function": {"name": "bookAppointment", "arguments": book}},
        {"id": "call_C", "type": "function", "function": {"name": "noSuchTool", "arguments": {}}}
    ]));
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    let results = answer["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["toolCallId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call_A", "call_B", "call_C"]);
    assert!(
        results[0]["result"]
            .as_str()
            .unwrap()
            .contains("Wednesday, November 25")
    );
    assert!(
        results[1]["result"]
            .as_str()
            .unwrap()
            .starts_with("You're booked")
    );
    assert!(results[2]["error"].as_str().unwrap().contains("noSuchTool"));
}

fn london() -> Business {
    let profile: callbook_core::business::BusinessProfile =
        serde_json::from_str(include_str!("../../../infra/business.example.json")).unwrap();
    Business::from_profile(&profile).unwrap()
}

fn call_via(assistant: Option<&str>, phone_number: Option<&str>, calls: Value) -> Value {
    json!({"message": {"type": "tool-calls",
        "call": {"id": "call-biz", "assistantId": assistant, "phoneNumberId": phone_number,
                 "customer": {"number": "+447700900456"}},
        "toolCallList": calls}})
}

#[tokio::test]
async fn each_call_is_served_by_the_business_its_assistant_or_number_belongs_to() {
    let w = webhook();
    w.directory.add(london());
    let book = |service: &str| {
        json!([{"id": next_id(), "type": "function", "function": {"name": "bookAppointment", "arguments": {
            "customerName": "Jo Bloggs", "customerEmail": "jo@example.com", "serviceType": service,
            "date": "tomorrow", "time": "2pm"}}}])
    };
    // Its catalogue, not the default's.
    let (_, answer) = send(
        &w,
        authed(&call_via(
            Some("asst-smile-london"),
            None,
            book("Consultation"),
        )),
    )
    .await;
    assert_eq!(
        answer["results"][0]["error"],
        "We don't offer Consultation. We offer Check-up, Hygiene and Whitening; which would you like?"
    );
    // Its zone: 2 PM in London, by the phone number when the assistant is not one of its.
    let (_, answer) = send(
        &w,
        authed(&call_via(
            Some("asst-unknown"),
            Some("pn-smile-london-main"),
            book("scale and polish"),
        )),
    )
    .await;
    let text = answer["results"][0]["result"].as_str().unwrap();
    assert!(
        text.starts_with("You're booked for Hygiene on Wednesday, November 25 at 2:00 PM."),
        "{text}"
    );
    let job = booking_jobs(&w).pop().unwrap();
    assert_eq!(
        (
            job.business_id.as_str(),
            job.time_zone.as_str(),
            job.start_utc.to_rfc3339().as_str()
        ),
        (
            "smile-dental-london",
            "Europe/London",
            "2026-11-25T14:00:00+00:00"
        )
    );
    assert_eq!(job.owner.len(), 2, "the owner's phone and email hear of it");
    assert!(job.job_id.starts_with("smile-dental-london#"));
    // The same time at the default business is another calendar.
    let (_, answer) = send(&w, authed(&call_via(None, None, book("Consultation")))).await;
    assert!(
        answer["results"][0]["result"]
            .as_str()
            .unwrap()
            .starts_with("You're booked for Consultation")
    );
    assert_eq!(booking_jobs(&w).last().unwrap().business_id, "default");
}

#[tokio::test]
async fn assistant_requests_are_answered_per_number_and_a_failed_lookup_is_spoken() {
    let w = webhook();
    w.directory.add(london());
    let request = json!({"message": {"type": "assistant-request", "call": {"id": "c", "phoneNumberId": "pn-smile-london-main"}}});
    let (status, answer) = send(&w, authed(&request)).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"assistantId": "asst-smile-london"}))
    );

    // The business is looked up before authentication (its own secret may apply), so a
    // failed lookup is 503 for every message that names an assistant or number.
    w.directory.failures.fail_next(1);
    let (status, _) = send(&w, authed(&call_via(Some("asst-smile-london"), None, json!([
        {"id": "t1", "type": "function", "function": {"name": "getAppointments", "arguments": {}}}
    ])))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    w.directory.failures.fail_next(1);
    let report = json!({"message": {"type": "end-of-call-report", "call": {"id": "c", "assistantId": "asst-smile-london"}}});
    assert_eq!(
        send(&w, authed(&report)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn a_stranger_must_name_who_a_booking_is_for_before_hearing_or_changing_it() {
    let w = webhook();
    let job = booked(&w, "2pm", "+17025551234").await;
    let from_elsewhere = |name: &str, args: Value| {
        json!({"message": {"type": "tool-calls",
            "call": {"id": "call-other", "customer": {"number": "+17025559999"}},
            "toolCallList": [{"id": next_id(), "type": "function", "function": {"name": name, "arguments": args}}]}})
    };
    let cancel = from_elsewhere(
        "cancelAppointment",
        json!({"bookingReference": job.reference.as_str()}),
    );
    let (_, answer) = send(&w, authed(&cancel)).await;
    assert_eq!(
        answer["results"][0]["error"],
        "For your privacy, could you tell me the full name the booking was made under?"
    );
    let listing = from_elsewhere("getAppointments", json!({"customerPhone": "+17025551234"}));
    let (_, answer) = send(&w, authed(&listing)).await;
    assert!(
        answer["results"][0]["result"]
            .as_str()
            .unwrap()
            .starts_with("For your privacy")
    );
    assert!(change_jobs(&w).is_empty());
    let cancel = from_elsewhere(
        "cancelAppointment",
        json!({"bookingReference": job.reference.as_str(), "customerName": "Test User"}),
    );
    let (_, answer) = send(&w, authed(&cancel)).await;
    assert!(
        answer["results"][0]["result"]
            .as_str()
            .unwrap()
            .contains("is cancelled")
    );
    assert_eq!(change_jobs(&w).len(), 1);
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_are_refused_cleanly() {
    let w = webhook();
    let big = format!(
        "{{\"message\": {{\"type\": \"transcript\", \"transcript\": \"{}\"}}}}",
        "a".repeat(DEFAULT_MAX_BODY_BYTES)
    );
    let (status, body) = send(&w, post(&[("x-vapi-secret", SECRET)], &big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("larger than 262144 bytes")
    );
    // Size is checked before the secret: no credentials needed to be told it is too big.
    assert_eq!(
        send(&w, post(&[], &big)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // 100,000 levels of nesting: a 400, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, _) = send(&w, post(&[("x-vapi-secret", SECRET)], &deep)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn hmac_mode_takes_signed_requests_only() {
    use callbook_core::auth::{HmacAlgorithm, sign};
    let mut w = webhook();
    w.auth = Authenticator::from_lookup(&|name: &str| match name {
        "VAPI_AUTH_MODE" => Some("hmac".into()),
        "VAPI_WEBHOOK_SECRET" => Some("hmac-secret-0123456789".into()),
        "VAPI_WEBHOOK_SECRET_PREVIOUS" => Some("hmac-secret-previous".into()),
        "VAPI_HMAC_PREFIX" => Some("sha256=".into()),
        _ => None,
    })
    .unwrap();
    let body = seed_body().to_string();
    let now = w.clock.now();
    let signed = |key: &str, at: chrono::DateTime<Utc>| {
        let ts = at.timestamp().to_string();
        let mac = sign(
            HmacAlgorithm::Sha256,
            key.as_bytes(),
            format!("{ts}.{body}").as_bytes(),
        );
        (format!("sha256={}", hex::encode(mac)), ts)
    };
    let (sig, ts) = signed("hmac-secret-0123456789", now);
    let (status, answer) = send(
        &w,
        post(&[("x-signature", &sig), ("x-timestamp", &ts)], &body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(w.queue.sent().len(), 1);
    // The previous secret still works during a rotation.
    let (sig, ts) = signed("hmac-secret-previous", now);
    let (status, _) = send(
        &w,
        post(&[("x-signature", &sig), ("x-timestamp", &ts)], &body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A replay ten minutes later, the shared secret header, a wrong key: 401, nothing queued.
    let (sig, ts) = signed(
        "hmac-secret-0123456789",
        now - chrono::Duration::minutes(10),
    );
    let cases = [
        vec![("x-signature", sig.as_str()), ("x-timestamp", ts.as_str())],
        vec![("x-vapi-secret", "hmac-secret-0123456789")],
    ];
    for headers in cases {
        let (status, answer) = send(&w, post(&headers, &body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert!(
            !answer.to_string().contains("hmac-secret"),
            "no secret in the answer"
        );
    }
    let (sig, ts) = signed("another-key-entirely", now);
    let (status, _) = send(
        &w,
        post(&[("x-signature", &sig), ("x-timestamp", &ts)], &body),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(w.queue.sent().len(), 2);
}

#[tokio::test]
async fn a_tool_call_is_answered_once_and_its_id_cannot_be_reused_for_other_arguments() {
    let w = webhook();
    let call = |args: Value| {
        tool_calls_body(
            json!([{"id": "call_once", "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
        )
    };
    let args = seed_body()["parameters"].clone();
    // The queue fails the first time: that answer is not remembered, so the retry runs.
    w.queue.failures.fail_next(1);
    let (_, failed) = send(&w, authed(&call(args.clone()))).await;
    assert_eq!(failed["results"][0]["error"], SYSTEM_PROBLEM);
    let (_, booked) = send(&w, authed(&call(args.clone()))).await;
    assert!(booked["results"][0]["result"].is_string(), "{booked}");
    let (_, again) = send(&w, authed(&call(args.clone()))).await;
    assert_eq!(booked, again);
    assert_eq!(booking_jobs(&w).len(), 1);
    let mut other = args;
    other["time"] = json!("3pm");
    let (_, refused) = send(&w, authed(&call(other))).await;
    assert_eq!(
        refused["results"][0]["error"],
        "That request was already made with other details; please ask again."
    );
    assert_eq!(booking_jobs(&w).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_duplicate_waits_for_the_first_answer() {
    let w = std::sync::Arc::new(webhook());
    let body = tool_calls_body(
        json!([{"id": "call_dup", "type": "function", "function": {"name": "bookAppointment", "arguments": seed_body()["parameters"]}}]),
    );
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (w, body) = (w.clone(), body.clone());
            tokio::spawn(async move { send(&w, authed(&body)).await.1 })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert!(answers[0]["results"][0]["result"].is_string());
    assert_eq!(booking_jobs(&w).len(), 1);
}

/// London with its own secret in SSM (two while rotating); the default business keeps the
/// deployment's.
fn with_own_secrets(w: &mut TestWebhook, references: &[&str]) {
    let mut business = london();
    business.webhook_secrets = references
        .iter()
        .map(|r| callbook_core::secrets::SecretRef::parse(r).unwrap())
        .collect();
    w.directory.add(business);
    w.secrets = MemorySecrets::with(&[
        ("ssm:/callbook/smile/webhook", "smile-own-secret-0001"),
        ("secretsmanager:callbook/smile-old", "smile-old-secret-0002"),
    ]);
}

fn as_london(secret: &str, calls: Value) -> Request {
    post(
        &[("x-vapi-secret", secret)],
        &call_via(Some("asst-smile-london"), None, calls).to_string(),
    )
}

fn availability_call() -> Value {
    json!([{"id": next_id(), "type": "function", "function": {"name": "checkAvailability",
        "arguments": {"serviceType": "Check-up", "date": "tomorrow"}}}])
}

#[tokio::test]
async fn a_business_with_its_own_secret_is_authenticated_with_it_not_the_deployments() {
    let mut w = webhook();
    with_own_secrets(
        &mut w,
        &[
            "ssm:/callbook/smile/webhook",
            "secretsmanager:callbook/smile-old",
        ],
    );
    // Its own secret, or the one being rotated out: served as London.
    for secret in ["smile-own-secret-0001", "smile-old-secret-0002"] {
        let (status, answer) = send(&w, as_london(secret, availability_call())).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(answer["results"][0]["result"].is_string(), "{answer}");
    }
    // The deployment's secret does not open a business that has its own.
    let (status, answer) = send(&w, as_london(SECRET, availability_call())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"], "invalid webhook credentials");
    // ...and the business's secret does not open the default business.
    let (status, _) = send(
        &w,
        post(
            &[("x-vapi-secret", "smile-own-secret-0001")],
            &seed_body().to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(w.queue.sent().is_empty(), "nothing queued by a refusal");
}

#[tokio::test]
async fn a_business_secret_that_cannot_be_read_is_503_and_nothing_else_happens() {
    let mut w = webhook();
    with_own_secrets(&mut w, &["ssm:/callbook/smile/missing"]);
    let book = json!([{"id": next_id(), "type": "function", "function": {"name": "bookAppointment",
        "arguments": {"customerName": "Jo Bloggs", "customerEmail": "jo@example.com",
        "serviceType": "Check-up", "date": "tomorrow", "time": "2pm"}}}]);
    let (status, answer) = send(&w, as_london("smile-own-secret-0001", book.clone())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    // The directory failing is the same: we cannot tell whose secret applies.
    let mut w = webhook();
    with_own_secrets(&mut w, &["ssm:/callbook/smile/webhook"]);
    w.directory.failures.fail_next(1);
    let (status, _) = send(&w, as_london("smile-own-secret-0001", book)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(w.queue.sent().is_empty());
    assert!(w.slots.is_empty(), "no slot reserved");
}

#[tokio::test]
async fn ids_no_business_could_have_are_not_looked_up_before_authentication() {
    let mut w = webhook();
    with_own_secrets(&mut w, &["ssm:/callbook/smile/webhook"]);
    // A failing directory would turn any lookup into 503: these never reach it, so a
    // stranger gets the deployment's 401.
    w.directory.failures.fail_next(1);
    for assistant in ["a b", "x".repeat(201).as_str(), "ünïcode", ""] {
        let body = call_via(Some(assistant), None, availability_call());
        let (status, _) = send(&w, post(&[("x-vapi-secret", "wrong")], &body.to_string())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{assistant:?}");
    }
    // Malformed JSON is authenticated with the deployment's secret, then refused as 400.
    let (status, _) = send(&w, post(&[("x-vapi-secret", "wrong")], "{not json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&w, post(&[("x-vapi-secret", SECRET)], "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The business found before authentication, then its lookup failing after it (here: the
/// second directory call): the caller hears that the booking system cannot be reached.
#[tokio::test]
async fn a_lookup_that_fails_after_authentication_is_spoken() {
    use callbook_core::faults::{FaultPlan, Faults, Faulty};
    let w = webhook();
    w.directory.add(london());
    let w = Webhook {
        auth: w.auth,
        secrets: w.secrets,
        monitoring_token: w.monitoring_token,
        max_body_bytes: w.max_body_bytes,
        business: w.business,
        directory: Faulty {
            inner: w.directory,
            faults: Faults::new(FaultPlan::Nth(2)),
        },
        idempotency: w.idempotency,
        queue: w.queue,
        slots: w.slots,
        bookings: w.bookings,
        health: w.health,
        clock: w.clock,
    };
    let body = call_via(
        Some("asst-smile-london"),
        None,
        json!([{"id": next_id(), "type": "function", "function": {"name": "getAppointments", "arguments": {}}}]),
    );
    let response = w.handle(authed(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(answer["results"][0]["error"], DIRECTORY_PROBLEM, "{answer}");
    assert_eq!(w.directory.faults.failed(), 1);
}

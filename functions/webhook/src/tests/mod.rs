//! The webhook's tests by capability, with one fixture: `webhook()` with its ports in memory
//! (`InMemory`), requests (`post`, `authed`, `tool`), and what was queued.

mod answers;
mod auth;
mod availability;
mod booking;
mod changes;
mod followups;
mod identity;
mod leads;
mod logs;
mod metrics;
mod privacy;
mod reports;
mod routes;
mod samples;
mod tenants;

use std::sync::Arc;

use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{
    FixedClock, MemoryBookingStore, MemoryDirectory, MemoryIdempotencyStore, MemoryMetrics,
    MemoryQueue, MemoryQuotas, MemorySecrets, MemorySlotStore, MemoryVerifications,
};
use callbook_core::{
    AnalyticsJob, Authenticator, BookingChange, BookingChangeJob, BookingJob, BookingReference,
    Business, Clock, Job, SlotStore,
};
use chrono::{TimeZone, Utc};
use lambda_http::http::{self, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{Value, json};

use callbook_core::domain::callers::sentences::*;

use super::spoken::*;
use super::*;

/// The webhook's ports in memory; those a test makes fail are wrapped in `Faulty`.
enum InMemory {}

impl WebhookPorts for InMemory {
    type Queue = Faulty<MemoryQueue>;
    type Calendar = Faulty<MemorySlotStore>;
    type Bookings = Faulty<MemoryBookingStore>;
    type Directory = Faulty<MemoryDirectory>;
    type Answers = Faulty<MemoryIdempotencyStore>;
    type Quotas = Faulty<MemoryQuotas>;
    type Secrets = Faulty<MemorySecrets>;
    type Verifications = Faulty<MemoryVerifications>;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
}

// The local default, so the files in events/ work unchanged against `make dev`.
const SECRET: &str = "local-dev-secret";

type TestWebhook = Webhook<InMemory>;

/// Tuesday 2026-11-24, 10:00 in New York: "tomorrow" is Wednesday, an open day.
fn webhook() -> TestWebhook {
    Webhook {
        auth: Authenticator::shared_secret(SECRET).unwrap(),
        secrets: Faulty::default(),
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
        unrouted_calls: UnroutedCalls::Serve,
        queue: Faulty::default(),
        calendar: Faulty::default(),
        bookings: Faulty::default(),
        directory: Faulty::default(),
        answers: Faulty::default(),
        verifications: Faulty::default(),
        quotas: Faulty::default(),
        clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()),
        metrics: MemoryMetrics::default(),
        cold_start: ColdStart::default(),
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

/// A number as letters ("12" → "BC"): names have no digits.
fn spelled(i: usize) -> String {
    i.to_string()
        .bytes()
        .map(|d| char::from(b'A' + (d - b'0')))
        .collect()
}

/// The seed's booking by another caller (different name, phone, email).
fn another_caller(i: usize) -> Value {
    let mut body = seed_body();
    body["parameters"]["customerName"] = json!(format!("Caller {}", spelled(i)));
    body["parameters"]["customerPhone"] = json!(format!("+1702555{:04}", 2000 + i));
    body["parameters"]["customerEmail"] = json!(format!("caller{i}@example.com"));
    body
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
        .insert(callbook_core::BookingRecord::from_job(&job, w.clock.now()));
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

fn london() -> Business {
    let profile: callbook_core::BusinessProfile =
        serde_json::from_str(include_str!("../../../../infra/business.example.json")).unwrap();
    Business::from_profile(&profile).unwrap()
}

fn call_via(assistant: Option<&str>, phone_number: Option<&str>, calls: Value) -> Value {
    json!({"message": {"type": "tool-calls",
        "call": {"id": "call-biz", "assistantId": assistant, "phoneNumberId": phone_number,
                 "customer": {"number": "+447700900456"}},
        "toolCallList": calls}})
}

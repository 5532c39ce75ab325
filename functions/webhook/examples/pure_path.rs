//! The webhook's pure path: authenticate, parse, validate, resolve the date, route and answer,
//! with in-memory ports (no I/O). Target: <= 100 µs per request.
//!
//!     cargo run --release -p webhook --example pure_path [iterations]

use std::time::Instant;

use callbook_aws::metrics::{EmfLog, LineWriter};
use callbook_core::Authenticator;
use callbook_core::Business;
use callbook_core::testing::memory::{
    FixedClock, MemoryBookingStore, MemoryDirectory, MemoryIdempotencyStore, MemoryQueue,
    MemoryQuotas, MemorySecrets, MemorySlotStore, MemoryVerifications,
};
use chrono::{TimeZone, Utc};
use lambda_http::{Body, http};
use webhook::{Webhook, WebhookPorts};

/// Every port in memory: the webhook's own work, without I/O.
enum InMemory {}

impl WebhookPorts for InMemory {
    type Queue = MemoryQueue;
    type Calendar = MemorySlotStore;
    type Bookings = MemoryBookingStore;
    type Directory = MemoryDirectory;
    type Answers = MemoryIdempotencyStore;
    type Quotas = MemoryQuotas;
    type Secrets = MemorySecrets;
    type Verifications = MemoryVerifications;
    type Clock = FixedClock;
    type Metrics = EmfLog<Discard>;
}

/// The metrics' EMF lines built as in Lambda, then dropped instead of written to stdout
/// (whose cost is Lambda's log pipe, not the webhook's).
struct Discard;

impl LineWriter for Discard {
    fn write_line(&self, line: &str) {
        std::hint::black_box(line);
    }
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    // Timers on, as in Lambda's runtime: the webhook bounds each message's answers in time.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let webhook: Webhook<InMemory> = Webhook {
        auth: Authenticator::shared_secret("local-dev-secret").expect("secret"),
        secrets: MemorySecrets::default(),
        verifications: MemoryVerifications::default(),
        max_body_bytes: webhook::DEFAULT_MAX_BODY_BYTES,
        business: std::sync::Arc::new(Business::from_lookup(&|_: &str| None).expect("business")),
        unrouted_calls: webhook::UnroutedCalls::Serve,
        queue: MemoryQueue::default(),
        calendar: MemorySlotStore::default(),
        bookings: MemoryBookingStore::default(),
        directory: MemoryDirectory::default(),
        answers: MemoryIdempotencyStore::default(),
        quotas: MemoryQuotas::default(),
        clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()),
        metrics: EmfLog::new("callbook".into(), Discard),
        cold_start: Default::default(),
    };
    let bodies = [
        (
            "flat",
            include_str!("../../../events/webhook-flat-book.json"),
        ),
        (
            "tool-calls",
            include_str!("../../../events/webhook-tool-calls-book.json"),
        ),
        (
            "invalid",
            include_str!("../../../events/webhook-invalid-arguments.json"),
        ),
    ];
    for (name, event) in bodies {
        let event: serde_json::Value = serde_json::from_str(event).expect("event");
        let body = event["body"].as_str().expect("body").to_string();
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let request = http::Request::builder()
                .method("POST")
                .uri("/vapi-webhook")
                .header("content-type", "application/json")
                .header("x-vapi-secret", "local-dev-secret")
                .body(Body::Text(body.clone()))
                .expect("request");
            let start = Instant::now();
            let response = runtime.block_on(webhook.handle(request));
            samples.push(start.elapsed());
            assert_eq!(response.status(), 200);
            // Keep the in-memory queue from growing across iterations.
            webhook.queue.jobs.lock().map(|mut j| j.clear()).ok();
            webhook.calendar.clear();
        }
        samples.sort();
        let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
        println!(
            "{name:>10}: {iterations} requests, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} body bytes)",
            p(0.5),
            p(0.99),
            p(1.0),
            body.len()
        );
    }
}

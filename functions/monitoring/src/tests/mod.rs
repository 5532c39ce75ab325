//! The monitoring routes with their ports in memory: the metrics go through the same EMF
//! lines the functions print, read back as CloudWatch (and the dev server) read them.

mod dashboard;
mod health;
mod metrics;
mod performance;
mod routes;
mod samples;

use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{FixedClock, MemoryFigures, RecordedMetrics, StaticHealth};
use callbook_core::{ComponentHealth, Measurement, WebhookSecret, emf_lines, read_emf};
use chrono::{DateTime, TimeZone, Utc};
use lambda_http::http::{self, StatusCode};
use lambda_http::{Body, Request};
use serde_json::Value;

use super::*;

enum InMemory {}

impl MonitoringPorts for InMemory {
    type Health = StaticHealth;
    type Metrics = Faulty<RecordedMetrics>;
    type Figures = Faulty<MemoryFigures>;
    type Clock = FixedClock;
}

const MONITORING_TOKEN: &str = "monitoring-token-0001";

type TestMonitoring = Monitoring<InMemory>;

/// Tuesday 2026-11-24, 15:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn component(name: &str, healthy: bool, messages: Option<u64>) -> ComponentHealth {
    ComponentHealth {
        name: name.into(),
        healthy,
        detail: match messages {
            Some(n) => format!("{n} messages waiting"),
            None => "ACTIVE".into(),
        },
        messages,
    }
}

fn monitoring() -> TestMonitoring {
    Monitoring {
        monitoring_token: WebhookSecret::new(MONITORING_TOKEN),
        health_cache: HealthCache::default(),
        health: StaticHealth(vec![
            component("bookings", true, None),
            component("booking-queue", true, Some(4)),
            component("notification-queue", true, Some(0)),
            component("analytics-queue", true, Some(1)),
            component("booking-dlq", true, Some(2)),
            component("notification-dlq", true, Some(0)),
            component("analytics-dlq", true, Some(0)),
        ]),
        metrics: Faulty::default(),
        figures: Faulty::default(),
        clock: FixedClock(now()),
    }
}

/// What `function` emitted at `at`, as CloudWatch would store it.
fn emitted(m: &TestMonitoring, function: &str, at: DateTime<Utc>, measurements: &[Measurement]) {
    for line in emf_lines("callbook", function, at.timestamp_millis(), measurements) {
        m.metrics.record(read_emf(&line).unwrap());
    }
}

fn get(path: &str, token: Option<&str>) -> Request {
    let mut request = http::Request::builder().method("GET").uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::Empty).unwrap()
}

fn authed(path: &str) -> Request {
    get(path, Some(MONITORING_TOKEN))
}

/// The status and the JSON answer.
async fn send(m: &TestMonitoring, request: Request) -> (StatusCode, Value) {
    let response = m.handle(request).await;
    let status = response.status();
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    (status, body)
}

use callbook_core::{Dimension, Measurement, Metric};
use chrono::Duration;

use super::*;

#[tokio::test]
async fn latency_percentiles_error_rates_cold_starts_and_job_ages() {
    let m = monitoring();
    let at = now() - Duration::minutes(10);
    // 100 bookAppointment calls from 1 to 100 ms; 2 of them system failures.
    for ms in 1..=100 {
        let outcome = if ms > 98 { "system-failure" } else { "answer" };
        emitted(
            &m,
            "webhook",
            at,
            &[
                Measurement::new(Metric::ToolLatency, f64::from(ms))
                    .by(Dimension::Tool, "bookAppointment"),
                Measurement::count(Metric::ToolCalls)
                    .by(Dimension::Tool, "bookAppointment")
                    .by(Dimension::Outcome, outcome),
            ],
        );
    }
    emitted(
        &m,
        "webhook",
        at,
        &[
            Measurement::new(Metric::RequestLatency, 40.0).by(Dimension::MessageType, "tool-calls"),
            Measurement::count(Metric::RejectedRequests).by(Dimension::Reason, "unauthorized"),
            Measurement::count(Metric::ColdStarts),
        ],
    );
    emitted(
        &m,
        "booking-worker",
        at,
        &[Measurement::count(Metric::ColdStarts)],
    );
    for age in [120.0, 900.0] {
        emitted(
            &m,
            "booking-worker",
            at,
            &[Measurement::new(Metric::JobAge, age).by(Dimension::Queue, "booking")],
        );
    }
    // An hour ago: in 24h, not in 1h.
    emitted(
        &m,
        "webhook",
        now() - Duration::minutes(90),
        &[Measurement::new(Metric::ToolLatency, 5_000.0).by(Dimension::Tool, "bookAppointment")],
    );

    let (status, body) = send(&m, authed("/monitoring/performance?timeframe=1h")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let book = &body["latencyMs"]["tools"]["bookAppointment"];
    assert_eq!(
        (
            book["p50"].as_f64(),
            book["p95"].as_f64(),
            book["p99"].as_f64()
        ),
        (Some(50.0), Some(95.0), Some(99.0))
    );
    assert_eq!(book["calls"], 100);
    assert_eq!(book["systemFailures"], 2);
    assert!(body["latencyMs"]["tools"]["checkAvailability"]["p95"].is_null());
    assert_eq!(body["latencyMs"]["requests"]["p99"].as_f64(), Some(40.0));
    assert_eq!(body["errors"]["toolCalls"], 100);
    assert_eq!(body["errors"]["systemFailureRate"].as_f64(), Some(0.02));
    assert_eq!(body["errors"]["rejectedRequests"], 1);
    assert_eq!(body["coldStarts"]["byFunction"]["webhook"], 1);
    assert_eq!(body["coldStarts"]["byFunction"]["booking-worker"], 1);
    assert_eq!(body["jobAgeMs"]["booking"]["max"].as_f64(), Some(900.0));
    assert!(body["jobAgeMs"]["analytics"]["max"].is_null());
    assert_eq!(body["periodSeconds"], 300);
    // Over time: one 5-minute period holds the morning's calls.
    let over_time = book["overTime"]["p95"].as_array().unwrap();
    assert_eq!(over_time.len(), 1, "{over_time:?}");
    assert_eq!(over_time[0]["value"].as_f64(), Some(95.0));
    assert_eq!(
        body["coldStarts"]["overTime"][0]["value"].as_f64(),
        Some(2.0)
    );

    let (_, day) = send(&m, authed("/monitoring/performance?timeframe=24h")).await;
    let book = &day["latencyMs"]["tools"]["bookAppointment"];
    assert_eq!(book["calls"], 101);
    // 101 calls: the slow one is the 1 %, above the p99 (the 100th value).
    assert_eq!(book["p99"].as_f64(), Some(100.0));
    assert_eq!(
        book["overTime"]["p95"].as_array().unwrap().len(),
        2,
        "two hours"
    );
    assert_eq!(day["periodSeconds"], 3_600);
}

#[tokio::test]
async fn no_traffic_no_rate() {
    let m = monitoring();
    let (status, body) = send(&m, authed("/monitoring/performance")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"]["toolCalls"], 0);
    assert!(body["errors"]["systemFailureRate"].is_null());
}

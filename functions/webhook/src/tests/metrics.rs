//! What each request measures: one emit per request, latency by message type, each tool
//! call by tool and outcome, rejections by reason, unrouted calls, one cold start.

use callbook_core::{Dimension, Measurement, Metric};

use super::*;

/// The values of `dimension` for `metric`, in the order emitted.
fn values(w: &TestWebhook, metric: Metric, dimension: Dimension) -> Vec<String> {
    w.metrics
        .emitted()
        .iter()
        .filter(|(_, m)| m.metric == metric)
        .filter_map(|(_, m)| m.dimension(dimension).map(str::to_string))
        .collect()
}

fn tool_calls(w: &TestWebhook) -> Vec<(String, String)> {
    w.metrics
        .emitted()
        .iter()
        .filter(|(_, m)| m.metric == Metric::ToolCalls)
        .map(|(_, m): &(String, Measurement)| {
            (
                m.dimension(Dimension::Tool).unwrap().to_string(),
                m.dimension(Dimension::Outcome).unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn tool_calls_are_measured_by_tool_and_outcome_and_the_request_by_type() {
    let w = webhook();
    // An answer, a refusal (a date in the past), and a tool we do not declare.
    let mut past = seed_body()["parameters"].clone();
    past["date"] = json!("2020-01-01");
    let body = tool_calls_body(json!([
        {"id": next_id(), "type": "function", "function": {"name": "bookAppointment", "arguments": seed_body()["parameters"]}},
        {"id": next_id(), "type": "function", "function": {"name": "bookAppointment", "arguments": past}},
        {"id": next_id(), "type": "function", "function": {"name": "mineBitcoin", "arguments": {}}}
    ]));
    let (status, _) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tool_calls(&w),
        [
            ("bookAppointment".into(), "answer".into()),
            ("bookAppointment".into(), "refusal".into()),
            ("unknown".into(), "refusal".into()),
        ]
    );
    assert_eq!(
        values(&w, Metric::ToolLatency, Dimension::Tool),
        ["bookAppointment", "bookAppointment", "unknown"]
    );
    assert_eq!(
        values(&w, Metric::RequestLatency, Dimension::MessageType),
        ["tool-calls"]
    );
    assert_eq!(w.metrics.total(Metric::ColdStarts), 1.0);
    assert!(w.metrics.emitted().iter().all(|(f, _)| f == FUNCTION));

    // The flat form is a function call; a store down is a system failure.
    w.calendar.faults.fail_next(10);
    let (status, _) = send(&w, authed(&seed_body())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tool_calls(&w).last(),
        Some(&("bookAppointment".into(), "system-failure".into()))
    );
    assert_eq!(
        values(&w, Metric::RequestLatency, Dimension::MessageType),
        ["tool-calls", "function-call"]
    );
    assert_eq!(
        w.metrics.total(Metric::ColdStarts),
        1.0,
        "once per instance"
    );
}

#[tokio::test]
async fn each_rejection_is_counted_by_its_reason() {
    let w = webhook();
    let body = seed_body().to_string();
    let big = "a".repeat(DEFAULT_MAX_BODY_BYTES + 1);
    let json = ("content-type", "application/json");
    for request in [
        post(&[("x-vapi-secret", "wrong"), json], &body),
        post(&[("x-vapi-secret", SECRET), json], &big),
        post(
            &[("x-vapi-secret", SECRET), ("content-type", "text/plain")],
            &body,
        ),
        post(&[("x-vapi-secret", SECRET), json], "{\"message\": 7}"),
    ] {
        let (status, _) = send(&w, request).await;
        assert_ne!(status, StatusCode::OK);
    }
    assert_eq!(
        values(&w, Metric::RejectedRequests, Dimension::Reason),
        [
            "unauthorized",
            "too-large",
            "unsupported-type",
            "unreadable"
        ]
    );
    assert_eq!(
        values(&w, Metric::RequestLatency, Dimension::MessageType),
        ["rejected"; 4]
    );
    assert!(tool_calls(&w).is_empty());
}

#[tokio::test]
async fn an_unrouted_call_is_counted_served_or_refused() {
    let mut w = webhook();
    w.directory.add(london());
    let calls = json!([{"id": next_id(), "type": "function", "function": {"name": "getAppointments", "arguments": {}}}]);
    send(
        &w,
        authed(&call_via(Some("asst-nobody"), None, calls.clone())),
    )
    .await;
    w.unrouted_calls = UnroutedCalls::Refuse;
    send(
        &w,
        authed(&call_via(Some("asst-nobody"), None, calls.clone())),
    )
    .await;
    // A claimed call is not unrouted.
    send(
        &w,
        authed(&call_via(Some("asst-smile-london"), None, calls)),
    )
    .await;
    assert_eq!(w.metrics.total(Metric::UnroutedCalls), 2.0);
    // The refused one runs no tool: only the served and the claimed calls are measured.
    assert_eq!(tool_calls(&w).len(), 2);
}

#[tokio::test]
async fn call_events_are_measured_by_type_and_other_routes_measure_nothing() {
    let w = webhook();
    let report = json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
        "call": {"id": "call-9"}}});
    let status = json!({"message": {"type": "status-update", "status": "in-progress", "call": {"id": "call-9"}}});
    let unknown = json!({"message": {"type": "something-new", "call": {"id": "call-9"}}});
    for body in [report, status, unknown] {
        send(&w, authed(&body)).await;
    }
    assert_eq!(
        values(&w, Metric::RequestLatency, Dimension::MessageType),
        ["end-of-call-report", "status-update", "other"]
    );
    let before = w.metrics.emitted().len();
    let health = http::Request::builder()
        .uri("https://api.example.com/monitoring/health")
        .body(Body::Empty)
        .unwrap();
    w.handle(health).await;
    assert_eq!(w.metrics.emitted().len(), before);
}

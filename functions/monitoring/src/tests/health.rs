use callbook_core::{AlarmState, AlarmStatus, Clock};

use super::*;

#[tokio::test]
async fn health_reports_each_component_dead_letters_and_alarms_to_the_monitoring_token_only() {
    let mut m = monitoring();
    m.metrics.set_alarms(vec![AlarmStatus {
        name: "callbook-dev-BookingDeadLetterAlarm-1".into(),
        state: AlarmState::Alarm,
        reason: "Threshold Crossed: 1 datapoint [2.0] was greater than 0.0".into(),
        since: Some(now()),
    }]);
    // Anyone: the status, nothing more.
    let (status, body) = send(&m, get("/monitoring/health", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    for hidden in ["components", "deadLetters", "alarms"] {
        assert!(body.get(hidden).is_none(), "{body}");
    }
    let (_, body) = send(&m, get("/monitoring/health", Some("local-dev-secret"))).await;
    assert!(body.get("components").is_none(), "not the token");
    // With the token: every component, the dead letters, the alarms.
    let (_, body) = send(&m, authed("/monitoring/health")).await;
    assert_eq!(body["components"]["bookings"]["detail"], "ACTIVE");
    assert_eq!(
        body["components"]["booking-queue"]["detail"],
        "4 messages waiting"
    );
    assert_eq!(
        body["deadLetters"],
        serde_json::json!({"booking-dlq": 2, "notification-dlq": 0, "analytics-dlq": 0})
    );
    assert_eq!(body["alarms"][0]["state"], "ALARM");
    assert_eq!(
        body["alarms"][0]["name"],
        "callbook-dev-BookingDeadLetterAlarm-1"
    );
    assert_eq!(body["alarms"][0]["since"], now().to_rfc3339());

    // CloudWatch unreachable: the details say so, the status is still the probe's.
    m.metrics.faults.fail_next(1);
    let (status, body) = send(&m, authed("/monitoring/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["alarms"]["error"]
            .as_str()
            .unwrap()
            .contains("read alarms"),
        "{body}"
    );

    m.health.0.push(component("calls", false, None));
    // The last probe is served for HEALTH_CACHE_SECONDS; then the next request probes again.
    m.clock.0 += chrono::Duration::seconds(HEALTH_CACHE_SECONDS);
    let (status, body) = send(&m, get("/monitoring/health", None)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    let (_, body) = send(&m, authed("/monitoring/health")).await;
    assert_eq!(body["components"]["calls"]["healthy"], false);
}

/// Anyone may ask for the health status, so an instance probes at most once per cache period:
/// a flood of requests within it costs one probe, and the answer says when it ran.
#[tokio::test]
async fn the_health_status_is_probed_at_most_once_per_cache_period() {
    let mut m = monitoring();
    let first_at = m.clock.now();
    let (status, body) = send(&m, get("/monitoring/health", None)).await;
    assert_eq!(
        (status, body["checkedAt"].as_str()),
        (StatusCode::OK, Some(first_at.to_rfc3339().as_str()))
    );

    // The probe now finds a component down, but within the period nobody probes again: the
    // anonymous status and the token's details both come from the first probe.
    m.health.0[0].healthy = false;
    m.clock.0 += chrono::Duration::seconds(HEALTH_CACHE_SECONDS - 1);
    for _ in 0..1_000 {
        let (status, body) = send(&m, get("/monitoring/health", None)).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("ok"))
        );
    }
    let (_, body) = send(&m, authed("/monitoring/health")).await;
    assert_eq!(body["components"]["bookings"]["healthy"], true);
    assert_eq!(body["checkedAt"], first_at.to_rfc3339());

    // Once the period has passed, the next request probes again and sees the change.
    m.clock.0 += chrono::Duration::seconds(1);
    let (status, body) = send(&m, get("/monitoring/health", None)).await;
    assert_eq!(
        (status, body["status"].as_str(), body["checkedAt"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("unavailable"),
            Some(m.clock.now().to_rfc3339().as_str())
        )
    );
}

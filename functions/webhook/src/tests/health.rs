use super::*;

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
    // The last probe is served for HEALTH_CACHE_SECONDS; then the next request probes again.
    w.clock.0 += chrono::Duration::seconds(crate::health::HEALTH_CACHE_SECONDS);
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

/// Anyone may ask for the health status, so an instance probes at most once per cache period:
/// a flood of requests within it costs one probe, and the answer says when it ran.
#[tokio::test]
async fn the_health_status_is_probed_at_most_once_per_cache_period() {
    let mut w = webhook();
    let get = |token: Option<&str>| {
        let mut request = http::Request::builder()
            .method("GET")
            .uri("/monitoring/health");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(Body::Empty).unwrap()
    };
    let first_at = w.clock.now();
    let (status, body) = send(&w, get(None)).await;
    assert_eq!(
        (status, body["checkedAt"].as_str()),
        (StatusCode::OK, Some(first_at.to_rfc3339().as_str()))
    );

    // The probe now finds a component down, but within the period nobody probes again: the
    // anonymous status and the token's details both come from the first probe.
    w.health.0[0].healthy = false;
    w.clock.0 += chrono::Duration::seconds(crate::health::HEALTH_CACHE_SECONDS - 1);
    for _ in 0..1_000 {
        let (status, body) = send(&w, get(None)).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("ok"))
        );
    }
    let (_, body) = send(&w, get(Some(MONITORING_TOKEN))).await;
    assert_eq!(body["components"]["bookings"]["healthy"], true);
    assert_eq!(body["checkedAt"], first_at.to_rfc3339());

    // Once the period has passed, the next request probes again and sees the change.
    w.clock.0 += chrono::Duration::seconds(1);
    let (status, body) = send(&w, get(None)).await;
    assert_eq!(
        (status, body["status"].as_str(), body["checkedAt"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("unavailable"),
            Some(w.clock.now().to_rfc3339().as_str())
        )
    );
}

use super::*;

const REPORTS: [&str; 3] = [
    "/monitoring/metrics",
    "/monitoring/dashboard",
    "/monitoring/performance",
];

#[tokio::test]
async fn every_report_needs_the_monitoring_token() {
    let mut m = monitoring();
    for path in REPORTS {
        assert_eq!(
            send(&m, get(path, None)).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(
            send(&m, get(path, Some("wrong-token-value-0"))).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(send(&m, authed(path)).await.0, StatusCode::OK, "{path}");
    }
    // Unknown reports: 404 once authenticated, 401 before (nothing is said to strangers).
    assert_eq!(
        send(&m, authed("/monitoring/nope")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&m, get("/monitoring/nope", None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // No token configured: nothing opens them; the minimal health status is still served.
    m.monitoring_token = None;
    assert_eq!(
        send(&m, authed("/monitoring/metrics")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = send(&m, authed("/monitoring/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("components").is_none());
}

#[tokio::test]
async fn wrong_methods_other_paths_and_bad_queries_are_refused() {
    let m = monitoring();
    for path in ["/monitoring/health", "/monitoring/metrics"] {
        let request = http::Request::builder()
            .method("POST")
            .uri(path)
            .header("authorization", format!("Bearer {MONITORING_TOKEN}"))
            .body(Body::Empty)
            .unwrap();
        assert_eq!(
            send(&m, request).await.0,
            StatusCode::METHOD_NOT_ALLOWED,
            "{path}"
        );
    }
    assert_eq!(
        send(&m, authed("/vapi-webhook")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&m, authed("/monitoring/metrics/")).await.0,
        StatusCode::OK
    );
    for (query, says) in [
        ("/monitoring/metrics?timeframe=2h", "timeframe"),
        ("/monitoring/metrics?timeframe=", "timeframe"),
        ("/monitoring/performance?timeframe=30d", "timeframe"),
        ("/monitoring/metrics?business=a%20b", "business"),
        (
            "/monitoring/metrics?timeframe=1h&business=BIZ%23x",
            "business",
        ),
        ("/monitoring/metrics?business=", "business"),
    ] {
        let (status, body) = send(&m, authed(query)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            body["error"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    for timeframe in ["1h", "24h", "7d"] {
        let (status, body) = send(
            &m,
            authed(&format!("/monitoring/performance?timeframe={timeframe}")),
        )
        .await;
        assert_eq!(
            (status, body["timeframe"].as_str()),
            (StatusCode::OK, Some(timeframe))
        );
    }
}

#[test]
fn html_only_when_the_client_ranks_it_above_json() {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    assert!(prefers_html(Some(browser)));
    assert!(prefers_html(Some("text/html")));
    assert!(!prefers_html(Some("*/*")), "curl");
    assert!(!prefers_html(None));
    assert!(!prefers_html(Some("application/json, text/html;q=0.5")));
    assert!(!prefers_html(Some("text/html;q=0.5, */*")));
}

#[test]
fn timeframes_and_their_periods() {
    let t = |s| Timeframe::parse(s).unwrap();
    assert_eq!(t("1h").period(), chrono::Duration::minutes(5));
    assert_eq!(t("24h").period(), chrono::Duration::hours(1));
    assert_eq!(t("7d").window(), chrono::Duration::days(7));
    assert_eq!(Timeframe::parse("1d"), None);
}

use super::*;

fn request(method: &str, path: &str) -> Request {
    http::Request::builder()
        .method(method)
        .uri(path)
        .body(Body::Empty)
        .unwrap()
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let w = webhook();
    assert_eq!(
        send(&w, request("GET", "/vapi-webhook")).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        send(&w, request("GET", "/nope")).await.0,
        StatusCode::NOT_FOUND
    );
}

/// The monitoring routes are the monitoring function's: the webhook has none of them.
#[tokio::test]
async fn the_webhook_serves_no_monitoring_route() {
    let w = webhook();
    for path in [
        "/monitoring/health",
        "/monitoring/metrics",
        "/monitoring/dashboard",
    ] {
        assert_eq!(
            send(&w, request("GET", path)).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

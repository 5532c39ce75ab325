use callbook_core::testing::sample_events;

use super::*;

/// Every API Gateway event for this function in events/ goes through the handler, as the
/// Lambda runtime reads it (query parameters included), so the samples never rot.
#[tokio::test]
async fn every_sample_event_is_answered() {
    let samples = sample_events("monitoring-");
    for (name, text) in &samples {
        let request =
            lambda_http::request::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (status, body) = send(&monitoring(), request).await;
        let expected: Value = serde_json::from_str::<Value>(text).unwrap()["_expect"].clone();
        assert_eq!(
            u64::from(status.as_u16()),
            expected["status"].as_u64().unwrap(),
            "{name}: {body}"
        );
        if let Some(contains) = expected["bodyContains"].as_str() {
            assert!(body.to_string().contains(contains), "{name}: {body}");
        }
    }
    assert!(samples.len() >= 3, "found {}", samples.len());
}

use super::*;
use callbook_core::testing::sample_events;

/// Every API Gateway event in events/ goes through the handler, so the samples never rot.
#[tokio::test]
async fn every_sample_event_is_answered() {
    let samples = sample_events("webhook-");
    for (name, text) in &samples {
        let request =
            lambda_http::request::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = webhook();
        let (status, body) = send(&w, request).await;
        let expected: Value = serde_json::from_str::<Value>(text).unwrap()["_expect"].clone();
        assert_eq!(
            status.as_u16() as u64,
            expected["status"].as_u64().unwrap(),
            "{name}: {body}"
        );
        if let Some(contains) = expected["bodyContains"].as_str() {
            assert!(body.to_string().contains(contains), "{name}: {body}");
        }
        assert_eq!(
            w.queue.sent().len() as u64,
            expected["jobs"].as_u64().unwrap_or(0),
            "{name}"
        );
    }
    assert!(
        samples.len() >= 5,
        "expected the webhook samples in events/, found {}",
        samples.len()
    );
}

/// Each file in events/ belongs to a function whose tests run it: a new sample cannot be forgotten.
#[test]
fn every_sample_event_belongs_to_a_function() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            [
                "webhook-",
                "booking-worker-",
                "notification-worker-",
                "analytics-worker-",
                "monitoring-",
                "sms-replies-",
                "followup-worker-"
            ]
            .iter()
            .any(|p| name.starts_with(p))
                && name.ends_with(".json"),
            "events/{name}: name it after its function (webhook-, booking-worker-, notification-worker-, analytics-worker-, monitoring-, sms-replies-) so a test runs it"
        );
    }
}

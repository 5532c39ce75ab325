use super::*;

#[tokio::test]
async fn other_message_types_get_an_empty_object() {
    let w = webhook();
    for kind in ["speech-update", "some-future-type"] {
        let (status, body) = send(
            &w,
            authed(&json!({"message": {"type": kind, "call": {"id": "c"}}})),
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, json!({})), "{kind}");
    }
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn call_reports_and_statuses_go_to_the_analytics_queue() {
    let w = webhook();
    for kind in ["status-update", "end-of-call-report"] {
        let body = json!({"message": {"type": kind, "status": "in-progress", "call": {"id": "c", "customer": {"number": "+17025551234"}}}});
        let (status, answer) = send(&w, authed(&body)).await;
        assert_eq!((status, answer), (StatusCode::OK, json!({})), "{kind}");
    }
    let sent = w.queue.sent();
    assert!(matches!(
        sent.as_slice(),
        [
            Job::Analytics(AnalyticsJob::CallStatus(_)),
            Job::Analytics(AnalyticsJob::CallReport(_))
        ]
    ));
    // Without a call id there is nothing to key a record by: acknowledged, not queued.
    let body = json!({"message": {"type": "end-of-call-report"}});
    assert_eq!(send(&w, authed(&body)).await.0, StatusCode::OK);
    assert_eq!(w.queue.sent().len(), 2);
    // A refused enqueue is a 503, so a configured retry delivers it again.
    w.queue.faults.fail_next(1);
    let body = json!({"message": {"type": "end-of-call-report", "call": {"id": "c2"}}});
    assert_eq!(
        send(&w, authed(&body)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn assistant_request_names_the_business_assistant_or_refuses_aloud() {
    let mut w = webhook();
    let body = json!({"message": {"type": "assistant-request", "call": {"id": "c", "phoneNumberId": "pn-1"}}});
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"assistantId": "asst-test-1"}))
    );
    Arc::make_mut(&mut w.business).assistant_id = None;
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("Test Clinic can't take calls"),
        "{answer}"
    );
}

#[tokio::test]
async fn transfer_destination_is_the_business_number_or_a_spoken_error() {
    let mut w = webhook();
    let body = json!({"message": {"type": "transfer-destination-request", "call": {"id": "c"}}});
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer["destination"],
        json!({"type": "number", "number": "+17025550100"})
    );
    assert_eq!(answer["message"]["type"], "request-start");
    Arc::make_mut(&mut w.business).transfer_number = None;
    let (_, answer) = send(&w, authed(&body)).await;
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("can't transfer you"),
        "{answer}"
    );
    assert!(answer.get("destination").is_none());
}

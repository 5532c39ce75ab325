use super::*;

#[tokio::test]
async fn capture_lead_queues_a_lead_job() {
    let w = webhook();
    let answer = tool(
        &w,
        "captureLead",
        json!({"name": "Ann Lee", "interest": "teeth whitening", "notes": "call after 5"}),
    )
    .await;
    assert_eq!(
        answer["result"],
        "Thank you, Ann. I've passed your interest in teeth whitening on to Test Clinic, and someone will call you back."
    );
    match w.queue.sent().as_slice() {
        [Job::Analytics(AnalyticsJob::Lead(lead))] => {
            assert_eq!(
                (lead.phone.as_str(), lead.call_id.as_deref()),
                ("+17025551234", Some("call-123"))
            );
        }
        other => panic!("expected one lead job, got {other:?}"),
    }
    let answer = tool(&w, "captureLead", json!({"name": "Ann"})).await;
    assert_eq!(
        answer["error"],
        "To pass this on I still need the area of interest."
    );
}

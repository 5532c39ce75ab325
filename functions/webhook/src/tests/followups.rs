//! The business's follow-up settings ride the jobs, so the workers that schedule reminders and
//! lead follow-ups need no business lookup.

use super::*;
use callbook_core::{FollowUpSettings, TextPermission};

/// The test business with its own follow-ups: one reminder 3 h before, replies on.
fn webhook_with(settings: &FollowUpSettings) -> TestWebhook {
    let mut w = webhook();
    let mut business = (*w.business).clone();
    business.followups = settings.clone();
    w.business = Arc::new(business);
    w
}

fn three_hours_with_replies() -> FollowUpSettings {
    FollowUpSettings {
        reminders: vec![180],
        replies: true,
        ..FollowUpSettings::default()
    }
}

#[tokio::test]
async fn a_booking_its_move_and_its_cancel_carry_the_settings() {
    let settings = three_hours_with_replies();
    let w = webhook_with(&settings);
    let job = booked(&w, "2pm", "+17025551234").await;
    assert_eq!(job.followups.as_ref(), Some(&settings));
    let moved = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": job.reference.as_str(), "newDate": "Friday", "newTime": "10am"}),
    )
    .await;
    assert!(moved["result"].is_string(), "{moved}");
    let cancelled = tool(&w, "cancelAppointment", json!({"reason": "away"})).await;
    assert!(cancelled["result"].is_string(), "{cancelled}");
    let changes = change_jobs(&w);
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .all(|c| c.followups.as_ref() == Some(&settings)),
        "{changes:?}"
    );
}

async fn captured(w: &TestWebhook) -> callbook_core::LeadJob {
    let answer = tool(
        w,
        "captureLead",
        json!({"name": "Ann Lee", "interest": "teeth whitening"}),
    )
    .await;
    assert!(answer["result"].is_string(), "{answer}");
    match w.queue.sent().as_slice() {
        [Job::Analytics(AnalyticsJob::Lead(lead))] => lead.clone(),
        other => panic!("expected one lead job, got {other:?}"),
    }
}

#[tokio::test]
async fn a_lead_carries_when_it_is_followed_up_or_none_when_the_business_sends_none() {
    // Captured Tuesday 10:00 in New York: Wednesday at 10:00 there.
    let lead = captured(&webhook_with(&FollowUpSettings::default())).await;
    assert_eq!(
        (lead.follow_up_at, lead.texts),
        (
            Some(Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()),
            TextPermission::Allowed
        )
    );
    let off = FollowUpSettings {
        lead_follow_up_at: None,
        ..FollowUpSettings::default()
    };
    assert_eq!(captured(&webhook_with(&off)).await.follow_up_at, None);
}

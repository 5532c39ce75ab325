use super::*;
use chrono::TimeZone;
use serde_json::json;

fn business() -> Business {
    Business::from_lookup(&|name: &str| {
        (name == "BUSINESS_SERVICES")
            .then(|| "Consultation=60@150; Cleaning|Hygiene=30@90; Whitening=90@300".into())
    })
    .unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn call() -> CallContext {
    CallContext {
        call_id: Some("call-1".into()),
        customer_number: Some("+17025551234".into()),
        ..Default::default()
    }
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn a_lead_needs_a_name_and_interest_and_takes_the_callers_number() {
    let err = capture_lead_request(&args(json!({})), &call(), Some("t1"), &business(), now())
        .unwrap_err();
    assert_eq!(
        err,
        "To pass this on I still need the caller's name and area of interest.".into()
    );
    let job = capture_lead_request(
        &args(json!({"name": "Ann Lee", "interest": "teeth whitening", "notes": "wants it ASAP"})),
        &call(),
        Some("t1"),
        &business(),
        now(),
    )
    .unwrap();
    assert_eq!(job.phone.as_str(), "+17025551234");
    let again = capture_lead_request(
        &args(json!({"name": "Ann Lee", "interest": "teeth whitening"})),
        &call(),
        Some("t1"),
        &business(),
        now(),
    )
    .unwrap();
    assert_eq!(
        job.job_id, again.job_id,
        "a repeated tool call is one source"
    );
    assert_eq!(
        lead_confirmation(&job, &business()),
        "Thank you, Ann. I've passed your interest in teeth whitening on to our office, and someone will call you back."
    );
    let bad = capture_lead_request(
        &args(json!({"name": "A", "interest": "x", "email": "nope"})),
        &call(),
        None,
        &business(),
        now(),
    );
    assert!(bad.unwrap_err().contains("email address"));
}

#[test]
fn leads_for_one_phone_merge_and_score_by_the_rules() {
    let b = business();
    let tool = capture_lead_request(
        &args(json!({"name": "Ann Lee", "interest": "consultation", "email": "ann@example.com"})),
        &call(),
        Some("t1"),
        &b,
        now(),
    )
    .unwrap();
    let mut lead = LeadRecord::new(&tool);
    assert!(lead.merge(&tool, &b));
    // interest 20 + service 20 + email 10 + assistant 5
    assert_eq!((lead.score, lead.grade), (55, LeadGrade::Warm));
    assert!(!lead.merge(&tool, &b), "the same source merges once");

    let mut from_call = tool.clone();
    from_call.job_id = "default#call#call-9#lead".into();
    from_call.source = LeadSource::CallReport;
    from_call.email = None;
    from_call.notes = Some("Would like to come in this week.".into());
    from_call.signals =
        LeadSignals::from_structured(json!({"budget": "200", "leadQuality": "High"}).as_object());
    assert!(lead.merge(&from_call, &b));
    // + urgency 15 + budget 10 + qualified 10 + two sources 10 = 100 (capped)
    assert_eq!((lead.score, lead.grade), (100, LeadGrade::Hot));
    assert_eq!(lead.interests, ["consultation"]);
    assert_eq!(lead.email.as_ref().unwrap().as_str(), "ann@example.com");
    assert_eq!(lead.version, 2);
    assert!(lead.convert(&BookingReference::parse("K7P2X9").unwrap()));
    assert!(!lead.convert(&BookingReference::parse("K7P2X9").unwrap()));
}

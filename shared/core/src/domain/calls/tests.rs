use super::*;
use crate::vapi::envelope::{CallContext, TranscriptLine};
use chrono::TimeZone;

fn business() -> Business {
    Business::from_lookup(&|name: &str| {
        (name == "BUSINESS_SERVICES")
            .then(|| "Consultation=60@150; Cleaning|Hygiene=30@90; Whitening=90@300".into())
    })
    .unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 10, 0).unwrap()
}

fn report(summary: &str, seconds: i64) -> CallReport {
    let eoc = EndOfCallReport {
        call: CallContext {
            call_id: Some("call-1".into()),
            customer_number: Some("+17025551234".into()),
            ..Default::default()
        },
        ended_reason: Some("customer-ended-call".into()),
        started_at: Some(now() - chrono::Duration::seconds(seconds)),
        ended_at: Some(now()),
        transcript: Some("AI: Hello\nUser: Hi".into()),
        messages: vec![TranscriptLine {
            role: "user".into(),
            message: "Hi".into(),
            seconds_from_start: Some(1.0),
        }],
        summary: Some(summary.into()),
        ..Default::default()
    };
    CallReport::from_report(&eoc, &business(), now()).unwrap()
}

fn activity(kind: Activity, reference: &str) -> CallActivity {
    CallActivity {
        business_id: "default".into(),
        call_id: "call-1".into(),
        customer_phone: PhoneNumber::parse("+17025551234", business().phone_region).unwrap(),
        activity: kind,
        reference: BookingReference::parse(reference).unwrap(),
        value_cents: Some(15_000),
        at: now(),
    }
}

#[test]
fn a_report_without_a_call_id_has_no_job() {
    let eoc = EndOfCallReport::default();
    assert!(CallReport::from_report(&eoc, &business(), now()).is_none());
}

#[test]
fn the_outcome_follows_what_happened_in_any_order() {
    let b = business();
    let booked = activity(Activity::Booked, "K7P2X9");
    let r = report("The caller asked about prices.", 120);
    // Report first, booking later, and the reverse: the same record.
    let mut one = CallRecord::new("default", "call-1", now());
    assert!(one.apply(&CallJob::Report(&r), &b, now()));
    assert_eq!(one.outcome, Some(CallOutcome::Information));
    assert!(one.apply(&CallJob::Activity(&booked), &b, now()));
    let mut two = CallRecord::new("default", "call-1", now());
    two.apply(&CallJob::Activity(&booked), &b, now());
    assert_eq!(two.outcome, None, "not ended yet");
    two.apply(&CallJob::Report(&r), &b, now());
    assert_eq!(
        (one.outcome, two.outcome),
        (Some(CallOutcome::Booked), Some(CallOutcome::Booked))
    );
    assert_eq!((one.booked_value_cents, one.version), (15_000, 2));
    // Repeats change nothing.
    assert!(!one.apply(&CallJob::Activity(&booked), &b, now()));
    assert!(!one.apply(&CallJob::Report(&r), &b, now() + chrono::Duration::hours(1)));
    assert_eq!(one.version, 2);
}

#[test]
fn interest_without_a_booking_is_a_lead() {
    let b = business();
    let mut call = CallRecord::new("default", "call-1", now());
    call.apply(
        &CallJob::Report(&report(
            "The caller asked how much a consultation costs and will call back.",
            90,
        )),
        &b,
        now(),
    );
    assert_eq!(call.outcome, Some(CallOutcome::Lead));
    assert_eq!(call.lead_interest.as_deref(), Some("Consultation"));

    let mut r = report("Caller asked about parking.", 90);
    r.structured_data = Some(
        serde_json::json!({"interested": "yes"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let mut call = CallRecord::new("default", "call-2", now());
    call.apply(&CallJob::Report(&r), &b, now());
    assert_eq!(call.lead_interest.as_deref(), Some("general enquiry"));
}

#[test]
fn short_silent_calls_are_abandoned_and_changes_rank_below_bookings() {
    let b = business();
    let mut r = report("", 4);
    r.caller_turns = 0;
    let mut call = CallRecord::new("default", "c", now());
    call.apply(&CallJob::Report(&r), &b, now());
    assert_eq!(call.outcome, Some(CallOutcome::Abandoned));
    call.apply(
        &CallJob::Activity(&activity(Activity::Cancelled, "K7P2X9")),
        &b,
        now(),
    );
    assert_eq!(call.outcome, Some(CallOutcome::Cancelled));
    call.apply(
        &CallJob::Activity(&activity(Activity::Rescheduled, "K7P2X8")),
        &b,
        now(),
    );
    assert_eq!(call.outcome, Some(CallOutcome::Rescheduled));
}

#[test]
fn status_moves_forward_only_and_ended_is_final() {
    let b = business();
    let status = |s: &str, secs: i64| CallStatus {
        business_id: "default".into(),
        call_id: "c".into(),
        customer_phone: None,
        status: s.into(),
        ended_reason: None,
        at: now() + chrono::Duration::seconds(secs),
    };
    let mut call = CallRecord::new("default", "c", now());
    call.apply(&CallJob::Status(&status("in-progress", 5)), &b, now());
    call.apply(&CallJob::Status(&status("ringing", 1)), &b, now());
    assert_eq!(call.status.as_deref(), Some("in-progress"));
    call.apply(&CallJob::Status(&status("ended", 60)), &b, now());
    call.apply(&CallJob::Status(&status("in-progress", 61)), &b, now());
    assert_eq!(call.status.as_deref(), Some("ended"));
    assert_eq!(call.outcome, Some(CallOutcome::Abandoned));
}

#[test]
fn long_transcripts_are_cut_by_bytes_and_words_match_whole() {
    let greek = "αβγ".repeat(MAX_TRANSCRIPT_BYTES);
    let cut = bounded(Some(&greek), MAX_TRANSCRIPT_BYTES).unwrap();
    assert!(
        cut.len() <= MAX_TRANSCRIPT_BYTES + "…".len(),
        "{}",
        cut.len()
    );
    assert_eq!(
        bounded(
            Some(&"a".repeat(MAX_TRANSCRIPT_BYTES + 5)),
            MAX_TRANSCRIPT_BYTES
        )
        .unwrap()
        .chars()
        .count(),
        MAX_TRANSCRIPT_BYTES + 1
    );
    assert!(contains_word("a cleaning, please", "cleaning"));
    assert!(!contains_word("housecleaning", "cleaning"));
}

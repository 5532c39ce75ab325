use super::*;
use aws_lambda_events::event::sqs::SqsEvent;
use callbook_aws::worker::failed_messages as failures;
use callbook_core::CallOutcome;
use callbook_core::testing::faults::Faulty;
use callbook_core::testing::memory::{
    FixedClock, MemoryCallStore, MemoryDirectory, MemoryFigures, MemoryIdempotencyStore,
    MemoryMetrics, MemoryQueue, MemorySchedules,
};
use callbook_core::testing::sample_events;
use callbook_core::{LeadGrade, LeadStatus};
use chrono::{TimeZone, Utc};

const CALL_A: &str = "5a8c1e2f-3b4d-4e6f-8a9b-0c1d2e3f4a5b";
const CALL_B: &str = "6b9d2f3a-4c5e-4f7a-9b0c-1d2e3f4a5b6c";

/// The worker's ports in memory; the store a test makes fail is wrapped in `Faulty`.
enum InMemory {}

impl AnalyticsWorkerPorts for InMemory {
    type Calls = Faulty<MemoryCallStore>;
    type Directory = MemoryDirectory;
    type Queue = MemoryQueue;
    type JobsDone = MemoryIdempotencyStore;
    type Clock = FixedClock;
    type Metrics = MemoryMetrics;
    type Figures = MemoryFigures;
    type Schedules = Faulty<MemorySchedules>;
}

type TestWorker = AnalyticsWorker<InMemory>;

fn worker() -> TestWorker {
    AnalyticsWorker {
        calls: Faulty::default(),
        default_business: Arc::new(
            Business::from_lookup(&|name: &str| match name {
                "BUSINESS_SERVICES" => {
                    Some("Consultation=60@150; Cleaning|Hygiene=30@90; Whitening=90@300".into())
                }
                "OWNER_EMAIL" => Some("owner@clinic.example".into()),
                _ => None,
            })
            .unwrap(),
        ),
        directory: MemoryDirectory::default(),
        queue: MemoryQueue::default(),
        jobs_done: MemoryIdempotencyStore::default(),
        clock: FixedClock(Utc.with_ymd_and_hms(2026, 11, 24, 15, 12, 0).unwrap()),
        metrics: MemoryMetrics::default(),
        figures: MemoryFigures::default(),
        schedules: Faulty::default(),
        cold_start: ColdStart::default(),
    }
}

fn sample_event() -> SqsEvent {
    serde_json::from_str(include_str!("../../../events/analytics-worker-sqs.json")).unwrap()
}

fn call(w: &TestWorker, id: &str) -> CallRecord {
    w.calls
        .calls()
        .into_iter()
        .find(|c| c.call_id == id)
        .unwrap_or_else(|| panic!("no call record {id}"))
}

#[tokio::test]
async fn calls_are_recorded_with_outcome_and_interest_becomes_one_lead() {
    let w = worker();
    assert!(failures(&w.handle(sample_event()).await).is_empty());

    let a = call(&w, CALL_A);
    assert_eq!(a.outcome, Some(CallOutcome::Lead));
    assert_eq!(a.status.as_deref(), Some("in-progress"));
    let report = a.report.as_ref().unwrap();
    assert!(
        report
            .transcript
            .as_deref()
            .unwrap()
            .contains("How much is whitening?")
    );
    assert_eq!(
        (
            report.duration_seconds,
            report.cost,
            report.success_evaluation.as_deref()
        ),
        (Some(270.0), Some(0.21), Some("true"))
    );
    let b = call(&w, CALL_B);
    assert_eq!(
        (b.outcome, b.booked_value_cents, b.booked.len()),
        (Some(CallOutcome::Booked), 15_000, 1)
    );

    // captureLead during call A and call A's report merged into one lead for the phone.
    let leads = w.calls.leads();
    assert_eq!(leads.len(), 1);
    let lead = &leads[0];
    assert_eq!(lead.sources.len(), 2);
    assert_eq!(lead.interests, ["teeth whitening"]);
    assert_eq!(lead.email.as_ref().unwrap().as_str(), "ann@example.com");
    // 20 interest + 20 service + 10 email + 15 urgency (timeline) + 10 budget + 10 two
    // sources + 5 assistant = 90
    assert_eq!(
        (lead.score, lead.grade, lead.status),
        (90, LeadGrade::Hot, LeadStatus::Open)
    );

    // The business hears of the new lead once, by email (its only owner recipient).
    let notices: Vec<String> = w.queue.sent().iter().map(Job::id).collect();
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].starts_with("default#lead#") && notices[0].ends_with("#owner-new-lead#email"),
        "{notices:?}"
    );
    assert!(
        !notices[0].contains("7025551234"),
        "no phone in clear in the id"
    );

    // Each call counted once on its caller's history.
    let contacts = w.calls.contacts.lock().unwrap().clone();
    assert_eq!(contacts.len(), 2);
    assert!(contacts.values().all(|(count, _)| *count == 1));

    // Each ended call counted once by its outcome; the lead once, by its grade when first
    // captured; the business's figures the same.
    assert_eq!(counted(&w), (vec!["booked".into(), "lead".into()], 1.0));
    let day = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
    let figures = w
        .figures
        .counts("default", day, day + chrono::Duration::hours(23))
        .await
        .unwrap();
    assert_eq!(
        (figures.get("calls_booked"), figures.get("calls_lead")),
        (Some(&1), Some(&1))
    );
    let leads: u64 = figures
        .iter()
        .filter(|(k, _)| k.starts_with("leads_"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(leads, 1);
}

/// The outcomes of the `Calls` emitted, sorted, and the number of `Leads`.
fn counted(w: &TestWorker) -> (Vec<String>, f64) {
    let mut outcomes: Vec<String> = w
        .metrics
        .emitted()
        .iter()
        .filter(|(_, m)| m.metric == Metric::Calls)
        .filter_map(|(_, m)| m.dimension(Dimension::Outcome).map(str::to_string))
        .collect();
    outcomes.sort();
    (outcomes, w.metrics.total(Metric::Leads))
}

#[tokio::test]
async fn redelivery_changes_nothing() {
    let mut w = worker();
    w.handle(sample_event()).await;
    let before = (w.calls.calls(), w.calls.leads());
    let sent = w.queue.sent().len();
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(
        w.queue.sent().len(),
        sent,
        "remembered: nothing asked for twice"
    );
    // Forgotten (the record expired): the versioned writes still change nothing twice.
    w.jobs_done = MemoryIdempotencyStore::default();
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    let mut after = (w.calls.calls(), w.calls.leads());
    let sort =
        |v: &mut (Vec<CallRecord>, Vec<LeadRecord>)| v.0.sort_by(|x, y| x.call_id.cmp(&y.call_id));
    let mut before = before;
    sort(&mut before);
    sort(&mut after);
    assert_eq!(before, after);
    let contacts = w.calls.contacts.lock().unwrap().clone();
    assert!(contacts.values().all(|(count, _)| *count == 1));
    assert_eq!(
        counted(&w),
        (vec!["booked".into(), "lead".into()], 1.0),
        "nothing counted twice"
    );
}

#[tokio::test]
async fn a_concurrent_write_makes_it_read_again_and_a_booking_converts_the_lead() {
    let w = worker();
    w.calls.stale.arm(2);
    assert!(failures(&w.handle(sample_event()).await).is_empty());
    assert_eq!(call(&w, CALL_A).outcome, Some(CallOutcome::Lead));

    // Call A's caller books later (another call): their lead is converted.
    let mut event = sample_event();
    let mut booked = event.records[3].clone();
    booked.body = Some(
        booked
            .body
            .unwrap()
            .replace(CALL_B, "7c0e3a4b-5d6f-4a8b-9c1d-2e3f4a5b6c7d")
            .replace("+17025559876", "+17025551234"),
    );
    event.records = vec![booked];
    assert!(failures(&w.handle(event).await).is_empty());
    let lead = &w.calls.leads()[0];
    assert_eq!(lead.status, LeadStatus::Converted);
    assert_eq!(
        lead.converted_reference.as_ref().unwrap().as_str(),
        "K7P2X9"
    );
}

#[tokio::test]
async fn failures_are_reported_per_message() {
    let w = worker();
    let mut event = sample_event();
    let mut bad = event.records[0].clone();
    bad.message_id = Some("bad-1".into());
    bad.body = Some("{\"type\": \"somethingElse\"}".into());
    event.records.push(bad);
    w.calls.faults.fail_next(1);
    let response = w.handle(event).await;
    assert_eq!(
        failures(&response).len(),
        2,
        "the store failure and the bad message"
    );
    assert!(failures(&response).contains(&"bad-1".to_string()));
}

#[tokio::test]
async fn every_sample_event_is_processed() {
    for (name, text) in sample_events("analytics-worker-") {
        let event: SqsEvent = serde_json::from_str(&text).unwrap();
        assert!(failures(&worker().handle(event).await).is_empty(), "{name}");
    }
}

#[tokio::test]
async fn jobs_of_a_stored_business_use_it_and_unknown_businesses_are_retried() {
    let w = worker();
    let profile: callbook_core::BusinessProfile =
        serde_json::from_str(include_str!("../../../infra/business.example.json")).unwrap();
    w.directory.add(Business::from_profile(&profile).unwrap());
    let mut event = sample_event();
    event.records.truncate(3);
    for record in &mut event.records {
        let body = record.body.take().unwrap();
        record.body = Some(body.replace(
            "\"businessId\": \"default\"",
            "\"businessId\": \"smile-dental-london\"",
        ));
    }
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    let lead = &w.calls.leads()[0];
    assert_eq!(lead.business_id, "smile-dental-london");
    // Its owner has a phone and an email.
    assert_eq!(w.queue.sent().len(), 2);

    let w = worker();
    assert_eq!(
        failures(&w.handle(event).await).len(),
        3,
        "no such business here"
    );
}

/// Vapi's "ended" status often arrives before the end-of-call report: the call is counted
/// once, by the outcome its report gives, not as abandoned.
#[tokio::test]
async fn a_call_ended_before_its_report_is_counted_by_the_report() {
    let w = worker();
    let mut event = sample_event();
    let mut ended = event.records[0].clone();
    ended.message_id = Some("ended-1".into());
    ended.body = Some(
        ended
            .body
            .unwrap()
            .replace("\"in-progress\"", "\"ended\"")
            .replace(
                "\"endedReason\": null",
                "\"endedReason\": \"customer-ended-call\"",
            )
            .replace("15:00:01Z", "15:04:31Z"),
    );
    let report = event.records[2].clone();
    event.records = vec![ended, report];
    assert!(failures(&w.handle(event).await).is_empty());
    let (outcomes, _) = counted(&w);
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(
        outcomes[0],
        call(&w, CALL_A).outcome.unwrap().as_str(),
        "counted by the report's outcome"
    );
    assert_ne!(outcomes[0], "abandoned");
}

/// The sample's records for call A: its lead job (`edit` may change it) and its report.
fn call_a(edit: impl Fn(&mut serde_json::Value)) -> SqsEvent {
    let mut event = sample_event();
    event.records = event.records[1..3].to_vec();
    let body = event.records[0].body.as_deref().unwrap();
    let mut lead: serde_json::Value = serde_json::from_str(body).unwrap();
    edit(&mut lead);
    event.records[0].body = Some(lead.to_string());
    event
}

#[tokio::test]
async fn a_new_lead_gets_one_follow_up_schedule_however_often_it_is_delivered() {
    let mut w = worker();
    let event = call_a(|lead| lead["followUpAt"] = serde_json::json!("2026-11-25T15:00:00Z"));
    assert!(failures(&w.handle(event.clone()).await).is_empty());
    w.jobs_done = MemoryIdempotencyStore::default();
    assert!(failures(&w.handle(event).await).is_empty());
    let waiting = w.schedules.waiting();
    // The call's report merged into the lead: only the job that started it schedules.
    let job_id = "default#lead#3c1f0e9d8b7a6f5e4d3c2b1a09f8e7d6";
    assert_eq!(
        waiting.keys().collect::<Vec<_>>(),
        [&callbook_core::lead_schedule_name("default", job_id)]
    );
    let Some(FollowUpJob::LeadFollowUp(follow_up)) = waiting.values().next() else {
        panic!("a lead follow-up");
    };
    assert_eq!(
        (
            follow_up.lead_id.as_str(),
            follow_up.phone.as_str(),
            follow_up.business_name.as_str(),
            follow_up.due_at.to_rfc3339(),
        ),
        (
            job_id,
            "+17025551234",
            "Callbook Demo Clinic",
            "2026-11-25T15:00:00+00:00".to_string()
        )
    );
}

#[tokio::test]
async fn a_lead_from_a_report_follows_up_the_next_open_day_unless_the_business_sends_none() {
    // Only the report: its lead is made here, with the business's settings.
    let only_report = || {
        let mut event = call_a(|_| {});
        event.records.remove(0);
        event
    };
    let w = worker();
    assert!(failures(&w.handle(only_report()).await).is_empty());
    // Captured Tuesday 10:12 in New York: Wednesday at 10:00 there.
    let due: Vec<String> = w
        .schedules
        .waiting()
        .values()
        .map(|job| job.due_at().to_rfc3339())
        .collect();
    assert_eq!(due, ["2026-11-25T15:00:00+00:00"]);

    let mut w = worker();
    w.default_business = Arc::new(
        Business::from_lookup(&|name: &str| match name {
            "BUSINESS_SERVICES" => Some("Whitening=90@300".into()),
            "LEAD_FOLLOW_UP_AT" => Some("off".into()),
            _ => None,
        })
        .unwrap(),
    );
    assert!(failures(&w.handle(only_report()).await).is_empty());
    assert_eq!(w.calls.leads().len(), 1);
    assert!(w.schedules.waiting().is_empty());
}

#[tokio::test]
async fn a_failed_put_sends_the_lead_back_and_the_retry_schedules_it() {
    let w = worker();
    w.schedules.faults.fail_next(1);
    let event = call_a(|lead| lead["followUpAt"] = serde_json::json!("2026-11-25T15:00:00Z"));
    assert!(!failures(&w.handle(event.clone()).await).is_empty());
    assert!(w.schedules.waiting().is_empty());
    assert!(failures(&w.handle(event).await).is_empty());
    assert_eq!(w.schedules.waiting().len(), 1);
    assert_eq!(w.metrics.total(Metric::Leads), 1.0);
}

use callbook_core::{CallOutcome, DailyFigures, Dimension, Figure, LeadGrade, Measurement, Metric};
use chrono::Duration;
use serde_json::json;

use super::*;

fn count(metric: Metric) -> Measurement {
    Measurement::count(metric)
}

/// A morning's traffic as the functions emit it: three calls (two booked, one lead), two
/// bookings, a change, a cancellation, a hot lead, texts and emails, one failed text.
fn traffic(m: &TestMonitoring, at: chrono::DateTime<Utc>) {
    let call = |outcome| count(Metric::Calls).by(Dimension::Outcome, outcome);
    emitted(
        m,
        "analytics-worker",
        at,
        &[call("booked"), call("booked"), call("lead")],
    );
    emitted(
        m,
        "analytics-worker",
        at,
        &[count(Metric::Leads).by(Dimension::Grade, "hot")],
    );
    emitted(
        m,
        "booking-worker",
        at,
        &[
            count(Metric::Bookings),
            count(Metric::Bookings),
            count(Metric::Changes),
            count(Metric::Cancellations),
        ],
    );
    let sent = |channel| count(Metric::Sent).by(Dimension::Channel, channel);
    emitted(
        m,
        "notification-worker",
        at,
        &[sent("sms"), sent("sms"), sent("email")],
    );
    emitted(
        m,
        "notification-worker",
        at,
        &[count(Metric::SendFailures)
            .by(Dimension::Channel, "sms")
            .by(Dimension::Reason, "invalid_number")],
    );
}

#[tokio::test]
async fn service_wide_figures_count_what_the_functions_emitted_in_the_window() {
    let m = monitoring();
    traffic(&m, now() - Duration::minutes(30));
    // Yesterday: inside 7d only.
    traffic(&m, now() - Duration::hours(30));

    let (status, body) = send(&m, authed("/monitoring/metrics?timeframe=1h")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "service");
    assert_eq!(body["timeframe"], "1h");
    assert_eq!(body["calls"]["total"], 3);
    assert_eq!(body["calls"]["byOutcome"]["booked"], 2);
    assert_eq!(body["calls"]["byOutcome"]["lead"], 1);
    assert_eq!(body["calls"]["byOutcome"]["abandoned"], 0);
    assert_eq!(body["bookings"], 2);
    assert_eq!(body["conversion"].as_f64(), Some(2.0 / 3.0));
    assert_eq!(body["changes"], 1);
    assert_eq!(body["cancellations"], 1);
    assert_eq!(
        body["leads"],
        json!({"total": 1, "byGrade": {"hot": 1, "warm": 0, "cold": 0}})
    );
    assert_eq!(
        body["sends"],
        json!({"total": 3, "byChannel": {"sms": 2, "email": 1}})
    );
    assert_eq!(
        body["failures"],
        json!({"total": 1, "byChannel": {"sms": 1, "email": 0}})
    );
    assert_eq!(body["from"], (now() - Duration::hours(1)).to_rfc3339());

    // The default window is 24 h: yesterday's traffic (30 h ago) is still out.
    let (_, day) = send(&m, authed("/monitoring/metrics")).await;
    assert_eq!(day["timeframe"], "24h");
    assert_eq!(day["bookings"], 2);
    let (_, week) = send(&m, authed("/monitoring/metrics?timeframe=7d")).await;
    assert_eq!(week["bookings"], 4);
    assert_eq!(week["calls"]["total"], 6);
}

#[tokio::test]
async fn no_calls_no_conversion() {
    let m = monitoring();
    let (status, body) = send(&m, authed("/monitoring/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["calls"]["total"], 0);
    assert!(body["conversion"].is_null(), "{body}");
}

#[tokio::test]
async fn one_business_figures_come_from_its_daily_counters() {
    let m = monitoring();
    let at = now() - Duration::minutes(20);
    let figures = [
        Figure::Calls(CallOutcome::Booked),
        Figure::Calls(CallOutcome::Abandoned),
        Figure::Calls(CallOutcome::Abandoned),
        Figure::Calls(CallOutcome::Abandoned),
        Figure::Bookings,
        Figure::Leads(LeadGrade::Warm),
        Figure::TextsSent,
        Figure::EmailsSent,
        Figure::EmailsFailed,
    ];
    m.figures.add("smile-dental", at, &figures).await.unwrap();
    m.figures
        .add(
            "smile-dental",
            now() - Duration::days(2),
            &[Figure::Bookings],
        )
        .await
        .unwrap();
    m.figures
        .add("other", at, &[Figure::Bookings])
        .await
        .unwrap();
    // Service-wide CloudWatch figures are not the business's.
    traffic(&m, at);

    let (status, body) = send(
        &m,
        authed("/monitoring/metrics?business=smile-dental&timeframe=24h"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], json!({"business": "smile-dental"}));
    assert_eq!(body["calls"]["total"], 4);
    assert_eq!(body["calls"]["byOutcome"]["abandoned"], 3);
    assert_eq!(body["bookings"], 1);
    assert_eq!(body["conversion"].as_f64(), Some(0.25));
    assert_eq!(body["leads"]["byGrade"]["warm"], 1);
    assert_eq!(
        body["sends"],
        json!({"total": 2, "byChannel": {"sms": 1, "email": 1}})
    );
    assert_eq!(
        body["failures"],
        json!({"total": 1, "byChannel": {"sms": 0, "email": 1}})
    );
    let (_, week) = send(
        &m,
        authed("/monitoring/metrics?business=smile-dental&timeframe=7d"),
    )
    .await;
    assert_eq!(week["bookings"], 2);
    let (_, nobody) = send(&m, authed("/monitoring/metrics?business=nobody")).await;
    assert_eq!(nobody["calls"]["total"], 0);
}

#[tokio::test]
async fn a_store_that_cannot_be_read_is_503_with_what_failed() {
    let m = monitoring();
    m.metrics.faults.fail_next(1);
    let (status, body) = send(&m, authed("/monitoring/metrics")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["error"].as_str().unwrap().contains("read metrics"),
        "{body}"
    );
    m.figures.faults.fail_next(1);
    let (status, _) = send(&m, authed("/monitoring/metrics?business=smile")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    m.metrics.faults.fail_next(1);
    let (status, _) = send(&m, authed("/monitoring/performance")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// A business's figures are counted by whole UTC hours, and the window says where it starts.
#[tokio::test]
async fn a_business_window_starts_at_the_top_of_its_first_hour() {
    let mut m = monitoring();
    m.clock = FixedClock(now() + Duration::minutes(30));
    let (status, body) = send(
        &m,
        authed("/monitoring/metrics?business=smile-dental&timeframe=1h"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["from"], "2026-11-24T14:00:00+00:00");
    assert_eq!(body["to"], "2026-11-24T15:30:00+00:00");
    // Service-wide figures keep the exact window.
    let (_, service) = send(&m, authed("/monitoring/metrics?timeframe=1h")).await;
    assert_eq!(service["from"], "2026-11-24T14:30:00+00:00");
}

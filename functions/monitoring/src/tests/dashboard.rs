use callbook_core::{AlarmState, AlarmStatus, Dimension, Measurement, Metric};
use chrono::Duration;

use super::*;

fn busy_morning(m: &TestMonitoring) {
    for (minutes_ago, bookings) in [(30, 3), (150, 1)] {
        let at = now() - Duration::minutes(minutes_ago);
        let mut measurements = vec![];
        for _ in 0..bookings {
            measurements.push(Measurement::count(Metric::Bookings));
        }
        emitted(m, "booking-worker", at, &measurements);
        let calls: Vec<Measurement> = (0..bookings + 1)
            .map(|_| Measurement::count(Metric::Calls).by(Dimension::Outcome, "booked"))
            .collect();
        emitted(m, "analytics-worker", at, &calls);
    }
    // Yesterday evening: in the 24-hour chart, not in today's figures.
    emitted(
        m,
        "booking-worker",
        now() - Duration::hours(17),
        &[Measurement::count(Metric::Bookings)],
    );
    emitted(
        m,
        "webhook",
        now() - Duration::minutes(30),
        &[Measurement::new(Metric::ToolLatency, 180.0).by(Dimension::Tool, "bookAppointment")],
    );
    emitted(
        m,
        "booking-worker",
        now() - Duration::minutes(20),
        &[Measurement::new(Metric::JobAge, 1_500.0).by(Dimension::Queue, "booking")],
    );
    emitted(
        m,
        "notification-worker",
        now() - Duration::minutes(40),
        &[Measurement::count(Metric::SendFailures)
            .by(Dimension::Channel, "email")
            .by(Dimension::Reason, "email_rejected")],
    );
    emitted(
        m,
        "booking-worker",
        now() - Duration::minutes(10),
        &[Measurement::count(Metric::JobFailures).by(Dimension::Queue, "booking")],
    );
    emitted(
        m,
        "webhook",
        now() - Duration::minutes(5),
        &[Measurement::count(Metric::ToolCalls)
            .by(Dimension::Tool, "rescheduleAppointment")
            .by(Dimension::Outcome, "system-failure")],
    );
    m.metrics.set_alarms(vec![
        AlarmStatus {
            name: "dev-BookingDeadLetterAlarm-<script>alert(1)</script>".into(),
            state: AlarmState::Alarm,
            reason: "Threshold Crossed: 2 > 0 & rising".into(),
            since: Some(now() - Duration::minutes(8)),
        },
        AlarmStatus {
            name: "dev-WebhookErrorsAlarm-1".into(),
            state: AlarmState::Ok,
            reason: String::new(),
            since: None,
        },
    ]);
}

#[tokio::test]
async fn the_json_dashboard_shows_today_queues_alarms_in_alarm_and_the_last_failures() {
    let m = monitoring();
    busy_morning(&m);
    let (status, body) = send(&m, authed("/monitoring/dashboard")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["today"]["bookings"], 4);
    assert_eq!(body["today"]["calls"]["total"], 6);
    assert_eq!(body["today"]["failures"]["total"], 1);
    let booking = &body["queues"][0];
    assert_eq!(booking["queue"], "booking");
    assert_eq!(booking["waiting"], 4);
    assert_eq!(booking["deadLetters"], 2);
    assert_eq!(booking["oldestJobMs"].as_f64(), Some(1_500.0));
    assert!(body["queues"][1]["oldestJobMs"].is_null());
    let alarms = body["alarmsInAlarm"].as_array().unwrap();
    assert_eq!(alarms.len(), 1, "only those in ALARM");
    // Newest first: where and why, never who.
    let failures = body["lastFailures"].as_array().unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> = failures
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap(),
                f["source"].as_str().unwrap(),
                f["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("tool", "rescheduleAppointment", None),
            ("job", "booking", None),
            ("send", "email", Some("email_rejected")),
        ]
    );
    let hours = &body["last24Hours"];
    assert_eq!(hours["bookings"].as_array().unwrap().len(), 24);
    let bookings: f64 = hours["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .sum();
    assert_eq!(bookings, 5.0, "today's 4 and yesterday evening's");
    assert_eq!(hours["toolLatencyP95Ms"][0]["value"].as_f64(), Some(180.0));
}

#[tokio::test]
async fn a_browser_gets_html_with_the_figures_two_charts_and_every_text_escaped() {
    let m = monitoring();
    busy_morning(&m);
    let request = http::Request::builder()
        .method("GET")
        .uri("/monitoring/dashboard")
        .header("authorization", format!("Bearer {MONITORING_TOKEN}"))
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .body(Body::Empty)
        .unwrap();
    let response = m.handle(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(
        html.contains("<td data-figure=\"bookings\">4</td>"),
        "{html}"
    );
    assert!(html.contains("<td data-figure=\"calls\">6</td>"));
    assert!(html.contains("<svg id=\"chart-calls\""));
    assert!(html.contains("<svg id=\"chart-latency\""));
    assert_eq!(
        html.matches("class=\"bar\" data-series=\"bookings\"")
            .count(),
        24
    );
    assert!(html.contains("data-value=\"3\""), "the 14:00 bar");
    assert!(!html.contains("<script"), "escaped, never run");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("2 &gt; 0 &amp; rising"));
    assert!(html.contains("email_rejected"));
}

#[tokio::test]
async fn a_part_that_cannot_be_read_says_so_and_the_rest_is_shown() {
    let m = monitoring();
    busy_morning(&m);
    // Every metrics read fails: the queues (from the probe) are still there.
    m.metrics.faults.fail_next(10);
    let (status, body) = send(&m, authed("/monitoring/dashboard")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["today"]["error"]
            .as_str()
            .unwrap()
            .contains("read metrics")
    );
    assert!(body["alarmsInAlarm"]["error"].is_string());
    assert_eq!(body["queues"][0]["deadLetters"], 2);
}

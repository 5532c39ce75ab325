//! The metrics as CloudWatch would get them (issue 12's "done when"): the stack's stdout is
//! kept, every EMF line in it is read back with CloudWatch's checks, every metric of
//! `Metric::ALL` appears, and the counts match the traffic sent. A second stack, whose SMS
//! provider fails its first sends, shows retries, failures and a breaker opening.

use std::collections::BTreeMap;

use callbook_aws::figures::DynamoFigures;
use callbook_core::metrics::{Datapoint, MAX_DIMENSIONS_PER_SET, MAX_METRICS_PER_RECORD};
use callbook_core::{DailyFigures, Dimension, Metric, read_emf};

use super::*;

/// Every EMF line of a run's stdout, validated; the datapoints of each metric under its own
/// dimension set (so a value read back under the `Function` rollup is not counted twice).
fn emf_points(log: &std::path::Path) -> Vec<Datapoint> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut points = Vec::new();
    let mut records = 0;
    for line in text.lines().filter(|l| l.contains("\"_aws\"")) {
        records += 1;
        let record: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for directive in record["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            let metrics = directive["Metrics"].as_array().unwrap();
            assert!(metrics.len() <= MAX_METRICS_PER_RECORD, "{line}");
            for metric in metrics {
                let unit = metric["Unit"].as_str().unwrap();
                assert!(["Milliseconds", "Count"].contains(&unit), "{line}");
            }
            for set in directive["Dimensions"].as_array().unwrap() {
                assert!(set.as_array().unwrap().len() <= MAX_DIMENSIONS_PER_SET);
                assert_eq!(set[0], "Function", "every set has the rollup's dimension");
            }
        }
        let read = read_emf(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(!read.is_empty(), "{line}");
        assert!(read.iter().all(|p| p.namespace == "callbook/callbook-dev"));
        points.extend(
            read.into_iter()
                .filter(|p| p.dimensions.len() == 1 + p.metric.dimensions().len()),
        );
    }
    assert!(records > 0, "no EMF line in {}", log.display());
    points
}

/// The sum of a metric's values, by its values of `by` (one key `""` without).
fn sums(points: &[Datapoint], metric: Metric, by: &[Dimension]) -> BTreeMap<String, f64> {
    let mut sums = BTreeMap::new();
    for p in points.iter().filter(|p| p.metric == metric) {
        let key: Vec<&str> = by
            .iter()
            .map(|d| {
                p.dimensions
                    .iter()
                    .find(|(name, _)| name == d)
                    .map_or("", |(_, v)| v.as_str())
            })
            .collect();
        *sums.entry(key.join("/")).or_default() += p.value;
    }
    sums
}

fn total(points: &[Datapoint], metric: Metric) -> f64 {
    sums(points, metric, &[]).values().sum()
}

fn samples(points: &[Datapoint], metric: Metric) -> usize {
    points.iter().filter(|p| p.metric == metric).count()
}

fn count_of(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Waits until every source queue is empty twice in a row, a second apart: the pipeline
/// (booking → notification, analytics → notification) has settled.
async fn settled(tables: &Tables) {
    let queues = ["BookingQueue", "NotificationQueue", "AnalyticsQueue"];
    let mut empty_in_a_row = 0;
    for _ in 0..90 {
        let mut depth = 0;
        for queue in queues {
            depth += tables.depth(queue).await;
        }
        empty_in_a_row = if depth == 0 { empty_in_a_row + 1 } else { 0 };
        if empty_in_a_row == 3 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("the queues never emptied");
}

fn webhook_post(stack: &DevStack, headers: Headers<'_>, body: &str) -> u16 {
    post(&stack.webhook_url(), headers, body).0
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_is_emitted_as_valid_emf_and_the_counts_match_the_traffic() {
    let log = std::env::temp_dir().join(format!("callbook-metrics-{}.log", rand_suffix()));
    let stack = DevStack::start_with(2, 3, Some(&log), &[], None);
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    // moto reports every number ending in 99 as opted out of SMS.
    let opted_out = "+17025550199";

    // Two bookings; the first moved, then cancelled. The second caller's text is refused
    // (opted out); nothing else is sent to that number.
    let first = book(&stack, "call-m-1", PHONE, "Test User", &date, "10am");
    let first = reference_in(
        first["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{first}")),
    );
    let second = book(&stack, "call-m-2", opted_out, "Other Caller", &date, "11am");
    let second = reference_in(
        second["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{second}")),
    );
    for reference in [&first, &second] {
        eventually("the booking recorded", Duration::from_secs(20), || {
            tables.item(&bookings_table, booking_key("default", reference.as_str()))
        })
        .await;
    }
    let moved = tool_call(
        &stack,
        "call-m-1",
        PHONE,
        "rescheduleAppointment",
        json!({"newDate": date, "newTime": "2pm"}),
    );
    assert!(moved["result"].is_string(), "{moved}");
    eventually("the move applied", Duration::from_secs(20), || async {
        tables
            .item(&bookings_table, booking_key("default", first.as_str()))
            .await
            .filter(|b| s(b, "status") == "rescheduled")
    })
    .await;
    let cancelled = tool_call(
        &stack,
        "call-m-1",
        PHONE,
        "cancelAppointment",
        json!({"bookingReference": first.spoken(), "reason": "travelling"}),
    );
    assert!(cancelled["result"].is_string(), "{cancelled}");

    // A lead, and its call's end-of-call report.
    let lead_call = "call-m-3";
    let lead_phone = "+17025550142";
    let lead = tool_call(
        &stack,
        lead_call,
        lead_phone,
        "captureLead",
        json!({"name": "Ann Lee", "interest": "whitening", "email": "ann@example.com"}),
    );
    assert!(lead["result"].is_string(), "{lead}");
    let sample: Value = serde_json::from_str(include_str!(
        "../../../events/webhook-end-of-call-report.json"
    ))
    .unwrap();
    let mut report: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    report["message"]["call"]["id"] = json!(lead_call);
    report["message"]["call"]["customer"] = json!({"number": lead_phone});
    // The default business's call: the sample names an assistant and number no business
    // claims, which would make it a second unrouted call.
    for id in ["assistantId", "phoneNumberId"] {
        report["message"]["call"]
            .as_object_mut()
            .unwrap()
            .remove(id);
    }
    report["message"]
        .as_object_mut()
        .unwrap()
        .remove("phoneNumber");
    let secret = ("x-vapi-secret", stack.secret.as_str());
    let json_type = ("content-type", "application/json");
    assert_eq!(
        webhook_post(&stack, &[secret, json_type], &report.to_string()),
        200
    );

    // A call through an assistant no business claims: served by the default business.
    let unrouted = json!({"message": {"type": "tool-calls",
        "call": {"id": "call-m-4", "assistantId": "asst-nobody-claims", "customer": {"number": "+17025550143"}},
        "toolCallList": [{"id": "tc-unrouted", "type": "function",
            "function": {"name": "getAppointments", "arguments": {}}}]}});
    assert_eq!(
        webhook_post(&stack, &[secret, json_type], &unrouted.to_string()),
        200
    );

    // Four requests turned away, one of each reason.
    let body = seed_curl_body();
    let rejected = [
        (
            vec![("x-vapi-secret", "not-the-secret-at-all"), json_type],
            body.clone(),
            401,
        ),
        (vec![secret, json_type], "a".repeat(300 * 1024), 413),
        (vec![secret, ("content-type", "text/plain")], body, 415),
        (vec![secret, json_type], "{\"message\": 7}".to_string(), 400),
    ];
    for (headers, body, status) in &rejected {
        assert_eq!(webhook_post(&stack, headers, body), *status);
    }

    // A customer's text (two-way SMS): answered with the help line.
    let texter = "+17025550177";
    let sns = aws_sdk_sns::Client::new(&stack.sdk_config().await);
    super::replies::text(&sns, texter, "Hello?").await;
    eventually("the help line", Duration::from_secs(20), || async {
        (!stack.sent_messages().sms_to(texter).is_empty()).then_some(())
    })
    .await;

    let calls_table = format!("{TABLE_PREFIX}CallsTable");
    eventually("the lead's call recorded", Duration::from_secs(20), || {
        tables.item(
            &calls_table,
            callbook_aws::calls::call_key("default", lead_call),
        )
    })
    .await;
    settled(&tables).await;
    let sent = stack.sent_messages();
    // The log is written by a thread reading the stack's stdout: give it a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let points = emf_points(&log);

    // The webhook: 6 tool calls (the 2 bookings, the move, the cancel, the lead, the unrouted
    // call), a report, 4 rejections; one cold start per function.
    let mut by_type: BTreeMap<String, f64> = BTreeMap::new();
    for p in points.iter().filter(|p| p.metric == Metric::RequestLatency) {
        let (_, kind) = p
            .dimensions
            .iter()
            .find(|(d, _)| *d == Dimension::MessageType)
            .unwrap();
        *by_type.entry(kind.clone()).or_default() += 1.0;
    }
    assert_eq!(
        by_type,
        count_of(&[
            ("end-of-call-report", 1.0),
            ("rejected", 4.0),
            ("tool-calls", 6.0)
        ])
    );
    assert_eq!(samples(&points, Metric::RequestLatency), 11);
    assert_eq!(samples(&points, Metric::ToolLatency), 6);
    assert_eq!(
        sums(
            &points,
            Metric::ToolCalls,
            &[Dimension::Tool, Dimension::Outcome]
        ),
        count_of(&[
            ("bookAppointment/answer", 2.0),
            ("cancelAppointment/answer", 1.0),
            ("captureLead/answer", 1.0),
            ("getAppointments/answer", 1.0),
            ("rescheduleAppointment/answer", 1.0),
        ])
    );
    assert_eq!(
        sums(&points, Metric::RejectedRequests, &[Dimension::Reason]),
        count_of(&[
            ("too-large", 1.0),
            ("unauthorized", 1.0),
            ("unreadable", 1.0),
            ("unsupported-type", 1.0),
        ])
    );
    assert_eq!(total(&points, Metric::UnroutedCalls), 1.0);
    assert_eq!(
        sums(&points, Metric::ColdStarts, &[Dimension::Function]),
        count_of(&[
            ("analytics-worker", 1.0),
            ("booking-worker", 1.0),
            ("notification-worker", 1.0),
            ("sms-replies", 1.0),
            ("webhook", 1.0),
        ])
    );
    assert_eq!(
        sums(&points, Metric::SmsReplies, &[Dimension::Reply]),
        count_of(&[("unknown", 1.0)])
    );
    // The workers: every message's age, by queue.
    let ages = sums(&points, Metric::JobAge, &[Dimension::Queue]);
    assert_eq!(
        ages.keys().collect::<Vec<_>>(),
        ["analytics", "booking", "notification"]
    );
    assert!(points.iter().all(|p| p.value >= 0.0));

    // The business: exactly what was done.
    assert_eq!(total(&points, Metric::Bookings), 2.0);
    assert_eq!(total(&points, Metric::Changes), 1.0);
    assert_eq!(total(&points, Metric::Cancellations), 1.0);
    assert_eq!(
        sums(&points, Metric::Calls, &[Dimension::Outcome]),
        count_of(&[("lead", 1.0)])
    );
    assert_eq!(total(&points, Metric::Leads), 1.0);
    assert_eq!(
        sums(&points, Metric::Sent, &[Dimension::Channel]),
        count_of(&[
            ("email", sent.emails.len() as f64),
            ("sms", sent.sms.len() as f64)
        ])
    );
    assert_eq!(
        sums(
            &points,
            Metric::SendFailures,
            &[Dimension::Channel, Dimension::Reason]
        ),
        count_of(&[("sms/opted_out", 1.0)]),
        "the opted-out caller's confirmation text"
    );

    // The business's own figures, from its daily item.
    let sdk = stack.sdk_config().await;
    let figures = DynamoFigures::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        format!("{TABLE_PREFIX}BusinessesTable"),
    );
    let now = Utc::now();
    let counts = figures
        .counts("default", now - chrono::Duration::hours(1), now)
        .await
        .unwrap();
    for (figure, expected) in [
        ("bookings", 2),
        ("changes", 1),
        ("cancellations", 1),
        ("calls_lead", 1),
        ("texts_failed", 1),
        ("texts_sent", sent.sms.len() as u64),
        ("emails_sent", sent.emails.len() as u64),
    ] {
        assert_eq!(counts.get(figure), Some(&expected), "{figure}: {counts:?}");
    }

    // The second stack: the SMS provider fails five times, which opens its breaker.
    let log2 = std::env::temp_dir().join(format!("callbook-metrics-{}.log", rand_suffix()));
    let failing = DevStack::start_with(
        1,
        100,
        Some(&log2),
        &[],
        Some("notification-worker.sms=first:5"),
    );
    let booked = book(&failing, "call-f-1", PHONE, "Test User", &date, "10am");
    assert!(booked["result"].is_string(), "{booked}");
    eventually(
        "the text, once the breaker closes again",
        Duration::from_secs(90),
        || async { (!failing.sent_messages().sms_to(PHONE).is_empty()).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let failed = emf_points(&log2);
    assert_eq!(
        sums(&failed, Metric::BreakerOpens, &[Dimension::Channel]),
        count_of(&[("sms", 1.0)])
    );
    // Every failed attempt (five at the provider, the rest skipped while open) failed its
    // message, which came back.
    let send_failures = sums(
        &failed,
        Metric::SendFailures,
        &[Dimension::Channel, Dimension::Reason],
    );
    let unavailable = send_failures.get("sms/unavailable").copied().unwrap_or(0.0);
    assert!(unavailable >= 5.0, "{send_failures:?}");
    assert_eq!(
        sums(&failed, Metric::JobFailures, &[Dimension::Queue]).get("notification"),
        Some(&unavailable)
    );
    assert!(
        sums(&failed, Metric::Retries, &[Dimension::Queue]).get("notification")
            >= Some(&unavailable)
    );

    // Between the two runs, every metric appeared.
    for metric in Metric::ALL {
        assert!(
            samples(&points, metric) + samples(&failed, metric) > 0,
            "{} never emitted",
            metric.name()
        );
    }
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&log2);
}

//! The CloudWatch reader with the SDK's own mocks (aws-smithy-mocks; moto cannot speak
//! CloudWatch's RPCv2 CBOR protocol): the requests it builds and how it reads the answers.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsInput, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::operation::get_metric_data::{
    GetMetricDataError, GetMetricDataInput, GetMetricDataOutput,
};
use aws_sdk_cloudwatch::types::error::InvalidNextToken;
use aws_sdk_cloudwatch::types::{CompositeAlarm, MessageData, MetricAlarm, MetricDataResult};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use callbook_core::{Dimension, Metric, Statistic};
use chrono::TimeZone;

use super::*;

fn reader(rules: &[&Rule]) -> CloudWatchMetrics {
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, rules, |c| c
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled()));
    CloudWatchMetrics::new(client, "callbook/prod".into(), "prod-".into())
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, minute, 0).unwrap()
}

fn query(id: &str, metric: Metric, dimensions: &[(Dimension, &str)], s: Statistic) -> SeriesQuery {
    SeriesQuery {
        id: id.into(),
        metric,
        dimensions: dimensions
            .iter()
            .map(|(d, v)| (*d, v.to_string()))
            .collect(),
        statistic: s,
    }
}

fn result(id: &str, points: &[(u32, f64)]) -> MetricDataResult {
    MetricDataResult::builder()
        .id(id)
        .set_timestamps(Some(points.iter().map(|(m, _)| aws_time(at(*m))).collect()))
        .set_values(Some(points.iter().map(|(_, v)| *v).collect()))
        .status_code(StatusCode::Complete)
        .build()
}

/// Answers with `output`, keeping each request it saw.
fn recording(
    seen: &Arc<Mutex<Vec<GetMetricDataInput>>>,
    output: impl Fn() -> GetMetricDataOutput + Send + Sync + 'static,
) -> Rule {
    let seen = Arc::clone(seen);
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |input| {
        seen.lock().unwrap().push(input.clone());
        output()
    })
}

#[tokio::test]
async fn series_are_asked_for_as_named_and_read_back_by_id_across_pages() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let first = recording(&seen, || {
        GetMetricDataOutput::builder()
            .metric_data_results(result("p95_book", &[(10, 250.0)]))
            .next_token("page-2")
            .build()
    });
    let second = recording(&seen, || {
        GetMetricDataOutput::builder()
            .metric_data_results(result("p95_book", &[(5, 120.0)]))
            .metric_data_results(result("bookings", &[(0, 3.0), (5, 1.0)]))
            // Not asked for: ignored.
            .metric_data_results(result("stranger", &[(0, 9.0)]))
            .build()
    });
    let queries = [
        query(
            "p95_book",
            Metric::ToolLatency,
            &[
                (Dimension::Function, "webhook"),
                (Dimension::Tool, "bookAppointment"),
            ],
            Statistic::P95,
        ),
        query(
            "bookings",
            Metric::Bookings,
            &[(Dimension::Function, "booking-worker")],
            Statistic::Sum,
        ),
        query(
            "empty",
            Metric::Leads,
            &[(Dimension::Function, "analytics-worker")],
            Statistic::Sum,
        ),
    ];
    let series = reader(&[&first, &second])
        .series(&queries, at(0), at(30), Duration::seconds(90))
        .await
        .unwrap();
    assert_eq!(
        series,
        vec![
            Series {
                id: "p95_book".into(),
                points: vec![(at(5), 120.0), (at(10), 250.0)]
            },
            Series {
                id: "bookings".into(),
                points: vec![(at(0), 3.0), (at(5), 1.0)]
            },
            Series {
                id: "empty".into(),
                points: vec![]
            },
        ]
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one call per page");
    assert_eq!(seen[0].next_token(), None);
    assert_eq!(seen[1].next_token(), Some("page-2"));
    let request = &seen[0];
    assert_eq!(request.scan_by(), Some(&ScanBy::TimestampAscending));
    assert_eq!(request.start_time(), Some(&aws_time(at(0))));
    assert_eq!(request.end_time(), Some(&aws_time(at(30))));
    let asked = request.metric_data_queries();
    assert_eq!(asked.len(), 3);
    let stat = asked[0].metric_stat().unwrap();
    assert_eq!(asked[0].id(), Some("p95_book"));
    assert_eq!(asked[0].return_data(), Some(true));
    assert_eq!(stat.stat(), Some("p95"));
    assert_eq!(stat.period(), Some(120), "rounded up to whole minutes");
    let metric = stat.metric().unwrap();
    assert_eq!(metric.namespace(), Some("callbook/prod"));
    assert_eq!(metric.metric_name(), Some("ToolLatency"));
    let dimensions: Vec<(&str, &str)> = metric
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(
        dimensions,
        [("Function", "webhook"), ("Tool", "bookAppointment")]
    );
    assert_eq!(asked[1].metric_stat().unwrap().stat(), Some("Sum"));
}

#[tokio::test]
async fn more_than_500_queries_go_in_several_calls() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answer = || {
        GetMetricDataOutput::builder()
            .metric_data_results(result("q500", &[(1, 7.0)]))
            .build()
    };
    let (first, second) = (recording(&seen, answer), recording(&seen, answer));
    let queries: Vec<SeriesQuery> = (0..501)
        .map(|i| {
            query(
                &format!("q{i}"),
                Metric::Calls,
                &[(Dimension::Function, "analytics-worker")],
                Statistic::Sum,
            )
        })
        .collect();
    let series = reader(&[&first, &second])
        .series(&queries, at(0), at(30), Duration::minutes(5))
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    let sizes: Vec<usize> = seen.iter().map(|r| r.metric_data_queries().len()).collect();
    assert_eq!(sizes, [500, 1]);
    assert_eq!(seen[1].metric_data_queries()[0].id(), Some("q500"));
    assert_eq!(series.len(), 501);
    assert_eq!(series[500].points, vec![(at(1), 7.0)]);
    assert!(
        series[0].points.is_empty(),
        "q500 answered in the first call is not q0's"
    );
}

#[tokio::test]
async fn cloudwatch_errors_are_unavailable() {
    let refused = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_error(|| {
        GetMetricDataError::InvalidNextToken(InvalidNextToken::builder().message("stale").build())
    });
    let down = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(503, None)
        .build();
    let failed = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
        GetMetricDataOutput::builder()
            .metric_data_results(
                MetricDataResult::builder()
                    .id("bookings")
                    .status_code(StatusCode::InternalError)
                    .messages(
                        MessageData::builder()
                            .code("InternalError")
                            .value("try later")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let queries = [query(
        "bookings",
        Metric::Bookings,
        &[(Dimension::Function, "booking-worker")],
        Statistic::Sum,
    )];
    for rule in [refused, down, failed] {
        let error = reader(&[&rule])
            .series(&queries, at(0), at(30), Duration::minutes(5))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &error,
                PortError::Unavailable {
                    operation: "read the metrics",
                    ..
                }
            ),
            "{error:?}"
        );
    }
    let alarms_down = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .sequence()
        .http_status(500, None)
        .build();
    assert!(matches!(
        reader(&[&alarms_down]).alarms().await,
        Err(PortError::Unavailable {
            operation: "read the alarms",
            ..
        })
    ));
}

#[tokio::test]
async fn the_deployments_alarms_metric_and_composite_are_read_by_prefix() {
    let seen: Arc<Mutex<Vec<DescribeAlarmsInput>>> = Arc::new(Mutex::new(Vec::new()));
    let page = |seen: &Arc<Mutex<Vec<DescribeAlarmsInput>>>, last: bool| {
        let seen = Arc::clone(seen);
        mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_output(move |input| {
            seen.lock().unwrap().push(input.clone());
            if last {
                DescribeAlarmsOutput::builder()
                    .composite_alarms(
                        CompositeAlarm::builder()
                            .alarm_name("prod-callbook-unhealthy")
                            .state_value(StateValue::Alarm)
                            .state_reason("prod-WebhookErrorsAlarm-1 is in ALARM")
                            .state_updated_timestamp(aws_time(at(12)))
                            .build(),
                    )
                    .build()
            } else {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(
                        MetricAlarm::builder()
                            .alarm_name("prod-WebhookErrorsAlarm-1")
                            .state_value(StateValue::Alarm)
                            .state_reason(
                                "Threshold Crossed: 1 datapoint [2.0] was greater than 0.0",
                            )
                            .state_updated_timestamp(aws_time(at(10)))
                            .build(),
                    )
                    .metric_alarms(
                        MetricAlarm::builder()
                            .alarm_name("prod-BookingQueueAgeAlarm-2")
                            .state_value(StateValue::InsufficientData)
                            .build(),
                    )
                    .next_token("more")
                    .build()
            }
        })
    };
    let (first, second) = (page(&seen, false), page(&seen, true));
    let alarms = reader(&[&first, &second]).alarms().await.unwrap();
    assert_eq!(
        alarms,
        vec![
            AlarmStatus {
                name: "prod-WebhookErrorsAlarm-1".into(),
                state: AlarmState::Alarm,
                reason: "Threshold Crossed: 1 datapoint [2.0] was greater than 0.0".into(),
                since: Some(at(10)),
            },
            AlarmStatus {
                name: "prod-BookingQueueAgeAlarm-2".into(),
                state: AlarmState::InsufficientData,
                reason: String::new(),
                since: None,
            },
            AlarmStatus {
                name: "prod-callbook-unhealthy".into(),
                state: AlarmState::Alarm,
                reason: "prod-WebhookErrorsAlarm-1 is in ALARM".into(),
                since: Some(at(12)),
            },
        ]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].alarm_name_prefix(), Some("prod-"));
    assert_eq!(
        seen[0].alarm_types(),
        [AlarmType::MetricAlarm, AlarmType::CompositeAlarm]
    );
    assert_eq!(seen[1].next_token(), Some("more"));
}

//! MetricsReader on CloudWatch: GetMetricData for the series the functions emitted (EMF,
//! in the deployment's namespace) and DescribeAlarms for the deployment's alarms (those whose
//! name starts with the stack's prefix, composite ones included). Only the monitoring
//! function uses it (the `cloudwatch` feature), so no other function carries this SDK.

use std::collections::HashMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension as AwsDimension, Metric as AwsMetric, MetricDataQuery, MetricStat, ScanBy,
    StateValue, StatusCode,
};
use callbook_core::{AlarmState, AlarmStatus, MetricsReader, PortError, Series, SeriesQuery};
use chrono::{DateTime, Duration, Utc};

use crate::sdk_message;

/// GetMetricData takes at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;

#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: Client,
    namespace: String,
    /// The deployment's alarms are those named with this prefix (`<stack>-`).
    alarm_prefix: String,
}

impl CloudWatchMetrics {
    pub fn new(client: Client, namespace: String, alarm_prefix: String) -> Self {
        Self {
            client,
            namespace,
            alarm_prefix,
        }
    }

    fn query(&self, query: &SeriesQuery, period_seconds: i32) -> MetricDataQuery {
        let dimensions = query
            .dimensions
            .iter()
            .map(|(d, v)| AwsDimension::builder().name(d.name()).value(v).build())
            .collect();
        let metric = AwsMetric::builder()
            .namespace(&self.namespace)
            .metric_name(query.metric.name())
            .set_dimensions(Some(dimensions))
            .build();
        MetricDataQuery::builder()
            .id(&query.id)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric)
                    .period(period_seconds)
                    .stat(query.statistic.as_str())
                    .build(),
            )
            .return_data(true)
            .build()
    }
}

fn aws_time(at: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_millis(at.timestamp_millis())
}

fn chrono_time(at: &AwsDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.secs(), at.subsec_nanos())
}

/// CloudWatch's periods are whole minutes (at least one).
fn period_seconds(period: Duration) -> i32 {
    let minutes = (period.num_seconds() + 59) / 60;
    i32::try_from(minutes.max(1) * 60).unwrap_or(i32::MAX / 60 * 60)
}

fn alarm_state(value: Option<&StateValue>) -> AlarmState {
    match value {
        Some(StateValue::Alarm) => AlarmState::Alarm,
        Some(StateValue::Ok) => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    }
}

impl MetricsReader for CloudWatchMetrics {
    async fn series(
        &self,
        queries: &[SeriesQuery],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Duration,
    ) -> Result<Vec<Series>, PortError> {
        let period = period_seconds(period);
        let mut points: HashMap<&str, Vec<(DateTime<Utc>, f64)>> = HashMap::new();
        for batch in queries.chunks(MAX_QUERIES_PER_CALL) {
            let requested: Vec<MetricDataQuery> =
                batch.iter().map(|q| self.query(q, period)).collect();
            let mut next_token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .get_metric_data()
                    .set_metric_data_queries(Some(requested.clone()))
                    .start_time(aws_time(from))
                    .end_time(aws_time(to))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(|e| PortError::unavailable("read the metrics", sdk_message(&e)))?;
                for result in page.metric_data_results() {
                    if result.status_code() == Some(&StatusCode::InternalError) {
                        let said: Vec<&str> =
                            result.messages().iter().filter_map(|m| m.value()).collect();
                        return Err(PortError::unavailable(
                            "read the metrics",
                            format!("CloudWatch could not compute a series: {}", said.join("; ")),
                        ));
                    }
                    // Results are matched to the queries by id; an id we did not ask for is
                    // not ours to report.
                    let Some(query) = batch.iter().find(|q| Some(q.id.as_str()) == result.id())
                    else {
                        continue;
                    };
                    let series = points.entry(query.id.as_str()).or_default();
                    for (at, value) in result.timestamps().iter().zip(result.values()) {
                        let at = chrono_time(at).ok_or_else(|| PortError::Corrupt {
                            what: "metric timestamp",
                            message: format!("{at:?}"),
                        })?;
                        series.push((at, *value));
                    }
                }
                match page.next_token() {
                    Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                    _ => break,
                }
            }
        }
        Ok(queries
            .iter()
            .map(|q| {
                let mut points = points.remove(q.id.as_str()).unwrap_or_default();
                // Oldest first, whatever order the pages came in.
                points.sort_by_key(|(at, _)| *at);
                Series {
                    id: q.id.clone(),
                    points,
                }
            })
            .collect())
    }

    async fn alarms(&self) -> Result<Vec<AlarmStatus>, PortError> {
        let mut alarms = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_alarms()
                .alarm_name_prefix(&self.alarm_prefix)
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| PortError::unavailable("read the alarms", sdk_message(&e)))?;
            for a in page.metric_alarms() {
                alarms.push(AlarmStatus {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: alarm_state(a.state_value()),
                    reason: a.state_reason().unwrap_or_default().to_string(),
                    since: a.state_updated_timestamp().and_then(chrono_time),
                });
            }
            for a in page.composite_alarms() {
                alarms.push(AlarmStatus {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: alarm_state(a.state_value()),
                    reason: a.state_reason().unwrap_or_default().to_string(),
                    since: a.state_updated_timestamp().and_then(chrono_time),
                });
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => break,
            }
        }
        Ok(alarms)
    }
}

#[cfg(test)]
mod tests;

//! `GET /monitoring/dashboard`: what an operator looks at first: today's figures, each
//! queue's depth, oldest job and dead letters, the alarms in ALARM, the last failures (where
//! and why, never who), and the last 24 hours by the hour. JSON, or HTML for a browser
//! (`html`). A part that cannot be read says so; the rest is still shown.

use callbook_aws::Queue;
use callbook_core::{AlarmState, AlarmStatus, Clock, Dimension, Metric, MetricsReader, Statistic};
use chrono::{DateTime, Duration, DurationRound, Utc};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::edge::json_response;
use crate::figures::BusinessFigures;
use crate::health::alarms_json;
use crate::performance::points_json;
use crate::queries::{
    CHANNELS, FUNCTIONS, Plan, SYSTEM_FAILURE, WEBHOOK, WORKERS, send_failure_reasons, tool_names,
};
use crate::{Monitoring, MonitoringPorts};

/// How many failures the dashboard lists.
pub const LAST_FAILURES: usize = 10;

/// One queue as the operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueView {
    pub queue: &'static str,
    pub waiting: Option<u64>,
    pub dead_letters: Option<u64>,
    /// The longest a job waited before its worker took it, in the last hour (JobAge).
    pub oldest_ms: Option<f64>,
}

/// A period in which something failed: what (a job, a send, a tool call), where (queue,
/// channel, tool), why when known, and how many times.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FailureView {
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub source: String,
    pub reason: Option<String>,
    pub count: u64,
}

/// The last 24 hours, hour by hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Hourly {
    pub calls: Vec<(DateTime<Utc>, f64)>,
    pub bookings: Vec<(DateTime<Utc>, f64)>,
    pub tool_p95_ms: Vec<(DateTime<Utc>, f64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Dashboard {
    pub generated_at: DateTime<Utc>,
    pub healthy: bool,
    pub today: Result<BusinessFigures, String>,
    pub queues: Vec<QueueView>,
    pub alarms: Result<Vec<AlarmStatus>, String>,
    pub failures: Result<Vec<FailureView>, String>,
    pub hourly: Result<Hourly, String>,
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Every hour of the window, zero where nothing was counted.
fn every_hour(
    points: &[(DateTime<Utc>, f64)],
    first: DateTime<Utc>,
    hours: i64,
) -> Vec<(DateTime<Utc>, f64)> {
    (0..hours)
        .map(|h| {
            let at = first + Duration::hours(h);
            let value = points
                .iter()
                .filter(|(t, _)| hour_of(*t) == at)
                .map(|(_, v)| v)
                .sum();
            (at, value)
        })
        .collect()
}

async fn hourly(reader: &impl MetricsReader, now: DateTime<Utc>) -> Result<Hourly, String> {
    let first = hour_of(now) - Duration::hours(23);
    let mut plan = Plan::default();
    plan.add_everywhere("count", "calls", Metric::Calls);
    plan.add_everywhere("count", "bookings", Metric::Bookings);
    let webhook = [(Dimension::Function, WEBHOOK)];
    plan.add(
        "latency",
        "p95",
        Metric::ToolLatency,
        &webhook,
        Statistic::P95,
    );
    let answers = plan
        .run(reader, first, now, Duration::hours(1))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Hourly {
        calls: every_hour(&answers.series("count", "calls"), first, 24),
        bookings: every_hour(&answers.series("count", "bookings"), first, 24),
        tool_p95_ms: answers.series("latency", "p95"),
    })
}

async fn last_failures(
    reader: &impl MetricsReader,
    now: DateTime<Utc>,
) -> Result<Vec<FailureView>, String> {
    let mut plan = Plan::default();
    for (kind, worker) in WORKERS {
        let dims = [(Dimension::Function, worker)];
        plan.add(
            "job",
            kind.as_str(),
            Metric::JobFailures,
            &dims,
            Statistic::Sum,
        );
    }
    for function in FUNCTIONS {
        for channel in CHANNELS {
            for reason in send_failure_reasons() {
                let dims = [
                    (Dimension::Function, function),
                    (Dimension::Channel, channel),
                    (Dimension::Reason, reason),
                ];
                let label = format!("{channel}/{}", reason);
                plan.add("send", label, Metric::SendFailures, &dims, Statistic::Sum);
            }
        }
    }
    for tool in tool_names() {
        let dims = [
            (Dimension::Function, WEBHOOK),
            (Dimension::Tool, tool),
            (Dimension::Outcome, SYSTEM_FAILURE),
        ];
        plan.add("tool", tool, Metric::ToolCalls, &dims, Statistic::Sum);
    }
    let answers = plan
        .run(reader, now - Duration::hours(24), now, Duration::minutes(5))
        .await
        .map_err(|e| e.to_string())?;
    let mut failures = Vec::new();
    for kind in ["job", "send", "tool"] {
        for label in answers.labels(kind) {
            let (source, reason) = match label.split_once('/') {
                Some((channel, reason)) => (channel.to_string(), Some(reason.to_string())),
                None => (label.clone(), None),
            };
            for (at, count) in answers.series(kind, &label) {
                if count > 0.0 {
                    failures.push(FailureView {
                        at,
                        kind,
                        source: source.clone(),
                        reason: reason.clone(),
                        count: count.round() as u64,
                    });
                }
            }
        }
    }
    failures.sort_by_key(|f| std::cmp::Reverse(f.at));
    failures.truncate(LAST_FAILURES);
    Ok(failures)
}

/// The longest wait of each queue's jobs in the last hour, by queue.
async fn oldest_jobs(
    reader: &impl MetricsReader,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, f64)>, String> {
    let mut plan = Plan::default();
    for (kind, worker) in WORKERS {
        let dims = [(Dimension::Function, worker)];
        plan.add(
            "age",
            kind.as_str(),
            Metric::JobAge,
            &dims,
            Statistic::Maximum,
        );
    }
    let answers = plan
        .run(reader, now - Duration::hours(1), now, Duration::hours(1))
        .await
        .map_err(|e| e.to_string())?;
    Ok(WORKERS
        .iter()
        .filter_map(|(kind, _)| Some((kind.as_str(), answers.total("age", kind.as_str())?)))
        .collect())
}

impl Dashboard {
    pub fn to_json(&self) -> Value {
        let queues: Vec<Value> = self
            .queues
            .iter()
            .map(|q| {
                json!({
                    "queue": q.queue, "waiting": q.waiting,
                    "deadLetters": q.dead_letters, "oldestJobMs": q.oldest_ms,
                })
            })
            .collect();
        let failures = self.failures.as_ref().map(|f| -> Value {
            f.iter()
                .map(|f| {
                    json!({
                        "at": f.at.to_rfc3339(), "kind": f.kind, "source": f.source,
                        "reason": f.reason, "count": f.count,
                    })
                })
                .collect::<Vec<Value>>()
                .into()
        });
        let or_error = |r: Result<Value, &String>| r.unwrap_or_else(|e| json!({ "error": e }));
        json!({
            "generatedAt": self.generated_at.to_rfc3339(),
            "status": if self.healthy { "ok" } else { "unavailable" },
            "today": or_error(self.today.as_ref().map(BusinessFigures::to_json)),
            "queues": queues,
            "alarmsInAlarm": or_error(self.alarms.as_ref().map(|a| Value::from(alarms_json(a)))),
            "lastFailures": or_error(failures),
            "last24Hours": or_error(self.hourly.as_ref().map(|h| json!({
                "calls": points_json(&h.calls),
                "bookings": points_json(&h.bookings),
                "toolLatencyP95Ms": points_json(&h.tool_p95_ms),
            }))),
        })
    }
}

impl<P: MonitoringPorts> Monitoring<P> {
    pub(crate) async fn dashboard_data(&self) -> Dashboard {
        let now = self.clock.now();
        let midnight = now.duration_trunc(Duration::days(1)).unwrap_or(now);
        let (probe, today, hourly, failures, ages, alarms) = tokio::join!(
            self.probed(),
            BusinessFigures::service_wide(&self.metrics, midnight, now, Duration::hours(1)),
            hourly(&self.metrics, now),
            last_failures(&self.metrics, now),
            oldest_jobs(&self.metrics, now),
            self.metrics.alarms(),
        );
        let (_, checks) = probe;
        let ages = ages.unwrap_or_default();
        let depth = |queue: Queue| {
            let name = queue.name();
            checks
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.messages)
        };
        let queues = WORKERS
            .iter()
            .map(|(kind, _)| QueueView {
                queue: kind.as_str(),
                waiting: depth(Queue::Jobs(*kind)),
                dead_letters: depth(Queue::DeadLetters(*kind)),
                oldest_ms: ages
                    .iter()
                    .find(|(q, _)| *q == kind.as_str())
                    .map(|(_, v)| *v),
            })
            .collect();
        Dashboard {
            generated_at: now,
            healthy: checks.iter().all(|c| c.healthy),
            today: today.map_err(|e| e.to_string()),
            queues,
            alarms: alarms
                .map(|a| {
                    a.into_iter()
                        .filter(|a| a.state == AlarmState::Alarm)
                        .collect()
                })
                .map_err(|e| e.to_string()),
            failures,
            hourly,
        }
    }

    pub(crate) async fn dashboard(&self, html: bool) -> Response<Body> {
        let dashboard = self.dashboard_data().await;
        if !html {
            return json_response(StatusCode::OK, &dashboard.to_json());
        }
        let mut response = Response::new(Body::Text(crate::html::page(&dashboard)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // No script, no outside resource: the page is what the server wrote.
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        );
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        response
    }
}

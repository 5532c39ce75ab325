//! `GET /monitoring/performance?timeframe=1h|24h|7d`: how fast and how reliably the service
//! answers: latency percentiles per tool and per request, error rates, cold starts and how
//! long jobs wait, each as a summary of the window and as a series over it.

use callbook_core::{Clock, Dimension, Metric, Statistic};
use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::edge::{Timeframe, json_response, unavailable};
use crate::queries::{Answers, FUNCTIONS, Plan, SYSTEM_FAILURE, WEBHOOK, WORKERS, tool_names};
use crate::{Monitoring, MonitoringPorts};

const PERCENTILES: [(Statistic, &str); 3] = [
    (Statistic::P50, "p50"),
    (Statistic::P95, "p95"),
    (Statistic::P99, "p99"),
];

pub(crate) fn points_json(points: &[(DateTime<Utc>, f64)]) -> Value {
    points
        .iter()
        .map(|(at, v)| json!({ "at": at.to_rfc3339(), "value": v }))
        .collect()
}

/// A window's summary: each statistic over the whole window, read in one period.
fn summary_plan() -> Plan {
    let mut plan = Plan::default();
    let webhook = [(Dimension::Function, WEBHOOK)];
    for tool in tool_names() {
        let dims = [(Dimension::Function, WEBHOOK), (Dimension::Tool, tool)];
        for (statistic, name) in PERCENTILES {
            plan.add(
                "tool",
                format!("{tool}.{name}"),
                Metric::ToolLatency,
                &dims,
                statistic,
            );
        }
        let count = Statistic::SampleCount;
        plan.add(
            "tool",
            format!("{tool}.count"),
            Metric::ToolLatency,
            &dims,
            count,
        );
        let failed = [
            (Dimension::Function, WEBHOOK),
            (Dimension::Tool, tool),
            (Dimension::Outcome, SYSTEM_FAILURE),
        ];
        plan.add("failed", tool, Metric::ToolCalls, &failed, Statistic::Sum);
    }
    for (statistic, name) in PERCENTILES {
        plan.add("request", name, Metric::RequestLatency, &webhook, statistic);
    }
    let count = Statistic::SampleCount;
    plan.add("request", "count", Metric::RequestLatency, &webhook, count);
    plan.add("calls", "all", Metric::ToolCalls, &webhook, Statistic::Sum);
    plan.add(
        "rejected",
        "all",
        Metric::RejectedRequests,
        &webhook,
        Statistic::Sum,
    );
    for function in FUNCTIONS {
        let dims = [(Dimension::Function, function)];
        plan.add("cold", function, Metric::ColdStarts, &dims, Statistic::Sum);
    }
    for (kind, worker) in WORKERS {
        let dims = [(Dimension::Function, worker)];
        let queue = kind.as_str();
        plan.add(
            "age",
            format!("{queue}.p95"),
            Metric::JobAge,
            &dims,
            Statistic::P95,
        );
        plan.add(
            "age",
            format!("{queue}.max"),
            Metric::JobAge,
            &dims,
            Statistic::Maximum,
        );
    }
    plan
}

/// The same over time, in the timeframe's periods.
fn series_plan() -> Plan {
    let mut plan = Plan::default();
    let webhook = [(Dimension::Function, WEBHOOK)];
    for tool in tool_names() {
        let dims = [(Dimension::Function, WEBHOOK), (Dimension::Tool, tool)];
        plan.add("tool", tool, Metric::ToolLatency, &dims, Statistic::P95);
        let failed = [
            (Dimension::Function, WEBHOOK),
            (Dimension::Tool, tool),
            (Dimension::Outcome, SYSTEM_FAILURE),
        ];
        plan.add("failed", "all", Metric::ToolCalls, &failed, Statistic::Sum);
    }
    plan.add(
        "request",
        "p95",
        Metric::RequestLatency,
        &webhook,
        Statistic::P95,
    );
    plan.add("calls", "all", Metric::ToolCalls, &webhook, Statistic::Sum);
    plan.add(
        "rejected",
        "all",
        Metric::RejectedRequests,
        &webhook,
        Statistic::Sum,
    );
    for function in FUNCTIONS {
        let dims = [(Dimension::Function, function)];
        plan.add("cold", "all", Metric::ColdStarts, &dims, Statistic::Sum);
    }
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
    plan
}

fn rate(part: u64, all: u64) -> Option<f64> {
    (all > 0).then(|| part as f64 / all as f64)
}

fn report(summary: &Answers, series: &Answers) -> Value {
    let mut tools = Map::new();
    let mut failed_calls = 0;
    for tool in tool_names() {
        let stat = |name: &str| summary.total("tool", &format!("{tool}.{name}"));
        let failed = summary.count("failed", tool);
        failed_calls += failed;
        tools.insert(
            tool.to_string(),
            json!({
                "p50": stat("p50"), "p95": stat("p95"), "p99": stat("p99"),
                "calls": stat("count").map_or(0, |n| n.round() as u64),
                "systemFailures": failed,
                "overTime": { "p95": points_json(&series.series("tool", tool)) },
            }),
        );
    }
    let all_calls = summary.count("calls", "all");
    let cold: Map<String, Value> = FUNCTIONS
        .iter()
        .map(|f| (f.to_string(), json!(summary.count("cold", f))))
        .collect();
    let ages: Map<String, Value> = WORKERS
        .iter()
        .map(|(kind, _)| {
            let queue = kind.as_str();
            let value = json!({
                "p95": summary.total("age", &format!("{queue}.p95")),
                "max": summary.total("age", &format!("{queue}.max")),
                "overTime": { "max": points_json(&series.series("age", queue)) },
            });
            (queue.to_string(), value)
        })
        .collect();
    json!({
        "latencyMs": {
            "tools": tools,
            "requests": {
                "p50": summary.total("request", "p50"),
                "p95": summary.total("request", "p95"),
                "p99": summary.total("request", "p99"),
                "count": summary.count("request", "count"),
                "overTime": { "p95": points_json(&series.series("request", "p95")) },
            },
        },
        "errors": {
            "toolCalls": all_calls,
            "systemFailures": failed_calls,
            "systemFailureRate": rate(failed_calls, all_calls),
            "rejectedRequests": summary.count("rejected", "all"),
            "overTime": {
                "systemFailures": points_json(&series.series("failed", "all")),
                "toolCalls": points_json(&series.series("calls", "all")),
                "rejectedRequests": points_json(&series.series("rejected", "all")),
            },
        },
        "coldStarts": {
            "byFunction": cold,
            "overTime": points_json(&series.series("cold", "all")),
        },
        "jobAgeMs": ages,
    })
}

impl<P: MonitoringPorts> Monitoring<P> {
    pub(crate) async fn performance_report(&self, timeframe: Timeframe) -> Response<Body> {
        let to = self.clock.now();
        let from = to - timeframe.window();
        let (summary, series) = tokio::join!(
            summary_plan().run(&self.metrics, from, to, timeframe.window()),
            series_plan().run(&self.metrics, from, to, timeframe.period()),
        );
        let (summary, series) = match (summary, series) {
            (Ok(summary), Ok(series)) => (summary, series),
            (Err(e), _) | (_, Err(e)) => return unavailable(&e),
        };
        let mut body = report(&summary, &series);
        body["timeframe"] = json!(timeframe.as_str());
        body["from"] = json!(from.to_rfc3339());
        body["to"] = json!(to.to_rfc3339());
        body["periodSeconds"] = json!(timeframe.period().num_seconds());
        json_response(StatusCode::OK, &body)
    }
}

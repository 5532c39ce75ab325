//! What the reports ask CloudWatch for: the series, by metric and dimensions, as the
//! functions emit them (`Function` is the emitting function's name; each record is also
//! rolled up by `Function` alone), and how the answers are added up.

use std::collections::HashMap;

use callbook_core::{
    CallOutcome, Dimension, JobKind, LeadGrade, Metric, MetricsReader, PortError, SendFailure,
    Series, SeriesQuery, Statistic, Tool,
};
use chrono::{DateTime, Duration, Utc};

/// The functions' names as they emit them (the `Function` dimension).
pub(crate) const WEBHOOK: &str = "webhook";
pub(crate) const FUNCTIONS: [&str; 5] = [
    WEBHOOK,
    "booking-worker",
    "notification-worker",
    "analytics-worker",
    "followup-worker",
];
/// Each queue's worker: its job ages and failures are the worker's.
pub(crate) const WORKERS: [(JobKind, &str); 4] = [
    (JobKind::Booking, "booking-worker"),
    (JobKind::Notification, "notification-worker"),
    (JobKind::Analytics, "analytics-worker"),
    (JobKind::FollowUp, "followup-worker"),
];
pub(crate) const CHANNELS: [&str; 2] = ["sms", "email"];
pub(crate) const OUTCOMES: [CallOutcome; 6] = [
    CallOutcome::Booked,
    CallOutcome::Rescheduled,
    CallOutcome::Cancelled,
    CallOutcome::Lead,
    CallOutcome::Information,
    CallOutcome::Abandoned,
];
pub(crate) const GRADES: [LeadGrade; 3] = [LeadGrade::Hot, LeadGrade::Warm, LeadGrade::Cold];
pub(crate) const SEND_FAILURES: [SendFailure; 5] = [
    SendFailure::InvalidNumber,
    SendFailure::OptedOut,
    SendFailure::EmailRejected,
    SendFailure::InvalidAddress,
    SendFailure::NoCountry,
];
/// Every `Reason` a `SendFailures` value may carry: the recipient's classes, and the
/// provider failing.
pub(crate) fn send_failure_reasons() -> impl Iterator<Item = &'static str> {
    SEND_FAILURES
        .into_iter()
        .map(SendFailure::as_str)
        .chain([callbook_core::metrics::PROVIDER_UNAVAILABLE])
}

/// A tool call that ended in an apology (`Outcome` of `ToolCalls`).
pub(crate) const SYSTEM_FAILURE: &str = "system-failure";

pub(crate) fn tool_names() -> impl Iterator<Item = &'static str> {
    Tool::ALL.into_iter().map(|t| t.spec().name)
}

/// Queries with what each one is for (`group`, `label`): ids are generated (`q0`, `q1`...)
/// as GetMetricData wants them, and the answers are read back by group and label.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    queries: Vec<SeriesQuery>,
    tags: Vec<(&'static str, String)>,
}

impl Plan {
    pub fn add(
        &mut self,
        group: &'static str,
        label: impl Into<String>,
        metric: Metric,
        dimensions: &[(Dimension, &str)],
        statistic: Statistic,
    ) {
        self.queries.push(SeriesQuery {
            id: format!("q{}", self.queries.len()),
            metric,
            dimensions: dimensions
                .iter()
                .map(|(d, v)| (*d, v.to_string()))
                .collect(),
            statistic,
        });
        self.tags.push((group, label.into()));
    }

    /// The same metric summed over every function that may emit it (its rollup).
    pub fn add_everywhere(&mut self, group: &'static str, label: &str, metric: Metric) {
        for function in FUNCTIONS {
            self.add(
                group,
                label,
                metric,
                &[(Dimension::Function, function)],
                Statistic::Sum,
            );
        }
    }

    pub async fn run(
        self,
        reader: &impl MetricsReader,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Duration,
    ) -> Result<Answers, PortError> {
        let series = if self.queries.is_empty() {
            Vec::new()
        } else {
            reader.series(&self.queries, from, to, period).await?
        };
        let mut by_id: HashMap<String, Series> =
            series.into_iter().map(|s| (s.id.clone(), s)).collect();
        let answers = self
            .queries
            .into_iter()
            .zip(self.tags)
            .map(|(query, tag)| {
                let points = by_id
                    .remove(&query.id)
                    .map(|s| s.points)
                    .unwrap_or_default();
                Answer {
                    group: tag.0,
                    label: tag.1,
                    statistic: query.statistic,
                    points,
                }
            })
            .collect();
        Ok(Answers(answers))
    }
}

/// One series a plan got back, with what it was for.
#[derive(Debug)]
pub(crate) struct Answer {
    group: &'static str,
    label: String,
    statistic: Statistic,
    points: Vec<(DateTime<Utc>, f64)>,
}

/// The series a plan got back, by group and label.
#[derive(Debug, Default)]
pub(crate) struct Answers(Vec<Answer>);

impl Answers {
    fn matching<'a>(&'a self, group: &'a str, label: &'a str) -> impl Iterator<Item = &'a Answer> {
        self.0
            .iter()
            .filter(move |a| a.group == group && a.label == label)
    }

    /// The labels of a group, in the order they were asked for.
    pub fn labels(&self, group: &str) -> Vec<String> {
        let mut labels: Vec<String> = Vec::new();
        for a in &self.0 {
            if a.group == group && !labels.contains(&a.label) {
                labels.push(a.label.clone());
            }
        }
        labels
    }

    /// Every value of a group's label over the window, added up (counts) or the largest
    /// (maxima and percentiles: a window's percentile is at most its largest period's).
    pub fn total(&self, group: &str, label: &str) -> Option<f64> {
        let mut total: Option<f64> = None;
        for a in self.matching(group, label) {
            for (_, value) in &a.points {
                total = Some(match (total, a.statistic) {
                    (None, _) => *value,
                    (Some(t), Statistic::Sum | Statistic::SampleCount) => t + value,
                    (Some(t), _) => t.max(*value),
                });
            }
        }
        total
    }

    /// A count: zero when nothing was emitted.
    pub fn count(&self, group: &str, label: &str) -> u64 {
        self.total(group, label).map_or(0, |v| v.round() as u64)
    }

    /// A group's label as one series over time (the functions' values at the same time
    /// added up, or the largest).
    pub fn series(&self, group: &str, label: &str) -> Vec<(DateTime<Utc>, f64)> {
        let mut merged: std::collections::BTreeMap<DateTime<Utc>, f64> = Default::default();
        for a in self.matching(group, label) {
            for (at, value) in &a.points {
                merged
                    .entry(*at)
                    .and_modify(|t| match a.statistic {
                        Statistic::Sum | Statistic::SampleCount => *t += value,
                        _ => *t = t.max(*value),
                    })
                    .or_insert(*value);
            }
        }
        merged.into_iter().collect()
    }
}

//! The ports the monitoring routes read, and the per-business counters the workers write.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};

use super::PortError;
use crate::domain::calls::CallOutcome;
use crate::domain::leads::LeadGrade;
use crate::metrics::{Dimension, Metric};

/// A per-business figure, counted by the hour in one DynamoDB item per business per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Calls(CallOutcome),
    Bookings,
    Changes,
    Cancellations,
    Leads(LeadGrade),
    TextsSent,
    TextsFailed,
    EmailsSent,
    EmailsFailed,
}

impl Figure {
    /// The counter's name: `bookings`, `calls_booked`, `leads_hot`...
    pub fn key(self) -> String {
        match self {
            Figure::Calls(outcome) => format!("calls_{}", outcome.as_str()),
            Figure::Bookings => "bookings".into(),
            Figure::Changes => "changes".into(),
            Figure::Cancellations => "cancellations".into(),
            Figure::Leads(grade) => format!("leads_{}", grade.as_str()),
            Figure::TextsSent => "texts_sent".into(),
            Figure::TextsFailed => "texts_failed".into(),
            Figure::EmailsSent => "emails_sent".into(),
            Figure::EmailsFailed => "emails_failed".into(),
        }
    }
}

/// Counters by name (`Figure::key`).
pub type FigureCounts = BTreeMap<String, u64>;

/// Per-business counters: written by the workers as they do the work (one atomic update per
/// job), read by `/monitoring/metrics?business=`.
pub trait DailyFigures: Send + Sync {
    /// Adds one to each figure, for the business and the UTC hour of `at`.
    fn add(
        &self,
        business_id: &str,
        at: DateTime<Utc>,
        figures: &[Figure],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The business's counters over the whole UTC hours from the hour of `from` to the hour
    /// of `to`, both included.
    fn counts(
        &self,
        business_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<FigureCounts, PortError>> + Send;
}

/// A statistic of a metric over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    Sum,
    Average,
    Maximum,
    SampleCount,
    P50,
    P95,
    P99,
}

impl Statistic {
    /// CloudWatch's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Sum => "Sum",
            Statistic::Average => "Average",
            Statistic::Maximum => "Maximum",
            Statistic::SampleCount => "SampleCount",
            Statistic::P50 => "p50",
            Statistic::P95 => "p95",
            Statistic::P99 => "p99",
        }
    }
}

/// One series to read: a metric with exactly these dimensions (`Function` included; a
/// record's rollup is `Function` alone), and a statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesQuery {
    /// The caller's name for the series (lower case letters, digits and `_`, starting with
    /// a letter, as GetMetricData requires).
    pub id: String,
    pub metric: Metric,
    pub dimensions: Vec<(Dimension, String)>,
    pub statistic: Statistic,
}

/// A series' values, oldest first; periods without data are absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub id: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// One of the deployment's alarms as CloudWatch holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
    /// CloudWatch's reason for the state (no personal data: it quotes metric values).
    pub reason: String,
    pub since: Option<DateTime<Utc>>,
}

/// The metrics and alarms as CloudWatch holds them: GetMetricData and DescribeAlarms in AWS;
/// the EMF lines the functions printed, read back, in the local stack.
pub trait MetricsReader: Send + Sync {
    /// Each query's values from `from` to `to`, in periods of `period`.
    fn series(
        &self,
        queries: &[SeriesQuery],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Duration,
    ) -> impl Future<Output = Result<Vec<Series>, PortError>> + Send;
    /// The deployment's alarms.
    fn alarms(&self) -> impl Future<Output = Result<Vec<AlarmStatus>, PortError>> + Send;
}

/// One component of the system as the health check saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentHealth {
    pub name: String,
    pub healthy: bool,
    /// A short fact: a table's status, a queue's depth, or the error.
    pub detail: String,
    /// A queue's messages waiting, when the component is a queue that answered.
    pub messages: Option<u64>,
}

pub trait HealthProbe: Send + Sync {
    fn check(&self) -> impl Future<Output = Vec<ComponentHealth>> + Send;
}

//! What the functions measure, and how a measurement is written: CloudWatch Embedded Metric
//! Format (EMF), one JSON line on stdout that CloudWatch Logs turns into metrics with no API
//! call and no client at init. Pure: the functions print the line through the `MetricsSink`
//! port; the dev server reads the same lines back (`read_emf`) to serve the monitoring routes
//! locally, as CloudWatch's extraction does in AWS.
//!
//! Dimensions are service-level only (`Function`, and what a metric is broken down by: tool,
//! outcome, reason, channel, grade, queue); per-business figures are DynamoDB daily aggregates
//! (`ports::DailyFigures`), because a business dimension would multiply the custom metrics
//! by the number of businesses.

use std::fmt::Write as _;

/// The CloudWatch unit of a metric, as EMF spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Count,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Milliseconds => "Milliseconds",
            Unit::Count => "Count",
        }
    }
}

/// Every metric a function emits. The name is CloudWatch's metric name; the unit is fixed
/// per metric; the dimensions a record may carry with it are in `dimensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    // Technical.
    /// The webhook's time to answer, by message type.
    RequestLatency,
    /// One tool call's time to answer, by tool.
    ToolLatency,
    /// Tool calls, by tool and outcome (answer, refusal, system-failure).
    ToolCalls,
    /// Requests refused at the gate, by reason (unauthorized, too-large, unsupported-type,
    /// unreadable).
    RejectedRequests,
    /// Calls no business claims.
    UnroutedCalls,
    /// A function instance's first invocation.
    ColdStarts,
    /// How long a job waited in its queue before a worker picked it up, by queue.
    JobAge,
    /// Jobs picked up again after a failure (receive count above one), by queue.
    Retries,
    /// Jobs that failed and go back to their queue, by queue.
    JobFailures,
    /// A provider's circuit breaker opening, by channel.
    BreakerOpens,
    // Business.
    /// Finished calls, by outcome.
    Calls,
    Bookings,
    /// Bookings moved to another time.
    Changes,
    Cancellations,
    /// Leads captured, by grade.
    Leads,
    /// Texts and emails sent, by channel.
    Sent,
    /// Texts and emails that failed, by channel and reason class.
    SendFailures,
    /// Customers' texts (two-way SMS), by what they asked for (`Reply`).
    SmsReplies,
}

impl Metric {
    pub const ALL: [Metric; 18] = [
        Metric::RequestLatency,
        Metric::ToolLatency,
        Metric::ToolCalls,
        Metric::RejectedRequests,
        Metric::UnroutedCalls,
        Metric::ColdStarts,
        Metric::JobAge,
        Metric::Retries,
        Metric::JobFailures,
        Metric::BreakerOpens,
        Metric::Calls,
        Metric::Bookings,
        Metric::Changes,
        Metric::Cancellations,
        Metric::Leads,
        Metric::Sent,
        Metric::SendFailures,
        Metric::SmsReplies,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::RequestLatency => "RequestLatency",
            Metric::ToolLatency => "ToolLatency",
            Metric::ToolCalls => "ToolCalls",
            Metric::RejectedRequests => "RejectedRequests",
            Metric::UnroutedCalls => "UnroutedCalls",
            Metric::ColdStarts => "ColdStarts",
            Metric::JobAge => "JobAge",
            Metric::Retries => "Retries",
            Metric::JobFailures => "JobFailures",
            Metric::BreakerOpens => "BreakerOpens",
            Metric::Calls => "Calls",
            Metric::Bookings => "Bookings",
            Metric::Changes => "Changes",
            Metric::Cancellations => "Cancellations",
            Metric::Leads => "Leads",
            Metric::Sent => "Sent",
            Metric::SendFailures => "SendFailures",
            Metric::SmsReplies => "SmsReplies",
        }
    }

    pub fn named(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::RequestLatency | Metric::ToolLatency | Metric::JobAge => Unit::Milliseconds,
            _ => Unit::Count,
        }
    }

    /// The dimensions (besides `Function`) a record of this metric is broken down by.
    pub fn dimensions(self) -> &'static [Dimension] {
        match self {
            Metric::RequestLatency => &[Dimension::MessageType],
            Metric::ToolLatency => &[Dimension::Tool],
            Metric::ToolCalls => &[Dimension::Tool, Dimension::Outcome],
            Metric::RejectedRequests => &[Dimension::Reason],
            Metric::JobAge | Metric::Retries | Metric::JobFailures => &[Dimension::Queue],
            Metric::BreakerOpens | Metric::Sent => &[Dimension::Channel],
            Metric::Calls => &[Dimension::Outcome],
            Metric::Leads => &[Dimension::Grade],
            Metric::SendFailures => &[Dimension::Channel, Dimension::Reason],
            Metric::SmsReplies => &[Dimension::Reply],
            Metric::UnroutedCalls
            | Metric::ColdStarts
            | Metric::Bookings
            | Metric::Changes
            | Metric::Cancellations => &[],
        }
    }
}

/// A dimension's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Function,
    MessageType,
    Tool,
    Outcome,
    Reason,
    Channel,
    Grade,
    Queue,
    /// What a customer's text asked for (`SmsReply::as_str`).
    Reply,
}

impl Dimension {
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Function => "Function",
            Dimension::MessageType => "MessageType",
            Dimension::Tool => "Tool",
            Dimension::Outcome => "Outcome",
            Dimension::Reason => "Reason",
            Dimension::Channel => "Channel",
            Dimension::Grade => "Grade",
            Dimension::Queue => "Queue",
            Dimension::Reply => "Reply",
        }
    }

    pub fn named(name: &str) -> Option<Dimension> {
        [
            Dimension::Function,
            Dimension::MessageType,
            Dimension::Tool,
            Dimension::Outcome,
            Dimension::Reason,
            Dimension::Channel,
            Dimension::Grade,
            Dimension::Queue,
            Dimension::Reply,
        ]
        .into_iter()
        .find(|d| d.name() == name)
    }
}

/// One metric's value with the values of its dimensions: `Measurement::new(Metric::ToolCalls,
/// 1.0).by(Dimension::Tool, "bookAppointment").by(Dimension::Outcome, "answer")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub metric: Metric,
    pub value: f64,
    pub dimensions: Vec<(Dimension, String)>,
}

impl Measurement {
    pub fn new(metric: Metric, value: f64) -> Self {
        Self {
            metric,
            value,
            dimensions: Vec::new(),
        }
    }

    pub fn count(metric: Metric) -> Self {
        Self::new(metric, 1.0)
    }

    pub fn by(mut self, dimension: Dimension, value: impl Into<String>) -> Self {
        self.dimensions.push((dimension, value.into()));
        self
    }

    /// The value of one of its dimensions.
    pub fn dimension(&self, dimension: Dimension) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(d, _)| *d == dimension)
            .map(|(_, v)| v.as_str())
    }
}

/// Where measurements go: in Lambda, EMF lines on stdout (callbook-aws `EmfLog`); in tests,
/// a list. Sync and infallible: a lost metric must never fail a request.
pub trait MetricsSink: Send + Sync {
    fn emit(&self, function: &str, measurements: &[Measurement]);
}

/// Whether an instance's first invocation is still to come: each handler holds one, built
/// with it, so `ColdStarts` counts instances (in Lambda one per process; in the dev server,
/// where every function shares the process, one per function).
#[derive(Debug, Default)]
pub struct ColdStart(std::sync::atomic::AtomicBool);

impl ColdStart {
    /// True the first time only.
    pub fn first(&self) -> bool {
        !self.0.swap(true, std::sync::atomic::Ordering::Relaxed)
    }

    /// `ColdStarts` for the first invocation, nothing after.
    pub fn measure(&self) -> Option<Measurement> {
        self.first().then(|| Measurement::count(Metric::ColdStarts))
    }
}

/// The `Reason` of a `SendFailures` value when the provider failed (a transient failure,
/// retried), beside the classes of `SendFailure` (the recipient can never get it).
pub const PROVIDER_UNAVAILABLE: &str = "unavailable";

/// EMF's limits per record.
pub const MAX_METRICS_PER_RECORD: usize = 100;
pub const MAX_DIMENSIONS_PER_SET: usize = 30;
pub const MAX_VALUES_PER_METRIC: usize = 100;

/// A record's metrics, each with its values.
type MetricValues = Vec<(Metric, Vec<f64>)>;

/// The EMF lines for `measurements` at `timestamp_ms`: one record per distinct set of
/// dimension values (EMF keeps dimension values at the record's root), each declaring its
/// metrics twice: by `Function` and its own dimensions, and by `Function` alone (the rollup
/// alarms read). Values of one metric in one record are an array, as EMF allows.
pub fn emf_lines(
    namespace: &str,
    function: &str,
    timestamp_ms: i64,
    measurements: &[Measurement],
) -> Vec<String> {
    // Group by (dimension values), keeping the order of first appearance; a metric holds at
    // most MAX_VALUES_PER_METRIC values per record, the rest go to the next record.
    let mut groups: Vec<(&[(Dimension, String)], MetricValues)> = Vec::new();
    for m in measurements {
        let has_room = |(d, metrics): &(&[(Dimension, String)], MetricValues)| {
            *d == m.dimensions.as_slice()
                && metrics
                    .iter()
                    .find(|(metric, _)| *metric == m.metric)
                    .is_none_or(|(_, values)| values.len() < MAX_VALUES_PER_METRIC)
        };
        let at = match groups.iter().position(has_room) {
            Some(at) => at,
            None => {
                groups.push((m.dimensions.as_slice(), Vec::new()));
                groups.len() - 1
            }
        };
        let group = &mut groups[at];
        match group.1.iter_mut().find(|(metric, _)| *metric == m.metric) {
            Some((_, values)) => values.push(m.value),
            None => group.1.push((m.metric, vec![m.value])),
        }
    }
    let mut lines = Vec::new();
    for (dimensions, metrics) in groups {
        for chunk in metrics.chunks(MAX_METRICS_PER_RECORD) {
            lines.push(emf_record(
                namespace,
                function,
                timestamp_ms,
                dimensions,
                chunk,
            ));
        }
    }
    lines
}

/// One record, written straight into its line: the webhook emits a few per request on its
/// hot path, where building it as a `serde_json::Value` tree cost several microseconds.
/// Names are ours (plain identifiers); the namespace, function and dimension values are
/// escaped as JSON strings.
fn emf_record(
    namespace: &str,
    function: &str,
    timestamp_ms: i64,
    dimensions: &[(Dimension, String)],
    metrics: &[(Metric, Vec<f64>)],
) -> String {
    let function_name = Dimension::Function.name();
    let mut line = String::with_capacity(256);
    let _ = write!(
        line,
        "{{\"_aws\":{{\"Timestamp\":{timestamp_ms},\"CloudWatchMetrics\":[{{\"Namespace\":"
    );
    push_json_str(&mut line, namespace);
    let _ = write!(line, ",\"Dimensions\":[[\"{function_name}\"");
    for (d, _) in dimensions {
        let _ = write!(line, ",\"{}\"", d.name());
    }
    line.push(']');
    if !dimensions.is_empty() {
        let _ = write!(line, ",[\"{function_name}\"]");
    }
    line.push_str("],\"Metrics\":[");
    for (i, (m, _)) in metrics.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        let _ = write!(
            line,
            "{comma}{{\"Name\":\"{}\",\"Unit\":\"{}\"}}",
            m.name(),
            m.unit().as_str()
        );
    }
    let _ = write!(line, "]}}]}},\"{function_name}\":");
    push_json_str(&mut line, function);
    for (d, v) in dimensions {
        let _ = write!(line, ",\"{}\":", d.name());
        push_json_str(&mut line, v);
    }
    for (m, values) in metrics {
        let _ = write!(line, ",\"{}\":", m.name());
        match values.as_slice() {
            [one] => push_number(&mut line, *one),
            many => {
                line.push('[');
                for (i, v) in many.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    push_number(&mut line, *v);
                }
                line.push(']');
            }
        }
    }
    line.push('}');
    line
}

/// `s` as a JSON string literal.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A value as a JSON number. Ours are latencies and counts, always finite; a value that is
/// not (JSON has no NaN) is written 0 so the line stays readable.
fn push_number(out: &mut String, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.push('0');
    }
}

mod read;
pub use read::{Datapoint, EmfError, read_emf};

#[cfg(test)]
mod tests;

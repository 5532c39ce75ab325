//! `GET /monitoring/metrics?timeframe=1h|24h|7d[&business=<id>]`: the business figures of a
//! window. Service-wide they are the business metrics in CloudWatch; for one business, its
//! daily figures (DynamoDB counters by the hour: CloudWatch has no business dimension).

use std::collections::BTreeMap;

use callbook_core::{
    Clock, DailyFigures, Dimension, Figure, FigureCounts, Metric, MetricsReader, PortError,
    Statistic,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::edge::{Timeframe, json_response, unavailable};
use crate::queries::{CHANNELS, FUNCTIONS, GRADES, OUTCOMES, Plan, send_failure_reasons};
use crate::{Monitoring, MonitoringPorts};

/// A window's figures, the same whether they come from CloudWatch or a business's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct BusinessFigures {
    pub calls_by_outcome: BTreeMap<String, u64>,
    pub bookings: u64,
    pub changes: u64,
    pub cancellations: u64,
    pub leads_by_grade: BTreeMap<String, u64>,
    pub sent_by_channel: BTreeMap<String, u64>,
    pub failed_by_channel: BTreeMap<String, u64>,
    /// Failed sends whatever their channel (service-wide, CloudWatch's own total).
    pub failed: u64,
    /// Calls whatever their outcome (service-wide, CloudWatch's own total).
    pub calls: u64,
}

impl BusinessFigures {
    pub fn leads(&self) -> u64 {
        self.leads_by_grade.values().sum()
    }

    pub fn sent(&self) -> u64 {
        self.sent_by_channel.values().sum()
    }

    /// Bookings per call; none without calls.
    pub fn conversion(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.bookings as f64 / self.calls as f64)
    }

    /// One business's counters (`Figure::key` names).
    pub fn from_counts(counts: &FigureCounts) -> Self {
        let get = |figure: Figure| counts.get(&figure.key()).copied().unwrap_or(0);
        let calls_by_outcome: BTreeMap<String, u64> = OUTCOMES
            .iter()
            .map(|o| (o.as_str().to_string(), get(Figure::Calls(*o))))
            .collect();
        let failed_by_channel = BTreeMap::from([
            ("sms".to_string(), get(Figure::TextsFailed)),
            ("email".to_string(), get(Figure::EmailsFailed)),
        ]);
        Self {
            calls: calls_by_outcome.values().sum(),
            calls_by_outcome,
            bookings: get(Figure::Bookings),
            changes: get(Figure::Changes),
            cancellations: get(Figure::Cancellations),
            leads_by_grade: GRADES
                .iter()
                .map(|g| (g.as_str().to_string(), get(Figure::Leads(*g))))
                .collect(),
            sent_by_channel: BTreeMap::from([
                ("sms".to_string(), get(Figure::TextsSent)),
                ("email".to_string(), get(Figure::EmailsSent)),
            ]),
            failed: failed_by_channel.values().sum(),
            failed_by_channel,
        }
    }

    /// The service's business metrics over a window, from CloudWatch.
    pub async fn service_wide(
        reader: &impl MetricsReader,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Duration,
    ) -> Result<Self, PortError> {
        let mut plan = Plan::default();
        for (label, metric) in [
            ("calls", Metric::Calls),
            ("bookings", Metric::Bookings),
            ("changes", Metric::Changes),
            ("cancellations", Metric::Cancellations),
            ("failed", Metric::SendFailures),
        ] {
            plan.add_everywhere("total", label, metric);
        }
        for function in FUNCTIONS {
            let by = |d: Dimension, v| [(Dimension::Function, function), (d, v)];
            for outcome in OUTCOMES {
                let dims = by(Dimension::Outcome, outcome.as_str());
                plan.add(
                    "calls",
                    outcome.as_str(),
                    Metric::Calls,
                    &dims,
                    Statistic::Sum,
                );
            }
            for grade in GRADES {
                let dims = by(Dimension::Grade, grade.as_str());
                plan.add(
                    "leads",
                    grade.as_str(),
                    Metric::Leads,
                    &dims,
                    Statistic::Sum,
                );
            }
            for channel in CHANNELS {
                let dims = by(Dimension::Channel, channel);
                plan.add("sent", channel, Metric::Sent, &dims, Statistic::Sum);
                for reason in send_failure_reasons() {
                    let dims = [
                        (Dimension::Function, function),
                        (Dimension::Channel, channel),
                        (Dimension::Reason, reason),
                    ];
                    plan.add(
                        "failed",
                        channel,
                        Metric::SendFailures,
                        &dims,
                        Statistic::Sum,
                    );
                }
            }
        }
        let answers = plan.run(reader, from, to, period).await?;
        let by = |group: &str, labels: &mut dyn Iterator<Item = &str>| {
            labels
                .map(|l| (l.to_string(), answers.count(group, l)))
                .collect::<BTreeMap<String, u64>>()
        };
        Ok(Self {
            calls_by_outcome: by("calls", &mut OUTCOMES.iter().map(|o| o.as_str())),
            bookings: answers.count("total", "bookings"),
            changes: answers.count("total", "changes"),
            cancellations: answers.count("total", "cancellations"),
            leads_by_grade: by("leads", &mut GRADES.iter().map(|g| g.as_str())),
            sent_by_channel: by("sent", &mut CHANNELS.into_iter()),
            failed_by_channel: by("failed", &mut CHANNELS.into_iter()),
            failed: answers.count("total", "failed"),
            calls: answers.count("total", "calls"),
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "calls": { "total": self.calls, "byOutcome": self.calls_by_outcome },
            "bookings": self.bookings,
            "conversion": self.conversion(),
            "changes": self.changes,
            "cancellations": self.cancellations,
            "leads": { "total": self.leads(), "byGrade": self.leads_by_grade },
            "sends": { "total": self.sent(), "byChannel": self.sent_by_channel },
            "failures": { "total": self.failed, "byChannel": self.failed_by_channel },
        })
    }
}

impl<P: MonitoringPorts> Monitoring<P> {
    pub(crate) async fn metrics_report(
        &self,
        timeframe: Timeframe,
        business: Option<&str>,
    ) -> Response<Body> {
        let to = self.clock.now();
        let from = to - timeframe.window();
        let figures = match business {
            Some(id) => self
                .figures
                .counts(id, from, to)
                .await
                .map(|counts| BusinessFigures::from_counts(&counts)),
            None => {
                BusinessFigures::service_wide(&self.metrics, from, to, timeframe.period()).await
            }
        };
        let figures = match figures {
            Ok(figures) => figures,
            Err(e) => return unavailable(&e),
        };
        let mut body = figures.to_json();
        body["timeframe"] = json!(timeframe.as_str());
        // A business's figures are counted by whole UTC hours: its window starts at the top
        // of the hour `from` falls in, and says so.
        let from = match business {
            Some(_) => from.duration_trunc(Duration::hours(1)).unwrap_or(from),
            None => from,
        };
        body["from"] = json!(from.to_rfc3339());
        body["to"] = json!(to.to_rfc3339());
        body["scope"] = match business {
            Some(id) => json!({ "business": id }),
            None => json!("service"),
        };
        json_response(StatusCode::OK, &body)
    }
}

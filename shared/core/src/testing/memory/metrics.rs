//! Metrics in memory: what a function emitted, per-business counters, and a reader that
//! answers from recorded datapoints as CloudWatch would (the dev server feeds it the EMF
//! lines the functions print).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};

use super::lock;
use crate::metrics::{Datapoint, Measurement, Metric, MetricsSink};
use crate::ports::{
    AlarmStatus, DailyFigures, Figure, FigureCounts, MetricsReader, PortError, Series, SeriesQuery,
    Statistic,
};

/// Every measurement emitted, with its function.
#[derive(Debug, Default)]
pub struct MemoryMetrics {
    emitted: Mutex<Vec<(String, Measurement)>>,
}

impl MemoryMetrics {
    pub fn emitted(&self) -> Vec<(String, Measurement)> {
        lock(&self.emitted).clone()
    }

    /// The sum of a metric's values (a count: how many were emitted).
    pub fn total(&self, metric: Metric) -> f64 {
        lock(&self.emitted)
            .iter()
            .filter(|(_, m)| m.metric == metric)
            .map(|(_, m)| m.value)
            .sum()
    }
}

impl MetricsSink for MemoryMetrics {
    fn emit(&self, function: &str, measurements: &[Measurement]) {
        lock(&self.emitted).extend(
            measurements
                .iter()
                .map(|m| (function.to_string(), m.clone())),
        );
    }
}

/// Counters per business and UTC hour.
#[derive(Debug, Default)]
pub struct MemoryFigures {
    counts: Mutex<BTreeMap<(String, DateTime<Utc>), FigureCounts>>,
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

impl DailyFigures for MemoryFigures {
    async fn add(
        &self,
        business_id: &str,
        at: DateTime<Utc>,
        figures: &[Figure],
    ) -> Result<(), PortError> {
        let mut counts = lock(&self.counts);
        let hour = counts
            .entry((business_id.to_string(), hour_of(at)))
            .or_default();
        for figure in figures {
            *hour.entry(figure.key()).or_default() += 1;
        }
        Ok(())
    }

    async fn counts(
        &self,
        business_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<FigureCounts, PortError> {
        let (from, to) = (hour_of(from), hour_of(to));
        let mut total = FigureCounts::new();
        for ((business, hour), counts) in lock(&self.counts).iter() {
            if business == business_id && *hour >= from && *hour <= to {
                for (key, n) in counts {
                    *total.entry(key.clone()).or_default() += n;
                }
            }
        }
        Ok(total)
    }
}

/// Answers `MetricsReader` from datapoints (CloudWatch's view of the EMF lines), with the
/// alarms it is given.
#[derive(Debug, Default)]
pub struct RecordedMetrics {
    points: Mutex<Vec<Datapoint>>,
    alarms: Mutex<Vec<AlarmStatus>>,
}

impl RecordedMetrics {
    pub fn record(&self, points: impl IntoIterator<Item = Datapoint>) {
        lock(&self.points).extend(points);
    }

    pub fn set_alarms(&self, alarms: Vec<AlarmStatus>) {
        *lock(&self.alarms) = alarms;
    }
}

/// The statistic of some values (nearest-rank percentiles, as CloudWatch reports them for
/// raw values).
pub fn statistic(statistic: Statistic, values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let rank = |p: f64| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
    Some(match statistic {
        Statistic::Sum => values.iter().sum(),
        Statistic::Average => values.iter().sum::<f64>() / n as f64,
        Statistic::Maximum => values[n - 1],
        Statistic::SampleCount => n as f64,
        Statistic::P50 => rank(0.50),
        Statistic::P95 => rank(0.95),
        Statistic::P99 => rank(0.99),
    })
}

impl MetricsReader for RecordedMetrics {
    async fn series(
        &self,
        queries: &[SeriesQuery],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Duration,
    ) -> Result<Vec<Series>, PortError> {
        let points = lock(&self.points);
        let period_ms = period.num_milliseconds().max(1);
        let start_ms = from.timestamp_millis();
        Ok(queries
            .iter()
            .map(|query| {
                let mut wanted = query.dimensions.clone();
                wanted.sort();
                let mut buckets: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                for p in points.iter() {
                    let mut dimensions = p.dimensions.clone();
                    dimensions.sort();
                    if p.metric == query.metric
                        && dimensions == wanted
                        && p.timestamp_ms >= start_ms
                        && p.timestamp_ms < to.timestamp_millis()
                    {
                        let bucket = start_ms + (p.timestamp_ms - start_ms) / period_ms * period_ms;
                        buckets.entry(bucket).or_default().push(p.value);
                    }
                }
                let points = buckets
                    .into_iter()
                    .filter_map(|(at, mut values)| {
                        let at = Utc.timestamp_millis_opt(at).single()?;
                        Some((at, statistic(query.statistic, &mut values)?))
                    })
                    .collect();
                Series {
                    id: query.id.clone(),
                    points,
                }
            })
            .collect())
    }

    async fn alarms(&self) -> Result<Vec<AlarmStatus>, PortError> {
        Ok(lock(&self.alarms).clone())
    }
}

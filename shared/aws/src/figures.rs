//! Per-business daily figures on DynamoDB: one item per business per UTC day in the
//! businesses table (`pk = BIZ#<business>#FIGURES`, `sk = FIGURES#<yyyy-mm-dd>`), a key of
//! their own so the workers may write them and nothing else of the business, with a counter per figure for the day (`bookings`) and per hour
//! (`h07_bookings`, the hour 07:00-07:59 UTC).
//!
//! A job's figures are one UpdateItem (`ADD`, which creates the item and the counters), so
//! a worker pays one write per job, never a read. A range is one BatchGetItem over the days
//! it covers, summing the hours in range (a whole day from its day counter).
//!
//! `ADD` is not idempotent: the workers add a job's figures once, where the work is first
//! done, and never retry a failed add (see the workers' `count`); only the SDK's own retry
//! of a write whose answer was lost can count one twice, which a figure for operators
//! tolerates (the bookings themselves are never doubled by it).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use callbook_core::{DailyFigures, Figure, FigureCounts, Measurement, MetricsSink, PortError};
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Timelike, Utc};

use crate::sdk_message;

/// A job's business metrics and its business's figures, counted where its work is first
/// done (never on a repeat that finds it done). The add is not retried and its failure does
/// not fail the job: a job failed for it would be redelivered, find its work done and count
/// nothing, so the figure would be lost either way, and a notification would risk a second
/// send. A lost add is logged: the figure undercounts by one, the work itself stands.
pub async fn count_done(
    metrics: &impl MetricsSink,
    figures: &impl DailyFigures,
    function: &str,
    business_id: &str,
    at: DateTime<Utc>,
    measured: &[Measurement],
    counted: &[Figure],
) {
    metrics.emit(function, measured);
    if let Err(e) = figures.add(business_id, at, counted).await {
        tracing::warn!(business = %business_id, error = %e, "daily figures not added: they undercount");
    }
}

#[derive(Debug, Clone)]
pub struct DynamoFigures {
    client: Client,
    table: String,
}

impl DynamoFigures {
    /// On the businesses table.
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }
}

type Item = HashMap<String, AttributeValue>;

/// The item of a business's day.
pub fn figures_key(business_id: &str, day: NaiveDate) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(format!("BIZ#{business_id}#FIGURES")),
        ),
        (
            "sk".to_string(),
            AttributeValue::S(format!("FIGURES#{}", day.format("%Y-%m-%d"))),
        ),
    ])
}

/// The hourly counter's name: `h07_bookings`.
fn hourly(hour: u32, key: &str) -> String {
    format!("h{hour:02}_{key}")
}

/// An hourly counter's hour and figure, or `None` for any other attribute.
fn read_hourly(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix('h')?;
    let (hour, key) = rest.split_once('_')?;
    if hour.len() != 2 {
        return None;
    }
    let hour: u32 = hour.parse().ok()?;
    (hour < 24).then_some((hour, key))
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

fn count_of(value: &AttributeValue) -> u64 {
    value.as_n().ok().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// BatchGetItem's limit of keys per request.
const BATCH_KEYS: usize = 100;
/// Rounds for keys DynamoDB leaves unprocessed (throttling) before the read fails.
const BATCH_ROUNDS: usize = 5;

impl DailyFigures for DynamoFigures {
    async fn add(
        &self,
        business_id: &str,
        at: DateTime<Utc>,
        figures: &[Figure],
    ) -> Result<(), PortError> {
        // The same figure twice in one job is one counter added to twice: paths in one
        // update expression may not repeat.
        let mut added: BTreeMap<String, u64> = BTreeMap::new();
        for figure in figures {
            *added.entry(figure.key()).or_default() += 1;
        }
        if added.is_empty() {
            return Ok(());
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(figures_key(business_id, at.date_naive())));
        let mut clauses = Vec::with_capacity(added.len() * 2);
        for (i, (key, n)) in added.iter().enumerate() {
            clauses.push(format!("#d{i} :n{i}, #h{i} :n{i}"));
            update = update
                .expression_attribute_names(format!("#d{i}"), key)
                .expression_attribute_names(format!("#h{i}"), hourly(at.hour(), key))
                .expression_attribute_values(format!(":n{i}"), AttributeValue::N(n.to_string()));
        }
        update
            .update_expression(format!("ADD {}", clauses.join(", ")))
            .send()
            .await
            .map_err(|e| PortError::unavailable("add figures", sdk_message(&e)))?;
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
        if to < from {
            return Ok(total);
        }
        let days: Vec<NaiveDate> = from
            .date_naive()
            .iter_days()
            .take_while(|day| *day <= to.date_naive())
            .collect();
        for chunk in days.chunks(BATCH_KEYS) {
            for item in self.read_days(business_id, chunk).await? {
                let day = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| sk.strip_prefix("FIGURES#"))
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                let Some(day) = day else { continue };
                let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
                let whole_day = start >= from && start + Duration::hours(23) <= to;
                for (name, value) in &item {
                    match read_hourly(name) {
                        Some((hour, key)) if !whole_day => {
                            let at = start + Duration::hours(i64::from(hour));
                            if at >= from && at <= to {
                                *total.entry(key.to_string()).or_default() += count_of(value);
                            }
                        }
                        Some(_) => {}
                        None if whole_day && name != "pk" && name != "sk" => {
                            *total.entry(name.clone()).or_default() += count_of(value);
                        }
                        None => {}
                    }
                }
            }
        }
        Ok(total)
    }
}

impl DynamoFigures {
    /// The items of these days (absent days have none), in one BatchGetItem, with the keys it
    /// leaves unprocessed asked again.
    async fn read_days(
        &self,
        business_id: &str,
        days: &[NaiveDate],
    ) -> Result<Vec<Item>, PortError> {
        let unreadable = |e: String| PortError::unavailable("read figures", e);
        let mut keys: Vec<Item> = days.iter().map(|d| figures_key(business_id, *d)).collect();
        let mut items = Vec::new();
        for _ in 0..BATCH_ROUNDS {
            if keys.is_empty() {
                return Ok(items);
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .build()
                .map_err(|e| unreadable(e.to_string()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| unreadable(sdk_message(&e)))?;
            if let Some(mut responses) = out.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            keys = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if keys.is_empty() {
            Ok(items)
        } else {
            Err(unreadable(format!("{} days left unread", keys.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_counters_are_named_and_read_back() {
        assert_eq!(hourly(7, "calls_booked"), "h07_calls_booked");
        assert_eq!(read_hourly("h07_calls_booked"), Some((7, "calls_booked")));
        assert_eq!(read_hourly("h23_bookings"), Some((23, "bookings")));
        for other in ["bookings", "h7_bookings", "h24_bookings", "hx1_a", "pk"] {
            assert_eq!(read_hourly(other), None, "{other}");
        }
    }
}

//! DailyFigures on DynamoDB: one item per business per UTC day in the businesses table,
//! beside the business's profile: `pk = BIZ#<business>`, `sk = FIGURES#<yyyy-mm-dd>`, with
//! one counter per figure for the day (`bookings`) and one per UTC hour (`h09_bookings`).
//!
//! A job adds to both with one UpdateItem (`ADD` creates what is missing, atomically); a
//! report reads the days of its window with one Query and sums the hours inside it.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use callbook_core::{DailyFigures, Figure, FigureCounts, PortError};
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Timelike, Utc};

use crate::sdk_message;

#[derive(Debug, Clone)]
pub struct DynamoFigures {
    client: Client,
    table: String,
}

impl DynamoFigures {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }
}

pub fn figures_pk(business_id: &str) -> String {
    format!("BIZ#{business_id}")
}

pub fn figures_sk(day: NaiveDate) -> String {
    format!("FIGURES#{}", day.format("%Y-%m-%d"))
}

/// The attribute counting `key` in one UTC hour: `h09_bookings`.
pub fn hour_attribute(hour: u32, key: &str) -> String {
    format!("h{hour:02}_{key}")
}

/// Reads `h09_bookings` back as (9, "bookings").
fn parse_hour_attribute(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix('h')?;
    let (hour, key) = rest.split_once('_')?;
    let hour: u32 = hour.parse().ok().filter(|h| *h < 24 && hour.len() == 2)?;
    Some((hour, key))
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

impl DailyFigures for DynamoFigures {
    async fn add(
        &self,
        business_id: &str,
        at: DateTime<Utc>,
        figures: &[Figure],
    ) -> Result<(), PortError> {
        if figures.is_empty() {
            return Ok(());
        }
        // One `ADD` per attribute; a figure named twice adds twice.
        let mut amounts: Vec<(String, i64)> = Vec::new();
        for figure in figures {
            let key = figure.key();
            for name in [key.clone(), hour_attribute(at.hour(), &key)] {
                match amounts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, amount)) => *amount += 1,
                    None => amounts.push((name, 1)),
                }
            }
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(figures_pk(business_id)))
            .key("sk", AttributeValue::S(figures_sk(at.date_naive())));
        let mut clauses = Vec::new();
        for (i, (name, amount)) in amounts.into_iter().enumerate() {
            clauses.push(format!("#a{i} :v{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(
                    format!(":v{i}"),
                    AttributeValue::N(amount.to_string()),
                );
        }
        update
            .update_expression(format!("ADD {}", clauses.join(", ")))
            .send()
            .await
            .map_err(|e| PortError::unavailable("count the figures", sdk_message(&e)))?;
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
        let mut start_key: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", AttributeValue::S(figures_pk(business_id)))
                .expression_attribute_values(
                    ":from",
                    AttributeValue::S(figures_sk(from.date_naive())),
                )
                .expression_attribute_values(":to", AttributeValue::S(figures_sk(to.date_naive())))
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| PortError::unavailable("read the figures", sdk_message(&e)))?;
            for item in page.items() {
                add_hours_in_window(item, from, to, &mut total)?;
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start_key = Some(key.clone()),
                _ => break,
            }
        }
        Ok(total)
    }
}

/// Adds an item's hourly counters that fall from `from` to `to` (whole hours) to `total`.
fn add_hours_in_window(
    item: &HashMap<String, AttributeValue>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    total: &mut FigureCounts,
) -> Result<(), PortError> {
    let corrupt = |message: String| PortError::Corrupt {
        what: "daily figures",
        message,
    };
    let day = item
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| sk.strip_prefix("FIGURES#"))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| corrupt("an item without a FIGURES#<day> key".into()))?;
    for (name, value) in item {
        let Some((hour, key)) = parse_hour_attribute(name) else {
            continue;
        };
        let at = day
            .and_hms_opt(hour, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| corrupt(format!("{name}: no such hour")))?;
        if at < from || at > to {
            continue;
        }
        let n: u64 = value
            .as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| corrupt(format!("{name} is not a count")))?;
        *total.entry(key.to_string()).or_default() += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn hourly_counters_inside_the_window_are_summed_by_figure() {
        let item = HashMap::from([
            ("pk".to_string(), AttributeValue::S("BIZ#smile".into())),
            (
                "sk".to_string(),
                AttributeValue::S("FIGURES#2026-11-24".into()),
            ),
            ("bookings".to_string(), AttributeValue::N("5".into())),
            ("h08_bookings".to_string(), AttributeValue::N("2".into())),
            ("h09_bookings".to_string(), AttributeValue::N("3".into())),
            (
                "h09_calls_booked".to_string(),
                AttributeValue::N("4".into()),
            ),
        ]);
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 24, h, 0, 0).unwrap();
        let mut total = FigureCounts::new();
        add_hours_in_window(&item, at(9), at(10), &mut total).unwrap();
        assert_eq!(
            total,
            FigureCounts::from([("bookings".into(), 3), ("calls_booked".into(), 4)])
        );
        let mut all_day = FigureCounts::new();
        add_hours_in_window(&item, at(0), at(23), &mut all_day).unwrap();
        assert_eq!(all_day["bookings"], 5, "the hours add up to the day");
        assert_eq!(parse_hour_attribute("h24_bookings"), None);
        assert_eq!(parse_hour_attribute("h9_bookings"), None);
        assert_eq!(hour_attribute(9, "leads_hot"), "h09_leads_hot");
    }

    #[test]
    fn a_counter_that_is_not_a_number_is_corrupt() {
        let item = HashMap::from([
            (
                "sk".to_string(),
                AttributeValue::S("FIGURES#2026-11-24".into()),
            ),
            ("h09_bookings".to_string(), AttributeValue::S("many".into())),
        ]);
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 24, h, 0, 0).unwrap();
        assert!(matches!(
            add_hours_in_window(&item, at(0), at(23), &mut FigureCounts::new()),
            Err(PortError::Corrupt { .. })
        ));
    }
}

//! Quotas on DynamoDB: one item per quota key in the idempotency table (keys `quota#...`, so
//! the webhook's IAM policy can allow exactly those), with the units used, the takers granted
//! (a string set: a retried request is granted again without counting twice) and `expiresAt`,
//! when the window ends (also the table's TTL attribute).
//!
//! One conditional UpdateItem in the usual case: it creates the item or adds a unit, only if
//! the window is open, has room and has not granted this taker. When it is refused, one
//! consistent read says why: granted before, exhausted, or an expired window (TTL deletes
//! late, and never in moto), which a conditional put starts again.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use callbook_core::{PortError, QuotaTaken, Quotas};
use chrono::{DateTime, Utc};

use crate::sdk_message;

#[derive(Debug, Clone)]
pub struct DynamoQuotas {
    client: Client,
    table: String,
}

impl DynamoQuotas {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn used_of(item: &HashMap<String, AttributeValue>) -> u32 {
    item.get("used")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// What a refused update found.
enum Found {
    Granted(u32),
    Exhausted,
    Expired,
    Gone,
}

/// Tries before a quota so contended that every attempt lost a race is reported unavailable.
const ATTEMPTS: usize = 3;

impl DynamoQuotas {
    async fn add_unit(
        &self,
        key: &str,
        taker: &str,
        limit: u32,
        window_ends: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression(
                "SET #used = if_not_exists(#used, :zero) + :one, #ends = if_not_exists(#ends, :ends) ADD #takers :taker",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#ends > :now AND #used < :limit AND NOT contains(#takers, :who))",
            )
            .expression_attribute_names("#used", "used")
            .expression_attribute_names("#ends", "expiresAt")
            .expression_attribute_names("#takers", "takers")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ends", n(window_ends.timestamp()))
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .expression_attribute_values(":taker", AttributeValue::Ss(vec![taker.to_string()]))
            .expression_attribute_values(":who", s(taker))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(out.attributes.as_ref().map_or(1, used_of))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(PortError::unavailable("take quota", sdk_message(&e))),
        }
    }

    async fn found(&self, key: &str, taker: &str, now: DateTime<Utc>) -> Result<Found, PortError> {
        let Some(item) = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| PortError::unavailable("read quota", sdk_message(&e)))?
            .item
        else {
            return Ok(Found::Gone);
        };
        let ends = item
            .get("expiresAt")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        if ends <= now.timestamp() {
            return Ok(Found::Expired);
        }
        let granted = item
            .get("takers")
            .and_then(|v| v.as_ss().ok())
            .is_some_and(|takers| takers.iter().any(|t| t == taker));
        Ok(if granted {
            Found::Granted(used_of(&item))
        } else {
            Found::Exhausted
        })
    }

    /// Starts an expired window again with this taker's unit.
    async fn restart(
        &self,
        key: &str,
        taker: &str,
        window_ends: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("used", n(1))
            .item("takers", AttributeValue::Ss(vec![taker.to_string()]))
            .item("expiresAt", n(window_ends.timestamp()))
            .condition_expression("attribute_not_exists(pk) OR expiresAt <= :now")
            .expression_attribute_values(":now", n(now.timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(PortError::unavailable("restart quota", sdk_message(&e))),
        }
    }
}

impl Quotas for DynamoQuotas {
    async fn take(
        &self,
        key: &str,
        taker: &str,
        limit: u32,
        window_ends: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<QuotaTaken, PortError> {
        if limit == 0 {
            return Ok(QuotaTaken::Exhausted);
        }
        for _ in 0..ATTEMPTS {
            if let Some(used) = self.add_unit(key, taker, limit, window_ends, now).await? {
                return Ok(QuotaTaken::Granted { used });
            }
            match self.found(key, taker, now).await? {
                Found::Granted(used) => return Ok(QuotaTaken::Granted { used }),
                Found::Exhausted => return Ok(QuotaTaken::Exhausted),
                Found::Expired => {
                    if self.restart(key, taker, window_ends, now).await? {
                        return Ok(QuotaTaken::Granted { used: 1 });
                    }
                }
                // Deleted (TTL) between the update and the read: try again.
                Found::Gone => {}
            }
        }
        Err(PortError::unavailable(
            "take quota",
            "the quota changed under every attempt",
        ))
    }

    async fn give_back(&self, key: &str, taker: &str) -> Result<(), PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("ADD #used :minus_one DELETE #takers :taker")
            .condition_expression("contains(#takers, :who)")
            .expression_attribute_names("#used", "used")
            .expression_attribute_names("#takers", "takers")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":taker", AttributeValue::Ss(vec![taker.to_string()]))
            .expression_attribute_values(":who", s(taker))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Given back before, or never taken.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(PortError::unavailable("give back quota", sdk_message(&e))),
        }
    }
}

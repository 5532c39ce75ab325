//! IdempotencyStore on DynamoDB: one item per key, claimed with a conditional put.
//! Expiry is checked in the condition, not left to TTL (TTL deletes lazily, up to days late);
//! `expiresAt` also drives the table's TTL so old keys are eventually removed.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use callbook_core::{Claim, IdempotencyStore, PortError};
use chrono::{DateTime, Duration, Utc};

use crate::sdk_message;

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

#[derive(Debug, Clone)]
pub struct DynamoIdempotencyStore {
    client: Client,
    table: String,
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

impl DynamoIdempotencyStore {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }
}

impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_for: Duration,
    ) -> Result<Claim, PortError> {
        let until = (now + in_progress_for).timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("status", s(IN_PROGRESS))
            .item("payloadHash", s(payload_hash))
            .item("inProgressUntil", n(until))
            .item("expiresAt", n(until))
            .condition_expression(
                "attribute_not_exists(pk) OR expiresAt < :now OR (#status = :in_progress AND inProgressUntil < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                let item = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("pk", s(key))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| PortError::unavailable("read idempotency key", sdk_message(&e)))?
                    .item
                    .unwrap_or_default();
                Ok(claim_of(&item, payload_hash, now))
            }
            Err(e) => Err(PortError::unavailable(
                "claim idempotency key",
                sdk_message(&e),
            )),
        }
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        result: &str,
        now: DateTime<Utc>,
        keep_for: Duration,
    ) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("status", s(COMPLETED))
            .item("payloadHash", s(payload_hash))
            .item("result", s(result))
            .item("completedAt", n(now.timestamp()))
            .item("expiresAt", n((now + keep_for).timestamp()))
            .send()
            .await
            .map_err(|e| PortError::unavailable("complete idempotency key", sdk_message(&e)))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .send()
            .await
            .map_err(|e| PortError::unavailable("release idempotency key", sdk_message(&e)))?;
        Ok(())
    }
}

/// What a key that could not be claimed holds. A key deleted (or expired) between the put
/// and the read counts as in progress: the caller retries and claims it then. Expiry is
/// checked here, in code: TTL deletes late, and never in moto.
fn claim_of(
    item: &HashMap<String, AttributeValue>,
    payload_hash: &str,
    now: DateTime<Utc>,
) -> Claim {
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    if number("expiresAt").is_none_or(|at| at < now.timestamp()) {
        return Claim::InProgress;
    }
    // Records written before hashes were kept match anything.
    if item
        .get("payloadHash")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|stored| stored != payload_hash)
    {
        return Claim::Mismatch;
    }
    match item
        .get("status")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
    {
        Some(COMPLETED) => Claim::Completed(
            item.get("result")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default(),
        ),
        _ => Claim::InProgress,
    }
}

//! CallerVerifications on DynamoDB, in the idempotency table: one item per call,
//! `pk = verify#<business>#<call>`, with the pending code's hash, number, expiry and tries
//! left, how many codes the call was sent, and the numbers it proved. Every change is one
//! conditional UpdateItem, so concurrent tries cannot exceed the limits. `expiresAt` (a day)
//! lets the table's TTL remove it.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use callbook_core::{
    CODE_ATTEMPTS, CODES_PER_CALL, CallerVerifications, CodeCheck, CodeIssue, PendingCode,
    PhoneNumber, PhoneRegion, PortError,
};
use chrono::{DateTime, Duration, Utc};

use crate::sdk_message;

/// A call's record outlives any call.
const KEEP_FOR: Duration = Duration::days(1);

#[derive(Debug, Clone)]
pub struct DynamoVerifications {
    client: Client,
    table: String,
}

fn key(business_id: &str, call_id: &str) -> AttributeValue {
    AttributeValue::S(format!("verify#{business_id}#{call_id}"))
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// Stored numbers are E.164 already; the region only matters for national forms.
fn stored_phone(raw: &str) -> Result<PhoneNumber, PortError> {
    let region = PhoneRegion::from_code("US").map_err(|e| PortError::Corrupt {
        what: "region",
        message: e.to_string(),
    })?;
    PhoneNumber::parse(raw, region).map_err(|e| PortError::Corrupt {
        what: "verified number",
        message: e.to_string(),
    })
}

impl DynamoVerifications {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    async fn item(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<HashMap<String, AttributeValue>, PortError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key(business_id, call_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| PortError::unavailable("read verification", sdk_message(&e)))?
            .item
            .unwrap_or_default())
    }
}

/// The update's condition did not hold (a typed answer, not an outage).
fn refused<R>(e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

impl CallerVerifications for DynamoVerifications {
    async fn store_code(
        &self,
        business_id: &str,
        call_id: &str,
        code: &PendingCode,
    ) -> Result<CodeIssue, PortError> {
        let keep_until = code.expires_at + KEEP_FOR;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(business_id, call_id))
            .update_expression(
                "SET codeHash = :hash, codePhone = :phone, codeExpires = :expires, \
                 attemptsLeft = :attempts, expiresAt = :keep ADD codesSent :one",
            )
            .condition_expression("attribute_not_exists(codesSent) OR codesSent < :most")
            .expression_attribute_values(":hash", AttributeValue::S(code.code_hash.clone()))
            .expression_attribute_values(":phone", AttributeValue::S(code.phone.to_string()))
            .expression_attribute_values(":expires", n(code.expires_at.timestamp()))
            .expression_attribute_values(":attempts", n(CODE_ATTEMPTS))
            .expression_attribute_values(":keep", n(keep_until.timestamp()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":most", n(CODES_PER_CALL))
            .send()
            .await;
        match result {
            Ok(_) => Ok(CodeIssue::Stored),
            Err(e) if refused(&e) => Ok(CodeIssue::TooManyForCall),
            Err(e) => Err(PortError::unavailable("store code", sdk_message(&e))),
        }
    }

    async fn check_code(
        &self,
        business_id: &str,
        call_id: &str,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck, PortError> {
        // The try is counted first, whatever the code: guesses cannot outrun the limit.
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(business_id, call_id))
            .update_expression("SET attemptsLeft = attemptsLeft - :one")
            .condition_expression("attribute_exists(codeHash) AND attemptsLeft > :zero")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match counted {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(e) if refused(&e) => {
                let item = self.item(business_id, call_id).await?;
                return Ok(if item.contains_key("codeHash") {
                    CodeCheck::NoAttemptsLeft
                } else {
                    CodeCheck::NoCode
                });
            }
            Err(e) => return Err(PortError::unavailable("check code", sdk_message(&e))),
        };
        let corrupt = |what: &str| PortError::Corrupt {
            what: "verification",
            message: format!("{what} missing"),
        };
        let expires = number(&item, "codeExpires").ok_or_else(|| corrupt("codeExpires"))?;
        if expires <= now.timestamp() {
            return Ok(CodeCheck::Expired);
        }
        if text(&item, "codeHash") != Some(code_hash) {
            let left = number(&item, "attemptsLeft").unwrap_or(0).max(0);
            return Ok(CodeCheck::Wrong {
                attempts_left: u32::try_from(left).unwrap_or(0),
            });
        }
        let phone = text(&item, "codePhone").ok_or_else(|| corrupt("codePhone"))?;
        let phone = stored_phone(phone)?;
        let proved = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(business_id, call_id))
            .update_expression("ADD verified :phone REMOVE codeHash, codePhone, codeExpires")
            .condition_expression("codeHash = :hash")
            .expression_attribute_values(":phone", AttributeValue::Ss(vec![phone.to_string()]))
            .expression_attribute_values(":hash", AttributeValue::S(code_hash.to_string()))
            .send()
            .await;
        match proved {
            Ok(_) => Ok(CodeCheck::Verified(phone)),
            // A concurrent try with the same right code got there first: proved all the same.
            Err(e) if refused(&e) => Ok(CodeCheck::Verified(phone)),
            Err(e) => Err(PortError::unavailable(
                "record verification",
                sdk_message(&e),
            )),
        }
    }

    async fn verified(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<Vec<PhoneNumber>, PortError> {
        let item = self.item(business_id, call_id).await?;
        match item.get("verified").and_then(|v| v.as_ss().ok()) {
            None => Ok(Vec::new()),
            Some(numbers) => numbers.iter().map(|p| stored_phone(p)).collect(),
        }
    }
}

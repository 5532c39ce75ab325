//! References recorded before references were claimed (issue 11): a one-off backfill that
//! gives every recorded booking its claim item, so a new booking can never be given the
//! reference of an older one. Safe to run twice and while the system takes calls: a claim
//! that exists is left as it is.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use callbook_core::PortError;

use crate::sdk_message;

/// What the backfill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfill {
    pub bookings: usize,
    pub claimed: usize,
}

/// Claims the reference of every recorded booking in `table` (the Bookings table) that has
/// no claim yet. One Scan of booking items (an operator's command, never a request path) and
/// one conditional UpdateItem per booking.
pub async fn claim_recorded_references(
    client: &Client,
    table: &str,
) -> Result<Backfill, PortError> {
    let mut done = Backfill::default();
    let mut start_key = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("sk = :booking AND begins_with(pk, :biz)")
            .expression_attribute_values(":booking", AttributeValue::S("BOOKING".into()))
            .expression_attribute_values(":biz", AttributeValue::S("BIZ#".into()))
            .projection_expression("pk")
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(|e| PortError::unavailable("scan bookings", sdk_message(&e)))?;
        for item in page.items() {
            let Some(pk) = item.get("pk").and_then(|v| v.as_s().ok()) else {
                continue;
            };
            // BIZ#<business>#BOOKING#<reference>; business ids hold no '#'.
            let Some((business, reference)) = pk
                .strip_prefix("BIZ#")
                .and_then(|rest| rest.split_once("#BOOKING#"))
            else {
                continue;
            };
            done.bookings += 1;
            let claimed = client
                .update_item()
                .table_name(table)
                .key(
                    "pk",
                    AttributeValue::S(format!("BIZ#{business}#REFERENCE#{reference}")),
                )
                .key("sk", AttributeValue::S("REFERENCE".into()))
                .update_expression("SET businessId = :business, claimant = :claimant")
                .condition_expression("attribute_not_exists(claimant)")
                .expression_attribute_values(":business", AttributeValue::S(business.into()))
                .expression_attribute_values(
                    ":claimant",
                    AttributeValue::S(format!("recorded#{pk}")),
                )
                .send()
                .await;
            match claimed {
                Ok(_) => done.claimed += 1,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(PortError::unavailable("claim reference", sdk_message(&e))),
            }
        }
        start_key = page.last_evaluated_key;
        if start_key.is_none() {
            return Ok(done);
        }
    }
}

//! SlotStore on DynamoDB, in the Bookings table:
//! `pk = BIZ#<business>#SLOTS#<local day>`, `sk = <UTC cell start>`, with `taken` (how many
//! bookings hold the cell) and `bookingRefs` (which). A reservation is one TransactWriteItems
//! with a conditional update per cell, so it takes every cell or none; a day's availability is
//! one Query.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use callbook_core::BookingReference;
use callbook_core::SlotCell;
use callbook_core::{PortError, Reservation, SlotStore};
use chrono::{DateTime, NaiveDate, Utc};

use crate::sdk_message;

mod changes;
mod references;
pub use changes::calendar_items;
pub use references::{Backfill, claim_recorded_references};

/// DynamoDB's limit of items in one transaction.
const MAX_CELLS: usize = 100;
/// Concurrent transactions on the same cells are cancelled with TransactionConflict; the
/// retry then meets the condition, which decides.
const CONFLICT_RETRIES: u32 = 6;

fn day_pk(business_id: &str, day: NaiveDate) -> String {
    format!("BIZ#{business_id}#SLOTS#{day}")
}

/// On a booking's first cell: `holder_<REF>` names who booked it (the holder tag), and
/// `h_<tag>` names the booking a holder has there, claimed with `attribute_not_exists` so two
/// concurrent requests from the same holder cannot both book.
fn holder_attribute(reference: &BookingReference) -> String {
    format!("holder_{reference}")
}

fn claim_attribute(holder: &str) -> String {
    format!("h_{holder}")
}

fn key(business_id: &str, cell: &SlotCell) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(day_pk(business_id, cell.day)),
        ),
        ("sk".to_string(), AttributeValue::S(cell.key())),
    ])
}

#[derive(Debug, Clone)]
pub struct DynamoSlotStore {
    client: Client,
    table: String,
}

impl DynamoSlotStore {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// One cell's item, read consistently (absent when no booking ever touched it).
    async fn cell(
        &self,
        business_id: &str,
        cell: &SlotCell,
    ) -> Result<Option<HashMap<String, AttributeValue>>, PortError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(business_id, cell)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| PortError::unavailable("read slot", sdk_message(&e)))?
            .item)
    }

    /// Whether `reference` holds every one of `cells`.
    async fn holds_all(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        reference: &BookingReference,
    ) -> Result<bool, PortError> {
        for cell in cells {
            let item = self.cell(business_id, cell).await?;
            let holds = item
                .as_ref()
                .and_then(|i| i.get("bookingRefs"))
                .and_then(|v| v.as_ss().ok())
                .is_some_and(|refs| refs.iter().any(|r| r == reference.as_str()));
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl DynamoSlotStore {
    async fn reserve_with(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
        claimant: Option<&str>,
    ) -> Result<Reservation, PortError> {
        // The reference's claim is one of the transaction's items.
        let most = MAX_CELLS - usize::from(claimant.is_some());
        if cells.is_empty() || cells.len() > most {
            return Err(PortError::Conflict(format!(
                "a booking must cover 1 to {most} slots, not {}",
                cells.len()
            )));
        }
        let mut items = Vec::with_capacity(cells.len() + 1);
        if let Some(claimant) = claimant {
            items.push(reference_claim(
                &self.table,
                business_id,
                reference,
                claimant,
            )?);
        }
        for (i, cell) in cells.iter().enumerate() {
            // The first cell also records who booked, for finding a repeated request.
            let holder_set = if i == 0 {
                ", #holder = :holder, #claim = :reference"
            } else {
                ""
            };
            let claim_free = if i == 0 {
                " AND attribute_not_exists(#claim)"
            } else {
                ""
            };
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(business_id, cell)))
                .update_expression(format!(
                    "SET businessId = :business, startUtc = :start{holder_set} ADD taken :one, bookingRefs :refs"
                ))
                .condition_expression(format!(
                    "(attribute_not_exists(taken) OR taken < :capacity) AND NOT contains(bookingRefs, :reference){claim_free}"
                ))
                .expression_attribute_values(":business", AttributeValue::S(business_id.to_string()))
                .expression_attribute_values(":start", AttributeValue::S(cell.start_utc.to_rfc3339()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":refs", AttributeValue::Ss(vec![reference.to_string()]))
                .expression_attribute_values(":reference", AttributeValue::S(reference.to_string()))
                .expression_attribute_values(":capacity", AttributeValue::N(capacity.to_string()));
            if i == 0 {
                update = update
                    .expression_attribute_names("#holder", holder_attribute(reference))
                    .expression_attribute_names("#claim", claim_attribute(holder))
                    .expression_attribute_values(":holder", AttributeValue::S(holder.to_string()));
            }
            let update = update
                .build()
                .map_err(|e| PortError::unavailable("reserve slots", e))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(Reservation::Reserved),
                Err(e) => e,
            };
            // The reference's claim, when there is one, is the first item.
            if claimant.is_some() && reference_refused(&error) {
                return Ok(Reservation::ReferenceTaken);
            }
            match error.as_service_error().and_then(cancellation) {
                Some((true, _)) => {
                    // Refused by a condition: the holder already has a booking here, or this is
                    // a retry, or a cell is full.
                    if let Some(cell) = cells.first()
                        && let Some(existing) = self.held_by(business_id, cell, holder).await?
                    {
                        return Ok(if existing == *reference {
                            Reservation::AlreadyReserved
                        } else {
                            Reservation::HeldBy(existing)
                        });
                    }
                    return Ok(if self.holds_all(business_id, cells, reference).await? {
                        Reservation::AlreadyReserved
                    } else {
                        Reservation::Full
                    });
                }
                Some((false, true)) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    // Exponential backoff with full jitter, so contenders do not collide again
                    // in lockstep: up to 20, 40, ... 640 ms (about 1.3 s in all).
                    let ceiling = 10_u64 << attempt;
                    let wait = rand::Rng::random_range(&mut rand::rng(), ceiling / 2..=ceiling);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                _ => return Err(PortError::unavailable("reserve slots", sdk_message(&error))),
            }
        }
    }
}

/// A new booking's claim on its reference: `pk = BIZ#<business>#REFERENCE#<reference>`, with
/// the request that claimed it, so references are unique per business and a repeat of the
/// same request passes its own claim.
fn reference_claim(
    table: &str,
    business_id: &str,
    reference: &BookingReference,
    claimant: &str,
) -> Result<TransactWriteItem, PortError> {
    let update = Update::builder()
        .table_name(table)
        .key(
            "pk",
            AttributeValue::S(format!("BIZ#{business_id}#REFERENCE#{reference}")),
        )
        .key("sk", AttributeValue::S("REFERENCE".into()))
        .update_expression("SET businessId = :business, claimant = :claimant")
        .condition_expression("attribute_not_exists(claimant) OR claimant = :claimant")
        .expression_attribute_values(":business", AttributeValue::S(business_id.to_string()))
        .expression_attribute_values(":claimant", AttributeValue::S(claimant.to_string()))
        .build()
        .map_err(|e| PortError::unavailable("claim reference", e))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// Whether the first item of a cancelled transaction failed its condition.
fn reference_refused<R>(
    error: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>,
) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => {
            t.cancellation_reasons().first().and_then(|r| r.code())
                == Some("ConditionalCheckFailed")
        }
        _ => false,
    }
}

/// Why a transaction was cancelled: a condition (the cell is full or already ours) or a
/// conflict with a concurrent transaction.
fn cancellation(e: &TransactWriteItemsError) -> Option<(bool, bool)> {
    match e {
        TransactWriteItemsError::TransactionCanceledException(t) => {
            let codes: Vec<&str> = t
                .cancellation_reasons()
                .iter()
                .filter_map(|r| r.code())
                .collect();
            Some((
                codes.contains(&"ConditionalCheckFailed"),
                codes.contains(&"TransactionConflict"),
            ))
        }
        _ => None,
    }
}

impl SlotStore for DynamoSlotStore {
    async fn reserve(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
    ) -> Result<Reservation, PortError> {
        self.reserve_with(business_id, cells, capacity, reference, holder, None)
            .await
    }

    async fn reserve_new(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
        claimant: &str,
    ) -> Result<Reservation, PortError> {
        self.reserve_with(
            business_id,
            cells,
            capacity,
            reference,
            holder,
            Some(claimant),
        )
        .await
    }

    async fn release(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        reference: &BookingReference,
    ) -> Result<(), PortError> {
        // Cell by cell, each only if this booking holds it: safe to repeat. The cell that
        // carries the booking's holder tag also gives up the holder's claim.
        for cell in cells {
            let holder = self.cell(business_id, cell).await?.and_then(|item| {
                item.get(&holder_attribute(reference))
                    .and_then(|v| v.as_s().ok())
                    .cloned()
            });
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(business_id, cell)))
                .condition_expression("contains(bookingRefs, :reference)")
                .expression_attribute_names("#holder", holder_attribute(reference))
                .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
                .expression_attribute_values(
                    ":refs",
                    AttributeValue::Ss(vec![reference.to_string()]),
                )
                .expression_attribute_values(
                    ":reference",
                    AttributeValue::S(reference.to_string()),
                );
            update = match &holder {
                Some(tag) => update
                    .update_expression(
                        "ADD taken :minus_one DELETE bookingRefs :refs REMOVE #holder, #claim",
                    )
                    .expression_attribute_names("#claim", claim_attribute(tag)),
                None => update.update_expression(
                    "ADD taken :minus_one DELETE bookingRefs :refs REMOVE #holder",
                ),
            };
            let result = update.send().await;
            match result {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(PortError::unavailable("release slots", sdk_message(&e))),
            }
        }
        Ok(())
    }

    async fn held_by(
        &self,
        business_id: &str,
        cell: &SlotCell,
        holder: &str,
    ) -> Result<Option<BookingReference>, PortError> {
        let item = self.cell(business_id, cell).await?.unwrap_or_default();
        Ok(item
            .get(&claim_attribute(holder))
            .and_then(|v| v.as_s().ok())
            .and_then(|r| BookingReference::parse(r)))
    }

    async fn taken(
        &self,
        business_id: &str,
        day: NaiveDate,
    ) -> Result<Vec<(SlotCell, u32)>, PortError> {
        let mut taken = Vec::new();
        let mut start_key = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(day_pk(business_id, day)))
                .consistent_read(true)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| PortError::unavailable("read slots", sdk_message(&e)))?;
            for item in out.items() {
                let count = item
                    .get("taken")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(0);
                let start = item
                    .get("startUtc")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc));
                if let (Some(start_utc), true) = (start, count > 0) {
                    taken.push((SlotCell { day, start_utc }, count));
                }
            }
            start_key = out.last_evaluated_key;
            if start_key.is_none() {
                break;
            }
        }
        taken.sort();
        Ok(taken)
    }
}

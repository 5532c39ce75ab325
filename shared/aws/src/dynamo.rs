//! BookingStore on DynamoDB.
//!
//! Keys (every key carries the business):
//! - Bookings table: `pk = BIZ#<business>#BOOKING#<reference>`, `sk = BOOKING`
//! - Customers table: `pk = BIZ#<business>#CUSTOMER#<E.164 phone>`, `sk = PROFILE`
//! - Bookings index `ByCustomer`: `customerKey = BIZ#<business>#CUSTOMER#<phone>`, `startUtc`
//!
//! A change (reschedule, cancel) is read, decided in pure code and written back with a
//! condition on the record's `version`; a concurrent change makes it read and decide again.
//!
//! A booking and its customer's upsert are one TransactWriteItems: the booking is put only if
//! absent, so a redelivered job cancels the whole transaction and nothing is counted twice.
//! (No ClientRequestToken: the items carry the time of writing, and DynamoDB refuses a reused
//! token with different parameters for ten minutes; the condition alone makes it idempotent.)

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use callbook_core::BookingReference;
use callbook_core::ChangeDecision;
use callbook_core::PhoneNumber;
use callbook_core::{BookingChange, BookingChangeJob, BookingJob};
use callbook_core::{BookingRecord, CustomerRecord};
use callbook_core::{BookingStore, ChangeApplied, PortError, RecordOutcome};
use chrono::{DateTime, Utc};

use crate::sdk_message;

pub type Item = HashMap<String, AttributeValue>;

pub fn booking_key(business_id: &str, reference: &str) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(format!("BIZ#{business_id}#BOOKING#{reference}")),
        ),
        ("sk".to_string(), AttributeValue::S("BOOKING".into())),
    ])
}

pub fn customer_pk(business_id: &str, phone: &str) -> String {
    format!("BIZ#{business_id}#CUSTOMER#{phone}")
}

pub fn customer_key(business_id: &str, phone: &str) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(customer_pk(business_id, phone)),
        ),
        ("sk".to_string(), AttributeValue::S("PROFILE".into())),
    ])
}

/// The Bookings table's index of a customer's bookings by start: `customerKey`, `startUtc`.
pub const CUSTOMER_INDEX: &str = "ByCustomer";
/// Attempts at a read-decide-write before giving up (the message is retried later).
const OPTIMISTIC_ATTEMPTS: u32 = 5;

/// The condition that a versioned item is still at `version` (absent when 0).
pub fn version_condition(version: u64) -> (&'static str, AttributeValue) {
    (
        if version == 0 {
            "attribute_not_exists(pk)"
        } else {
            "version = :version"
        },
        AttributeValue::N(version.to_string()),
    )
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

#[derive(Debug, Clone)]
pub struct DynamoBookingStore {
    client: Client,
    customers_table: String,
    bookings_table: String,
}

impl DynamoBookingStore {
    pub fn new(client: Client, customers_table: String, bookings_table: String) -> Self {
        Self {
            client,
            customers_table,
            bookings_table,
        }
    }

    /// The booking's item: its key, the record, and the customer index's key.
    fn booking_item(&self, booking: &BookingRecord) -> Result<Item, PortError> {
        let mut item = to_item(
            booking,
            booking_key(&booking.business_id, booking.reference.as_str()),
        )?;
        item.insert(
            "customerKey".into(),
            s(customer_pk(
                &booking.business_id,
                booking.customer_phone.as_str(),
            )),
        );
        Ok(item)
    }

    async fn get(&self, table: &str, key: Item) -> Result<Option<Item>, PortError> {
        get_consistent(&self.client, table, key).await
    }
}

/// One item, read consistently (absent: `None`).
pub async fn get_consistent(
    client: &Client,
    table: &str,
    key: Item,
) -> Result<Option<Item>, PortError> {
    Ok(client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| PortError::unavailable("read item", sdk_message(&e)))?
        .item)
}

pub fn to_item<T: serde::Serialize>(value: &T, key: Item) -> Result<Item, PortError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| PortError::Corrupt {
        what: "record",
        message: e.to_string(),
    })?;
    item.extend(key);
    Ok(item)
}

pub fn from_item<T: serde::de::DeserializeOwned>(
    what: &'static str,
    item: Item,
) -> Result<T, PortError> {
    serde_dynamo::from_item(item).map_err(|e| PortError::Corrupt {
        what,
        message: e.to_string(),
    })
}

impl BookingStore for DynamoBookingStore {
    async fn record_booking(
        &self,
        job: &BookingJob,
        now: DateTime<Utc>,
    ) -> Result<RecordOutcome, PortError> {
        let booking = BookingRecord::from_job(job, now);
        let booking_item = self.booking_item(&booking)?;
        let put = Put::builder()
            .table_name(&self.bookings_table)
            .set_item(Some(booking_item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| PortError::unavailable("record booking", e))?;
        let update = Update::builder()
            .table_name(&self.customers_table)
            .set_key(Some(customer_key(
                &job.business_id,
                job.customer.phone.as_str(),
            )))
            .update_expression(
                "SET businessId = :business, phone = :phone, #name = :name, email = :email, \
                 firstContactAt = if_not_exists(firstContactAt, :now), lastContactAt = :now, \
                 lastBookingReference = :reference ADD bookingCount :one, lifetimeValueCents :value",
            )
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":business", s(&job.business_id))
            .expression_attribute_values(":phone", s(job.customer.phone.as_str()))
            .expression_attribute_values(":name", s(job.customer.name.as_str()))
            .expression_attribute_values(":email", s(job.customer.email.as_str()))
            .expression_attribute_values(
                ":now",
                s(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            )
            .expression_attribute_values(":reference", s(job.reference.as_str()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(
                ":value",
                AttributeValue::N(job.price_cents.unwrap_or(0).to_string()),
            )
            .build()
            .map_err(|e| PortError::unavailable("record booking", e))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(RecordOutcome::Recorded),
            Err(e) => {
                let booking_exists = e.as_service_error().is_some_and(|se| {
                    se.is_transaction_canceled_exception()
                        && matches!(se, aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t)
                            if t.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed"))
                });
                if !booking_exists {
                    return Err(PortError::unavailable("record booking", sdk_message(&e)));
                }
                match self.booking(&job.business_id, &job.reference).await? {
                    Some(existing) if existing.job_id == job.job_id => {
                        Ok(RecordOutcome::AlreadyRecorded)
                    }
                    Some(_) => Err(PortError::Conflict(format!(
                        "booking reference {} is taken by another job",
                        job.reference
                    ))),
                    None => Err(PortError::unavailable(
                        "record booking",
                        "the transaction was cancelled; retry",
                    )),
                }
            }
        }
    }

    async fn booking(
        &self,
        business_id: &str,
        reference: &BookingReference,
    ) -> Result<Option<BookingRecord>, PortError> {
        self.get(
            &self.bookings_table,
            booking_key(business_id, reference.as_str()),
        )
        .await?
        .map(|item| from_item("booking", item))
        .transpose()
    }

    async fn customer(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<CustomerRecord>, PortError> {
        self.get(
            &self.customers_table,
            customer_key(business_id, phone.as_str()),
        )
        .await?
        .map(|item| from_item("customer", item))
        .transpose()
    }

    async fn bookings_of(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        from: DateTime<Utc>,
    ) -> Result<Vec<BookingRecord>, PortError> {
        let mut found = Vec::new();
        let mut start_key = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.bookings_table)
                .index_name(CUSTOMER_INDEX)
                .key_condition_expression("customerKey = :customer AND startUtc > :from")
                .expression_attribute_values(
                    ":customer",
                    s(customer_pk(business_id, phone.as_str())),
                )
                .expression_attribute_values(
                    ":from",
                    s(from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                )
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| PortError::unavailable("read bookings", sdk_message(&e)))?;
            for item in out.items.unwrap_or_default() {
                found.push(from_item::<BookingRecord>("booking", item)?);
            }
            start_key = out.last_evaluated_key;
            if start_key.is_none() {
                break;
            }
        }
        found.sort_by_key(|b| b.start_utc);
        Ok(found)
    }

    async fn apply_change(
        &self,
        job: &BookingChangeJob,
        now: DateTime<Utc>,
    ) -> Result<ChangeApplied, PortError> {
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let Some(current) = self.booking(&job.business_id, &job.reference).await? else {
                return Err(PortError::unavailable(
                    "change booking",
                    format!("booking {} is not recorded (yet)", job.reference),
                ));
            };
            let (record, calendar, value_delta) = match current.decide(job, now) {
                ChangeDecision::Apply {
                    record,
                    calendar,
                    value_delta,
                } => (record, calendar, value_delta),
                ChangeDecision::AlreadyApplied => {
                    return Ok(ChangeApplied {
                        booking: current,
                        release: Vec::new(),
                        notify: true,
                        applied_now: false,
                    });
                }
                ChangeDecision::Superseded { release } => {
                    return Ok(ChangeApplied {
                        booking: current,
                        release,
                        notify: false,
                        applied_now: false,
                    });
                }
            };
            let (condition, version) = version_condition(current.version);
            let mut put = Put::builder()
                .table_name(&self.bookings_table)
                .set_item(Some(self.booking_item(&record)?))
                .condition_expression(if current.version == 0 {
                    // Recorded before versions existed: still unchanged if still unversioned.
                    "attribute_not_exists(version)"
                } else {
                    condition
                });
            if current.version != 0 {
                put = put.expression_attribute_values(":version", version);
            }
            let put = put
                .build()
                .map_err(|e| PortError::unavailable("change booking", e))?;
            // The record and its calendar cells in one transaction: the cells a booking holds
            // are always those its record names, whatever order changes arrive in.
            let cells = calendar.cells();
            let mut items = vec![TransactWriteItem::builder().put(put).build()];
            items.extend(crate::slots::calendar_items(
                &self.bookings_table,
                &job.business_id,
                &job.reference,
                &calendar,
            )?);
            if value_delta != 0 {
                let update = Update::builder()
                    .table_name(&self.customers_table)
                    .set_key(Some(customer_key(
                        &job.business_id,
                        record.customer_phone.as_str(),
                    )))
                    .update_expression("ADD lifetimeValueCents :delta")
                    .expression_attribute_values(
                        ":delta",
                        AttributeValue::N(value_delta.to_string()),
                    )
                    .build()
                    .map_err(|e| PortError::unavailable("change booking", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let error = match result {
                Ok(_) => {
                    return Ok(ChangeApplied {
                        booking: *record,
                        release: Vec::new(),
                        notify: true,
                        applied_now: true,
                    });
                }
                Err(e) => e,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                error.as_service_error()
            else {
                return Err(PortError::unavailable(
                    "change booking",
                    sdk_message(&error),
                ));
            };
            // Item 0 is the record, then the cells in `cells` order.
            let cell_refused = cancelled
                .cancellation_reasons()
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .filter_map(|(i, _)| cells.get(i - 1))
                .any(|cell| calendar.reserve.contains(cell));
            let record_moved = cancelled
                .cancellation_reasons()
                .first()
                .and_then(|r| r.code())
                == Some("ConditionalCheckFailed");
            if cell_refused && !record_moved {
                // The new time filled up after the webhook looked (an earlier change freed
                // cells it counted on): the booking stays as it is.
                tracing::error!(reference = %job.reference, change = %job.job_id, "reschedule refused: the new time is no longer free");
                let release = match &job.change {
                    BookingChange::Reschedule { reserved, .. } => reserved
                        .iter()
                        .filter(|c| !current.slot_cells.contains(c))
                        .copied()
                        .collect(),
                    BookingChange::Cancel { .. }
                    | BookingChange::Confirm
                    | BookingChange::Ended { .. } => Vec::new(),
                };
                return Ok(ChangeApplied {
                    booking: current,
                    release,
                    notify: false,
                    applied_now: false,
                });
            }
            // Changed under us (or a concurrent transaction): read again and decide again.
            let wait = rand::Rng::random_range(&mut rand::rng(), 20..100);
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
        Err(PortError::unavailable(
            "change booking",
            "the booking kept changing; retry",
        ))
    }
}

//! BookingStore on DynamoDB.
//!
//! Keys (every key carries the business):
//! - Bookings table: `pk = BIZ#<business>#BOOKING#<reference>`, `sk = BOOKING`
//! - Customers table: `pk = BIZ#<business>#CUSTOMER#<E.164 phone>`, `sk = PROFILE`
//!
//! A booking and its customer's upsert are one TransactWriteItems: the booking is put only if
//! absent, so a redelivered job cancels the whole transaction and nothing is counted twice.
//! (No ClientRequestToken: the items carry the time of writing, and DynamoDB refuses a reused
//! token with different parameters for ten minutes; the condition alone makes it idempotent.)

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use callbook_core::booking::{BookingRecord, CustomerRecord};
use callbook_core::jobs::BookingJob;
use callbook_core::phone::PhoneNumber;
use callbook_core::ports::{BookingStore, PortError, RecordOutcome};
use callbook_core::reference::BookingReference;
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

pub fn customer_key(business_id: &str, phone: &str) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(format!("BIZ#{business_id}#CUSTOMER#{phone}")),
        ),
        ("sk".to_string(), AttributeValue::S("PROFILE".into())),
    ])
}

fn s(v: impl Into<String>) -> AttributeValue {
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

    async fn get(&self, table: &str, key: Item) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| PortError::unavailable("read item", sdk_message(&e)))?;
        Ok(out.item)
    }
}

fn to_item<T: serde::Serialize>(value: &T, key: Item) -> Result<Item, PortError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| PortError::Corrupt {
        what: "record",
        message: e.to_string(),
    })?;
    item.extend(key);
    Ok(item)
}

fn from_item<T: serde::de::DeserializeOwned>(
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
        let booking_item = to_item(
            &booking,
            booking_key(&job.business_id, job.reference.as_str()),
        )?;
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
                 lastBookingReference = :reference ADD bookingCount :one",
            )
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":business", s(&job.business_id))
            .expression_attribute_values(":phone", s(job.customer.phone.as_str()))
            .expression_attribute_values(":name", s(&job.customer.name))
            .expression_attribute_values(":email", s(job.customer.email.as_str()))
            .expression_attribute_values(
                ":now",
                s(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            )
            .expression_attribute_values(":reference", s(job.reference.as_str()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
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
}

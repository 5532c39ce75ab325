//! CallStore on DynamoDB.
//!
//! Keys (every key carries the business):
//! - Calls table: `pk = BIZ#<business>#CALL#<call id>`, `sk = CALL`
//! - Leads, beside their customer in the Customers table: `pk = BIZ#<business>#CUSTOMER#<phone>`,
//!   `sk = LEAD`, so one phone has one lead and its profile in one partition.
//!
//! Records are written whole with a condition on their `version` (optimistic locking); the
//! first report of a call also counts it on the customer's profile, in the same transaction.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use callbook_core::CallRecord;
use callbook_core::LeadRecord;
use callbook_core::PhoneNumber;
use callbook_core::{CallStore, CustomerContact, PortError, Saved};

use crate::dynamo::{
    Item, customer_key, customer_pk, from_item, get_consistent, s, to_item, version_condition,
};
use crate::sdk_message;

pub fn call_key(business_id: &str, call_id: &str) -> Item {
    HashMap::from([
        (
            "pk".to_string(),
            s(format!("BIZ#{business_id}#CALL#{call_id}")),
        ),
        ("sk".to_string(), s("CALL")),
    ])
}

pub fn lead_key(business_id: &str, phone: &str) -> Item {
    HashMap::from([
        ("pk".to_string(), s(customer_pk(business_id, phone))),
        ("sk".to_string(), s("LEAD")),
    ])
}

#[derive(Debug, Clone)]
pub struct DynamoCallStore {
    client: Client,
    calls_table: String,
    customers_table: String,
}

impl DynamoCallStore {
    pub fn new(client: Client, calls_table: String, customers_table: String) -> Self {
        Self {
            client,
            calls_table,
            customers_table,
        }
    }

    async fn get(&self, table: &str, key: Item) -> Result<Option<Item>, PortError> {
        get_consistent(&self.client, table, key).await
    }

    /// A put of `item` conditional on the stored version being `version - 1`.
    fn versioned_put(&self, table: &str, item: Item, version: u64) -> Result<Put, PortError> {
        let previous = version.saturating_sub(1);
        let (condition, value) = version_condition(previous);
        let mut put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(condition);
        if previous != 0 {
            put = put.expression_attribute_values(":version", value);
        }
        put.build()
            .map_err(|e| PortError::unavailable("save record", e))
    }

    async fn write(&self, items: Vec<TransactWriteItem>) -> Result<Saved, PortError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Saved::Written),
            // The version moved on, or a concurrent transaction touched the item: re-read.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_transaction_canceled_exception()) =>
            {
                Ok(Saved::Stale)
            }
            Err(e) => Err(PortError::unavailable("save record", sdk_message(&e))),
        }
    }
}

impl CallStore for DynamoCallStore {
    async fn call(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<Option<CallRecord>, PortError> {
        self.get(&self.calls_table, call_key(business_id, call_id))
            .await?
            .map(|item| from_item("call", item))
            .transpose()
    }

    async fn save_call(
        &self,
        record: &CallRecord,
        contact: Option<&CustomerContact>,
    ) -> Result<Saved, PortError> {
        let item = to_item(record, call_key(&record.business_id, &record.call_id))?;
        let put = self.versioned_put(&self.calls_table, item, record.version)?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(contact) = contact {
            let at = contact
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let update = Update::builder()
                .table_name(&self.customers_table)
                .set_key(Some(customer_key(
                    &record.business_id,
                    contact.phone.as_str(),
                )))
                .update_expression(
                    "SET businessId = :business, phone = :phone, \
                     firstContactAt = if_not_exists(firstContactAt, :at), lastContactAt = :at, \
                     lastCallId = :call ADD callCount :one",
                )
                .expression_attribute_values(":business", s(&record.business_id))
                .expression_attribute_values(":phone", s(contact.phone.as_str()))
                .expression_attribute_values(":at", s(at))
                .expression_attribute_values(":call", s(&contact.call_id))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .build()
                .map_err(|e| PortError::unavailable("save call", e))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        self.write(items).await
    }

    async fn lead(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<LeadRecord>, PortError> {
        self.get(&self.customers_table, lead_key(business_id, phone.as_str()))
            .await?
            .map(|item| from_item("lead", item))
            .transpose()
    }

    async fn save_lead(&self, lead: &LeadRecord) -> Result<Saved, PortError> {
        let item = to_item(lead, lead_key(&lead.business_id, lead.phone.as_str()))?;
        let put = self.versioned_put(&self.customers_table, item, lead.version)?;
        self.write(vec![TransactWriteItem::builder().put(put).build()])
            .await
    }
}

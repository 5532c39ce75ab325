//! What a customer's texts change, in the Customers table: the number's opt-out
//! (`pk = PHONE#<phone>`, `sk = SMS_OPT_OUT`: a STOP sent to the deployment's number stops
//! every text from it, whichever business sent the last one; read with the business's own
//! list by `notify::SmsOptOuts`), and the booking each number was last reminded of
//! (`PHONE#<phone>` / `LAST_REMINDER`: a reply comes from a number, before we know whose
//! business it is about).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use callbook_core::{LastReminders, OptOutList, PhoneNumber, PortError, Reminded};
use chrono::{DateTime, Utc};

use crate::dynamo::{Item, from_item, get_consistent, s, to_item};
use crate::notify::{SmsOptOuts, number_opt_out_key, opt_out_key};
use crate::sdk_message;

impl OptOutList for SmsOptOuts {
    /// The number's opt-out (every business of this deployment): the STOP went to the
    /// number they all text from.
    async fn opt_out(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut item = number_opt_out_key(phone);
        item.insert("optedOutAt".into(), s(at.to_rfc3339()));
        // Which business's text it answered, for the record (not a phone or a name).
        item.insert("businessId".into(), s(business_id));
        self.dynamodb()
            .put_item()
            .table_name(self.customers_table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| PortError::unavailable("opt out", sdk_message(&e)))?;
        Ok(())
    }

    /// START lifts the number's opt-out and that business's own.
    async fn opt_in(&self, business_id: &str, phone: &PhoneNumber) -> Result<(), PortError> {
        for key in [number_opt_out_key(phone), opt_out_key(business_id, phone)] {
            self.dynamodb()
                .delete_item()
                .table_name(self.customers_table())
                .set_key(Some(key))
                .send()
                .await
                .map_err(|e| PortError::unavailable("opt in", sdk_message(&e)))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct DynamoLastReminders {
    client: Client,
    customers_table: String,
}

impl DynamoLastReminders {
    pub fn new(client: Client, customers_table: String) -> Self {
        Self {
            client,
            customers_table,
        }
    }
}

fn last_reminder_key(phone: &PhoneNumber) -> Item {
    Item::from([
        ("pk".to_string(), s(format!("PHONE#{}", phone.as_str()))),
        ("sk".to_string(), s("LAST_REMINDER")),
    ])
}

impl LastReminders for DynamoLastReminders {
    async fn remember(&self, phone: &PhoneNumber, reminded: &Reminded) -> Result<(), PortError> {
        let item = to_item(reminded, last_reminder_key(phone))?;
        let written = self
            .client
            .put_item()
            .table_name(&self.customers_table)
            .set_item(Some(item))
            // A reminder arriving late never replaces a later one.
            .condition_expression("attribute_not_exists(pk) OR #at <= :at")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":at", AttributeValue::S(reminded.at.to_rfc3339()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(PortError::unavailable(
                "remember the last reminder",
                sdk_message(&e),
            )),
        }
    }

    async fn last(&self, phone: &PhoneNumber) -> Result<Option<Reminded>, PortError> {
        get_consistent(
            &self.client,
            &self.customers_table,
            last_reminder_key(phone),
        )
        .await?
        .map(|mut item| {
            item.remove("pk");
            item.remove("sk");
            from_item("last reminder", item)
        })
        .transpose()
    }
}

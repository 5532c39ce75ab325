//! SmsSender on SNS (direct publish to a phone number) and EmailSender on SESv2.
//!
//! Each provider error is classified by its SDK type: one that says this recipient will
//! never be reached is `PortError::Rejected` (the message is done, the provider is fine);
//! everything else (throttling, 5xx, timeouts, the account or sender identity, our
//! permissions) is `Unavailable`, retried and counted by the circuit breaker.

use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::error::SdkError;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;
use callbook_core::EmailAddress;
use callbook_core::PhoneNumber;
use callbook_core::RenderedEmail;
use callbook_core::{EmailSender, PortError, SendFailure, SmsSender};

use crate::sdk_message;

/// SNS answers a number it cannot text with InvalidParameter (or InvalidParameterValue):
/// "Invalid parameter: PhoneNumber". Publish has no opted-out error (SNS accepts and drops
/// it; we check the opt-out lists before), and throttling arrives unmodelled: transient.
fn sms_failure<R>(e: &SdkError<PublishError, R>) -> PortError
where
    SdkError<PublishError, R>: std::error::Error,
{
    match e.as_service_error() {
        Some(
            PublishError::InvalidParameterException(_)
            | PublishError::InvalidParameterValueException(_),
        ) => PortError::Rejected(SendFailure::InvalidNumber),
        _ => PortError::unavailable("send SMS", sdk_message(e)),
    }
}

/// SESv2's MessageRejected is this message refused (in the sandbox: a recipient not
/// verified) and BadRequest a request it will never take (with our validated sender and
/// body: the address). Not per recipient, so transient: a suspended account, paused sending,
/// an unverified MAIL FROM domain, a missing identity or configuration set, limits and
/// throttling; they stop every email, so they belong to the breaker, the DLQ and the alarm.
fn email_failure<R>(e: &SdkError<SendEmailError, R>) -> PortError
where
    SdkError<SendEmailError, R>: std::error::Error,
{
    match e.as_service_error() {
        Some(SendEmailError::MessageRejected(_)) => PortError::Rejected(SendFailure::EmailRejected),
        Some(SendEmailError::BadRequestException(_)) => {
            PortError::Rejected(SendFailure::InvalidAddress)
        }
        _ => PortError::unavailable("send email", sdk_message(e)),
    }
}

#[derive(Debug, Clone)]
pub struct SnsSms {
    client: aws_sdk_sns::Client,
}

impl SnsSms {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }
}

impl SmsSender for SnsSms {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| PortError::unavailable("send SMS", e))?;
        let out = self
            .client
            .publish()
            .phone_number(to.as_str())
            .message(text)
            // Transactional: delivered even to numbers on DND lists, at the higher-reliability route.
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map_err(|e| sms_failure(&e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

#[derive(Debug, Clone)]
pub struct SesEmail {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesEmail {
    pub fn new(client: aws_sdk_sesv2::Client, from: String) -> Self {
        Self { client, from }
    }
}

fn utf8(text: &str) -> Result<Content, PortError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| PortError::unavailable("send email", e))
}

impl EmailSender for SesEmail {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&email.text)?)
                    .html(utf8(&email.html)?)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| email_failure(&e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

/// Opt-outs: the business's own list in the Customers table (`pk = BIZ#<business>#CUSTOMER#
/// <phone>`, `sk = SMS_OPT_OUT`, written by `callbook-admin opt-out`), the number's
/// (`PHONE#<phone>` / `SMS_OPT_OUT`, written by its STOP: `replies.rs`), then SNS's account
/// list (numbers that replied STOP to an SNS sender).
#[derive(Debug, Clone)]
pub struct SmsOptOuts {
    dynamodb: aws_sdk_dynamodb::Client,
    customers_table: String,
    sns: aws_sdk_sns::Client,
}

pub fn opt_out_key(
    business_id: &str,
    phone: &PhoneNumber,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    std::collections::HashMap::from([
        (
            "pk".to_string(),
            aws_sdk_dynamodb::types::AttributeValue::S(crate::dynamo::customer_pk(
                business_id,
                phone.as_str(),
            )),
        ),
        (
            "sk".to_string(),
            aws_sdk_dynamodb::types::AttributeValue::S("SMS_OPT_OUT".into()),
        ),
    ])
}

/// The number's own opt-out, whatever business (a STOP texted to the deployment's number).
pub fn number_opt_out_key(
    phone: &PhoneNumber,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    std::collections::HashMap::from([
        (
            "pk".to_string(),
            aws_sdk_dynamodb::types::AttributeValue::S(format!("PHONE#{}", phone.as_str())),
        ),
        (
            "sk".to_string(),
            aws_sdk_dynamodb::types::AttributeValue::S("SMS_OPT_OUT".into()),
        ),
    ])
}

impl SmsOptOuts {
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        customers_table: String,
        sns: aws_sdk_sns::Client,
    ) -> Self {
        Self {
            dynamodb,
            customers_table,
            sns,
        }
    }

    pub(crate) fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        &self.dynamodb
    }

    pub(crate) fn customers_table(&self) -> &str {
        &self.customers_table
    }
}

impl callbook_core::OptOuts for SmsOptOuts {
    /// The business's list and the number's (one BatchGetItem), then SNS's account list.
    async fn opted_out(&self, business_id: &str, phone: &PhoneNumber) -> Result<bool, PortError> {
        let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
            .keys(opt_out_key(business_id, phone))
            .keys(number_opt_out_key(phone))
            .consistent_read(true)
            .projection_expression("pk")
            .build()
            .map_err(|e| PortError::unavailable("check SMS opt-out", e))?;
        let mut request = Some(keys);
        // Unprocessed keys (throttling) are asked again, as BatchGetItem requires.
        while let Some(keys) = request.take() {
            let out = self
                .dynamodb
                .batch_get_item()
                .request_items(&self.customers_table, keys)
                .send()
                .await
                .map_err(|e| PortError::unavailable("check SMS opt-out", sdk_message(&e)))?;
            let found = out
                .responses
                .as_ref()
                .and_then(|r| r.get(&self.customers_table))
                .is_some_and(|items| !items.is_empty());
            if found {
                return Ok(true);
            }
            request = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.customers_table))
                .filter(|k| !k.keys.is_empty());
        }
        let out = self
            .sns
            .check_if_phone_number_is_opted_out()
            .phone_number(phone.as_str())
            .send()
            .await
            .map_err(|e| PortError::unavailable("check SMS opt-out", sdk_message(&e)))?;
        Ok(out.is_opted_out)
    }
}

#[cfg(test)]
mod tests;

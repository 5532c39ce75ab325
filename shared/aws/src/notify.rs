//! SmsSender on SNS (direct publish to a phone number) and EmailSender on SESv2.

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::types::MessageAttributeValue;
use callbook_core::email::EmailAddress;
use callbook_core::phone::PhoneNumber;
use callbook_core::ports::{EmailSender, PortError, SmsSender};
use callbook_core::templates::RenderedEmail;

use crate::sdk_message;

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
            .map_err(|e| PortError::unavailable("send SMS", sdk_message(&e)))?;
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
            .map_err(|e| PortError::unavailable("send email", sdk_message(&e)))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

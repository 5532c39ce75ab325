//! SMS, email and the opt-out list.

use std::sync::Mutex;

use super::lock;
use crate::ports::{EmailSender, OptOuts, PortError, SmsSender};
use crate::templates::RenderedEmail;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;

/// Phones that opted out of SMS, per business.
#[derive(Debug, Default)]
pub struct MemoryOptOuts {
    pub phones: Mutex<Vec<(String, PhoneNumber)>>,
}

impl OptOuts for MemoryOptOuts {
    async fn opted_out(&self, business_id: &str, phone: &PhoneNumber) -> Result<bool, PortError> {
        Ok(lock(&self.phones)
            .iter()
            .any(|(b, p)| b == business_id && p == phone))
    }
}

#[derive(Debug, Default)]
pub struct MemorySms {
    pub sent: Mutex<Vec<(PhoneNumber, String)>>,
}

impl SmsSender for MemorySms {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        let mut sent = lock(&self.sent);
        sent.push((to.clone(), text.to_string()));
        Ok(format!("sms-{}", sent.len()))
    }
}

#[derive(Debug, Default)]
pub struct MemoryEmail {
    pub sent: Mutex<Vec<(EmailAddress, RenderedEmail)>>,
}

impl EmailSender for MemoryEmail {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        let mut sent = lock(&self.sent);
        sent.push((to.clone(), email.clone()));
        Ok(format!("email-{}", sent.len()))
    }
}

//! SMS, email and the opt-out list.

use std::sync::Mutex;

use super::lock;
use crate::ports::{EmailSender, OptOuts, PortError, SendFailure, SmsSender};
use crate::templates::RenderedEmail;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;

/// Phones that opted out of SMS, per business.
#[derive(Debug, Default)]
pub struct MemoryOptOuts {
    pub phones: Mutex<Vec<(String, PhoneNumber)>>,
}

/// The business of a number's own opt-out (its STOP by text), in `MemoryOptOuts::phones`.
pub const EVERY_BUSINESS: &str = "*";

impl OptOuts for MemoryOptOuts {
    async fn opted_out(&self, business_id: &str, phone: &PhoneNumber) -> Result<bool, PortError> {
        Ok(lock(&self.phones)
            .iter()
            .any(|(b, p)| (b == business_id || b == EVERY_BUSINESS) && p == phone))
    }
}

#[derive(Debug, Default)]
pub struct MemorySms {
    pub sent: Mutex<Vec<(PhoneNumber, String)>>,
    /// Numbers the provider refuses as invalid, and how many sends it refused.
    pub refused: Mutex<Vec<PhoneNumber>>,
    pub refusals: Mutex<usize>,
}

impl SmsSender for MemorySms {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        if lock(&self.refused).contains(to) {
            *lock(&self.refusals) += 1;
            return Err(PortError::Rejected(SendFailure::InvalidNumber));
        }
        let mut sent = lock(&self.sent);
        sent.push((to.clone(), text.to_string()));
        Ok(format!("sms-{}", sent.len()))
    }
}

#[derive(Debug, Default)]
pub struct MemoryEmail {
    pub sent: Mutex<Vec<(EmailAddress, RenderedEmail)>>,
    /// Addresses the provider refuses (as SES does an unverified one in its sandbox).
    pub refused: Mutex<Vec<EmailAddress>>,
}

impl EmailSender for MemoryEmail {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        if lock(&self.refused).contains(to) {
            return Err(PortError::Rejected(SendFailure::EmailRejected));
        }
        let mut sent = lock(&self.sent);
        sent.push((to.clone(), email.clone()));
        Ok(format!("email-{}", sent.len()))
    }
}

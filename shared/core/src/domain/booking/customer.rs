//! The customer a booking belongs to: one per business and phone number.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::BookingJob;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;

/// A caller, one per business and phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord {
    pub business_id: String,
    pub phone: PhoneNumber,
    /// Empty for a caller who has called but never booked.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<EmailAddress>,
    pub first_contact_at: DateTime<Utc>,
    pub last_contact_at: DateTime<Utc>,
    #[serde(default)]
    pub booking_count: u32,
    pub last_booking_reference: Option<BookingReference>,
    /// Sum of the prices of their booked services, less cancelled ones (cents).
    #[serde(default)]
    pub lifetime_value_cents: i64,
    /// Calls recorded from end-of-call reports.
    #[serde(default)]
    pub call_count: u32,
    #[serde(default)]
    pub last_call_id: Option<String>,
}

impl CustomerRecord {
    /// The customer after `job` is recorded: the latest name and email win.
    pub fn after_booking(
        existing: Option<&CustomerRecord>,
        job: &BookingJob,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            business_id: job.business_id.clone(),
            phone: job.customer.phone.clone(),
            name: job.customer.name.to_string(),
            email: Some(job.customer.email.clone()),
            first_contact_at: existing.map_or(now, |c| c.first_contact_at),
            last_contact_at: now,
            booking_count: existing.map_or(0, |c| c.booking_count) + 1,
            last_booking_reference: Some(job.reference.clone()),
            lifetime_value_cents: existing.map_or(0, |c| c.lifetime_value_cents)
                + job.price_cents.unwrap_or(0) as i64,
            call_count: existing.map_or(0, |c| c.call_count),
            last_call_id: existing.and_then(|c| c.last_call_id.clone()),
        }
    }
}

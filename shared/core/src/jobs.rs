//! Jobs: the messages our functions pass to each other through SQS. One queue per job type.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::email::EmailAddress;
use crate::phone::PhoneNumber;
use crate::reference::BookingReference;
use crate::slots::SlotCell;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDetails {
    pub name: String,
    pub phone: PhoneNumber,
    pub email: EmailAddress,
}

/// A booking the webhook accepted; the booking worker records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingJob {
    /// Stable for the life of the job: redeliveries carry the same id.
    pub job_id: String,
    pub business_id: String,
    pub business_name: String,
    pub reference: BookingReference,
    pub customer: CustomerDetails,
    pub service: String,
    pub duration_minutes: u32,
    /// The service's price when the catalogue lists one (for the customer's lifetime value).
    #[serde(default)]
    pub price_cents: Option<u64>,
    pub start_utc: DateTime<Utc>,
    /// The same instant in the business's zone, as it was spoken to the caller.
    pub start_local: DateTime<FixedOffset>,
    pub time_zone: String,
    /// The calendar cells the webhook reserved for it (released when it is cancelled).
    #[serde(default)]
    pub slot_cells: Vec<SlotCell>,
    pub call_id: Option<String>,
    pub tool_call_id: Option<String>,
    pub requested_at: DateTime<Utc>,
}

/// What a notification is about; the worker renders it with the templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingSummary {
    pub reference: BookingReference,
    pub customer_name: String,
    pub service: String,
    pub start_local: DateTime<FixedOffset>,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "camelCase")]
pub enum Recipient {
    Sms { phone: PhoneNumber },
    Email { email: EmailAddress },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NotificationKind {
    BookingConfirmation,
}

/// One message to one recipient on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationJob {
    /// Deterministic (business, booking, kind, channel): a second job for the same message is a duplicate.
    pub notification_id: String,
    pub business_id: String,
    pub business_name: String,
    pub kind: NotificationKind,
    pub recipient: Recipient,
    pub booking: BookingSummary,
}

impl NotificationJob {
    /// The customer's SMS and email confirmations for a recorded booking.
    pub fn booking_confirmations(job: &BookingJob) -> [NotificationJob; 2] {
        let booking = BookingSummary {
            reference: job.reference.clone(),
            customer_name: job.customer.name.clone(),
            service: job.service.clone(),
            start_local: job.start_local,
            time_zone: job.time_zone.clone(),
        };
        let make = |channel: &str, recipient: Recipient| NotificationJob {
            notification_id: format!(
                "{}#{}#booking-confirmation#{channel}",
                job.business_id, job.reference
            ),
            business_id: job.business_id.clone(),
            business_name: job.business_name.clone(),
            kind: NotificationKind::BookingConfirmation,
            recipient,
            booking: booking.clone(),
        };
        [
            make(
                "sms",
                Recipient::Sms {
                    phone: job.customer.phone.clone(),
                },
            ),
            make(
                "email",
                Recipient::Email {
                    email: job.customer.email.clone(),
                },
            ),
        ]
    }
}

/// Every job, tagged by the queue it travels on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Booking(BookingJob),
    Notification(NotificationJob),
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Booking(_) => JobKind::Booking,
            Self::Notification(_) => JobKind::Notification,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Self::Booking(j) => &j.job_id,
            Self::Notification(j) => &j.notification_id,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail.
        match self {
            Self::Booking(j) => serde_json::to_string(j),
            Self::Notification(j) => serde_json::to_string(j),
        }
        .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    Booking,
    Notification,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booking => "booking",
            Self::Notification => "notification",
        }
    }
}

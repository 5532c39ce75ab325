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
    /// The business's own recipients for new bookings (owner email and phone).
    #[serde(default)]
    pub owner: Vec<Recipient>,
    /// The holder claim the webhook set on its first cell (a hash: no phone in clear).
    #[serde(default)]
    pub holder: Option<String>,
}

/// What a notification is about; the worker renders it with the templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingSummary {
    pub reference: BookingReference,
    pub customer_name: String,
    /// For the business's own notice, so they can call the customer.
    #[serde(default)]
    pub customer_phone: Option<PhoneNumber>,
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

impl Recipient {
    pub fn channel(&self) -> &'static str {
        match self {
            Self::Sms { .. } => "sms",
            Self::Email { .. } => "email",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NotificationKind {
    BookingConfirmation,
    BookingRescheduled,
    BookingCancelled,
    /// To the business: a caller booked.
    OwnerNewBooking,
    /// To the business: a caller left their interest.
    OwnerNewLead,
}

/// A lead as the business's notice describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadSummary {
    pub name: Option<String>,
    pub phone: PhoneNumber,
    pub email: Option<EmailAddress>,
    pub interests: Vec<String>,
    pub note: Option<String>,
    pub score: u32,
    pub grade: String,
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
    /// What a booking notification is about (absent for leads).
    #[serde(default)]
    pub booking: Option<BookingSummary>,
    /// What a lead notification is about.
    #[serde(default)]
    pub lead: Option<LeadSummary>,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingConfirmation => "booking-confirmation",
            Self::BookingRescheduled => "booking-rescheduled",
            Self::BookingCancelled => "booking-cancelled",
            Self::OwnerNewBooking => "owner-new-booking",
            Self::OwnerNewLead => "owner-new-lead",
        }
    }
}

impl NotificationJob {
    /// The customer's SMS and email confirmations for a recorded booking.
    pub fn booking_confirmations(job: &BookingJob) -> [NotificationJob; 2] {
        let booking = Self::summary_of(job);
        Self::to_customer(
            &format!("{}#{}", job.business_id, job.reference),
            &job.business_id,
            &job.business_name,
            NotificationKind::BookingConfirmation,
            &booking,
            &job.customer.phone,
            &job.customer.email,
        )
    }

    fn summary_of(job: &BookingJob) -> BookingSummary {
        BookingSummary {
            reference: job.reference.clone(),
            customer_name: job.customer.name.clone(),
            customer_phone: Some(job.customer.phone.clone()),
            service: job.service.clone(),
            start_local: job.start_local,
            time_zone: job.time_zone.clone(),
        }
    }

    /// The business's own notices of a new booking, one per owner recipient.
    pub fn owner_new_booking(job: &BookingJob) -> Vec<NotificationJob> {
        let booking = Self::summary_of(job);
        job.owner
            .iter()
            .map(|recipient| NotificationJob {
                notification_id: format!(
                    "{}#{}#{}#{}",
                    job.business_id,
                    job.reference,
                    NotificationKind::OwnerNewBooking.as_str(),
                    recipient.channel()
                ),
                business_id: job.business_id.clone(),
                business_name: job.business_name.clone(),
                kind: NotificationKind::OwnerNewBooking,
                recipient: recipient.clone(),
                booking: Some(booking.clone()),
                lead: None,
            })
            .collect()
    }

    /// The business's own notices of a new lead, one per owner recipient; `about` makes the
    /// ids (one notice per lead).
    pub fn owner_new_lead(
        about: &str,
        business_id: &str,
        business_name: &str,
        owner: &[Recipient],
        lead: &LeadSummary,
    ) -> Vec<NotificationJob> {
        owner
            .iter()
            .map(|recipient| NotificationJob {
                notification_id: format!(
                    "{about}#{}#{}",
                    NotificationKind::OwnerNewLead.as_str(),
                    recipient.channel()
                ),
                business_id: business_id.to_string(),
                business_name: business_name.to_string(),
                kind: NotificationKind::OwnerNewLead,
                recipient: recipient.clone(),
                booking: None,
                lead: Some(lead.clone()),
            })
            .collect()
    }

    /// The SMS and the email to a customer about `booking`; ids derive from `about` (the
    /// booking, or the change job) so asking again yields the same ids.
    pub fn to_customer(
        about: &str,
        business_id: &str,
        business_name: &str,
        kind: NotificationKind,
        booking: &BookingSummary,
        phone: &PhoneNumber,
        email: &EmailAddress,
    ) -> [NotificationJob; 2] {
        let make = |channel: &str, recipient: Recipient| NotificationJob {
            notification_id: format!("{about}#{}#{channel}", kind.as_str()),
            business_id: business_id.to_string(),
            business_name: business_name.to_string(),
            kind,
            recipient,
            booking: Some(booking.clone()),
            lead: None,
        };
        [
            make(
                "sms",
                Recipient::Sms {
                    phone: phone.clone(),
                },
            ),
            make(
                "email",
                Recipient::Email {
                    email: email.clone(),
                },
            ),
        ]
    }
}

/// A change a caller asked for on a booking they have; the booking worker applies it to the
/// record (with an audit entry), frees the calendar cells it no longer needs, and notifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingChangeJob {
    /// Stable across redeliveries; the audit trail records it, so a change applies once.
    pub job_id: String,
    pub business_id: String,
    pub business_name: String,
    pub reference: BookingReference,
    pub change: BookingChange,
    pub call_id: Option<String>,
    pub tool_call_id: Option<String>,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum BookingChange {
    #[serde(rename_all = "camelCase")]
    Cancel { reason: Option<String> },
    /// The new time and its cells.
    #[serde(rename_all = "camelCase")]
    Reschedule {
        start_utc: DateTime<Utc>,
        start_local: DateTime<FixedOffset>,
        slot_cells: Vec<SlotCell>,
        /// The cells the webhook reserved for it (those the booking did not hold then).
        #[serde(default)]
        reserved: Vec<SlotCell>,
        /// The holder claim of the new time (who booked it: see `SlotStore::reserve`).
        #[serde(default)]
        holder: Option<String>,
        /// The business's capacity, for cells that must be taken when the change applies.
        #[serde(default = "one")]
        capacity: u32,
    },
}

fn one() -> u32 {
    1
}

/// What travels on the booking queue: a new booking or a change to one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BookingQueueMessage {
    Change(BookingChangeJob),
    Booking(BookingJob),
}

/// What travels on the analytics queue: everything the call record and the leads are made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AnalyticsJob {
    CallReport(crate::calls::CallReport),
    CallStatus(crate::calls::CallStatus),
    CallActivity(crate::calls::CallActivity),
    Lead(crate::leads::LeadJob),
}

impl AnalyticsJob {
    /// What makes two deliveries the same job: its content without the time it was received
    /// (Vapi redelivering a report, or a webhook retry, makes a later `reportedAt`).
    pub fn fingerprint(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.remove("reportedAt");
            fields.remove("capturedAt");
        }
        crate::reference::stable_id(value.to_string().as_bytes())
    }

    pub fn business_id(&self) -> &str {
        match self {
            Self::CallReport(j) => &j.business_id,
            Self::CallStatus(j) => &j.business_id,
            Self::CallActivity(j) => &j.business_id,
            Self::Lead(j) => &j.business_id,
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::CallReport(j) => format!("{}#call#{}#report", j.business_id, j.call_id),
            Self::CallStatus(j) => {
                format!("{}#call#{}#status#{}", j.business_id, j.call_id, j.status)
            }
            Self::CallActivity(j) => format!(
                "{}#call#{}#{}#{}",
                j.business_id,
                j.call_id,
                j.activity.as_str(),
                j.reference
            ),
            Self::Lead(j) => j.job_id.clone(),
        }
    }
}

/// Every job, tagged by the queue it travels on.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    Booking(BookingJob),
    BookingChange(BookingChangeJob),
    Notification(NotificationJob),
    Analytics(AnalyticsJob),
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Booking(_) | Self::BookingChange(_) => JobKind::Booking,
            Self::Notification(_) => JobKind::Notification,
            Self::Analytics(_) => JobKind::Analytics,
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::Booking(j) => j.job_id.clone(),
            Self::BookingChange(j) => j.job_id.clone(),
            Self::Notification(j) => j.notification_id.clone(),
            Self::Analytics(j) => j.id(),
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing these plain structs (string-keyed maps only) cannot fail.
        match self {
            Self::Booking(j) => serde_json::to_string(j),
            Self::BookingChange(j) => serde_json::to_string(j),
            Self::Notification(j) => serde_json::to_string(j),
            Self::Analytics(j) => serde_json::to_string(j),
        }
        .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    Booking,
    Notification,
    Analytics,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [Self::Booking, Self::Notification, Self::Analytics];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booking => "booking",
            Self::Notification => "notification",
            Self::Analytics => "analytics",
        }
    }
}

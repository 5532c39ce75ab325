//! Notifications: one message to one recipient on one channel, what it is about, and why a
//! send's claim outlasts every redelivery (`SENDING`).

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{OncePolicy, QueueJob};
use crate::domain::booking::BookingJob;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;
use crate::values::recipient::Recipient;
use crate::values::reference::{BookingReference, stable_id};
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
    /// To a number a caller says is theirs: the one-time code that proves it.
    CallerCode,
    /// To the customer, before the appointment (`reminder` says when it goes).
    Reminder,
    /// To a lead who did not book, the next day the business is open.
    LeadFollowUp,
    /// The one answer to a customer's text (`answer` says which).
    SmsAnswer,
}

/// What a reminder adds to its booking: when it goes (its day is said relative to that, so
/// "tomorrow" is true) and whether it invites a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderNote {
    pub sent_for: DateTime<chrono::Utc>,
    #[serde(default)]
    pub replies: bool,
}

/// The answer to a customer's text (`domain::replies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SmsAnswer {
    /// STOP and the carriers' other opt-out words: the one text after which nothing goes.
    OptedOut,
    /// START or UNSTOP.
    OptedIn,
    /// HELP, and any text we cannot read.
    Help,
    /// The same, from a business whose reminders take no replies (no C or X offered).
    HelpWithoutReplies,
    /// C: the booking (in `booking`) is confirmed.
    Confirmed,
    /// C or X with no upcoming booking to act on.
    NoBooking,
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
    /// A caller code's digits (never logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A reminder's timing and reply line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<ReminderNote>,
    /// Which answer to a customer's text this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<SmsAnswer>,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingConfirmation => "booking-confirmation",
            Self::BookingRescheduled => "booking-rescheduled",
            Self::BookingCancelled => "booking-cancelled",
            Self::OwnerNewBooking => "owner-new-booking",
            Self::OwnerNewLead => "owner-new-lead",
            Self::CallerCode => "caller-code",
            Self::Reminder => "reminder",
            Self::LeadFollowUp => "lead-follow-up",
            Self::SmsAnswer => "sms-answer",
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
            customer_name: job.customer.name.to_string(),
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
                code: None,
                reminder: None,
                answer: None,
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
                code: None,
                reminder: None,
                answer: None,
            })
            .collect()
    }

    /// The text carrying a caller's one-time code; `about` (the call and the code's hash) makes
    /// the id, so a repeat of the tool call sends it once.
    pub fn caller_code(
        about: &str,
        business_id: &str,
        business_name: &str,
        phone: &PhoneNumber,
        code: &str,
    ) -> NotificationJob {
        NotificationJob {
            notification_id: format!("{about}#{}#sms", NotificationKind::CallerCode.as_str()),
            business_id: business_id.to_string(),
            business_name: business_name.to_string(),
            kind: NotificationKind::CallerCode,
            recipient: Recipient::Sms {
                phone: phone.clone(),
            },
            booking: None,
            lead: None,
            code: Some(code.to_string()),
            reminder: None,
            answer: None,
        }
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
            code: None,
            reminder: None,
            answer: None,
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

/// A send's claim outlasts every redelivery of its message: a send whose record never
/// landed must find its claim still held by each one, never free to send again. The
/// notification queue redelivers a message at most `maxReceiveCount` (5) times, each a
/// visibility timeout (180 s) after the last receive, so its last receive comes about
/// 4 × 180 = 720 s after the first and its trip to the DLQ at 5 × 180 = 900 s: the claim is
/// held those 900 s (15 minutes), which also covers that last delivery's own run (the
/// function's 30 s timeout) and lets the consumer poll a visibility timeout late. A test
/// reads template.yaml and keeps this at least VisibilityTimeout × maxReceiveCount. The
/// price: a delivery that dies holding the claim before it sends (a timeout, a crash) blocks
/// its redeliveries, so the message waits in the DLQ for a redrive after these 15 minutes,
/// rather than going out twice. A sent notification is remembered 30 days (well past SQS's
/// 14-day retention).
pub const SENDING: OncePolicy = OncePolicy {
    claim_for: Duration::minutes(15),
    keep_for: Duration::days(30),
    waiting: None,
    record_attempts: 3,
};

impl QueueJob for NotificationJob {
    const KIND: &'static str = "notification";
    const POLICY: OncePolicy = SENDING;

    fn key(&self) -> String {
        format!("notification#{}", self.notification_id)
    }

    /// The same message: its id, kind and recipient.
    fn fingerprint(&self) -> String {
        stable_id(
            format!(
                "{}|{}|{}",
                self.notification_id,
                self.kind.as_str(),
                serde_json::to_string(&self.recipient).unwrap_or_default()
            )
            .as_bytes(),
        )
    }
}

//! Jobs: the messages our functions pass to each other through SQS, one queue per job type,
//! and what makes each the job it is (`QueueJob`: its idempotency key and fingerprint), so a
//! worker runs it once however often it is delivered.

use chrono::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::booking::BookingJob;
use crate::domain::booking_change::{BookingChange, BookingChangeJob};
use crate::values::reference::stable_id;

mod correlation;
mod followup;
mod notification;
pub use correlation::{Correlated, Correlation};
pub use followup::{
    AppointmentEndedJob, BookingSchedules, FollowUpJob, LeadFollowUpJob, ReminderJob,
    ScheduledBooking,
};
pub use notification::{
    BookingSummary, LeadSummary, NotificationJob, NotificationKind, ReminderNote, SENDING,
    SmsAnswer,
};

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
    CallReport(crate::domain::calls::CallReport),
    CallStatus(crate::domain::calls::CallStatus),
    CallActivity(crate::domain::calls::CallActivity),
    Lead(crate::domain::leads::LeadJob),
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
        crate::values::reference::stable_id(value.to_string().as_bytes())
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
    FollowUp(FollowUpJob),
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Booking(_) | Self::BookingChange(_) => JobKind::Booking,
            Self::Notification(_) => JobKind::Notification,
            Self::Analytics(_) => JobKind::Analytics,
            Self::FollowUp(_) => JobKind::FollowUp,
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::Booking(j) => j.job_id.clone(),
            Self::BookingChange(j) => j.job_id.clone(),
            Self::Notification(j) => j.notification_id.clone(),
            Self::Analytics(j) => j.id(),
            Self::FollowUp(j) => j.key(),
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing these plain structs (string-keyed maps only) cannot fail.
        match self {
            Self::Booking(j) => serde_json::to_string(j),
            Self::BookingChange(j) => serde_json::to_string(j),
            Self::Notification(j) => serde_json::to_string(j),
            Self::Analytics(j) => serde_json::to_string(j),
            Self::FollowUp(j) => serde_json::to_string(j),
        }
        .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    Booking,
    Notification,
    Analytics,
    FollowUp,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        Self::Booking,
        Self::Notification,
        Self::Analytics,
        Self::FollowUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booking => "booking",
            Self::Notification => "notification",
            Self::Analytics => "analytics",
            Self::FollowUp => "followup",
        }
    }
}

/// How long a job's claim and its record are kept, and whether a repeat waits for a run still
/// in progress elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct OncePolicy {
    /// A delivery that dies holding the claim blocks others this long (about the function's
    /// timeout, and shorter than the queue's visibility timeout so the redelivery may run).
    pub claim_for: Duration,
    /// How long a completed job is remembered (longer than any redelivery or retry).
    pub keep_for: Duration,
    /// A repeat that finds the job running elsewhere waits for its result this way; without
    /// it, the repeat is refused at once (a queue redelivers it later).
    pub waiting: Option<Waiting>,
    /// How many times a result is written before its run is reported `Unrecorded`.
    pub record_attempts: u32,
}

/// Claims again `every` so long, until `up_to` has passed since the first claim.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    pub up_to: std::time::Duration,
    pub every: std::time::Duration,
}

/// For a queue job: claimed for twice the functions' 30 s timeout, well inside the queues'
/// 180 s visibility timeout, so a delivery that died holding the claim is retried by the next
/// one; a done job is remembered past SQS's 14-day retention.
pub const QUEUE_JOB: OncePolicy = OncePolicy {
    claim_for: Duration::seconds(60),
    keep_for: Duration::days(15),
    waiting: None,
    record_attempts: 3,
};

/// A job a queue worker runs once: it says how it is read from a message body, its
/// idempotency key, and what makes it that job (a redelivery has the same fingerprint; the
/// same key with another fingerprint is refused). Its ids go on its log lines (`Correlated`).
pub trait QueueJob: DeserializeOwned + Correlated {
    /// What the queue's messages are, for errors: "booking".
    const KIND: &'static str;
    const POLICY: OncePolicy = QUEUE_JOB;

    fn parse(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }

    fn key(&self) -> String;

    fn fingerprint(&self) -> String;
}

impl QueueJob for BookingQueueMessage {
    const KIND: &'static str = "booking";

    /// The untagged enum's error says nothing useful; the booking's does.
    fn parse(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body).map_err(|e| match serde_json::from_str::<BookingJob>(body) {
            Err(booking) => booking,
            Ok(_) => e,
        })
    }

    fn key(&self) -> String {
        match self {
            Self::Booking(job) => format!("booking#{}", job.job_id),
            Self::Change(job) => format!("change#{}", job.job_id),
        }
    }

    /// Not when it was queued: a retried enqueue of the same booking carries a later
    /// `requestedAt`.
    fn fingerprint(&self) -> String {
        let text = match self {
            Self::Booking(job) => format!(
                "{}|{}|{}|{}|{}",
                job.business_id,
                job.reference,
                job.start_utc.to_rfc3339(),
                job.service,
                job.customer.phone.as_str()
            ),
            Self::Change(job) => format!(
                "{}|{}|{}",
                job.business_id,
                job.reference,
                match &job.change {
                    // One cancel per booking, whoever asks and why: a cancel by phone with a
                    // reason and one by text (X) in flight together are the same change.
                    BookingChange::Cancel { .. } => "cancel".to_string(),
                    change => serde_json::to_string(change).unwrap_or_default(),
                }
            ),
        };
        stable_id(text.as_bytes())
    }
}

impl QueueJob for AnalyticsJob {
    const KIND: &'static str = "analytics";

    /// Keyed by its content: another payload is another key.
    fn key(&self) -> String {
        format!("analytics#{}#{}", self.business_id(), self.fingerprint())
    }

    fn fingerprint(&self) -> String {
        AnalyticsJob::fingerprint(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::reference::BookingReference;

    fn cancel(reason: Option<&str>) -> BookingQueueMessage {
        BookingQueueMessage::Change(BookingChangeJob {
            job_id: "default#K7P2X9#cancel".into(),
            business_id: "default".into(),
            business_name: "Clinic".into(),
            reference: BookingReference::parse("K7P2X9").unwrap(),
            change: BookingChange::Cancel {
                reason: reason.map(String::from),
            },
            call_id: None,
            tool_call_id: None,
            requested_at: chrono::Utc::now(),
            texts: Default::default(),
            followups: None,
        })
    }

    #[test]
    fn a_cancel_by_phone_with_a_reason_and_one_by_text_are_one_job() {
        let by_phone = cancel(Some("travelling"));
        let by_text = cancel(None);
        assert_eq!(by_phone.key(), by_text.key());
        assert_eq!(by_phone.fingerprint(), by_text.fingerprint());
    }
}

//! Call records: what the analytics worker keeps of each call, built from the end-of-call
//! report, the status updates and what the caller did during the call (bookings, changes,
//! leads). Every job is applied by `CallRecord::apply`, in any order and any number of times,
//! and the outcome is derived from what has been applied so far.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::business::Business;
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;
use crate::vapi::envelope::{EndOfCallReport, StatusUpdate};

/// Longest transcript kept (bytes): the job must fit SQS's 256 KiB and the record
/// DynamoDB's 400 KB. A ten-minute call is about 10,000 characters.
pub const MAX_TRANSCRIPT_BYTES: usize = 100_000;
/// Longest summary, ended reason or success evaluation kept (bytes).
const MAX_TEXT_CHARS: usize = 10_000;
/// Structured data larger than this (as JSON) is dropped, with a note in the log.
const MAX_STRUCTURED_BYTES: usize = 20_000;
/// A call shorter than this with nothing done is abandoned.
const ABANDONED_BELOW_SECONDS: f64 = 10.0;

/// Why Vapi ended a call in ways that mean nobody was really there.
const ABANDONED_REASONS: &[&str] = &[
    "customer-did-not-answer",
    "customer-busy",
    "silence-timed-out",
    "customer-did-not-give-microphone-permission",
    "voicemail",
];

/// At most `max` bytes of UTF-8 (cut on a character boundary, marked with "…"): SQS and
/// DynamoDB limits are in bytes, and a transcript in Greek or Japanese takes 2 to 3 per
/// character.
fn bounded(text: Option<&str>, max: usize) -> Option<String> {
    let text = text?.trim();
    if text.is_empty() {
        return None;
    }
    if text.len() <= max {
        return Some(text.to_string());
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!("{}…", &text[..cut]))
}

/// The end-of-call report as the analytics job carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    pub business_id: String,
    pub call_id: String,
    pub customer_phone: Option<PhoneNumber>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<f64>,
    pub ended_reason: Option<String>,
    pub transcript: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub structured_data: Option<Map<String, Value>>,
    pub success_evaluation: Option<String>,
    pub recording_url: Option<String>,
    pub cost: Option<f64>,
    /// How many times the caller spoke (0 when the report lists no messages).
    #[serde(default)]
    pub caller_turns: u32,
    pub reported_at: DateTime<Utc>,
}

impl CallReport {
    /// The job for a report; `None` when the report names no call (nothing to key it by).
    pub fn from_report(
        report: &EndOfCallReport,
        business: &Business,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let call_id = report.call.call_id.clone().filter(|id| !id.is_empty())?;
        let structured_data = report.structured_data.clone().filter(|data| {
            serde_json::to_string(data).map_or(0, |s| s.len()) <= MAX_STRUCTURED_BYTES
        });
        Some(Self {
            business_id: business.id.clone(),
            call_id,
            customer_phone: report
                .call
                .customer_number
                .as_deref()
                .and_then(|n| PhoneNumber::parse(n, business.phone_region).ok()),
            started_at: report.started_at.or(report.call.started_at),
            ended_at: report.ended_at,
            duration_seconds: report.duration_seconds(),
            ended_reason: bounded(report.ended_reason.as_deref(), MAX_TEXT_CHARS),
            transcript: bounded(report.transcript.as_deref(), MAX_TRANSCRIPT_BYTES),
            summary: bounded(report.summary.as_deref(), MAX_TEXT_CHARS),
            structured_data,
            success_evaluation: bounded(report.success_evaluation.as_deref(), MAX_TEXT_CHARS),
            recording_url: bounded(report.recording_url.as_deref(), 2_000),
            cost: report.cost,
            caller_turns: report
                .messages
                .iter()
                .filter(|m| m.role == "user" || m.role == "customer")
                .count() as u32,
            reported_at: now,
        })
    }

    /// What the caller showed interest in, when they did: from the structured data the
    /// assistant extracted (`interest`, `serviceInterest`, `interestedIn`, `service`, or
    /// `interested: true`), or a service of the business named in the summary.
    pub fn interest(&self, business: &Business) -> Option<String> {
        if let Some(data) = &self.structured_data {
            let field = |names: &[&str]| {
                data.iter()
                    .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
                    .map(|(_, v)| v)
            };
            if let Some(Value::String(s)) =
                field(&["interest", "serviceInterest", "interestedIn", "service"])
                && !s.trim().is_empty()
            {
                return bounded(Some(s), 200);
            }
            if let Some(v) = field(&["interested", "isInterested"])
                && truthy(v)
            {
                return Some(
                    self.summary_service(business)
                        .unwrap_or_else(|| "general enquiry".to_string()),
                );
            }
        }
        self.summary_service(business)
    }

    fn summary_service(&self, business: &Business) -> Option<String> {
        let summary = self.summary.as_deref()?.to_lowercase();
        business
            .services
            .list()
            .iter()
            .find(|service| {
                std::iter::once(&service.name)
                    .chain(service.aliases.iter())
                    .any(|name| contains_word(&summary, &name.to_lowercase()))
            })
            .map(|service| service.name.clone())
    }

    fn abandoned(&self) -> bool {
        let reason = self.ended_reason.as_deref().unwrap_or_default();
        ABANDONED_REASONS.iter().any(|r| reason.contains(r))
            || self
                .duration_seconds
                .is_some_and(|d| d < ABANDONED_BELOW_SECONDS)
            || (self.caller_turns == 0 && self.transcript.is_none())
    }
}

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "yes" | "y" | "1" | "pass"
        ),
        Value::Number(n) => n.as_f64().is_some_and(|n| n > 0.0),
        _ => false,
    }
}

/// `word` occurs in `text` between non-alphanumeric characters.
pub fn contains_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// A `status-update`, for keeping the call's status current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallStatus {
    pub business_id: String,
    pub call_id: String,
    pub customer_phone: Option<PhoneNumber>,
    pub status: String,
    pub ended_reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl CallStatus {
    pub fn from_update(
        update: &StatusUpdate,
        business: &Business,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let call_id = update.call.call_id.clone().filter(|id| !id.is_empty())?;
        Some(Self {
            business_id: business.id.clone(),
            call_id,
            customer_phone: update
                .call
                .customer_number
                .as_deref()
                .and_then(|n| PhoneNumber::parse(n, business.phone_region).ok()),
            status: bounded(Some(&update.status), 100)?,
            ended_reason: bounded(update.ended_reason.as_deref(), 1_000),
            at: update.at.unwrap_or(now),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Activity {
    Booked,
    Rescheduled,
    Cancelled,
}

impl Activity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Something the caller did during a call, reported once the booking worker has recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallActivity {
    pub business_id: String,
    pub call_id: String,
    pub customer_phone: PhoneNumber,
    pub activity: Activity,
    pub reference: BookingReference,
    /// The booked service's price, for the call's value.
    pub value_cents: Option<u64>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallOutcome {
    Booked,
    Rescheduled,
    Cancelled,
    Lead,
    Information,
    Abandoned,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
            Self::Lead => "lead",
            Self::Information => "information",
            Self::Abandoned => "abandoned",
        }
    }
}

/// Vapi's call statuses in the order a call goes through them; `ended` is final.
fn status_rank(status: &str) -> u8 {
    match status {
        "scheduled" => 0,
        "queued" => 1,
        "ringing" => 2,
        "in-progress" => 3,
        "forwarding" => 4,
        _ => 5,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    pub business_id: String,
    pub call_id: String,
    pub customer_phone: Option<PhoneNumber>,
    pub status: Option<String>,
    pub status_at: Option<DateTime<Utc>>,
    pub report: Option<CallReport>,
    #[serde(default)]
    pub booked: Vec<BookingReference>,
    #[serde(default)]
    pub rescheduled: Vec<BookingReference>,
    #[serde(default)]
    pub cancelled: Vec<BookingReference>,
    /// Sum of the prices of the services booked in this call.
    #[serde(default)]
    pub booked_value_cents: u64,
    /// What the caller was interested in, when the call produced a lead.
    pub lead_interest: Option<String>,
    /// Set once the call has ended (report or final status).
    pub outcome: Option<CallOutcome>,
    /// Bumped on every write; writes are conditional on it (optimistic locking).
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

impl CallRecord {
    pub fn new(business_id: &str, call_id: &str, now: DateTime<Utc>) -> Self {
        Self {
            business_id: business_id.to_string(),
            call_id: call_id.to_string(),
            customer_phone: None,
            status: None,
            status_at: None,
            report: None,
            booked: Vec::new(),
            rescheduled: Vec::new(),
            cancelled: Vec::new(),
            booked_value_cents: 0,
            lead_interest: None,
            outcome: None,
            version: 0,
            updated_at: now,
        }
    }

    pub fn has_ended(&self) -> bool {
        self.report.is_some() || self.status.as_deref() == Some("ended")
    }

    /// Applies one job. Returns whether the record changed (a repeat changes nothing).
    pub fn apply(&mut self, job: &CallJob<'_>, business: &Business, now: DateTime<Utc>) -> bool {
        let before = self.clone();
        match job {
            CallJob::Report(report) => {
                self.customer_phone = self.customer_phone.take().or(report.customer_phone.clone());
                let mut report = (*report).clone();
                // The first report wins its received time, so a redelivery changes nothing.
                if let Some(existing) = &self.report {
                    report.reported_at = existing.reported_at;
                }
                self.report = Some(report);
            }
            CallJob::Status(update) => {
                self.customer_phone = self.customer_phone.take().or(update.customer_phone.clone());
                let newer = match (&self.status, self.status_at) {
                    (Some(current), Some(at)) => {
                        current != "ended"
                            && (update.at > at
                                || (update.at == at
                                    && status_rank(&update.status) > status_rank(current)))
                    }
                    _ => true,
                };
                if newer {
                    self.status = Some(update.status.clone());
                    self.status_at = Some(update.at);
                }
            }
            CallJob::Activity(activity) => {
                self.customer_phone = self
                    .customer_phone
                    .take()
                    .or(Some(activity.customer_phone.clone()));
                let list = match activity.activity {
                    Activity::Booked => &mut self.booked,
                    Activity::Rescheduled => &mut self.rescheduled,
                    Activity::Cancelled => &mut self.cancelled,
                };
                if !list.contains(&activity.reference) {
                    list.push(activity.reference.clone());
                    if activity.activity == Activity::Booked {
                        self.booked_value_cents += activity.value_cents.unwrap_or(0);
                    }
                }
            }
            CallJob::Lead { interest } => {
                if self.lead_interest.is_none() {
                    self.lead_interest = Some(interest.to_string());
                }
            }
        }
        // A report with interest and nothing booked or changed makes the call a lead.
        if self.lead_interest.is_none()
            && self.booked.is_empty()
            && self.rescheduled.is_empty()
            && self.cancelled.is_empty()
            && let Some(interest) = self.report.as_ref().and_then(|r| r.interest(business))
        {
            self.lead_interest = Some(interest);
        }
        self.outcome = self.has_ended().then(|| self.derive_outcome());
        let changed = *self != before;
        if changed {
            self.version = before.version + 1;
            self.updated_at = now;
        }
        changed
    }

    fn derive_outcome(&self) -> CallOutcome {
        if !self.booked.is_empty() {
            CallOutcome::Booked
        } else if !self.rescheduled.is_empty() {
            CallOutcome::Rescheduled
        } else if !self.cancelled.is_empty() {
            CallOutcome::Cancelled
        } else if self.lead_interest.is_some() {
            CallOutcome::Lead
        } else {
            match &self.report {
                Some(report) if !report.abandoned() => CallOutcome::Information,
                _ => CallOutcome::Abandoned,
            }
        }
    }
}

/// One job as the call record sees it.
#[derive(Debug, Clone, Copy)]
pub enum CallJob<'a> {
    Report(&'a CallReport),
    Status(&'a CallStatus),
    Activity(&'a CallActivity),
    Lead { interest: &'a str },
}

#[cfg(test)]
mod tests;

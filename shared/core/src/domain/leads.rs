//! Leads: callers who showed interest without booking. One lead per business and phone
//! number: a `captureLead` call and an end-of-call report for the same phone merge into it.
//!
//! The score (0 to 100) is a sum of documented rules (README "Lead scoring"):
//! - 20: an interest was stated;
//! - 20: the interest names one of the business's services;
//! - 10: an email address was given;
//! - 15: urgency: "asap", "urgent", "today", "tomorrow", "this week" or "soon" in the
//!   interest or notes, or a `timeline`/`urgency` field in the call's structured data;
//! - 10: a `budget` field in the structured data;
//! - 10: the structured data says `interested` (true/yes) or a `leadQuality` of hot/high;
//! - 10: the caller got in touch more than once (two or more sources);
//! - 5: the assistant captured it explicitly (`captureLead`).
//!
//! Capped at 100. Grade: hot from 60, warm from 35, otherwise cold.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::business::Business;
use crate::domain::calls::{CallReport, contains_word, truthy};
use crate::domain::followups::lead_follow_up_due;
use crate::domain::limits::TextPermission;
use crate::values::email::{EmailAddress, EmailError};
use crate::values::name::CustomerName;
use crate::values::phone::PhoneNumber;
use crate::values::reference::{BookingReference, stable_id};
use crate::values::speech::Refusal;
use crate::vapi::envelope::CallContext;
use crate::vapi::tools::CAPTURE_LEAD;

/// Notes kept per lead (the oldest are dropped first).
const MAX_NOTES: usize = 20;
const URGENT_WORDS: &[&str] = &["asap", "urgent", "today", "tomorrow", "this week", "soon"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LeadSource {
    /// The assistant called `captureLead`.
    Assistant,
    /// Derived from an end-of-call report.
    CallReport,
}

/// Signals from the call's structured data that score a lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadSignals {
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub budget: bool,
    #[serde(default)]
    pub qualified: bool,
}

impl LeadSignals {
    pub fn from_structured(data: Option<&Map<String, Value>>) -> Self {
        let Some(data) = data else {
            return Self::default();
        };
        let has = |names: &[&str]| {
            data.iter().any(|(k, v)| {
                names.iter().any(|n| k.eq_ignore_ascii_case(n))
                    && !v.is_null()
                    && v.as_str().is_none_or(|s| !s.trim().is_empty())
            })
        };
        let value = |name: &str| {
            data.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        Self {
            urgent: has(&["timeline", "urgency"]),
            budget: has(&["budget"]),
            qualified: value("interested").is_some_and(truthy)
                || value("leadQuality")
                    .and_then(Value::as_str)
                    .is_some_and(|q| {
                        matches!(q.trim().to_ascii_lowercase().as_str(), "hot" | "high")
                    }),
        }
    }

    fn merge(self, other: Self) -> Self {
        Self {
            urgent: self.urgent || other.urgent,
            budget: self.budget || other.budget,
            qualified: self.qualified || other.qualified,
        }
    }
}

/// A lead as the analytics worker receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadJob {
    /// Stable across redeliveries and repeats: the lead records each source once.
    pub job_id: String,
    pub business_id: String,
    pub business_name: String,
    pub call_id: Option<String>,
    pub name: Option<String>,
    pub phone: PhoneNumber,
    pub email: Option<EmailAddress>,
    pub interest: String,
    pub notes: Option<String>,
    pub source: LeadSource,
    #[serde(default)]
    pub signals: LeadSignals,
    pub captured_at: DateTime<Utc>,
    /// When the lead hears from the business if it has not booked by then
    /// (`lead_follow_up_due`); `None`: no follow-up (off, or queued before follow-ups).
    #[serde(default)]
    pub follow_up_at: Option<DateTime<Utc>>,
    /// Whether the lead's number may be texted (the business's `textCountries`).
    #[serde(default)]
    pub texts: TextPermission,
}

impl LeadJob {
    /// The lead an end-of-call report makes when the caller showed interest.
    pub fn from_report(
        report: &CallReport,
        interest: &str,
        business: &Business,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let phone = report.customer_phone.clone()?;
        Some(Self {
            job_id: format!("{}#call#{}#lead", report.business_id, report.call_id),
            business_id: report.business_id.clone(),
            business_name: business.name.clone(),
            call_id: Some(report.call_id.clone()),
            name: None,
            texts: business.texts_to(&phone),
            phone,
            email: None,
            interest: interest.to_string(),
            notes: report.summary.clone(),
            source: LeadSource::CallReport,
            signals: LeadSignals::from_structured(report.structured_data.as_ref()),
            captured_at: now,
            follow_up_at: follow_up_at(business, now),
        })
    }
}

/// Validates a `captureLead` call. `Err` is the sentence for the caller.
pub fn capture_lead_request(
    args: &Map<String, Value>,
    call: &CallContext,
    tool_call_id: Option<&str>,
    business: &Business,
    now: DateTime<Utc>,
) -> Result<LeadJob, Refusal> {
    let args = CAPTURE_LEAD.arguments(args);
    let name = args.text("name")?;
    let phone = args.text("phone")?.or_else(|| call.customer_number.clone());
    let email = args.text("email")?;
    let interest = args.text("interest")?;
    let notes = args.text("notes")?;
    let missing = args.missing(&[
        ("name", name.is_none()),
        ("phone", phone.is_none()),
        ("interest", interest.is_none()),
    ]);
    if !missing.is_empty() {
        return Err(format!(
            "To pass this on I still need the {}.",
            crate::values::speech::spoken_list(&missing)
        )
        .into());
    }
    let name = name
        .map(|n| CustomerName::parse_spoken(&n))
        .transpose()?
        .map(String::from);
    let phone = PhoneNumber::parse_spoken(&phone.unwrap_or_default(), business.phone_region)?;
    let email = match email {
        Some(e) => Some(EmailAddress::parse(&e).map_err(|e| match e {
            EmailError::Empty | EmailError::Invalid => {
                "That email address doesn't look right; could you spell it again?".to_string()
            }
        })?),
        None => None,
    };
    let interest = interest.unwrap_or_default();
    // A repeat of this tool call (same call and tool-call id) is the same source; without
    // ids, the same phone and interest in the same call is.
    let seed = match tool_call_id.filter(|id| !id.is_empty()) {
        Some(id) => format!(
            "{}|{}|{id}",
            business.id,
            call.call_id.as_deref().unwrap_or_default()
        ),
        None => format!(
            "{}|{}|{}|{}",
            business.id,
            call.call_id.as_deref().unwrap_or_default(),
            phone.as_str(),
            interest.to_lowercase()
        ),
    };
    Ok(LeadJob {
        job_id: format!("{}#lead#{}", business.id, stable_id(seed.as_bytes())),
        business_id: business.id.clone(),
        business_name: business.name.clone(),
        call_id: call.call_id.clone(),
        name,
        texts: business.texts_to(&phone),
        phone,
        email,
        interest,
        notes,
        source: LeadSource::Assistant,
        signals: LeadSignals::default(),
        captured_at: now,
        follow_up_at: follow_up_at(business, now),
    })
}

/// The business's next open day at its lead follow-up time, if it sends one.
fn follow_up_at(business: &Business, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lead_follow_up_due(&business.followups, business.zone, &business.hours, now)
}

/// The caller hears this once the lead is queued.
pub fn lead_confirmation(job: &LeadJob, business: &Business) -> String {
    let who = job
        .name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .map(|n| format!(", {n}"))
        .unwrap_or_default();
    format!(
        "Thank you{who}. I've passed your interest in {} on to {}, and someone will call you back.",
        job.interest, business.name
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LeadGrade {
    Hot,
    Warm,
    Cold,
}

impl LeadGrade {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadGrade::Hot => "hot",
            LeadGrade::Warm => "warm",
            LeadGrade::Cold => "cold",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LeadStatus {
    Open,
    /// The caller booked after becoming a lead.
    Converted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadRecord {
    pub business_id: String,
    pub phone: PhoneNumber,
    pub name: Option<String>,
    pub email: Option<EmailAddress>,
    pub interests: Vec<String>,
    pub notes: Vec<String>,
    /// The jobs merged into this lead (each once).
    pub sources: Vec<String>,
    pub call_ids: Vec<String>,
    pub captured_by_assistant: bool,
    pub signals: LeadSignals,
    pub score: u32,
    pub grade: LeadGrade,
    pub status: LeadStatus,
    pub converted_reference: Option<BookingReference>,
    pub first_captured_at: DateTime<Utc>,
    pub last_captured_at: DateTime<Utc>,
    /// Bumped on every write; writes are conditional on it (optimistic locking).
    pub version: u64,
}

impl LeadRecord {
    pub fn new(job: &LeadJob) -> Self {
        Self {
            business_id: job.business_id.clone(),
            phone: job.phone.clone(),
            name: None,
            email: None,
            interests: Vec::new(),
            notes: Vec::new(),
            sources: Vec::new(),
            call_ids: Vec::new(),
            captured_by_assistant: false,
            signals: LeadSignals::default(),
            score: 0,
            grade: LeadGrade::Cold,
            status: LeadStatus::Open,
            converted_reference: None,
            first_captured_at: job.captured_at,
            last_captured_at: job.captured_at,
            version: 0,
        }
    }

    /// Merges a job into the lead; returns false for a job merged before.
    pub fn merge(&mut self, job: &LeadJob, business: &Business) -> bool {
        if self.sources.contains(&job.job_id) {
            return false;
        }
        self.sources.push(job.job_id.clone());
        if job.name.is_some() {
            self.name = job.name.clone();
        }
        if job.email.is_some() {
            self.email = job.email.clone();
        }
        if !self
            .interests
            .iter()
            .any(|i| i.eq_ignore_ascii_case(&job.interest))
        {
            self.interests.push(job.interest.clone());
        }
        if let Some(note) = &job.notes {
            self.notes.push(note.clone());
            if self.notes.len() > MAX_NOTES {
                self.notes.remove(0);
            }
        }
        if let Some(call) = &job.call_id
            && !self.call_ids.contains(call)
        {
            self.call_ids.push(call.clone());
        }
        self.captured_by_assistant |= job.source == LeadSource::Assistant;
        self.signals = self.signals.merge(job.signals);
        self.first_captured_at = self.first_captured_at.min(job.captured_at);
        self.last_captured_at = self.last_captured_at.max(job.captured_at);
        self.score = score(self, business);
        self.grade = grade(self.score);
        self.version += 1;
        true
    }

    /// The caller booked: the lead is converted. Returns false when it already was.
    pub fn convert(&mut self, reference: &BookingReference) -> bool {
        if self.status == LeadStatus::Converted {
            return false;
        }
        self.status = LeadStatus::Converted;
        self.converted_reference = Some(reference.clone());
        self.version += 1;
        true
    }
}

/// The rule-based score described at the top of this module.
pub fn score(lead: &LeadRecord, business: &Business) -> u32 {
    let text: String = lead
        .interests
        .iter()
        .chain(lead.notes.iter())
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>()
        .join(" \n ");
    let names_a_service = lead
        .interests
        .iter()
        .any(|i| business.services.find(i).is_some())
        || business.services.list().iter().any(|s| {
            std::iter::once(&s.name)
                .chain(s.aliases.iter())
                .any(|n| contains_word(&text, &n.to_lowercase()))
        });
    let urgent = lead.signals.urgent || URGENT_WORDS.iter().any(|w| contains_word(&text, w));
    let rules = [
        (!lead.interests.is_empty(), 20),
        (names_a_service, 20),
        (lead.email.is_some(), 10),
        (urgent, 15),
        (lead.signals.budget, 10),
        (lead.signals.qualified, 10),
        (lead.sources.len() >= 2, 10),
        (lead.captured_by_assistant, 5),
    ];
    rules
        .iter()
        .filter(|(holds, _)| *holds)
        .map(|(_, points)| points)
        .sum::<u32>()
        .min(100)
}

pub fn grade(score: u32) -> LeadGrade {
    match score {
        60.. => LeadGrade::Hot,
        35.. => LeadGrade::Warm,
        _ => LeadGrade::Cold,
    }
}

#[cfg(test)]
mod tests;

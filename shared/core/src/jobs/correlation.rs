//! The ids a job's log lines carry, so an operator finds every line of one call, one booking
//! or one business across the functions: ids only, never a phone number, an email or a name.

use crate::domain::booking::BookingJob;
use crate::domain::booking_change::BookingChangeJob;
use crate::jobs::{AnalyticsJob, BookingQueueMessage, NotificationJob};

/// Which business, call, tool call and booking a job is about, where it knows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Correlation<'a> {
    pub business_id: Option<&'a str>,
    pub call_id: Option<&'a str>,
    pub tool_call_id: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// A job that can say what it is about (`Correlation`).
pub trait Correlated {
    fn correlation(&self) -> Correlation<'_>;
}

impl Correlated for BookingJob {
    fn correlation(&self) -> Correlation<'_> {
        Correlation {
            business_id: Some(&self.business_id),
            call_id: self.call_id.as_deref(),
            tool_call_id: self.tool_call_id.as_deref(),
            reference: Some(self.reference.as_str()),
        }
    }
}

impl Correlated for BookingChangeJob {
    fn correlation(&self) -> Correlation<'_> {
        Correlation {
            business_id: Some(&self.business_id),
            call_id: self.call_id.as_deref(),
            tool_call_id: self.tool_call_id.as_deref(),
            reference: Some(self.reference.as_str()),
        }
    }
}

impl Correlated for BookingQueueMessage {
    fn correlation(&self) -> Correlation<'_> {
        match self {
            Self::Booking(job) => job.correlation(),
            Self::Change(job) => job.correlation(),
        }
    }
}

impl Correlated for AnalyticsJob {
    fn correlation(&self) -> Correlation<'_> {
        let (call_id, reference) = match self {
            Self::CallReport(j) => (Some(j.call_id.as_str()), None),
            Self::CallStatus(j) => (Some(j.call_id.as_str()), None),
            Self::CallActivity(j) => (Some(j.call_id.as_str()), Some(j.reference.as_str())),
            Self::Lead(j) => (j.call_id.as_deref(), None),
        };
        Correlation {
            business_id: Some(self.business_id()),
            call_id,
            tool_call_id: None,
            reference,
        }
    }
}

/// A notification knows its business and the booking it is about; its id (logged as the
/// job's key) names the rest: the call for a caller's code, a hash for a lead.
impl Correlated for NotificationJob {
    fn correlation(&self) -> Correlation<'_> {
        Correlation {
            business_id: Some(&self.business_id),
            reference: self.booking.as_ref().map(|b| b.reference.as_str()),
            ..Correlation::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::QueueJob;
    use serde_json::Value;

    /// Every sample job in events/ (the workers' SQS events) names the ids its body holds,
    /// and nothing else: a job's phone numbers and emails are in none of them.
    #[test]
    fn a_jobs_ids_are_the_ids_its_body_holds() {
        let mut seen = 0;
        for prefix in [
            "booking-worker-",
            "analytics-worker-",
            "notification-worker-",
        ] {
            for (name, text) in crate::testing::sample_events(prefix) {
                let event: Value = serde_json::from_str(&text).unwrap();
                for record in event["Records"].as_array().unwrap() {
                    let body = record["body"].as_str().unwrap();
                    let ids = match prefix {
                        "booking-worker-" => ids_of::<BookingQueueMessage>(body),
                        "analytics-worker-" => ids_of::<AnalyticsJob>(body),
                        _ => ids_of::<NotificationJob>(body),
                    };
                    let job: Value = serde_json::from_str(body).unwrap();
                    let text = |v: &Value| v.as_str().map(String::from);
                    let reference = text(&job["reference"]).or(text(&job["booking"]["reference"]));
                    let expected = [
                        text(&job["businessId"]),
                        text(&job["callId"]),
                        text(&job["toolCallId"]),
                        reference,
                    ];
                    assert_eq!(ids, expected, "{name}: {body}");
                    assert!(ids[0].is_some(), "{name}: every job names its business");
                    for id in ids.iter().flatten() {
                        assert!(!id.contains('@') && !id.contains('+'), "{name}: {id}");
                    }
                    seen += 1;
                }
            }
        }
        assert!(seen >= 10, "only {seen} sample jobs read");
    }

    fn ids_of<J: QueueJob>(body: &str) -> [Option<String>; 4] {
        let job = J::parse(body).unwrap();
        let c = job.correlation();
        [c.business_id, c.call_id, c.tool_call_id, c.reference].map(|s| s.map(String::from))
    }
}

//! What travels on the followup queue: each job is put there by a one-time EventBridge
//! Scheduler schedule when it is due (`FollowUpSchedules`), and the followup worker does it
//! once, after reading again what it is about (a cancelled or moved booking gets nothing).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::followups::{
    FollowUpSettings, ended_schedule_name, plan_reminders, reminder_schedule_name,
};
use crate::domain::leads::LeadJob;
use crate::domain::limits::TextPermission;
use crate::values::phone::PhoneNumber;
use crate::values::reference::{BookingReference, stable_id};

use super::{Correlated, Correlation, QueueJob};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FollowUpJob {
    Reminder(ReminderJob),
    AppointmentEnded(AppointmentEndedJob),
    LeadFollowUp(LeadFollowUpJob),
}

/// A reminder of a booking, `minutes_before` its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReminderJob {
    pub business_id: String,
    pub business_name: String,
    pub reference: BookingReference,
    pub minutes_before: u32,
    /// The start it was planned for: a booking moved since has other schedules, so this one
    /// sends nothing.
    pub start_utc: DateTime<Utc>,
    /// When it was due (after quiet hours): the message says the day relative to it.
    pub due_at: DateTime<Utc>,
    /// Whether the message invites "Reply C to confirm or X to cancel".
    #[serde(default)]
    pub replies: bool,
    #[serde(default)]
    pub texts: TextPermission,
}

/// The end of an appointment: the booking is marked for the business to confirm attendance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentEndedJob {
    pub business_id: String,
    pub reference: BookingReference,
    /// The start it was planned for (a moved booking has another schedule).
    pub start_utc: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// The next-day message to a lead who did not book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadFollowUpJob {
    pub business_id: String,
    pub business_name: String,
    /// The lead's job id (`LeadJob::job_id`), so the worker finds the lead.
    pub lead_id: String,
    pub phone: PhoneNumber,
    pub captured_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    #[serde(default)]
    pub texts: TextPermission,
}

impl FollowUpJob {
    pub fn business_id(&self) -> &str {
        match self {
            Self::Reminder(j) => &j.business_id,
            Self::AppointmentEnded(j) => &j.business_id,
            Self::LeadFollowUp(j) => &j.business_id,
        }
    }

    /// Its schedule's name (`domain::followups`): one job per schedule.
    pub fn schedule_name(&self) -> String {
        use crate::domain::followups::{
            ended_schedule_name, lead_schedule_name, reminder_schedule_name,
        };
        match self {
            Self::Reminder(j) => {
                reminder_schedule_name(&j.business_id, &j.reference, j.minutes_before)
            }
            Self::AppointmentEnded(j) => ended_schedule_name(&j.business_id, &j.reference),
            Self::LeadFollowUp(j) => lead_schedule_name(&j.business_id, &j.lead_id),
        }
    }

    pub fn due_at(&self) -> DateTime<Utc> {
        match self {
            Self::Reminder(j) => j.due_at,
            Self::AppointmentEnded(j) => j.due_at,
            Self::LeadFollowUp(j) => j.due_at,
        }
    }
}

/// A booking as its schedules need it: which, where and when.
#[derive(Debug, Clone)]
pub struct ScheduledBooking<'a> {
    pub business_id: &'a str,
    pub business_name: &'a str,
    pub reference: &'a BookingReference,
    pub start_utc: DateTime<Utc>,
    pub duration_minutes: u32,
    pub zone: Tz,
    pub texts: TextPermission,
}

/// What a booking's schedules become: the jobs to put (each by its name, so putting one again
/// moves it) and the names to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingSchedules {
    pub put: Vec<FollowUpJob>,
    /// The reminders of the business's offsets not planned for this start (past, or merged
    /// into a larger one by the quiet hours): a moved booking's earlier ones for them go.
    pub delete: Vec<String>,
}

impl BookingSchedules {
    /// A booking at its (new) start, planned `now`: its reminders (`plan_reminders`) and the
    /// mark once it has ended.
    pub fn planned(
        settings: &FollowUpSettings,
        booking: &ScheduledBooking<'_>,
        now: DateTime<Utc>,
    ) -> Self {
        let b = booking;
        let planned = plan_reminders(settings, b.zone, b.start_utc, now);
        let mut put: Vec<FollowUpJob> = planned
            .iter()
            .map(|p| {
                FollowUpJob::Reminder(ReminderJob {
                    business_id: b.business_id.to_string(),
                    business_name: b.business_name.to_string(),
                    reference: b.reference.clone(),
                    minutes_before: p.minutes_before,
                    start_utc: b.start_utc,
                    due_at: p.at,
                    replies: settings.replies,
                    texts: b.texts,
                })
            })
            .collect();
        let mut delete: Vec<String> = settings
            .reminders
            .iter()
            .filter(|m| !planned.iter().any(|p| p.minutes_before == **m))
            .map(|m| reminder_schedule_name(b.business_id, b.reference, *m))
            .collect();
        // Never a schedule in the past (a job redriven late): Scheduler would not fire it.
        let ends = b.start_utc + Duration::minutes(i64::from(b.duration_minutes));
        if ends > now {
            put.push(FollowUpJob::AppointmentEnded(AppointmentEndedJob {
                business_id: b.business_id.to_string(),
                reference: b.reference.clone(),
                start_utc: b.start_utc,
                due_at: ends,
            }));
        } else {
            delete.push(ended_schedule_name(b.business_id, b.reference));
        }
        Self { put, delete }
    }

    /// A cancelled booking: every reminder the business's offsets may have made, and its end.
    pub fn cancelled(
        settings: &FollowUpSettings,
        business_id: &str,
        reference: &BookingReference,
    ) -> Self {
        let mut delete: Vec<String> = settings
            .reminders
            .iter()
            .map(|m| reminder_schedule_name(business_id, reference, *m))
            .collect();
        delete.push(ended_schedule_name(business_id, reference));
        Self {
            put: Vec::new(),
            delete,
        }
    }
}

impl LeadFollowUpJob {
    /// The follow-up of a lead that has a due time (`LeadJob::follow_up_at`).
    pub fn for_lead(lead: &LeadJob) -> Option<Self> {
        Some(Self {
            business_id: lead.business_id.clone(),
            business_name: lead.business_name.clone(),
            lead_id: lead.job_id.clone(),
            phone: lead.phone.clone(),
            captured_at: lead.captured_at,
            due_at: lead.follow_up_at?,
            texts: lead.texts,
        })
    }
}

impl Correlated for FollowUpJob {
    fn correlation(&self) -> Correlation<'_> {
        Correlation {
            business_id: Some(self.business_id()),
            reference: match self {
                Self::Reminder(j) => Some(j.reference.as_str()),
                Self::AppointmentEnded(j) => Some(j.reference.as_str()),
                Self::LeadFollowUp(_) => None,
            },
            ..Correlation::default()
        }
    }
}

impl QueueJob for FollowUpJob {
    const KIND: &'static str = "followup";

    /// A schedule fires once per due time (Scheduler may deliver twice; a schedule put again
    /// for another time is another job).
    fn key(&self) -> String {
        format!(
            "followup#{}#{}",
            self.schedule_name(),
            self.due_at().timestamp()
        )
    }

    fn fingerprint(&self) -> String {
        stable_id(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_followup_job_reads_back_and_is_keyed_by_its_schedule_and_time() {
        let job = FollowUpJob::Reminder(ReminderJob {
            business_id: "smile".into(),
            business_name: "Smile".into(),
            reference: BookingReference::parse("K7P2X9").unwrap(),
            minutes_before: 120,
            start_utc: "2026-12-09T14:00:00Z".parse().unwrap(),
            due_at: "2026-12-09T12:00:00Z".parse().unwrap(),
            replies: true,
            texts: TextPermission::Allowed,
        });
        let json = serde_json::to_string(&job).unwrap();
        assert!(json.contains("\"type\":\"reminder\""));
        let back = FollowUpJob::parse(&json).unwrap();
        assert_eq!(back, job);
        assert!(
            back.key()
                .starts_with(&format!("followup#{}#", job.schedule_name()))
        );
        assert_eq!(back.fingerprint(), job.fingerprint());
    }

    #[test]
    fn a_booking_planned_after_it_ended_gets_no_schedule_in_the_past() {
        let reference = BookingReference::parse("K7P2X9").unwrap();
        let start: DateTime<Utc> = "2026-11-25T19:00:00Z".parse().unwrap();
        let booking = ScheduledBooking {
            business_id: "smile",
            business_name: "Smile",
            reference: &reference,
            start_utc: start,
            duration_minutes: 60,
            zone: chrono_tz::America::New_York,
            texts: TextPermission::Allowed,
        };
        let settings = FollowUpSettings::default();
        let late = BookingSchedules::planned(&settings, &booking, start + Duration::hours(2));
        assert!(late.put.is_empty(), "{:?}", late.put);
        assert!(
            late.delete
                .contains(&ended_schedule_name("smile", &reference))
        );
        let during = BookingSchedules::planned(&settings, &booking, start + Duration::minutes(10));
        assert_eq!(during.put.len(), 1);
        assert!(matches!(during.put[0], FollowUpJob::AppointmentEnded(_)));
    }
}

//! The followup worker: does each follow-up a schedule put on the followup queue when it
//! came due, once, after reading again what it is about. A reminder goes (SMS and email,
//! through the notification queue) only while its booking is still at the start it was
//! planned for and not cancelled; the end of an appointment marks the booking for the
//! business to confirm attendance; a lead hears from the business only if they have not
//! booked since. Runs on callbook-aws's worker skeleton (`Worker`).

use callbook_aws::calls::DynamoCallStore;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::replies::DynamoLastReminders;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::{Resources, SdkConfig, SystemClock, Table, Worker};
use callbook_core::{
    AppointmentEndedJob, BookingChange, BookingChangeJob, BookingRecord, BookingStatus,
    BookingStore, BookingSummary, CallStore, Clock, ColdStart, ConfigError, FollowUpJob,
    IdempotencyStore, Job, JobKind, JobQueue, LastReminders, LeadFollowUpJob, LeadStatus,
    LeadSummary, MetricsSink, NotificationJob, NotificationKind, PortError, Recipient, Reminded,
    ReminderJob, ReminderNote, TextPermission,
};
use tracing::{info, warn};

/// The followup worker's ports, by role; each environment names its set with a marker.
pub trait FollowUpWorkerPorts {
    /// What a reminder or an ended appointment is about (read again when it fires).
    type Bookings: BookingStore;
    /// Leads, to know whether one has booked since.
    type Calls: CallStore;
    /// The reminders' and lead follow-ups' messages (notification queue).
    type Queue: JobQueue;
    /// Which booking a number was last reminded of (what its reply is about).
    type LastReminders: LastReminders;
    /// Each fired schedule runs once (Scheduler delivers at least once).
    type JobsDone: IdempotencyStore;
    type Clock: Clock;
    /// Its queue's job age, retries and failures (EMF on stdout in Lambda).
    type Metrics: MetricsSink;
}

/// The `Function` dimension of its metrics.
pub const FUNCTION: &str = "followup-worker";

pub struct FollowUpWorker<P: FollowUpWorkerPorts> {
    pub bookings: P::Bookings,
    pub calls: P::Calls,
    pub queue: P::Queue,
    pub last_reminders: P::LastReminders,
    pub jobs_done: P::JobsDone,
    pub clock: P::Clock,
    pub metrics: P::Metrics,
    pub cold_start: ColdStart,
}

/// In Lambda: DynamoDB, SQS and the system clock.
pub enum Aws {}

impl FollowUpWorkerPorts for Aws {
    type Bookings = DynamoBookingStore;
    type Calls = DynamoCallStore;
    type Queue = SqsJobQueue;
    type LastReminders = DynamoLastReminders;
    type JobsDone = DynamoIdempotencyStore;
    type Clock = SystemClock;
    type Metrics = EmfLog;
}

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<FollowUpWorker<Aws>, ConfigError> {
    let names = Resources::from_lookup(lookup);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(FollowUpWorker {
        bookings: DynamoBookingStore::new(
            dynamodb.clone(),
            names.table(Table::Customers)?,
            names.table(Table::Bookings)?,
        ),
        calls: DynamoCallStore::new(
            dynamodb.clone(),
            names.table(Table::Calls)?,
            names.table(Table::Customers)?,
        ),
        last_reminders: DynamoLastReminders::new(dynamodb.clone(), names.table(Table::Customers)?),
        jobs_done: DynamoIdempotencyStore::new(dynamodb, names.table(Table::Idempotency)?),
        queue: SqsJobQueue::for_kinds(
            aws_sdk_sqs::Client::new(sdk),
            &names,
            &[JobKind::Notification],
        )?,
        clock: SystemClock,
        metrics: EmfLog::from_lookup(lookup),
        cold_start: ColdStart::default(),
    })
}

impl<P: FollowUpWorkerPorts> Worker for FollowUpWorker<P> {
    type Job = FollowUpJob;
    type Error = PortError;
    type JobsDone = P::JobsDone;
    type Clock = P::Clock;
    type Metrics = P::Metrics;
    const FUNCTION: &'static str = FUNCTION;

    fn jobs_done(&self) -> &P::JobsDone {
        &self.jobs_done
    }

    fn clock(&self) -> &P::Clock {
        &self.clock
    }

    fn metrics(&self) -> &P::Metrics {
        &self.metrics
    }

    fn cold_start(&self) -> &ColdStart {
        &self.cold_start
    }

    async fn run(&self, job: &FollowUpJob) -> Result<String, PortError> {
        let done = match job {
            FollowUpJob::Reminder(j) => self.remind(j).await?,
            FollowUpJob::AppointmentEnded(j) => self.ended(j).await?,
            FollowUpJob::LeadFollowUp(j) => self.follow_up_lead(j).await?,
        };
        info!(schedule = %job.schedule_name(), outcome = done.as_str(), "follow-up done");
        Ok(done.as_str().to_string())
    }
}

/// What a fired follow-up came to (its record in `jobs_done`, and its log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Sent,
    Marked,
    /// The booking was cancelled, moved or is gone; the lead booked or is gone.
    NothingToDo,
}

impl Done {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Marked => "marked",
            Self::NothingToDo => "nothing to do",
        }
    }
}

/// How late a reminder may still go.
pub const LATE: chrono::Duration = chrono::Duration::hours(1);

/// Whether a reminder planned for `planned_start` is still about `booking`: not cancelled,
/// not moved (a move has its own schedules), not started.
pub fn still_due(
    booking: &BookingRecord,
    planned_start: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    booking.status != BookingStatus::Cancelled
        && booking.start_utc == planned_start
        && booking.start_utc > now
}

impl<P: FollowUpWorkerPorts> FollowUpWorker<P> {
    async fn remind(&self, job: &ReminderJob) -> Result<Done, PortError> {
        let now = self.clock.now();
        let Some(booking) = self
            .bookings
            .booking(&job.business_id, &job.reference)
            .await?
        else {
            return Ok(Done::NothingToDo);
        };
        if !still_due(&booking, job.start_utc, now) {
            return Ok(Done::NothingToDo);
        }
        // Delivered late (a redrive, a long outage): its "tomorrow" would be wrong and the next
        // reminder is near; dropped, and said so.
        if now - job.due_at > LATE {
            warn!(schedule = %FollowUpJob::Reminder(job.clone()).schedule_name(), "reminder more than an hour late: not sent");
            return Ok(Done::NothingToDo);
        }
        let summary = BookingSummary {
            reference: booking.reference.clone(),
            customer_name: booking.customer_name.clone(),
            customer_phone: Some(booking.customer_phone.clone()),
            service: booking.service.clone(),
            start_local: booking.start_local,
            time_zone: booking.time_zone.clone(),
        };
        // One message per schedule and start: a moved booking's reminder is another message.
        let about = format!(
            "{}#{}#{}",
            job.business_id,
            job.reference,
            job.start_utc.timestamp()
        );
        let note = ReminderNote {
            sent_for: job.due_at,
            replies: job.replies,
        };
        let messages: Vec<Job> = NotificationJob::to_customer(
            &format!("{about}#{}m", job.minutes_before),
            &job.business_id,
            &job.business_name,
            NotificationKind::Reminder,
            &summary,
            &booking.customer_phone,
            &booking.customer_email,
        )
        .into_iter()
        .filter(|n| job.texts.keeps(&n.recipient))
        .map(|mut n| {
            n.reminder = Some(note.clone());
            Job::Notification(n)
        })
        .collect();
        let texted = messages.iter().any(
            |m| matches!(m, Job::Notification(n) if matches!(n.recipient, Recipient::Sms { .. })),
        );
        // Remembered before the text goes, so a quick reply always finds what it is about.
        if job.replies && texted {
            self.last_reminders
                .remember(
                    &booking.customer_phone,
                    &Reminded {
                        business_id: job.business_id.clone(),
                        reference: job.reference.clone(),
                        at: job.due_at,
                    },
                )
                .await?;
        }
        self.queue.enqueue(&messages).await?;
        Ok(Done::Sent)
    }

    async fn ended(&self, job: &AppointmentEndedJob) -> Result<Done, PortError> {
        let change = BookingChangeJob {
            job_id: format!(
                "{}#{}#ended#{}",
                job.business_id,
                job.reference,
                job.start_utc.timestamp()
            ),
            business_id: job.business_id.clone(),
            // Marking attendance notifies nobody, so no name is needed.
            business_name: String::new(),
            reference: job.reference.clone(),
            change: BookingChange::Ended {
                start_utc: job.start_utc,
            },
            call_id: None,
            tool_call_id: None,
            requested_at: job.due_at,
            texts: TextPermission::default(),
            // Nothing to schedule or delete: Scheduler deleted this one when it fired.
            followups: None,
        };
        if self
            .bookings
            .booking(&job.business_id, &job.reference)
            .await?
            .is_none()
        {
            return Ok(Done::NothingToDo);
        }
        let applied = self
            .bookings
            .apply_change(&change, self.clock.now())
            .await?;
        Ok(if applied.applied_now {
            Done::Marked
        } else {
            Done::NothingToDo
        })
    }

    async fn follow_up_lead(&self, job: &LeadFollowUpJob) -> Result<Done, PortError> {
        let Some(lead) = self.calls.lead(&job.business_id, &job.phone).await? else {
            return Ok(Done::NothingToDo);
        };
        if lead.status == LeadStatus::Converted || lead.converted_reference.is_some() {
            return Ok(Done::NothingToDo);
        }
        // Booked since (perhaps in another call, as a customer rather than a lead), or holds
        // an appointment still to come: no nudge to book.
        let booked_since = self
            .bookings
            .bookings_of(&job.business_id, &job.phone, job.captured_at)
            .await?
            .iter()
            .any(|b| b.created_at >= job.captured_at || b.status != BookingStatus::Cancelled);
        let recipient = Recipient::Sms {
            phone: job.phone.clone(),
        };
        if booked_since || !job.texts.keeps(&recipient) {
            return Ok(Done::NothingToDo);
        }
        let message = NotificationJob {
            notification_id: format!(
                "{}#{}#{}#sms",
                job.business_id,
                job.lead_id,
                NotificationKind::LeadFollowUp.as_str()
            ),
            business_id: job.business_id.clone(),
            business_name: job.business_name.clone(),
            kind: NotificationKind::LeadFollowUp,
            recipient,
            booking: None,
            lead: Some(LeadSummary {
                name: lead.name.clone(),
                phone: lead.phone.clone(),
                email: lead.email.clone(),
                interests: lead.interests.clone(),
                note: None,
                score: lead.score,
                grade: format!("{:?}", lead.grade).to_lowercase(),
            }),
            code: None,
            reminder: None,
            answer: None,
        };
        self.queue.enqueue(&[Job::Notification(message)]).await?;
        Ok(Done::Sent)
    }
}

#[cfg(test)]
mod tests;

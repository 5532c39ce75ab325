//! The booking worker: records each accepted booking (booking + customer, once per job) and
//! applies each change (reschedule, cancel) once, freeing the calendar cells the booking no
//! longer needs; then asks for the customer's SMS and email, tells the analytics worker
//! what happened in the call, and puts (moves, deletes) the booking's reminder and end
//! schedules. Runs on callbook-aws's worker skeleton (`Worker`).

use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::figures::{DynamoFigures, count_done};
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::schedules::EventBridgeSchedules;
use callbook_aws::slots::DynamoSlotStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::{Resources, SdkConfig, SystemClock, Table, Worker};
use callbook_core::{
    Activity, AnalyticsJob, BookingChange, BookingChangeJob, BookingJob, BookingQueueMessage,
    BookingRecord, BookingReference, BookingSchedules, BookingStatus, BookingStore, BookingSummary,
    CallActivity, Clock, ColdStart, ConfigError, DailyFigures, Figure, FollowUpJob,
    FollowUpSchedules, FollowUpSettings, IdempotencyStore, Job, JobKind, JobQueue, Measurement,
    Metric, MetricsSink, NotificationJob, NotificationKind, PortError, RecordOutcome,
    ScheduledBooking, SlotStore, TextPermission,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::info;

/// The booking worker's ports, by role; each environment names its set with a marker type.
pub trait BookingWorkerPorts {
    type Bookings: BookingStore;
    /// The calendar, for freeing what a change gives up.
    type Calendar: SlotStore;
    type Queue: JobQueue;
    /// Each job runs once (its writes are conditional too, so a repeat after an expired
    /// claim writes nothing twice).
    type JobsDone: IdempotencyStore;
    type Clock: Clock;
    /// Bookings, changes and cancellations (EMF on stdout in Lambda).
    type Metrics: MetricsSink;
    /// The same, per business and day.
    type Figures: DailyFigures;
    /// The booking's reminders and end (EventBridge Scheduler in AWS).
    type Schedules: FollowUpSchedules;
}

pub struct BookingWorker<P: BookingWorkerPorts> {
    pub bookings: P::Bookings,
    pub calendar: P::Calendar,
    pub queue: P::Queue,
    pub jobs_done: P::JobsDone,
    pub clock: P::Clock,
    pub metrics: P::Metrics,
    pub figures: P::Figures,
    pub schedules: P::Schedules,
    pub cold_start: ColdStart,
}

/// The `Function` dimension of its metrics.
pub const FUNCTION: &str = "booking-worker";

/// In Lambda: DynamoDB, SQS and the system clock.
pub enum Aws {}

impl BookingWorkerPorts for Aws {
    type Bookings = DynamoBookingStore;
    type Calendar = DynamoSlotStore;
    type Queue = SqsJobQueue;
    type JobsDone = DynamoIdempotencyStore;
    type Clock = SystemClock;
    type Metrics = EmfLog;
    type Figures = DynamoFigures;
    type Schedules = EventBridgeSchedules;
}

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<BookingWorker<Aws>, ConfigError> {
    let names = Resources::from_lookup(lookup);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(BookingWorker {
        bookings: DynamoBookingStore::new(
            dynamodb.clone(),
            names.table(Table::Customers)?,
            names.table(Table::Bookings)?,
        ),
        calendar: DynamoSlotStore::new(dynamodb.clone(), names.table(Table::Bookings)?),
        figures: DynamoFigures::new(dynamodb.clone(), names.table(Table::Businesses)?),
        jobs_done: DynamoIdempotencyStore::new(dynamodb, names.table(Table::Idempotency)?),
        queue: SqsJobQueue::for_kinds(
            aws_sdk_sqs::Client::new(sdk),
            &names,
            &[JobKind::Notification, JobKind::Analytics],
        )?,
        schedules: EventBridgeSchedules::from_lookup(aws_sdk_scheduler::Client::new(sdk), lookup)?,
        clock: SystemClock,
        metrics: EmfLog::from_lookup(lookup),
        cold_start: ColdStart::default(),
    })
}

impl<P: BookingWorkerPorts> Worker for BookingWorker<P> {
    type Job = BookingQueueMessage;
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

    async fn run(&self, message: &BookingQueueMessage) -> Result<String, PortError> {
        match message {
            BookingQueueMessage::Booking(job) => self.record(job).await,
            BookingQueueMessage::Change(job) => self.change(job).await,
        }
    }
}

impl<P: BookingWorkerPorts> BookingWorker<P> {
    /// What was done now, counted once (`count_done`).
    async fn count(&self, business_id: &str, metric: Metric, figure: Figure) {
        count_done(
            &self.metrics,
            &self.figures,
            FUNCTION,
            business_id,
            self.clock.now(),
            &[Measurement::count(metric)],
            &[figure],
        )
        .await;
    }

    async fn record(&self, job: &BookingJob) -> Result<String, PortError> {
        let outcome = self.bookings.record_booking(job, self.clock.now()).await?;
        info!(reference = %job.reference, business = %job.business_id, ?outcome, "booking recorded");
        if outcome == RecordOutcome::Recorded {
            self.count(&job.business_id, Metric::Bookings, Figure::Bookings)
                .await;
        }
        // Also on a redelivery: the previous attempt may have stopped before this step.
        // Notification ids are deterministic, so the notification worker sends each once.
        // The customer's text only where the business texts (the email always goes).
        let mut jobs: Vec<Job> = NotificationJob::booking_confirmations(job)
            .into_iter()
            .filter(|n| job.texts.keeps(&n.recipient))
            .chain(NotificationJob::owner_new_booking(job))
            .map(Job::Notification)
            .collect();
        if let Some(call_id) = &job.call_id {
            jobs.push(Job::Analytics(AnalyticsJob::CallActivity(CallActivity {
                business_id: job.business_id.clone(),
                call_id: call_id.clone(),
                customer_phone: job.customer.phone.clone(),
                activity: Activity::Booked,
                reference: job.reference.clone(),
                value_cents: job.price_cents,
                at: job.requested_at,
            })));
        }
        self.queue.enqueue(&jobs).await?;
        if let Some(settings) = &job.followups
            && let Some(start_utc) = self.booked_start(job, outcome).await?
        {
            let followed = Followed {
                settings,
                business_id: &job.business_id,
                business_name: &job.business_name,
                reference: &job.reference,
                texts: job.texts,
            };
            let at = Placed {
                start_utc,
                duration_minutes: job.duration_minutes,
                time_zone: &job.time_zone,
            };
            let planned = followed.plan(Some(at), self.clock.now())?;
            // A booking's other schedules are its moves' (which put the same names).
            self.follow_ups(&job.reference, &planned.put, &[]).await?;
            self.until_settled(&followed, Some(start_utc)).await?;
        }
        if outcome == RecordOutcome::AlreadyRecorded {
            info!(reference = %job.reference, "redelivered booking job: nothing written twice");
        }
        Ok(format!("{outcome:?}"))
    }

    async fn change(&self, job: &BookingChangeJob) -> Result<String, PortError> {
        let applied = self.bookings.apply_change(job, self.clock.now()).await?;
        // Freed after the record says so: a crash in between is redelivered, finds the job in
        // the audit trail, and frees the same cells again (only those this booking holds).
        self.calendar
            .release(&job.business_id, &applied.release, &job.reference)
            .await?;
        info!(
            reference = %job.reference,
            business = %job.business_id,
            change = %job.job_id,
            notify = applied.notify,
            released = applied.release.len(),
            "booking change applied"
        );
        let (metric, figure, kind, activity) = match job.change {
            BookingChange::Cancel { .. } => (
                Metric::Cancellations,
                Figure::Cancellations,
                NotificationKind::BookingCancelled,
                Activity::Cancelled,
            ),
            BookingChange::Reschedule { .. } => (
                Metric::Changes,
                Figure::Changes,
                NotificationKind::BookingRescheduled,
                Activity::Rescheduled,
            ),
            // Recorded on the booking only: the customer's confirmation has its own answer.
            BookingChange::Confirm | BookingChange::Ended { .. } => {
                return Ok(if applied.applied_now {
                    "applied".into()
                } else {
                    "applied before".into()
                });
            }
        };
        if applied.applied_now {
            self.count(&job.business_id, metric, figure).await;
        }
        self.move_follow_ups(job, &applied.booking, applied.notify)
            .await?;
        if !applied.notify {
            return Ok("applied before".into());
        }
        let booking = &applied.booking;
        let summary = BookingSummary {
            reference: booking.reference.clone(),
            customer_name: booking.customer_name.clone(),
            customer_phone: Some(booking.customer_phone.clone()),
            service: booking.service.clone(),
            start_local: booking.start_local,
            time_zone: booking.time_zone.clone(),
        };
        let mut jobs: Vec<Job> = NotificationJob::to_customer(
            &job.job_id,
            &job.business_id,
            &job.business_name,
            kind,
            &summary,
            &booking.customer_phone,
            &booking.customer_email,
        )
        .into_iter()
        .filter(|n| job.texts.keeps(&n.recipient))
        .map(Job::Notification)
        .collect();
        if let Some(call_id) = &job.call_id {
            jobs.push(Job::Analytics(AnalyticsJob::CallActivity(CallActivity {
                business_id: job.business_id.clone(),
                call_id: call_id.clone(),
                customer_phone: booking.customer_phone.clone(),
                activity,
                reference: job.reference.clone(),
                value_cents: None,
                at: job.requested_at,
            })));
        }
        self.queue.enqueue(&jobs).await?;
        Ok("applied".into())
    }

    /// Where the booking now starts: the job's own time when it was just recorded; on a
    /// redelivery, the record's (a move or a cancel may have come in between, and its schedules
    /// must not be put back), `None` when it was cancelled.
    async fn booked_start(
        &self,
        job: &BookingJob,
        outcome: RecordOutcome,
    ) -> Result<Option<DateTime<Utc>>, PortError> {
        if outcome == RecordOutcome::Recorded {
            return Ok(Some(job.start_utc));
        }
        Ok(self
            .bookings
            .booking(&job.business_id, &job.reference)
            .await?
            .filter(|b| b.status != BookingStatus::Cancelled)
            .map(|b| b.start_utc))
    }

    /// After a reschedule or cancel (also on a redelivery: puts and deletes are idempotent),
    /// the schedules follow the booking as it now is: moved with it, or gone with it.
    async fn move_follow_ups(
        &self,
        job: &BookingChangeJob,
        booking: &BookingRecord,
        took_effect: bool,
    ) -> Result<(), PortError> {
        let Some(settings) = &job.followups else {
            return Ok(());
        };
        let placed = match (&job.change, booking.status) {
            (_, BookingStatus::Cancelled) => None,
            // The record's start, not the job's: a late redelivery of an older move plans
            // for where the booking is now.
            (BookingChange::Reschedule { .. }, _) if took_effect => Some(Placed::of(booking)),
            // A refused move (its time taken meanwhile) leaves the booking and its schedules.
            _ => return Ok(()),
        };
        let followed = Followed {
            settings,
            business_id: &job.business_id,
            business_name: &job.business_name,
            reference: &job.reference,
            texts: job.texts,
        };
        let schedules = followed.plan(placed, self.clock.now())?;
        self.follow_ups(&job.reference, &schedules.put, &schedules.delete)
            .await?;
        self.until_settled(&followed, placed.map(|p| p.start_utc))
            .await
    }

    /// Reads the booking again after its schedules were put: a move or cancel that another
    /// worker applied meanwhile may have put its schedules before ours, and a put's last
    /// writer wins. Until the record is where the schedules were planned (`None`: cancelled),
    /// they are planned again from it; a few rounds, then the job is retried.
    async fn until_settled(
        &self,
        followed: &Followed<'_>,
        mut planned_start: Option<DateTime<Utc>>,
    ) -> Result<(), PortError> {
        for _ in 0..SETTLE_ROUNDS {
            let now = self
                .bookings
                .booking(followed.business_id, followed.reference)
                .await?
                .filter(|b| b.status != BookingStatus::Cancelled);
            if now.as_ref().map(|b| b.start_utc) == planned_start {
                return Ok(());
            }
            let schedules = followed.plan(now.as_ref().map(Placed::of), self.clock.now())?;
            info!(reference = %followed.reference, "the booking changed while its schedules were put: planned again");
            self.follow_ups(followed.reference, &schedules.put, &schedules.delete)
                .await?;
            planned_start = now.map(|b| b.start_utc);
        }
        Err(PortError::Conflict(format!(
            "booking {} kept changing while its schedules were put",
            followed.reference
        )))
    }

    /// One round trip per schedule put or deleted (a put of an existing one: two).
    async fn follow_ups(
        &self,
        reference: &BookingReference,
        put: &[FollowUpJob],
        delete: &[String],
    ) -> Result<(), PortError> {
        for job in put {
            self.schedules.put(job).await?;
        }
        for name in delete {
            self.schedules.delete(name).await?;
        }
        info!(reference = %reference, put = put.len(), deleted = delete.len(), "follow-ups scheduled");
        Ok(())
    }
}

/// Rounds of re-planning before a job whose booking keeps changing is retried.
const SETTLE_ROUNDS: u32 = 3;

/// What a booking's schedules are planned with, besides the booking itself.
struct Followed<'a> {
    settings: &'a FollowUpSettings,
    business_id: &'a str,
    business_name: &'a str,
    reference: &'a BookingReference,
    texts: TextPermission,
}

impl Followed<'_> {
    /// The schedules of the booking where it is placed now (`None`: cancelled).
    fn plan(
        &self,
        placed: Option<Placed<'_>>,
        now: DateTime<Utc>,
    ) -> Result<BookingSchedules, PortError> {
        let Some(at) = placed else {
            return Ok(BookingSchedules::cancelled(
                self.settings,
                self.business_id,
                self.reference,
            ));
        };
        let scheduled = ScheduledBooking {
            business_id: self.business_id,
            business_name: self.business_name,
            reference: self.reference,
            start_utc: at.start_utc,
            duration_minutes: at.duration_minutes,
            zone: zone_of(at.time_zone)?,
            texts: self.texts,
        };
        Ok(BookingSchedules::planned(self.settings, &scheduled, now))
    }
}

/// Where a booking is: its start, length and zone.
#[derive(Clone, Copy)]
struct Placed<'a> {
    start_utc: DateTime<Utc>,
    duration_minutes: u32,
    time_zone: &'a str,
}

impl<'a> Placed<'a> {
    fn of(booking: &'a BookingRecord) -> Self {
        Self {
            start_utc: booking.start_utc,
            duration_minutes: booking.duration_minutes,
            time_zone: &booking.time_zone,
        }
    }
}

/// The booking's zone, as the webhook wrote it (`Tz::name`).
fn zone_of(time_zone: &str) -> Result<Tz, PortError> {
    time_zone.parse::<Tz>().map_err(|e| PortError::Corrupt {
        what: "booking time zone",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests;

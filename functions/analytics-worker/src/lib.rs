//! The analytics worker: keeps each call's record (report, status, what the caller did, and
//! its outcome), counts calls on the customer's history, and merges leads by phone with
//! their score. Every job is applied by pure code (`CallRecord::apply`, `LeadRecord::merge`)
//! and written back conditionally on the record's version, so redeliveries and concurrent
//! jobs for one call or phone change nothing twice. A new lead gets its follow-up's schedule.
//! Runs on callbook-aws's worker skeleton.

use std::sync::Arc;

use callbook_aws::business::DynamoBusinessDirectory;
use callbook_aws::calls::DynamoCallStore;
use callbook_aws::figures::{DynamoFigures, count_done};
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::schedules::EventBridgeSchedules;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::{Resources, SdkConfig, SystemClock, Table, Worker};
use callbook_core::{
    Activity, AnalyticsJob, BookingReference, Business, BusinessDirectory, CallJob, CallRecord,
    CallStore, Clock, ColdStart, ConfigError, CustomerContact, DailyFigures, Dimension, Figure,
    FollowUpJob, FollowUpSchedules, IdempotencyStore, Job, JobKind, JobQueue, LeadFollowUpJob,
    LeadJob, LeadRecord, LeadSummary, Measurement, Metric, MetricsSink, NotificationJob,
    PhoneNumber, PortError, Saved, business_by_id, stable_id,
};
use thiserror::Error;
use tracing::info;

/// Read-apply-write attempts before the message goes back to the queue.
const ATTEMPTS: u32 = 5;

#[derive(Debug, Error)]
pub enum AnalyticsError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("{0} kept changing under concurrent writes; retrying later")]
    Contended(&'static str),
}

/// The analytics worker's ports, by role; each environment names its set with a marker.
pub trait AnalyticsWorkerPorts {
    /// Call records and leads.
    type Calls: CallStore;
    /// Stored businesses: their services name what callers are interested in.
    type Directory: BusinessDirectory;
    /// For the business's notice of a new lead.
    type Queue: JobQueue;
    /// Each job runs once; the records' versions keep a repeat after an expired claim from
    /// changing anything twice.
    type JobsDone: IdempotencyStore;
    type Clock: Clock;
    /// Calls by outcome, leads by grade (EMF on stdout in Lambda).
    type Metrics: MetricsSink;
    /// The same, per business and day.
    type Figures: DailyFigures;
    /// A new lead's follow-up (EventBridge Scheduler in AWS).
    type Schedules: FollowUpSchedules;
}

/// The `Function` dimension of its metrics.
pub const FUNCTION: &str = "analytics-worker";

pub struct AnalyticsWorker<P: AnalyticsWorkerPorts> {
    pub calls: P::Calls,
    /// The install's default business; stored ones come from `directory`.
    pub default_business: Arc<Business>,
    pub directory: P::Directory,
    pub queue: P::Queue,
    pub jobs_done: P::JobsDone,
    pub clock: P::Clock,
    pub metrics: P::Metrics,
    pub figures: P::Figures,
    pub schedules: P::Schedules,
    pub cold_start: ColdStart,
}

/// In Lambda: DynamoDB, SQS and the system clock.
pub enum Aws {}

impl AnalyticsWorkerPorts for Aws {
    type Calls = DynamoCallStore;
    type Directory = DynamoBusinessDirectory;
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
) -> Result<AnalyticsWorker<Aws>, ConfigError> {
    let names = Resources::from_lookup(lookup);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(AnalyticsWorker {
        calls: DynamoCallStore::new(
            dynamodb.clone(),
            names.table(Table::Calls)?,
            names.table(Table::Customers)?,
        ),
        default_business: Arc::new(Business::from_lookup(lookup)?),
        directory: DynamoBusinessDirectory::new(dynamodb.clone(), names.table(Table::Businesses)?),
        figures: DynamoFigures::new(dynamodb.clone(), names.table(Table::Businesses)?),
        jobs_done: DynamoIdempotencyStore::new(dynamodb, names.table(Table::Idempotency)?),
        queue: SqsJobQueue::for_kinds(
            aws_sdk_sqs::Client::new(sdk),
            &names,
            &[JobKind::Notification],
        )?,
        schedules: EventBridgeSchedules::from_lookup(aws_sdk_scheduler::Client::new(sdk), lookup)?,
        clock: SystemClock,
        metrics: EmfLog::from_lookup(lookup),
        cold_start: ColdStart::default(),
    })
}

impl<P: AnalyticsWorkerPorts> Worker for AnalyticsWorker<P> {
    type Job = AnalyticsJob;
    type Error = AnalyticsError;
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

    async fn run(&self, job: &AnalyticsJob) -> Result<String, AnalyticsError> {
        self.apply(job).await
    }
}

impl<P: AnalyticsWorkerPorts> AnalyticsWorker<P> {
    async fn apply(&self, job: &AnalyticsJob) -> Result<String, AnalyticsError> {
        let business =
            business_by_id(&self.directory, &self.default_business, job.business_id()).await?;
        let business = business.as_ref();
        match job {
            AnalyticsJob::CallReport(report) => {
                let call = self
                    .update_call(
                        business,
                        &report.business_id,
                        &report.call_id,
                        CallJob::Report(report),
                    )
                    .await?;
                info!(call_id = %report.call_id, outcome = ?call.outcome, "call report recorded");
                // Interest without a booking: a lead, merged with any other for this phone.
                if call.booked.is_empty()
                    && let Some(interest) = &call.lead_interest
                    && let Some(lead) =
                        LeadJob::from_report(report, interest, business, self.clock.now())
                {
                    self.merge_lead(business, &lead).await?;
                }
            }
            AnalyticsJob::CallStatus(status) => {
                self.update_call(
                    business,
                    &status.business_id,
                    &status.call_id,
                    CallJob::Status(status),
                )
                .await?;
            }
            AnalyticsJob::CallActivity(activity) => {
                self.update_call(
                    business,
                    &activity.business_id,
                    &activity.call_id,
                    CallJob::Activity(activity),
                )
                .await?;
                if activity.activity == Activity::Booked {
                    self.convert_lead(
                        &activity.business_id,
                        &activity.customer_phone,
                        &activity.reference,
                    )
                    .await?;
                }
            }
            AnalyticsJob::Lead(lead) => {
                self.merge_lead(business, lead).await?;
                if let Some(call_id) = &lead.call_id {
                    self.update_call(
                        business,
                        &lead.business_id,
                        call_id,
                        CallJob::Lead {
                            interest: &lead.interest,
                        },
                    )
                    .await?;
                }
            }
        }
        Ok("applied".into())
    }

    /// What was done now, counted once (`count_done`).
    async fn count(&self, business_id: &str, measured: Measurement, figure: Figure) {
        count_done(
            &self.metrics,
            &self.figures,
            FUNCTION,
            business_id,
            self.clock.now(),
            &[measured],
            &[figure],
        )
        .await;
    }

    /// Reads the call, applies the job, writes it back if the version is unchanged.
    async fn update_call(
        &self,
        business: &Business,
        business_id: &str,
        call_id: &str,
        job: CallJob<'_>,
    ) -> Result<CallRecord, AnalyticsError> {
        for _ in 0..ATTEMPTS {
            let now = self.clock.now();
            let stored = self.calls.call(business_id, call_id).await?;
            let had_report = stored.as_ref().is_some_and(|c| c.report.is_some());
            let mut call = stored.unwrap_or_else(|| CallRecord::new(business_id, call_id, now));
            if !call.apply(&job, business, now) {
                return Ok(call);
            }
            // The first report counts the call on the caller's history, in the same write.
            let contact = match (&call.report, &call.customer_phone) {
                (Some(report), Some(phone)) if !had_report => Some(CustomerContact {
                    phone: phone.clone(),
                    call_id: call_id.to_string(),
                    at: report.ended_at.unwrap_or(now),
                }),
                _ => None,
            };
            if self.calls.save_call(&call, contact.as_ref()).await? == Saved::Written {
                // Counted once, by its outcome, when its end-of-call report is first applied:
                // a status update "ended" often comes first and would count every call as
                // abandoned. An activity that lands after the report (a booking queued in
                // the call's last seconds) changes the record's outcome but not the count.
                if let (false, true, Some(outcome)) =
                    (had_report, call.report.is_some(), call.outcome)
                {
                    self.count(
                        business_id,
                        Measurement::count(Metric::Calls).by(Dimension::Outcome, outcome.as_str()),
                        Figure::Calls(outcome),
                    )
                    .await;
                }
                return Ok(call);
            }
        }
        Err(AnalyticsError::Contended("the call record"))
    }

    async fn merge_lead(&self, business: &Business, job: &LeadJob) -> Result<(), AnalyticsError> {
        for _ in 0..ATTEMPTS {
            let stored = self.calls.lead(&job.business_id, &job.phone).await?;
            let new = stored.is_none();
            let mut lead = stored.unwrap_or_else(|| LeadRecord::new(job));
            let merged = lead.merge(job, business);
            if merged && self.calls.save_lead(&lead).await? == Saved::Stale {
                continue;
            }
            // A lead is counted when it is first written (later jobs for the phone merge).
            if merged && new {
                self.count(
                    &job.business_id,
                    Measurement::count(Metric::Leads).by(Dimension::Grade, lead.grade.as_str()),
                    Figure::Leads(lead.grade),
                )
                .await;
            }
            if merged {
                info!(phone = %job.phone.redacted(), score = lead.score, grade = ?lead.grade, "lead recorded");
            }
            // The job that started the lead tells the business, also when redelivered (the
            // notice's id is the lead's, so it goes out once).
            if lead.sources.first() == Some(&job.job_id) {
                self.tell_owner(business, &lead).await?;
                // Its follow-up, from the same job: one schedule per lead, named by the job,
                // put again harmlessly on a redelivery. Whether the lead booked meanwhile is
                // the followup worker's question when it fires.
                // Never in the past (a job redriven late): Scheduler would not fire it.
                if let Some(follow_up) =
                    LeadFollowUpJob::for_lead(job).filter(|f| f.due_at > self.clock.now())
                {
                    self.schedules
                        .put(&FollowUpJob::LeadFollowUp(follow_up))
                        .await?;
                }
            }
            return Ok(());
        }
        Err(AnalyticsError::Contended("the lead"))
    }

    async fn tell_owner(&self, business: &Business, lead: &LeadRecord) -> Result<(), PortError> {
        let notices = NotificationJob::owner_new_lead(
            // Keyed by a hash of the phone: ids are logged and stored as claim keys.
            &format!(
                "{}#lead#{}",
                lead.business_id,
                &stable_id(lead.phone.as_str().as_bytes())[..16]
            ),
            &business.id,
            &business.name,
            &business.owner_recipients(),
            &LeadSummary {
                name: lead.name.clone(),
                phone: lead.phone.clone(),
                email: lead.email.clone(),
                interests: lead.interests.clone(),
                note: lead.notes.last().cloned(),
                score: lead.score,
                grade: format!("{:?}", lead.grade).to_lowercase(),
            },
        );
        if notices.is_empty() {
            return Ok(());
        }
        let jobs: Vec<Job> = notices.into_iter().map(Job::Notification).collect();
        self.queue.enqueue(&jobs).await
    }

    /// A caller who was a lead and then booked: the lead is converted.
    async fn convert_lead(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        reference: &BookingReference,
    ) -> Result<(), AnalyticsError> {
        for _ in 0..ATTEMPTS {
            let Some(mut lead) = self.calls.lead(business_id, phone).await? else {
                return Ok(());
            };
            if !lead.convert(reference) {
                return Ok(());
            }
            if self.calls.save_lead(&lead).await? == Saved::Written {
                return Ok(());
            }
        }
        Err(AnalyticsError::Contended("the lead"))
    }
}

#[cfg(test)]
mod tests;

//! The analytics worker: keeps each call's record (report, status, what the caller did, and
//! its outcome), counts calls on the customer's history, and merges leads by phone with
//! their score. Every job is applied by pure code (`CallRecord::apply`, `LeadRecord::merge`)
//! and written back conditionally on the record's version, so redeliveries and concurrent
//! jobs for one call or phone change nothing twice.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_aws::SdkConfig;
use std::sync::Arc;

use callbook_aws::business::DynamoBusinessDirectory;
use callbook_aws::calls::DynamoCallStore;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::sqs_batch::process_batch;
use callbook_core::business::{Business, ConfigError, required};
use callbook_core::calls::{Activity, CallJob, CallRecord};
use callbook_core::jobs::{AnalyticsJob, Job, JobKind, LeadSummary, NotificationJob};
use callbook_core::leads::{LeadJob, LeadRecord};
use callbook_core::once::{OnceError, QUEUE_JOB, Ran, run_once};
use callbook_core::phone::PhoneNumber;
use callbook_core::ports::{
    BusinessDirectory, CallStore, Clock, CustomerContact, IdempotencyStore, JobQueue, PortError,
    Saved, SystemClock, business_by_id,
};
use callbook_core::reference::{BookingReference, stable_id};
use thiserror::Error;
use tracing::info;

/// Read-apply-write attempts before the message goes back to the queue.
const ATTEMPTS: u32 = 5;

#[derive(Debug, Error)]
pub enum AnalyticsJobError {
    #[error("the message is not an analytics job: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the message has no body")]
    NoBody,
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("{0} kept changing under concurrent writes; retrying later")]
    Contended(&'static str),
    #[error("another delivery of this job is running; it will be retried")]
    InProgress,
}

impl From<OnceError<AnalyticsJobError>> for AnalyticsJobError {
    fn from(e: OnceError<AnalyticsJobError>) -> Self {
        match e {
            // The key holds the content's hash: another payload is another key.
            OnceError::InProgress | OnceError::Mismatch => Self::InProgress,
            OnceError::Store(e) => Self::Port(e),
            OnceError::Work(e) => e,
        }
    }
}

pub struct AnalyticsWorker<S, D, Q, I, C> {
    pub store: S,
    /// The install's default business; stored ones come from `directory`. A business's
    /// services name what callers are interested in, for lead detection and scoring.
    pub default_business: Arc<Business>,
    pub directory: D,
    /// For the business's notice of a new lead.
    pub queue: Q,
    /// Each job runs once; the records' versions keep a repeat after an expired claim from
    /// changing anything twice.
    pub jobs_done: I,
    pub clock: C,
}

pub type AwsAnalyticsWorker = AnalyticsWorker<
    DynamoCallStore,
    DynamoBusinessDirectory,
    SqsJobQueue,
    DynamoIdempotencyStore,
    SystemClock,
>;

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsAnalyticsWorker, ConfigError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(AnalyticsWorker {
        store: DynamoCallStore::new(
            dynamodb.clone(),
            required(lookup, "CALLS_TABLE")?,
            required(lookup, "CUSTOMERS_TABLE")?,
        ),
        default_business: Arc::new(Business::from_lookup(lookup)?),
        directory: DynamoBusinessDirectory::new(
            dynamodb.clone(),
            required(lookup, "BUSINESSES_TABLE")?,
        ),
        jobs_done: DynamoIdempotencyStore::new(dynamodb, required(lookup, "IDEMPOTENCY_TABLE")?),
        queue: SqsJobQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            vec![(
                JobKind::Notification,
                required(lookup, "NOTIFICATION_QUEUE_URL")?,
            )],
        ),
        clock: SystemClock,
    })
}

impl<S, D, Q, I, C> AnalyticsWorker<S, D, Q, I, C>
where
    S: CallStore,
    D: BusinessDirectory,
    Q: JobQueue,
    I: IdempotencyStore,
    C: Clock,
{
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |message| Box::pin(self.process(message))).await
    }

    async fn process(&self, message: SqsMessage) -> Result<(), AnalyticsJobError> {
        let body = message.body.as_deref().ok_or(AnalyticsJobError::NoBody)?;
        let job: AnalyticsJob = serde_json::from_str(body)?;
        let hash = job.fingerprint();
        let key = format!("analytics#{}#{hash}", job.business_id());
        let ran = run_once(&self.jobs_done, &self.clock, QUEUE_JOB, &key, &hash, || {
            self.apply(&job)
        })
        .await?;
        if let Ran::Before(_) = ran {
            info!(job = %key, "job done before: skipped");
        }
        Ok(())
    }

    async fn apply(&self, job: &AnalyticsJob) -> Result<String, AnalyticsJobError> {
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

    /// Reads the call, applies the job, writes it back if the version is unchanged.
    async fn update_call(
        &self,
        business: &Business,
        business_id: &str,
        call_id: &str,
        job: CallJob<'_>,
    ) -> Result<CallRecord, AnalyticsJobError> {
        for _ in 0..ATTEMPTS {
            let now = self.clock.now();
            let stored = self.store.call(business_id, call_id).await?;
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
            if self.store.save_call(&call, contact.as_ref()).await? == Saved::Written {
                return Ok(call);
            }
        }
        Err(AnalyticsJobError::Contended("the call record"))
    }

    async fn merge_lead(
        &self,
        business: &Business,
        job: &LeadJob,
    ) -> Result<(), AnalyticsJobError> {
        for _ in 0..ATTEMPTS {
            let mut lead = self
                .store
                .lead(&job.business_id, &job.phone)
                .await?
                .unwrap_or_else(|| LeadRecord::new(job));
            let merged = lead.merge(job, business);
            if merged && self.store.save_lead(&lead).await? == Saved::Stale {
                continue;
            }
            if merged {
                info!(phone = %job.phone.redacted(), score = lead.score, grade = ?lead.grade, "lead recorded");
            }
            // The job that started the lead tells the business, also when redelivered (the
            // notice's id is the lead's, so it goes out once).
            if lead.sources.first() == Some(&job.job_id) {
                self.tell_owner(business, &lead).await?;
            }
            return Ok(());
        }
        Err(AnalyticsJobError::Contended("the lead"))
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
    ) -> Result<(), AnalyticsJobError> {
        for _ in 0..ATTEMPTS {
            let Some(mut lead) = self.store.lead(business_id, phone).await? else {
                return Ok(());
            };
            if !lead.convert(reference) {
                return Ok(());
            }
            if self.store.save_lead(&lead).await? == Saved::Written {
                return Ok(());
            }
        }
        Err(AnalyticsJobError::Contended("the lead"))
    }
}

#[cfg(test)]
mod tests;

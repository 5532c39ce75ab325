//! The analytics worker: keeps each call's record (report, status, what the caller did, and
//! its outcome), counts calls on the customer's history, and merges leads by phone with
//! their score. Every job is applied by pure code (`CallRecord::apply`, `LeadRecord::merge`)
//! and written back conditionally on the record's version, so redeliveries and concurrent
//! jobs for one call or phone change nothing twice.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_aws::SdkConfig;
use callbook_aws::calls::DynamoCallStore;
use callbook_aws::sqs_batch::process_batch;
use callbook_core::business::{Business, ConfigError, required};
use callbook_core::calls::{Activity, CallJob, CallRecord};
use callbook_core::jobs::AnalyticsJob;
use callbook_core::leads::{LeadJob, LeadRecord};
use callbook_core::phone::PhoneNumber;
use callbook_core::ports::{CallStore, Clock, CustomerContact, PortError, Saved, SystemClock};
use callbook_core::reference::BookingReference;
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
}

pub struct AnalyticsWorker<S, C> {
    pub store: S,
    /// Its services name what callers are interested in, for lead detection and scoring.
    pub business: Business,
    pub clock: C,
}

pub type AwsAnalyticsWorker = AnalyticsWorker<DynamoCallStore, SystemClock>;

pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<AwsAnalyticsWorker, ConfigError> {
    Ok(AnalyticsWorker {
        store: DynamoCallStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            required(lookup, "CALLS_TABLE")?,
            required(lookup, "CUSTOMERS_TABLE")?,
        ),
        business: Business::from_lookup(lookup)?,
        clock: SystemClock,
    })
}

impl<S: CallStore, C: Clock> AnalyticsWorker<S, C> {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |message| Box::pin(self.process(message))).await
    }

    async fn process(&self, message: SqsMessage) -> Result<(), AnalyticsJobError> {
        let body = message.body.as_deref().ok_or(AnalyticsJobError::NoBody)?;
        let job: AnalyticsJob = serde_json::from_str(body)?;
        match &job {
            AnalyticsJob::CallReport(report) => {
                let call = self
                    .update_call(
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
                        LeadJob::from_report(report, interest, &self.business, self.clock.now())
                {
                    self.merge_lead(&lead).await?;
                }
            }
            AnalyticsJob::CallStatus(status) => {
                self.update_call(
                    &status.business_id,
                    &status.call_id,
                    CallJob::Status(status),
                )
                .await?;
            }
            AnalyticsJob::CallActivity(activity) => {
                self.update_call(
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
                self.merge_lead(lead).await?;
                if let Some(call_id) = &lead.call_id {
                    self.update_call(
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
        Ok(())
    }

    /// Reads the call, applies the job, writes it back if the version is unchanged.
    async fn update_call(
        &self,
        business_id: &str,
        call_id: &str,
        job: CallJob<'_>,
    ) -> Result<CallRecord, AnalyticsJobError> {
        for _ in 0..ATTEMPTS {
            let now = self.clock.now();
            let stored = self.store.call(business_id, call_id).await?;
            let had_report = stored.as_ref().is_some_and(|c| c.report.is_some());
            let mut call = stored.unwrap_or_else(|| CallRecord::new(business_id, call_id, now));
            if !call.apply(&job, &self.business, now) {
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

    async fn merge_lead(&self, job: &LeadJob) -> Result<(), AnalyticsJobError> {
        for _ in 0..ATTEMPTS {
            let mut lead = self
                .store
                .lead(&job.business_id, &job.phone)
                .await?
                .unwrap_or_else(|| LeadRecord::new(job));
            if !lead.merge(job, &self.business) {
                return Ok(());
            }
            if self.store.save_lead(&lead).await? == Saved::Written {
                info!(phone = %job.phone.redacted(), score = lead.score, grade = ?lead.grade, "lead recorded");
                return Ok(());
            }
        }
        Err(AnalyticsJobError::Contended("the lead"))
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

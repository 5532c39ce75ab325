//! The sms-replies function: customers' texts, as AWS End User Messaging SMS two-way
//! messaging publishes them to an SNS topic. Each text is read (`callbook_core::read_reply`)
//! and handled once (`run_once`, keyed by its inbound message id): STOP and the carriers'
//! other opt-out words, START, HELP, and C or X for the booking the last reminder to that
//! number was about (`reply.rs`). Every text gets at most one answer, through the
//! notification queue, within the number's daily texts.
//!
//! The sender's number is a claim like any other: it is never logged (nor the text), and
//! only a booking made with that very number is confirmed or cancelled.

mod reply;

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsEvent;
use callbook_aws::business::DynamoBusinessDirectory;
use callbook_aws::dynamo::DynamoBookingStore;
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::notify::SmsOptOuts;
use callbook_aws::quotas::DynamoQuotas;
use callbook_aws::replies::DynamoLastReminders;
use callbook_aws::sqs::SqsJobQueue;
use callbook_aws::{Resources, SdkConfig, SystemClock, Table};
use callbook_core::{
    BookingStore, Business, BusinessDirectory, Clock, ColdStart, ConfigError, Dimension,
    IdempotencyStore, JobKind, JobQueue, LastReminders, Measurement, Metric, MetricsSink,
    OptOutList, OptOuts, Quotas,
};
use lambda_runtime::{LambdaEvent, service_fn};
use thiserror::Error;
use tracing::{error, info};

pub use reply::{Handled, InboundSms};

/// The `Function` dimension of its metrics.
pub const FUNCTION: &str = "sms-replies";

/// The function's ports, by role; each environment names its set with a marker.
pub trait SmsRepliesPorts {
    /// Stored businesses: the one the last reminder to a number came from.
    type Directory: BusinessDirectory;
    /// The booking a C or X is about, read to check whose it is and that it is upcoming.
    type Bookings: BookingStore;
    /// The booking queue (confirm, cancel) and the notification queue (the answers).
    type Queue: JobQueue;
    /// The business's opt-out list: written by STOP and START, read before answering.
    type OptOuts: OptOutList + OptOuts;
    /// The booking each number was last reminded of (written by the followup worker).
    type LastReminders: LastReminders;
    /// Each inbound text is handled once, keyed by its inbound message id.
    type JobsDone: IdempotencyStore;
    /// The texts a number may get per day: a stranger cannot make us text without limit.
    type Quotas: Quotas;
    type Clock: Clock;
    /// Replies by kind (EMF on stdout in Lambda).
    type Metrics: MetricsSink;
}

pub struct SmsReplies<P: SmsRepliesPorts> {
    /// The install's default business: a number never reminded texts it.
    pub business: Arc<Business>,
    pub directory: P::Directory,
    pub bookings: P::Bookings,
    pub queue: P::Queue,
    pub opt_outs: P::OptOuts,
    pub last_reminders: P::LastReminders,
    pub jobs_done: P::JobsDone,
    pub quotas: P::Quotas,
    pub clock: P::Clock,
    pub metrics: P::Metrics,
    pub cold_start: ColdStart,
}

/// In Lambda: DynamoDB, SQS, SNS (the provider's opt-out list) and the system clock.
pub enum Aws {}

impl SmsRepliesPorts for Aws {
    type Directory = DynamoBusinessDirectory;
    type Bookings = DynamoBookingStore;
    type Queue = SqsJobQueue;
    type OptOuts = SmsOptOuts;
    type LastReminders = DynamoLastReminders;
    type JobsDone = DynamoIdempotencyStore;
    type Quotas = DynamoQuotas;
    type Clock = SystemClock;
    type Metrics = EmfLog;
}

/// The function with its AWS adapters, from its environment (the default business as the
/// webhook builds it).
pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<SmsReplies<Aws>, ConfigError> {
    let names = Resources::from_lookup(lookup);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(SmsReplies {
        business: Arc::new(Business::from_lookup(lookup)?),
        directory: DynamoBusinessDirectory::new(dynamodb.clone(), names.table(Table::Businesses)?),
        bookings: DynamoBookingStore::new(
            dynamodb.clone(),
            names.table(Table::Customers)?,
            names.table(Table::Bookings)?,
        ),
        queue: SqsJobQueue::for_kinds(
            aws_sdk_sqs::Client::new(sdk),
            &names,
            &[JobKind::Booking, JobKind::Notification],
        )?,
        opt_outs: SmsOptOuts::new(
            dynamodb.clone(),
            names.table(Table::Customers)?,
            aws_sdk_sns::Client::new(sdk),
        ),
        last_reminders: DynamoLastReminders::new(dynamodb.clone(), names.table(Table::Customers)?),
        jobs_done: DynamoIdempotencyStore::new(dynamodb.clone(), names.table(Table::Idempotency)?),
        quotas: DynamoQuotas::new(dynamodb, names.table(Table::Idempotency)?),
        clock: SystemClock,
        metrics: EmfLog::from_lookup(lookup),
        cold_start: ColdStart::default(),
    })
}

/// Why an invocation failed: Lambda retries an SNS invocation (twice, then its on-failure
/// handling), and the texts already handled are skipped by their record.
#[derive(Debug, Error)]
pub enum RepliesError {
    #[error("{failed} of the event's texts could not be handled; retried")]
    NotHandled { failed: usize },
}

impl<P: SmsRepliesPorts> SmsReplies<P> {
    /// Every text of the event, each once; fails (so Lambda retries) when one could not be
    /// handled now. A text that can never be handled (not our JSON, no number) is logged and
    /// dropped: retrying it would change nothing.
    pub async fn handle(&self, event: SnsEvent) -> Result<(), RepliesError> {
        let mut measured: Vec<Measurement> = self.cold_start.measure().into_iter().collect();
        let mut failed = 0;
        for record in &event.records {
            let message_id = record.sns.message_id.as_str();
            // Boxed: the nested SDK futures are too deep for the compiler's layout otherwise.
            match Box::pin(self.handle_message(&record.sns.message)).await {
                Ok(Handled::Now { reply, outcome }) => {
                    info!(message_id, reply = reply.as_str(), %outcome, "text handled");
                    measured.push(
                        Measurement::count(Metric::SmsReplies).by(Dimension::Reply, reply.as_str()),
                    );
                }
                Ok(Handled::Before) => info!(message_id, "text handled before: skipped"),
                Ok(Handled::Unreadable(why)) => {
                    error!(message_id, reason = why, "not a text we can read: dropped");
                }
                Err(e) => {
                    error!(message_id, error = %callbook_core::redact_text(&e.to_string()), "text not handled; it will be retried");
                    failed += 1;
                }
            }
        }
        self.metrics.emit(FUNCTION, &measured);
        match failed {
            0 => Ok(()),
            failed => Err(RepliesError::NotHandled { failed }),
        }
    }
}

/// The function's `main`: logging, the SDK configuration and the function built once.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    callbook_aws::telemetry::init_tracing();
    let sdk = callbook_aws::sdk_config().await;
    let replies = &build(&sdk, &callbook_aws::config::environment)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        replies
            .handle(event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}

#[cfg(test)]
mod tests;

//! Lambda's SQS event source mapping, locally: long-poll a batch, hand it to the worker's
//! handler as an `SqsEvent`, delete only what succeeded. The workers' ports are wrapped for
//! fault injection (`ports::Dev`).

use std::sync::Arc;
use std::time::Duration;

use analytics_worker::AnalyticsWorker;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use booking_worker::BookingWorker;
use callbook_aws::worker::failed_messages;
use callbook_aws::{SdkConfig, Worker as _};
use callbook_core::ConfigError;
use callbook_core::testing::faults::{FaultSpec, Faults};
use callbook_core::testing::memory::RecordedMetrics;
use followup_worker::FollowUpWorker;
use notification_worker::NotificationWorker;
use serde_json::json;
use tracing::{error, warn};

use crate::ports::{self, Dev};
use crate::stack::ProvisionedFunction;

pub enum Worker {
    Booking(Box<BookingWorker<Dev>>),
    Notification(Box<NotificationWorker<Dev>>),
    Analytics(Box<AnalyticsWorker<Dev>>),
    FollowUp(Box<FollowUpWorker<Dev>>),
}

impl Worker {
    /// Every SQS-triggered function of the template must be known here: a new one fails loudly.
    pub fn build(
        sdk: &SdkConfig,
        function: &ProvisionedFunction,
        faults: &FaultSpec,
        recorded: &Arc<RecordedMetrics>,
    ) -> Result<Self, String> {
        let env = &function.environment;
        let lookup = |k: &str| env.get(k).cloned();
        let context = |e: ConfigError| format!("{}: {e}", function.logical_id);
        match function.binary.as_str() {
            "booking-worker" => booking_worker::build(sdk, &lookup)
                .map(|w| Worker::Booking(Box::new(ports::booking_worker(w, faults, recorded)))),
            "notification-worker" => notification_worker::build(sdk, &lookup).map(|w| {
                Worker::Notification(Box::new(ports::notification_worker(w, faults, recorded)))
            }),
            "analytics-worker" => analytics_worker::build(sdk, &lookup)
                .map(|w| Worker::Analytics(Box::new(ports::analytics_worker(w, faults, recorded)))),
            "followup-worker" => followup_worker::build(sdk, &lookup)
                .map(|w| Worker::FollowUp(Box::new(ports::followup_worker(w, faults, recorded)))),
            other => {
                return Err(format!(
                    "{}: the dev server does not know the worker binary {other:?}",
                    function.logical_id
                ));
            }
        }
        .map_err(context)
    }

    /// The batch, by the deadline Lambda would give it (`Timeout` from now).
    async fn handle(&self, event: SqsEvent, timeout: u32) -> SqsBatchResponse {
        let deadline = chrono::Utc::now() + chrono::Duration::seconds(i64::from(timeout));
        match self {
            Self::Booking(w) => w.handle_by(event, deadline).await,
            Self::Notification(w) => w.handle_by(event, deadline).await,
            Self::Analytics(w) => w.handle_by(event, deadline).await,
            Self::FollowUp(w) => w.handle_by(event, deadline).await,
        }
    }
}

/// `deletes` fails the batch deletes its plan picks: the messages stay, as when a worker dies
/// after its writes and before Lambda deletes them, and come back after the visibility timeout.
pub async fn poll(
    sqs: aws_sdk_sqs::Client,
    function: ProvisionedFunction,
    worker: Worker,
    deletes: Faults,
) -> Result<(), String> {
    let Some(source) = function.sqs.clone() else {
        return Ok(());
    };
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(source.batch_size.clamp(1, 10))
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                warn!(function = %function.logical_id, error = %e, "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let records: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, serde_json::Value> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "md5OfBody": m.md5_of_body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": source.queue_arn,
                    "awsRegion": "us-east-1",
                })
            })
            .collect();
        let event: SqsEvent = match serde_json::from_value(json!({ "Records": records })) {
            Ok(e) => e,
            Err(e) => {
                error!(function = %function.logical_id, error = %e, "cannot build the SQS event");
                continue;
            }
        };
        let response = worker.handle(event, function.timeout).await;
        let failed = failed_messages(&response);
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| {
                !failed
                    .iter()
                    .any(|f| f == m.message_id().unwrap_or_default())
            })
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if !entries.is_empty() && deletes.strike() {
            warn!(function = %function.logical_id, messages = entries.len(), "injected fault: the batch is not deleted (as if the worker died after its writes); it will be redelivered");
            continue;
        }
        if !entries.is_empty()
            && let Err(e) = sqs
                .delete_message_batch()
                .queue_url(&source.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
        {
            // Not deleted means redelivered: the workers are idempotent, so this only costs time.
            warn!(function = %function.logical_id, error = %e, "delete failed; the messages will be redelivered");
        }
    }
}

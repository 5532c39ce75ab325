//! An SQS event processed the way Lambda's event source mapping expects with
//! `ReportBatchItemFailures`: each message in its own span; only the failed ones are returned,
//! so SQS redelivers those (and, after `maxReceiveCount`, moves them to the DLQ).

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use callbook_core::redact::redact_text;
use tracing::Instrument;

/// Runs `process` on every message; a failure's reason is logged keyed by the message id.
pub async fn process_batch<F, Fut, E>(event: SqsEvent, process: F) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let receive_count = message
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id, receive_count = %receive_count);
        let result = process(message).instrument(span.clone()).await;
        if let Err(e) = result {
            // Provider errors can quote the recipient: redact before logging.
            let reason = redact_text(&e.to_string());
            span.in_scope(
                || tracing::error!(error = %reason, "message failed; it will be retried"),
            );
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

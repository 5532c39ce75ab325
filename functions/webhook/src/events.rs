//! Call events: the end-of-call report and status updates (handed to the analytics worker),
//! and the requests Vapi makes during a call (the assistant to use, where to transfer).

use callbook_core::{
    AnalyticsJob, Business, CallContext, CallReport, CallStatus, Clock, EndOfCallReport, Job,
    JobQueue, StatusUpdate,
};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use tracing::{error, info, warn};

use crate::edge::client_error;
use crate::spoken::{NO_TRANSFER, TRANSFERRING, no_assistant};
use crate::{Webhook, WebhookPorts};

/// A call message the queue refused: 503, so Vapi's retry, when configured, delivers it again.
pub(crate) struct NotQueued(&'static str);

impl NotQueued {
    pub(crate) fn response(&self) -> Response<Body> {
        client_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the {} could not be queued; please retry", self.0),
        )
    }
}

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn end_of_call_report(
        &self,
        business: &Business,
        report: &EndOfCallReport,
    ) -> Result<Value, NotQueued> {
        info!(
            call_id = ?report.call.call_id,
            ended_reason = ?report.ended_reason,
            duration_seconds = ?report.duration_seconds(),
            "end-of-call report received"
        );
        let job = CallReport::from_report(report, business, self.clock.now())
            .map(AnalyticsJob::CallReport);
        self.record_call(job, "end-of-call report").await?;
        Ok(json!({}))
    }

    pub(crate) async fn status_update(
        &self,
        business: &Business,
        update: &StatusUpdate,
    ) -> Result<Value, NotQueued> {
        info!(call_id = ?update.call.call_id, status = %update.status, "status update received");
        let job = CallStatus::from_update(update, business, self.clock.now())
            .map(AnalyticsJob::CallStatus);
        self.record_call(job, "status update").await?;
        Ok(json!({}))
    }

    /// Hands a call's report or status to the analytics worker. A message without a call id
    /// has nothing to key a record by: acknowledged and logged.
    async fn record_call(
        &self,
        job: Option<AnalyticsJob>,
        what: &'static str,
    ) -> Result<(), NotQueued> {
        let Some(job) = job else {
            warn!(
                message = what,
                "call message without a call id: not recorded"
            );
            return Ok(());
        };
        self.queue
            .enqueue(&[Job::Analytics(job)])
            .await
            .map_err(|e| {
                error!(error = %e, message = what, "call message not accepted by the queue");
                NotQueued(what)
            })
    }

    /// `assistant-request`: the business's assistant, or a sentence Vapi says before hanging up.
    pub(crate) fn assistant_request(&self, business: &Business, call: &CallContext) -> Value {
        match &business.assistant_id {
            Some(id) => {
                info!(phone_number_id = ?call.phone_number_id, "assistant requested");
                json!({ "assistantId": id })
            }
            None => {
                warn!(phone_number_id = ?call.phone_number_id, "assistant requested but VAPI_ASSISTANT_ID is not set");
                json!({ "error": no_assistant(&business.name) })
            }
        }
    }

    /// `transfer-destination-request`: the business's transfer number, or a spoken refusal.
    pub(crate) fn transfer_destination(&self, business: &Business, call: &CallContext) -> Value {
        match &business.transfer_number {
            Some(number) => {
                info!(call_id = ?call.call_id, to = %number.redacted(), "transfer destination given");
                json!({
                    "destination": { "type": "number", "number": number.as_str() },
                    "message": { "type": "request-start", "content": TRANSFERRING },
                })
            }
            None => json!({ "error": NO_TRANSFER }),
        }
    }
}

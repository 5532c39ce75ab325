//! captureLead: a lead job for the analytics worker, which merges leads by phone.

use callbook_core::{AnalyticsJob, Job, JobQueue, capture_lead_request, lead_confirmation};
use tracing::error;

use super::{Answer, NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn capture_lead(&self, request: &ToolRequest<'_>) -> Answer {
        let job = capture_lead_request(
            request.args,
            request.call,
            request.tool_call.id.as_deref(),
            request.business,
            request.now,
        )?;
        let answer = lead_confirmation(&job, request.business);
        if let Err(e) = self
            .queue
            .enqueue(&[Job::Analytics(AnalyticsJob::Lead(job))])
            .await
        {
            error!(error = %e, "lead not accepted by the queue");
            return Err(NotDone::Failed(SystemProblem::Lead));
        }
        Ok(answer)
    }
}

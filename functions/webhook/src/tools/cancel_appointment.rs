//! cancelAppointment: the booking worker marks the booking cancelled and frees its time.

use callbook_core::{
    BookingChange, BookingChangeJob, Job, JobQueue, cancel_confirmation, cancel_request,
};
use tracing::{error, info};

use super::limits::with_text_notice;
use super::{Answer, NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn cancel_appointment(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, call, now) = (request.business, request.call, request.now);
        let asked = cancel_request(request.args, call, business)?;
        let booking = self.find_booking(request, &asked.lookup).await?;
        self.take_allowance(request, None, SystemProblem::Change)
            .await?;
        let job = BookingChangeJob {
            // One cancel per booking: asking twice is the same change.
            job_id: format!("{}#{}#cancel", business.id, booking.reference),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: booking.reference.clone(),
            change: BookingChange::Cancel {
                reason: asked.reason,
            },
            call_id: call.call_id.clone(),
            tool_call_id: request.tool_call.id.clone(),
            requested_at: now,
            texts: business.texts_to(&booking.customer_phone),
            followups: Some(business.followups.clone()),
        };
        let texts = job.texts;
        if let Err(e) = self.queue.enqueue(&[Job::BookingChange(job)]).await {
            error!(error = %e, reference = %booking.reference, "cancel not accepted by the queue");
            return Err(NotDone::Failed(SystemProblem::Change));
        }
        info!(reference = %booking.reference, "cancel accepted");
        Ok(with_text_notice(
            cancel_confirmation(&booking, business),
            texts,
        ))
    }
}

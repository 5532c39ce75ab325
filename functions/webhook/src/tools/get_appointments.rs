//! getAppointments: the caller's upcoming bookings, soonest first.

use callbook_core::{BookingStore, appointments_answer, appointments_phone};
use tracing::error;

use super::{Answer, NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn get_appointments(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, now) = (request.business, request.now);
        let (phone, requester) = appointments_phone(request.args, request.call, business)?;
        match self.bookings.bookings_of(&business.id, &phone, now).await {
            Ok(found) => Ok(appointments_answer(
                &phone, &found, &requester, business, now,
            )),
            Err(e) => {
                error!(error = %e, "bookings could not be read");
                Err(NotDone::Failed(SystemProblem::Lookup))
            }
        }
    }
}

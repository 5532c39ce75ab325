//! getAppointments: the caller's upcoming bookings, soonest first; another number's only
//! once the call proved it (verifyCaller).

use callbook_core::{BookingStore, PortError, appointments_answer, appointments_phone};
use tracing::error;

use super::{Answer, NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn get_appointments(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, now) = (request.business, request.now);
        let unreadable = |e: PortError| {
            error!(error = %e, "bookings could not be read");
            NotDone::Failed(SystemProblem::Lookup)
        };
        let phone = appointments_phone(request.args, request.call, business)?;
        let caller = self.caller_for(request, &phone).await.map_err(unreadable)?;
        if !caller.acts_for(&phone) {
            // Not read at all: the answer cannot tell whether the number has bookings.
            return Err(NotDone::Refused(
                appointments_answer(&phone, &[], &caller, business, now).into(),
            ));
        }
        let found = self
            .bookings
            .bookings_of(&business.id, &phone, now)
            .await
            .map_err(unreadable)?;
        Ok(appointments_answer(&phone, &found, &caller, business, now))
    }
}

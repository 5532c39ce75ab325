//! The tools, one file each. A tool turns its arguments into a validated request (the domain
//! in callbook-core), does the I/O the caller must wait for (reading or reserving the
//! calendar, finding a booking), hands the rest to a queue, and says what was done. What is
//! shared lives here: who holds a time, a booking's reference, refusals with the nearest free
//! times, and finding the booking a caller means.

mod book_appointment;
mod cancel_appointment;
mod capture_lead;
mod check_availability;
mod get_appointments;
mod limits;
mod reschedule_appointment;

use std::collections::HashMap;

use callbook_core::{
    BookingLookup, BookingRecord, BookingReference, BookingRefusal, BookingStore, Business,
    CallContext, PhoneNumber, PortError, Refusal, Requester, SlotCell, SlotStore, Tool, ToolCall,
    ToolOutcome, choose_booking, stable_id,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};
use tracing::{error, warn};

use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

/// One tool call, with what every tool reads: the business, the call, the arguments, the time.
pub(crate) struct ToolRequest<'a> {
    pub business: &'a Business,
    pub call: &'a CallContext,
    pub tool_call: &'a ToolCall,
    pub args: &'a Map<String, Value>,
    pub now: DateTime<Utc>,
}

/// Why a tool did not do what was asked.
pub(crate) enum NotDone {
    /// The request cannot be done as asked: the caller hears why and what to do next.
    Refused(Refusal),
    /// A system failed: the caller hears an apology and may try again.
    Failed(SystemProblem),
}

impl From<Refusal> for NotDone {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<SystemProblem> for ToolOutcome {
    fn from(problem: SystemProblem) -> Self {
        ToolOutcome::SystemFailure(problem.sentence().to_string())
    }
}

/// What a tool says when it did what was asked, or why not.
pub(crate) type Answer = Result<String, NotDone>;

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn run(&self, tool: Tool, request: &ToolRequest<'_>) -> ToolOutcome {
        let done = match tool {
            Tool::CheckAvailability => self.check_availability(request).await,
            Tool::BookAppointment => self.book_appointment(request).await,
            Tool::RescheduleAppointment => self.reschedule_appointment(request).await,
            Tool::CancelAppointment => self.cancel_appointment(request).await,
            Tool::GetAppointments => self.get_appointments(request).await,
            Tool::CaptureLead => self.capture_lead(request).await,
        };
        match done {
            Ok(answer) => ToolOutcome::Answer(answer),
            Err(NotDone::Refused(refusal)) => ToolOutcome::Refusal(refusal),
            Err(NotDone::Failed(problem)) => problem.into(),
        }
    }

    /// A refusal as the caller hears it: for a time that cannot be had, with the nearest
    /// times that still have room (one Query per day looked at).
    pub(crate) async fn explain(
        &self,
        business: &Business,
        refusal: BookingRefusal,
        now: DateTime<Utc>,
    ) -> Refusal {
        let candidates = refusal.candidates(business, now);
        let mut days: Vec<NaiveDate> = candidates.iter().map(|c| c.date_naive()).collect();
        days.dedup();
        let mut taken = HashMap::new();
        for day in days {
            match self.taken_on(business, day).await {
                Ok(cells) => taken.extend(cells),
                // Without the calendar, offer nothing rather than times that may be taken.
                Err(e) => {
                    warn!(error = %e, "taken slots could not be read");
                    return refusal.spoken(business, &[], &taken);
                }
            }
        }
        refusal.spoken(business, &candidates, &taken)
    }

    pub(crate) async fn taken_on(
        &self,
        business: &Business,
        day: NaiveDate,
    ) -> Result<HashMap<SlotCell, u32>, PortError> {
        Ok(self
            .calendar
            .taken(&business.id, day)
            .await?
            .into_iter()
            .collect())
    }

    /// The caller's booking a change is about: read by reference (GetItem) or from their
    /// upcoming bookings (Query on the customer index).
    pub(crate) async fn find_booking(
        &self,
        business: &Business,
        lookup: &BookingLookup,
        requester: &Requester,
        now: DateTime<Utc>,
    ) -> Result<BookingRecord, NotDone> {
        let found = match lookup {
            BookingLookup::Reference(reference) => self
                .bookings
                .booking(&business.id, reference)
                .await
                .map(|b| b.into_iter().collect::<Vec<_>>()),
            BookingLookup::Phone(phone) => {
                self.bookings.bookings_of(&business.id, phone, now).await
            }
        };
        let found = found.map_err(|e| {
            error!(error = %e, "bookings could not be read");
            NotDone::Failed(SystemProblem::Lookup)
        })?;
        Ok(choose_booking(lookup, &found, requester, business, now)?.clone())
    }
}

/// Who is booking what: a hash of business, phone, start and service (no phone in clear).
/// The same caller asking again for the same time and service finds the booking they have.
pub(crate) fn holder_tag(
    business: &Business,
    phone: &PhoneNumber,
    start: &DateTime<impl TimeZone>,
    service: &str,
) -> String {
    stable_id(
        format!(
            "{}|{}|{}|{}",
            business.id,
            phone,
            start.with_timezone(&Utc).to_rfc3339(),
            service.to_lowercase()
        )
        .as_bytes(),
    )
}

/// A tool call Vapi delivers again (same call, same tool-call id) gets the same reference,
/// so the caller hears the same answer. Calls without ids (the flat form) get a fresh one.
pub(crate) fn booking_reference(request: &ToolRequest<'_>) -> BookingReference {
    match &request.tool_call.id {
        Some(id) if !id.is_empty() => {
            let seed = format!(
                "{}|{}|{}",
                request.business.id,
                request.call.call_id.as_deref().unwrap_or_default(),
                id
            );
            BookingReference::derive(seed.as_bytes())
        }
        _ => BookingReference::generate(&mut rand::rng()),
    }
}

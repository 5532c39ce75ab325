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
mod verify_caller;

use std::collections::HashMap;

use callbook_core::{
    BookingLookup, BookingRecord, BookingReference, BookingRefusal, BookingStore, Business,
    CallContext, Caller, CallerVerifications, PhoneNumber, PortError, Refusal, SlotCell, SlotStore,
    Tool, ToolCall, ToolOutcome, choose_booking, stable_id,
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
            Tool::VerifyCaller => self.verify_caller(request).await,
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

    /// The caller, with the numbers this call proved read only when `phone` is not the one
    /// it calls from (so the common case costs no read).
    pub(crate) async fn caller_for(
        &self,
        request: &ToolRequest<'_>,
        phone: &PhoneNumber,
    ) -> Result<Caller, PortError> {
        let mut caller = Caller::of_call(request.call, request.business);
        if caller.acts_for(phone) {
            return Ok(caller);
        }
        if let Some(call_id) = request.call.call_id.as_deref().filter(|c| !c.is_empty()) {
            caller.verified = self
                .verifications
                .verified(&request.business.id, call_id)
                .await?;
        }
        Ok(caller)
    }

    /// The caller's booking a change is about: read by reference (GetItem) or from the
    /// upcoming bookings of a number the caller acts for (Query on the customer index).
    pub(crate) async fn find_booking(
        &self,
        request: &ToolRequest<'_>,
        lookup: &BookingLookup,
    ) -> Result<BookingRecord, NotDone> {
        let (business, now) = (request.business, request.now);
        let unreadable = |e: PortError| {
            error!(error = %e, "bookings could not be read");
            NotDone::Failed(SystemProblem::Lookup)
        };
        let (found, caller) = match lookup {
            BookingLookup::Reference(reference) => {
                let found = self
                    .bookings
                    .booking(&business.id, reference)
                    .await
                    .map_err(unreadable)?;
                let caller = match &found {
                    Some(booking) => self
                        .caller_for(request, &booking.customer_phone)
                        .await
                        .map_err(unreadable)?,
                    None => Caller::of_call(request.call, business),
                };
                (found.into_iter().collect::<Vec<_>>(), caller)
            }
            BookingLookup::Phone(phone) => {
                let caller = self.caller_for(request, phone).await.map_err(unreadable)?;
                // Another number's bookings are not even read.
                let found = if caller.acts_for(phone) {
                    self.bookings
                        .bookings_of(&business.id, phone, now)
                        .await
                        .map_err(unreadable)?
                } else {
                    Vec::new()
                };
                (found, caller)
            }
        };
        let booking = choose_booking(lookup, &found, &caller, business, now)?;
        about_booking(&booking.reference);
        Ok(booking.clone())
    }
}

/// The tool call's span (`tool_calls.rs`) names the booking it is about, so its later lines
/// and the function's metrics lines carry the reference.
pub(crate) fn about_booking(reference: &BookingReference) {
    tracing::Span::current().record("reference", reference.as_str());
}

/// Who is booking what: a hash of business, who, start and service (no phone in clear).
/// The same caller asking again for the same time and service finds the booking they have.
/// `who` is the booking's number when the caller acts for it (`Holder::of`).
pub(crate) fn holder_tag(
    business: &Business,
    who: &str,
    start: &DateTime<impl TimeZone>,
    service: &str,
) -> String {
    stable_id(
        format!(
            "{}|{}|{}|{}",
            business.id,
            who,
            start.with_timezone(&Utc).to_rfc3339(),
            service.to_lowercase()
        )
        .as_bytes(),
    )
}

/// Who holds a new booking, for finding a repeat of it: the number it is for when the caller
/// calls from it or proved it; otherwise that number as claimed on this call only, so a
/// stranger naming someone's number, time and service never hears their booking's reference.
/// A request without a call (the flat form) comes from the operator's own integration, not a
/// phone call: its number is taken as given, as before.
pub(crate) fn holder_of(caller: &Caller, phone: &PhoneNumber, call: &CallContext) -> String {
    match call.call_id.as_deref().filter(|c| !c.is_empty()) {
        Some(_) if caller.acts_for(phone) => phone.to_string(),
        Some(call_id) => format!("claimed|{phone}|{call_id}"),
        None => phone.to_string(),
    }
}

/// A new booking's reference, and who claims it: a tool call Vapi delivers again (same call,
/// same tool-call id) derives the same references in the same order and claims them as the
/// same request, so the caller hears the same answer. Calls without ids (the flat form) get
/// fresh ones. References are unique per business: the reservation claims one, and on
/// `ReferenceTaken` the next is tried (`attempt` counts from 0).
pub(crate) struct NewReference {
    seed: Option<String>,
    pub claimant: String,
}

impl NewReference {
    /// `holder` (who books what, `holder_tag`) is part of the claim: the same ids asking for
    /// something else (after the remembered answer expired) claim a reference of their own.
    pub fn for_request(request: &ToolRequest<'_>, holder: &str) -> Self {
        match &request.tool_call.id {
            Some(id) if !id.is_empty() => {
                let seed = format!(
                    "{}|{}|{}",
                    request.business.id,
                    request.call.call_id.as_deref().unwrap_or_default(),
                    id
                );
                Self {
                    claimant: stable_id(format!("{seed}|{holder}").as_bytes()),
                    seed: Some(seed),
                }
            }
            _ => Self {
                seed: None,
                claimant: stable_id(&rand::random::<[u8; 16]>()),
            },
        }
    }

    pub fn attempt(&self, attempt: u32) -> BookingReference {
        match (&self.seed, attempt) {
            (Some(seed), 0) => BookingReference::derive(seed.as_bytes()),
            (Some(seed), n) => BookingReference::derive(format!("{seed}#{n}").as_bytes()),
            (None, _) => BookingReference::generate(&mut rand::rng()),
        }
    }
}

//! bookAppointment: the slot is reserved (all its cells or none) before the caller hears
//! "booked", and the booking job is on the queue before the answer goes back.

use callbook_core::{
    BookingJob, BookingReference, BookingRefusal, BookingRequest, Caller, Job, JobQueue,
    Reservation, SlotCell, SlotStore, book_appointment_request, booking_confirmation, cells_for,
};
use chrono::Utc;
use tracing::{error, info, warn};

use super::limits::with_text_notice;
use super::{Answer, NewReference, NotDone, ToolRequest, holder_of, holder_tag};

/// How many more references a booking tries when the one it derived is taken: with 32^6
/// references, even a business with a million bookings meets a second collision in a row
/// about once in a million bookings.
const REFERENCE_ATTEMPTS: u32 = 4;
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn book_appointment(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, call, now) = (request.business, request.call, request.now);
        let asked = match book_appointment_request(request.args, call, business, now) {
            Ok(asked) => asked,
            Err(refusal) => return Err(self.explain(business, refusal, now).await.into()),
        };
        // A limit reached is not yet a refusal: a repeat of a booking this caller has (under a
        // new tool call id, arriving with others at once) is answered with it below.
        let allowance = match self
            .take_allowance(request, Some(&asked.customer.phone), SystemProblem::Booking)
            .await
        {
            Ok(allowance) => Ok(allowance),
            Err(NotDone::Refused(refusal)) => Err(refusal),
            Err(failed) => return Err(failed),
        };
        let cells = cells_for(asked.start, asked.service.minutes, business.slot_minutes);
        // Who is booking what: the same caller asking again for the same time and service (a
        // re-issued call under a new id, or the flat form without ids) gets the booking they
        // have. The reservation checks it atomically, so concurrent repeats book once.
        // Without the proved numbers, the caller counts as a stranger to the number: the
        // booking still goes ahead; only a repeat from another call is not recognised.
        let caller = self
            .caller_for(request, &asked.customer.phone)
            .await
            .unwrap_or_else(|e| {
                warn!(error = %e, "verified numbers could not be read");
                Caller::of_call(call, business)
            });
        let who = holder_of(&caller, &asked.customer.phone, call);
        let holder = holder_tag(business, &who, &asked.start, &asked.service.name);
        let allowance = match allowance {
            Ok(allowance) => allowance,
            Err(refusal) => {
                return match self
                    .calendar
                    .held_by(&business.id, &cells[0], &holder)
                    .await
                {
                    Ok(Some(existing)) => {
                        info!(reference = %existing, "repeated booking request at the limit: the existing booking is returned");
                        self.booked(request, &asked, cells, holder, existing).await
                    }
                    Ok(None) => Err(NotDone::Refused(refusal)),
                    Err(e) => {
                        error!(error = %e, "held slots could not be read");
                        Err(NotDone::Failed(SystemProblem::Booking))
                    }
                };
            }
        };
        let new_reference = NewReference::for_request(request, &holder);
        let mut attempt = 0;
        let reference = loop {
            let reference = new_reference.attempt(attempt);
            let reserved = self
                .calendar
                .reserve_new(
                    &business.id,
                    &cells,
                    business.capacity,
                    &reference,
                    &holder,
                    &new_reference.claimant,
                )
                .await;
            match reserved {
                Ok(Reservation::Reserved) => break reference,
                // A retry of this very call: its reservation stands, and so may its queued job.
                Ok(Reservation::AlreadyReserved) => break reference,
                // Enqueued again below: if the first attempt never got its job onto the queue,
                // this one does (the worker records a booking once).
                Ok(Reservation::HeldBy(existing)) => {
                    self.give_back(allowance).await;
                    info!(reference = %existing, "repeated booking request: the existing booking is returned");
                    break existing;
                }
                Ok(Reservation::ReferenceTaken) if attempt < REFERENCE_ATTEMPTS => {
                    info!(reference = %reference, "reference used by another booking; trying the next");
                    attempt += 1;
                }
                Ok(Reservation::ReferenceTaken) => {
                    error!(attempts = attempt + 1, "no free booking reference found");
                    return Err(NotDone::Failed(SystemProblem::Booking));
                }
                Ok(Reservation::Full) => {
                    self.give_back(allowance).await;
                    let refusal = BookingRefusal::taken(asked.start, asked.service.minutes);
                    return Err(self.explain(business, refusal, now).await.into());
                }
                Err(e) => {
                    error!(error = %e, reference = %reference, "slots could not be reserved");
                    return Err(NotDone::Failed(SystemProblem::Booking));
                }
            }
        };
        self.booked(request, &asked, cells, holder, reference).await
    }

    /// The booking (new, or the one a repeat finds) queued for the worker, and the answer.
    async fn booked(
        &self,
        request: &ToolRequest<'_>,
        asked: &BookingRequest,
        cells: Vec<SlotCell>,
        holder: String,
        reference: BookingReference,
    ) -> Answer {
        let (business, call, now) = (request.business, request.call, request.now);
        super::about_booking(&reference);
        let job = BookingJob {
            // One job id per booking, so every enqueue of it is recorded once.
            job_id: format!("{}#{}", business.id, reference),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: reference.clone(),
            customer: asked.customer.clone(),
            service: asked.service.name.clone(),
            duration_minutes: asked.service.minutes,
            price_cents: asked.service.price_cents,
            start_utc: asked.start.with_timezone(&Utc),
            start_local: asked.start.fixed_offset(),
            time_zone: business.zone.name().to_string(),
            slot_cells: cells,
            call_id: call.call_id.clone(),
            tool_call_id: request.tool_call.id.clone(),
            requested_at: now,
            owner: business.owner_recipients(),
            holder: Some(holder),
            texts: business.texts_to(&asked.customer.phone),
            followups: Some(business.followups.clone()),
        };
        let texts = job.texts;
        if let Err(e) = self.queue.enqueue(&[Job::Booking(job)]).await {
            // The slot stays held: SQS may have stored the job despite the error, or a
            // concurrent repeat of this request may have queued it, and freeing it could let a
            // second caller double-book. The caller is asked to try again; their retry finds
            // this reservation (held_by) and enqueues the job. The cost is a held slot if they
            // never do: better than a double booking.
            error!(error = %e, reference = %reference, "booking job not accepted by the queue; slot kept");
            return Err(NotDone::Failed(SystemProblem::Booking));
        }
        info!(reference = %reference, phone = %asked.customer.phone.redacted(), start = %asked.start, "booking accepted");
        Ok(with_text_notice(
            booking_confirmation(asked, &reference),
            texts,
        ))
    }
}

//! rescheduleAppointment: the new time is reserved first (atomically, like a booking), then
//! the change goes to the booking worker, which frees the old time.

use callbook_core::{
    BookingChange, BookingChangeJob, BookingRefusal, Job, JobQueue, Reservation, SlotCell,
    SlotStore, bookable_start, cells_for, reschedule_confirmation, reschedule_request,
    spoken_datetime, stable_id,
};
use chrono::Utc;
use tracing::{error, info};

use super::limits::with_text_notice;
use super::{Answer, NotDone, ToolRequest, holder_tag};
use crate::spoken::{SystemProblem, already_at, already_booked};
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn reschedule_appointment(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, call, now) = (request.business, request.call, request.now);
        let asked = reschedule_request(request.args, call, business)?;
        let booking = self.find_booking(request, &asked.lookup).await?;
        let minutes = booking.duration_minutes;
        let start = match bookable_start(&asked.date, &asked.time, minutes, call, business, now) {
            Ok(start) => start,
            Err(refusal) => return Err(self.explain(business, refusal, now).await.into()),
        };
        if start.with_timezone(&Utc) == booking.start_utc {
            let when = spoken_datetime(&start);
            return Err(NotDone::Refused(already_at(&booking.service, &when).into()));
        }
        let allowance = self
            .take_allowance(request, None, SystemProblem::Change)
            .await?;
        let cells = cells_for(start, minutes, business.slot_minutes);
        // Cells the booking already holds stay its own; only the others are reserved.
        let needed: Vec<SlotCell> = cells
            .iter()
            .filter(|c| !booking.slot_cells.contains(c))
            .copied()
            .collect();
        // The new time's holder claim moves onto the booking when the change applies; the
        // reservation itself is tagged by this reschedule, so a repeat of it finds its hold.
        let holder = holder_tag(
            business,
            booking.customer_phone.as_str(),
            &start,
            &booking.service,
        );
        let reschedule_tag = stable_id(
            format!(
                "reschedule|{}|{}|{}",
                business.id,
                booking.reference,
                start.with_timezone(&Utc).to_rfc3339()
            )
            .as_bytes(),
        );
        let taken_by_caller = |other: callbook_core::BookingReference| {
            let when = spoken_datetime(&start);
            NotDone::Refused(already_booked(&booking.service, &when, &other.spoken()).into())
        };
        // The caller may already have another booking at that time for that service.
        if let Some(first) = cells.first() {
            match self.calendar.held_by(&business.id, first, &holder).await {
                Ok(Some(other)) if other != booking.reference => {
                    self.give_back(allowance).await;
                    return Err(taken_by_caller(other));
                }
                Ok(_) => {}
                Err(e) => {
                    error!(error = %e, "the calendar could not be read");
                    return Err(NotDone::Failed(SystemProblem::Change));
                }
            }
        }
        if !needed.is_empty() {
            match self
                .calendar
                .reserve(
                    &business.id,
                    &needed,
                    business.capacity,
                    &booking.reference,
                    &reschedule_tag,
                )
                .await
            {
                Ok(Reservation::Reserved | Reservation::AlreadyReserved) => {}
                Ok(Reservation::HeldBy(other)) => {
                    self.give_back(allowance).await;
                    return Err(taken_by_caller(other));
                }
                // `reserve` claims no reference; this would be a store's bug.
                Ok(Reservation::ReferenceTaken) => {
                    error!(reference = %booking.reference, "reserving a move refused its reference");
                    return Err(NotDone::Failed(SystemProblem::Change));
                }
                Ok(Reservation::Full) => {
                    self.give_back(allowance).await;
                    let refusal = BookingRefusal::taken(start, minutes);
                    return Err(self.explain(business, refusal, now).await.into());
                }
                Err(e) => {
                    error!(error = %e, reference = %booking.reference, "new slots could not be reserved");
                    return Err(NotDone::Failed(SystemProblem::Change));
                }
            }
        }
        let seed = format!(
            "{}|{}|{}",
            call.call_id.as_deref().unwrap_or_default(),
            request.tool_call.id.as_deref().unwrap_or_default(),
            start.with_timezone(&Utc).to_rfc3339()
        );
        let job = BookingChangeJob {
            job_id: format!(
                "{}#{}#reschedule#{}",
                business.id,
                booking.reference,
                &stable_id(seed.as_bytes())[..12]
            ),
            business_id: business.id.clone(),
            business_name: business.name.clone(),
            reference: booking.reference.clone(),
            change: BookingChange::Reschedule {
                start_utc: start.with_timezone(&Utc),
                start_local: start.fixed_offset(),
                slot_cells: cells,
                reserved: needed,
                holder: Some(holder),
                capacity: business.capacity,
            },
            call_id: call.call_id.clone(),
            tool_call_id: request.tool_call.id.clone(),
            requested_at: now,
            texts: business.texts_to(&booking.customer_phone),
            followups: Some(business.followups.clone()),
        };
        let texts = job.texts;
        if let Err(e) = self.queue.enqueue(&[Job::BookingChange(job)]).await {
            // As for a booking: the new time stays held (the caller's retry finds it).
            error!(error = %e, reference = %booking.reference, "reschedule not accepted by the queue; new slots kept");
            return Err(NotDone::Failed(SystemProblem::Change));
        }
        info!(reference = %booking.reference, start = %start, "reschedule accepted");
        Ok(with_text_notice(
            reschedule_confirmation(&booking, &start, business),
            texts,
        ))
    }
}

//! checkAvailability: a few free times on the day, or the next days that have room.

use callbook_core::{
    AvailabilityRequest, PortError, availability_answer, availability_request, free_starts,
    fully_booked_answer,
};
use chrono::Datelike;
use tracing::error;

use super::{Answer, NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

/// How many days after a full or closed one are looked at for room.
const DAYS_AHEAD: i64 = 14;

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn check_availability(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, now) = (request.business, request.now);
        let asked = availability_request(request.args, request.call, business, now)?;
        let answer = async {
            let free = free_starts(
                business,
                &asked,
                now,
                &self.taken_on(business, asked.day).await?,
            );
            if !free.is_empty() {
                return Ok::<_, PortError>(availability_answer(&asked, &free));
            }
            let mut next = Vec::new();
            for offset in 1..=DAYS_AHEAD {
                let Some(day) = asked.day.checked_add_signed(chrono::Duration::days(offset)) else {
                    break;
                };
                if !business.hours.is_open_on(day.weekday()) {
                    continue;
                }
                let later = AvailabilityRequest {
                    day,
                    ..asked.clone()
                };
                if let Some(first) =
                    free_starts(business, &later, now, &self.taken_on(business, day).await?)
                        .into_iter()
                        .min()
                {
                    next.push(first);
                }
                if next.len() == 2 {
                    break;
                }
            }
            let closed = !business.hours.is_open_on(asked.day.weekday());
            Ok(fully_booked_answer(&asked, &next, closed))
        };
        answer.await.map_err(|e| {
            error!(error = %e, "availability could not be read");
            NotDone::Failed(SystemProblem::Calendar)
        })
    }
}

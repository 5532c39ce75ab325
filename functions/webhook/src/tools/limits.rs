//! What a caller can make the business send (callbook-core's `domain::limits`): a booking,
//! move or cancellation takes one unit of the call's limit (a booking also one of the texted
//! number's daily limit) before anything is reserved, so a caller over a limit hears why and
//! nothing is held, changed or sent. The tools call these in one line each.
//!
//! Round trips: one conditional UpdateItem per limit, all at once (two per booking, one per
//! move or cancel, three per caller code; none for the read-only tools). A retry of the same
//! tool call (same call and tool-call id: a system failure's retry, since answers are
//! remembered) is the same taker, so it counts once.

use callbook_core::{
    LimitKind, LimitUnit, NO_TEXTS_THERE, PhoneNumber, QuotaTaken, Quotas, TextPermission,
    limit_reached, stable_id, units_for_change,
};
use futures_util::future::join_all;
use tracing::{error, info, warn};

use super::{NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

/// The units one booking or change took, to give back if it then does nothing.
pub(crate) struct Allowance {
    units: Vec<LimitUnit>,
    taker: String,
}

/// Why units could not all be taken (what was taken is given back).
pub(crate) enum NotAllowed {
    Reached(LimitKind),
    Unreadable,
}

/// Who takes a unit: a retry of the same tool call (same call and tool-call id) is the same
/// taker, so it counts once; a request without a tool-call id is its own.
fn taker_of(request: &ToolRequest<'_>) -> String {
    let call_id = request.call.call_id.as_deref().unwrap_or_default();
    match request.tool_call.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => stable_id(format!("{call_id}|{id}").as_bytes()),
        None => fresh_taker(),
    }
}

impl<P: WebhookPorts> Webhook<P> {
    /// Takes a unit of each limit a booking (`texted`: the number it texts) or a move or
    /// cancel (`None`: the caller acts for the booking's own number) counts against; refuses,
    /// saying which limit, when one is reached.
    pub(crate) async fn take_allowance(
        &self,
        request: &ToolRequest<'_>,
        texted: Option<&PhoneNumber>,
        problem: SystemProblem,
    ) -> Result<Allowance, NotDone> {
        let business = request.business;
        let units = units_for_change(
            business,
            request.call.call_id.as_deref(),
            texted,
            request.now,
        );
        match self.take_units(request, units).await {
            Ok(allowance) => Ok(allowance),
            Err(NotAllowed::Reached(kind)) => {
                Err(NotDone::Refused(limit_reached(kind, business).into()))
            }
            Err(NotAllowed::Unreadable) => Err(NotDone::Failed(problem)),
        }
    }

    /// Takes one unit of each limit, all or none. The limits are separate items, so they are
    /// asked at once: one round trip of time, not one per limit.
    pub(crate) async fn take_units(
        &self,
        request: &ToolRequest<'_>,
        units: Vec<LimitUnit>,
    ) -> Result<Allowance, NotAllowed> {
        let taker = taker_of(request);
        let outcomes = join_all(units.iter().map(|unit| {
            self.quotas
                .take(&unit.key, &taker, unit.limit, unit.window_ends, request.now)
        }))
        .await;
        let mut taken = Allowance {
            units: Vec::new(),
            taker,
        };
        // The first limit (in order) that refuses decides what the caller hears.
        let mut refused = None;
        for (unit, outcome) in units.into_iter().zip(outcomes) {
            match outcome {
                Ok(QuotaTaken::Granted { .. }) => taken.units.push(unit),
                Ok(QuotaTaken::Exhausted) => {
                    info!(limit = ?unit.kind, "caller limit reached");
                    refused.get_or_insert(NotAllowed::Reached(unit.kind));
                }
                Err(e) => {
                    error!(error = %e, "caller limits could not be read");
                    refused.get_or_insert(NotAllowed::Unreadable);
                }
            }
        }
        match refused {
            None => Ok(taken),
            Some(refused) => {
                self.give_back(taken).await;
                Err(refused)
            }
        }
    }

    /// Gives back the units of a booking or change that did nothing (the time was taken).
    pub(crate) async fn give_back(&self, allowance: Allowance) {
        for unit in &allowance.units {
            if let Err(e) = self.quotas.give_back(&unit.key, &allowance.taker).await {
                // The unit stays counted until its window ends: a caller may hit a limit
                // one change early, nothing worse.
                warn!(error = %e, "a caller limit unit could not be given back");
            }
        }
    }
}

/// A fresh random id, for requests without a tool-call id.
fn fresh_taker() -> String {
    use rand::Rng;
    format!("{:032x}", rand::rng().random::<u128>())
}

/// The answer, with the email-only notice when the business does not text that number.
pub(crate) fn with_text_notice(answer: String, texts: TextPermission) -> String {
    match texts {
        TextPermission::Allowed => answer,
        TextPermission::NotToThatCountry => format!("{answer} {NO_TEXTS_THERE}"),
    }
}

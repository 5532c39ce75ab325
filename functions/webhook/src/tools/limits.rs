//! What a caller can make the business send (callbook-core's `domain::limits`): a booking,
//! move or cancellation takes one unit of the call's limit and of the texted number's daily
//! limit before anything is reserved, so a caller over a limit hears why and nothing is held,
//! changed or sent. The tools call these in one line each.
//!
//! Round trips: one conditional UpdateItem per limit (two per booking or change; none for the
//! read-only tools). A retry of the same tool call (same call and tool-call id: a system
//! failure's retry, since answers are remembered) is the same taker, so it counts once.

use callbook_core::{
    LimitUnit, NO_TEXTS_THERE, PhoneNumber, QuotaTaken, Quotas, TextPermission, limit_reached,
    stable_id, units_for_change,
};
use tracing::{error, info, warn};

use super::{NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

/// The units one booking or change took, to give back if it then does nothing.
pub(crate) struct Allowance {
    units: Vec<LimitUnit>,
    taker: String,
}

impl<P: WebhookPorts> Webhook<P> {
    /// Takes a unit of each limit a booking or change that texts `texted` counts against;
    /// refuses (saying which limit) when one is reached, giving back what it took.
    pub(crate) async fn take_allowance(
        &self,
        request: &ToolRequest<'_>,
        texted: &PhoneNumber,
        problem: SystemProblem,
    ) -> Result<Allowance, NotDone> {
        let business = request.business;
        let call_id = request.call.call_id.as_deref();
        let taker = match request.tool_call.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => stable_id(format!("{}|{id}", call_id.unwrap_or_default()).as_bytes()),
            // The flat form carries no ids: each request is its own taker.
            None => fresh_taker(),
        };
        let mut taken = Allowance {
            units: Vec::new(),
            taker,
        };
        for unit in units_for_change(business, call_id, texted, request.now) {
            let outcome = self
                .quotas
                .take(
                    &unit.key,
                    &taken.taker,
                    unit.limit,
                    unit.window_ends,
                    request.now,
                )
                .await;
            match outcome {
                Ok(QuotaTaken::Granted { .. }) => taken.units.push(unit),
                Ok(QuotaTaken::Exhausted) => {
                    info!(limit = ?unit.kind, phone = %texted.redacted(), "caller limit reached");
                    self.give_back(taken).await;
                    return Err(NotDone::Refused(limit_reached(unit.kind, business).into()));
                }
                Err(e) => {
                    error!(error = %e, "caller limits could not be read");
                    self.give_back(taken).await;
                    return Err(NotDone::Failed(problem));
                }
            }
        }
        Ok(taken)
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

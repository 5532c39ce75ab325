//! verifyCaller: a caller calling from another number proves they hold a booking's number by
//! reading back a code texted there. Asked without a code, it texts one (a few per call, and
//! per number per hour); asked with one, it checks it (a few tries, ten minutes), and the call
//! may then read and change that number's bookings.

use callbook_core::domain::callers::sentences;
use callbook_core::{
    CODE_VALID_FOR, Caller, CallerCode, CallerVerifications, CodeCheck, CodeIssue, Job, JobQueue,
    NotificationJob, PendingCode, TextPermission, limit_reached, units_for_code, verify_request,
};
use tracing::{error, info};

use super::limits::NotAllowed;
use super::{Answer, NotDone, ToolRequest};
use crate::spoken::SystemProblem;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    pub(crate) async fn verify_caller(&self, request: &ToolRequest<'_>) -> Answer {
        let (business, call, now) = (request.business, request.call, request.now);
        let asked = verify_request(request.args, business)?;
        if Caller::of_call(call, business).calling_from.as_ref() == Some(&asked.phone) {
            return Ok(sentences::ALREADY_YOURS.to_string());
        }
        let Some(call_id) = call.call_id.as_deref().filter(|c| !c.is_empty()) else {
            return Err(NotDone::Refused(sentences::NO_CALL.into()));
        };
        let failed = |e: callbook_core::PortError| {
            error!(error = %e, "caller code not stored or checked");
            NotDone::Failed(SystemProblem::Verification)
        };
        let Some(code) = asked.code else {
            if business.texts_to(&asked.phone) != TextPermission::Allowed {
                return Err(NotDone::Refused(sentences::NO_CODES_THERE.into()));
            }
            // A few codes per number per hour and on its day's texts, and a few per hour for
            // the business, whichever calls ask: no number, and no bill, can be flooded.
            let allowance = match self
                .take_units(request, units_for_code(business, &asked.phone, now))
                .await
            {
                Ok(allowance) => allowance,
                Err(NotAllowed::Reached(kind)) => {
                    return Err(NotDone::Refused(limit_reached(kind, business).into()));
                }
                Err(NotAllowed::Unreadable) => {
                    return Err(NotDone::Failed(SystemProblem::Verification));
                }
            };
            let code = CallerCode::generate(&mut rand::rng());
            let pending = PendingCode {
                code_hash: code.hash(&business.id, call_id, &asked.phone),
                phone: asked.phone.clone(),
                expires_at: now + CODE_VALID_FOR,
            };
            match self
                .verifications
                .store_code(&business.id, call_id, &pending)
                .await
                .map_err(failed)?
            {
                CodeIssue::Stored => {}
                CodeIssue::TooManyForCall => {
                    // Nothing is texted: the number's hour and day are not spent on it.
                    self.give_back(allowance).await;
                    return Err(NotDone::Refused(sentences::TOO_MANY_CODES.into()));
                }
            }
            // A random id: the code's hash stays out of ids and logs (a repeat of this tool
            // call hears its remembered answer and sends nothing).
            let about = format!("{}#{call_id}#{:032x}", business.id, rand::random::<u128>());
            let text = NotificationJob::caller_code(
                &about,
                &business.id,
                &business.name,
                &asked.phone,
                code.as_str(),
            );
            if let Err(e) = self.queue.enqueue(&[Job::Notification(text)]).await {
                error!(error = %e, "caller code not accepted by the queue");
                return Err(NotDone::Failed(SystemProblem::Verification));
            }
            info!(phone = %asked.phone.redacted(), "caller code sent");
            return Ok(sentences::code_sent(&asked.phone));
        };
        let hash = code.hash(&business.id, call_id, &asked.phone);
        let checked = self
            .verifications
            .check_code(&business.id, call_id, &hash, now)
            .await
            .map_err(failed)?;
        info!(phone = %asked.phone.redacted(), outcome = checked.name(), "caller code checked");
        match checked {
            CodeCheck::Verified(phone) => Ok(sentences::verified(&phone)),
            CodeCheck::Wrong { attempts_left } => Err(NotDone::Refused(
                sentences::wrong_code(attempts_left).into(),
            )),
            CodeCheck::Expired => Err(NotDone::Refused(sentences::EXPIRED.into())),
            CodeCheck::NoAttemptsLeft => Err(NotDone::Refused(sentences::NO_ATTEMPTS_LEFT.into())),
            CodeCheck::NoCode => Err(NotDone::Refused(sentences::NO_CODE.into())),
        }
    }
}

//! verifyCaller: a caller calling from another number proves they hold a booking's number by
//! reading back a code texted there. Asked without a code, it texts one (a few per call, and
//! per number per hour); asked with one, it checks it (a few tries, ten minutes), and the call
//! may then read and change that number's bookings.

use callbook_core::domain::callers::sentences;
use callbook_core::{
    CODE_VALID_FOR, CODES_PER_NUMBER_PER_HOUR, Caller, CallerCode, CallerVerifications, CodeCheck,
    CodeIssue, Job, JobQueue, NotificationJob, PendingCode, QuotaTaken, Quotas, TextPermission,
    codes_this_hour, stable_id, verify_request,
};
use tracing::{error, info};

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
            // A few codes per number per hour, whichever calls ask: a number cannot be
            // flooded with codes. A retry of this tool call is the same taker.
            let (key, hour_ends) = codes_this_hour(&business.id, &asked.phone, now);
            let taker = stable_id(
                format!(
                    "{call_id}|{}",
                    request.tool_call.id.as_deref().unwrap_or_default()
                )
                .as_bytes(),
            );
            let taken = self
                .quotas
                .take(&key, &taker, CODES_PER_NUMBER_PER_HOUR, hour_ends, now)
                .await
                .map_err(failed)?;
            if taken == QuotaTaken::Exhausted {
                info!(phone = %asked.phone.redacted(), "caller codes per hour reached");
                return Err(NotDone::Refused(sentences::TOO_MANY_CODES.into()));
            }
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
                    return Err(NotDone::Refused(sentences::TOO_MANY_CODES.into()));
                }
            }
            let about = format!("{}#{call_id}#{}", business.id, &pending.code_hash[..16]);
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

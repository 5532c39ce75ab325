//! Calls whose assistant or phone number no business claims (`UNROUTED_CALLS`): served by the
//! install's default business, or refused with a sentence the assistant says. A refused call
//! is answered 200 (Vapi does not retry it) and nothing is read, written or queued for it.

use callbook_core::{
    ConfigError, ToolOutcome, WebhookMessage, setting, single_call_response, tool_calls_response,
};
use serde_json::{Value, json};

use crate::spoken::UNROUTED_CALL;

/// What the webhook does with a call no business claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnroutedCalls {
    /// The default business serves it: a single-business install stores no businesses, so
    /// every call it takes is unclaimed. The default, so such installs work as deployed.
    #[default]
    Serve,
    /// Refused: an install with stored businesses, where an unclaimed id is a tenant's
    /// misconfiguration that would otherwise book into the default business's calendar.
    Refuse,
}

impl UnroutedCalls {
    /// `UNROUTED_CALLS`: `serve` (default) or `refuse`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match setting(lookup, "UNROUTED_CALLS").as_deref() {
            None | Some("serve") => Ok(Self::Serve),
            Some("refuse") => Ok(Self::Refuse),
            Some(other) => Err(ConfigError::Invalid {
                name: "UNROUTED_CALLS",
                reason: format!("{other:?}: use serve or refuse"),
            }),
        }
    }
}

/// The answer to a refused call, by what the message asks: each tool call hears the refusal,
/// an assistant or transfer request gets it as the `error` Vapi speaks, and a notice (a
/// report, a status) is acknowledged and not recorded.
pub(crate) fn refusal(message: &WebhookMessage) -> Value {
    let refused = || ToolOutcome::refusal(UNROUTED_CALL);
    match message {
        WebhookMessage::ToolCalls { tool_calls, .. } => {
            let answers: Vec<_> = tool_calls.iter().map(|call| (call, refused())).collect();
            tool_calls_response(&answers)
        }
        WebhookMessage::SingleCall { .. } => single_call_response(&refused()),
        WebhookMessage::AssistantRequest { .. }
        | WebhookMessage::TransferDestinationRequest { .. } => json!({ "error": UNROUTED_CALL }),
        WebhookMessage::EndOfCallReport(_)
        | WebhookMessage::StatusUpdate(_)
        | WebhookMessage::Notice { .. }
        | WebhookMessage::Other { .. } => json!({}),
    }
}

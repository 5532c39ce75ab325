//! What a request measures, collected while it is handled and emitted once at the end
//! (`Webhook::handle`): latency by message type, each tool call's latency and outcome,
//! rejections by reason, unrouted calls, the instance's cold start. Every dimension value is
//! from a closed list (a tool's declared name, never the name a body sends), so a stranger's
//! body cannot create metrics.

use std::time::Duration;

use callbook_core::{Dimension, Measurement, Metric, Tool, ToolOutcome, WebhookMessage};

use crate::gate::Rejection;

/// The `Function` dimension of the webhook's metrics.
pub const FUNCTION: &str = "webhook";

/// The `MessageType` of a request turned away before its message was read.
pub(crate) const REJECTED: &str = "rejected";

/// The message's type, as Vapi names it (`other` for a type this version does not know).
pub(crate) fn message_type(message: &WebhookMessage) -> &'static str {
    match message {
        WebhookMessage::ToolCalls { .. } => "tool-calls",
        WebhookMessage::SingleCall { .. } => "function-call",
        WebhookMessage::EndOfCallReport(_) => "end-of-call-report",
        WebhookMessage::StatusUpdate(_) => "status-update",
        WebhookMessage::AssistantRequest { .. } => "assistant-request",
        WebhookMessage::TransferDestinationRequest { .. } => "transfer-destination-request",
        WebhookMessage::Notice { .. } => "notice",
        WebhookMessage::Other { .. } => "other",
    }
}

fn ms(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

pub(crate) fn request_latency(message_type: &'static str, elapsed: Duration) -> Measurement {
    Measurement::new(Metric::RequestLatency, ms(elapsed)).by(Dimension::MessageType, message_type)
}

/// A rejection's `Reason`, by its kind.
pub(crate) fn rejected(rejection: &Rejection) -> Measurement {
    let reason = match rejection {
        Rejection::TooLarge { .. } => "too-large",
        Rejection::Unauthenticated(_) => "unauthorized",
        Rejection::NotJson(_) => "unsupported-type",
        Rejection::Unreadable(_) => "unreadable",
        // 503: the business or its secret could not be read; not the caller's fault.
        Rejection::CannotAuthenticate => "cannot-authenticate",
    };
    Measurement::count(Metric::RejectedRequests).by(Dimension::Reason, reason)
}

pub(crate) fn unrouted() -> Measurement {
    Measurement::count(Metric::UnroutedCalls)
}

/// A tool's name from our closed list (`unknown` for a name we do not declare).
pub(crate) fn tool_name(name: &str) -> &'static str {
    Tool::named(name).map_or("unknown", |t| t.spec().name)
}

/// A tool call's latency and outcome, by the tool it names (`unknown` for none we declare).
pub(crate) fn tool_call(name: &str, outcome: &ToolOutcome, elapsed: Duration) -> [Measurement; 2] {
    let tool = tool_name(name);
    let kind = match outcome {
        ToolOutcome::Answer(_) => "answer",
        ToolOutcome::Refusal(_) => "refusal",
        ToolOutcome::SystemFailure(_) => "system-failure",
    };
    [
        Measurement::new(Metric::ToolLatency, ms(elapsed)).by(Dimension::Tool, tool),
        Measurement::count(Metric::ToolCalls)
            .by(Dimension::Tool, tool)
            .by(Dimension::Outcome, kind),
    ]
}

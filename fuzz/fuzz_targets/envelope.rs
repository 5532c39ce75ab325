//! Any HTTP body → `parse_webhook`: a message or an `EnvelopeError`, never a panic. A body that
//! parses goes on as the webhook takes it: each tool call's arguments, with the call's own
//! context (its `startedAt`, customer number), to every tool-argument parser, and a report's
//! duration is computed.
#![no_main]

use callbook_core::{WebhookMessage, parse_webhook};
use callbook_core_fuzz::{all_tool_parsers, now};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(message) = parse_webhook(body) else {
        return;
    };
    match &message {
        WebhookMessage::ToolCalls { call, tool_calls } => {
            for tool_call in tool_calls {
                if let Ok(args) = &tool_call.arguments {
                    all_tool_parsers(args, call, now());
                }
            }
        }
        WebhookMessage::SingleCall { call, tool_call } => {
            if let Ok(args) = &tool_call.arguments {
                all_tool_parsers(args, call, now());
            }
        }
        WebhookMessage::EndOfCallReport(report) => {
            let _ = report.duration_seconds();
        }
        _ => {}
    }
});

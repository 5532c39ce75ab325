//! Any JSON object as a tool call's arguments → every tool-argument parser (bookAppointment,
//! checkAvailability, rescheduleAppointment, cancelAppointment, captureLead), for a US and a
//! UK business: a request or the sentence for the caller, never a panic.
//!
//! Input: a JSON object, run with no caller number and with a fixed one; or
//! `<caller number>\n<JSON object>`, so the caller-ID fallback for the phone is fuzzed too.
#![no_main]

use callbook_core::CallContext;
use callbook_core_fuzz::{all_tool_parsers, now};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(args)) => Some(args),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let call = |number: Option<String>| CallContext {
        call_id: Some("call-fuzz".into()),
        customer_number: number,
        ..Default::default()
    };
    if let Some(args) = object(data) {
        all_tool_parsers(&args, &call(None), now());
        all_tool_parsers(&args, &call(Some("+1 (212) 555-0100".into())), now());
    } else if let Some(split) = data.iter().position(|&b| b == b'\n')
        && let Some(args) = object(&data[split + 1..])
    {
        let number = String::from_utf8_lossy(&data[..split]).into_owned();
        all_tool_parsers(&args, &call(Some(number)), now());
    }
});

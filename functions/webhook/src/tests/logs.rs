//! Log lines (issue 12): every line of a request names its business and call, every line of a
//! tool call its id, its tool and the booking it is about; none carries the caller's number,
//! email or name. Read through the subscriber Lambda uses (`json_lines`).

use super::*;
use callbook_core::BookingRecord;
use callbook_core::testing::CapturedLines;
use callbook_core::testing::logs::{Capturing, ThisThread, capture_lines};
use serde_json::Map;

/// This thread's log lines, as Lambda writes them (the tests run on one thread).
fn capture() -> (CapturedLines, Capturing) {
    capture_lines(|| callbook_aws::telemetry::json_lines("info", || ThisThread))
}

fn one_tool_call(id: &str, name: &str, args: Value) -> Request {
    authed(&tool_calls_body(json!([
        {"id": id, "type": "function", "function": {"name": name, "arguments": args}}
    ])))
}

fn text_of(line: &Map<String, Value>, key: &str) -> String {
    line.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_line_of_a_tool_call_carries_its_ids_and_no_personal_data() {
    let (out, _logs) = capture();
    let w = webhook();
    let args = seed_body()["parameters"].clone();
    let (status, _) = send(&w, one_tool_call("tc-book", "bookAppointment", args)).await;
    assert_eq!(status, StatusCode::OK);
    let job = booking_jobs(&w).remove(0);
    w.bookings
        .insert(BookingRecord::from_job(&job, w.clock.now()));
    let reason = json!({"reason": "feeling better"});
    let (status, _) = send(&w, one_tool_call("tc-cancel", "cancelAppointment", reason)).await;
    assert_eq!(status, StatusCode::OK);

    let lines = out.lines();
    let said = |message: &str| {
        lines
            .iter()
            .filter(|l| text_of(l, "message") == message)
            .count()
    };
    assert_eq!(said("booking accepted"), 1, "{}", out.text());
    assert_eq!(said("cancel accepted"), 1, "{}", out.text());
    assert_eq!(said("tool call answered"), 2, "{}", out.text());
    for line in &lines {
        assert_eq!(text_of(line, "business"), w.business.id, "{line:?}");
        assert_eq!(text_of(line, "call_id"), "call-123", "{line:?}");
        let tool_call = text_of(line, "tool_call_id");
        let tool = match tool_call.as_str() {
            "tc-book" => "bookAppointment",
            "tc-cancel" => "cancelAppointment",
            _ => panic!("a line outside a tool call: {line:?}"),
        };
        assert_eq!(text_of(line, "tool"), tool, "{line:?}");
        // A tool knows its booking once it has found or reserved it: every line from then on,
        // and every answer, names it.
        if matches!(
            text_of(line, "message").as_str(),
            "booking accepted" | "cancel accepted" | "tool call answered"
        ) {
            assert_eq!(
                text_of(line, "reference"),
                job.reference.as_str(),
                "{line:?}"
            );
        }
    }
    let text = out.text();
    for personal in [
        "7025551234",
        "test@example.com",
        "Test User",
        "feeling better",
    ] {
        assert!(!text.contains(personal), "{personal} logged: {text}");
    }
}

#[tokio::test]
async fn a_call_event_names_its_business_and_call_and_a_rejection_names_neither() {
    let (out, _logs) = capture();
    let w = webhook();
    let unknown = json!({"message": {"type": "something-new", "call": {"id": "call-9"}}});
    send(&w, authed(&unknown)).await;
    let (status, _) = send(&w, post(&[("x-vapi-secret", "wrong")], "{}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{}", out.text());
    // An unknown type has no call the envelope reads: the business only.
    assert_eq!(text_of(&lines[0], "business"), w.business.id);
    // Before authentication nothing in the body is believed, not even whose call it is.
    assert!(text_of(&lines[1], "message").contains("authentication"));
    assert!(!lines[1].contains_key("business") && !lines[1].contains_key("call_id"));
}

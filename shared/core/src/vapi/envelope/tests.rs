use super::*;
use crate::vapi::answers::{ToolOutcome, single_call_response, tool_calls_response};
use serde_json::json;

fn parse(v: Value) -> Result<WebhookMessage, EnvelopeError> {
    parse_webhook(v.to_string().as_bytes())
}

fn tool_calls(v: Value) -> (CallContext, Vec<ToolCall>) {
    match parse(v).unwrap() {
        WebhookMessage::ToolCalls { call, tool_calls } => (call, tool_calls),
        other => panic!("not tool-calls: {other:?}"),
    }
}

#[test]
fn tool_call_list_with_object_or_string_arguments() {
    let (call, calls) = tool_calls(json!({"message": {
        "type": "tool-calls",
        "timestamp": 1764000000000_i64,
        "call": {"id": "call-1", "assistantId": "asst-1", "customer": {"number": "+17025551234"}},
        "toolCallList": [
            {"id": "tc1", "type": "function", "function": {"name": "bookAppointment", "arguments": {"date": "tomorrow"}}},
            {"id": "tc2", "type": "function", "function": {"name": "bookAppointment", "arguments": "{\"date\":\"friday\"}"}}
        ]
    }}));
    assert_eq!(call.call_id.as_deref(), Some("call-1"));
    assert_eq!(call.customer_number.as_deref(), Some("+17025551234"));
    assert_eq!(
        call.started_at,
        Utc.timestamp_millis_opt(1764000000000).single()
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id.as_deref(), Some("tc1"));
    assert_eq!(calls[1].arguments.as_ref().unwrap()["date"], "friday");
}

#[test]
fn fallback_placements() {
    let entry = json!({"id": "a", "function": {"name": "x", "arguments": {}}});
    let (_, c) = tool_calls(json!({"message": {"type": "tool-calls", "toolCalls": [entry]}}));
    assert_eq!(c[0].id.as_deref(), Some("a"));
    let (_, c) = tool_calls(
        json!({"message": {"type": "tool-calls", "toolWithToolCallList": [
            {"type": "function", "function": {"name": "x"}, "server": {"secret": "s"}, "toolCall": {"id": "b", "function": {"name": "x", "arguments": "{}"}}}
        ]}}),
    );
    assert_eq!(c[0].id.as_deref(), Some("b"));
    let (_, c) = tool_calls(
        json!({"message": {"type": "tool-calls", "toolCallList": [{"id": "c", "name": "x", "parameters": {"k": 1}}]}}),
    );
    assert_eq!(
        (
            c[0].name.as_str(),
            c[0].arguments.as_ref().unwrap()["k"].as_i64()
        ),
        ("x", Some(1))
    );
    let (call, c) =
        tool_calls(json!({"message": {"type": "tool-calls", "timestamp": "2026-11-24T15:00:00Z"}}));
    assert!(c.is_empty());
    assert!(call.started_at.is_some());
}

#[test]
fn bad_argument_strings_are_a_per_call_error() {
    let (_, c) = tool_calls(json!({"message": {"type": "tool-calls", "toolCallList": [
        {"id": "a", "function": {"name": "x", "arguments": "{not json"}},
        {"id": "b", "function": {"name": "x", "arguments": "[1]"}}
    ]}}));
    assert!(c[0].arguments.is_err() && c[1].arguments.is_err());
}

#[test]
fn legacy_and_flat_forms() {
    match parse(json!({"message": {"type": "function-call", "functionCall": {"name": "bookAppointment", "parameters": "{\"a\":1}"}}})).unwrap() {
        WebhookMessage::SingleCall { tool_call, .. } => assert_eq!(tool_call.arguments.unwrap()["a"], 1),
        other => panic!("{other:?}"),
    }
    match parse(json!({"function": "bookAppointment", "parameters": {"a": 1}})).unwrap() {
        WebhookMessage::SingleCall { tool_call, call } => {
            assert_eq!(tool_call.name, "bookAppointment");
            assert_eq!(call, CallContext::default());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_types_are_accepted() {
    assert_eq!(
        parse(json!({"message": {"type": "model-output", "output": "hi", "extra": [1]}})).unwrap(),
        WebhookMessage::Other {
            kind: "model-output".into()
        }
    );
}

#[test]
fn end_of_call_report_current_placement() {
    let m = parse(json!({"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "startedAt": "2026-11-24T15:00:00.000Z", "endedAt": "2026-11-24T15:03:30.500Z", "cost": 0.1234,
        "call": {"id": "call-9", "status": "ringing", "customer": {"number": "+17025551234"}},
        "artifact": {"transcript": "AI: Hello\nUser: Hi", "recordingUrl": "https://r.example/1.wav",
            "messages": [{"role": "system", "message": "prompt"}, {"role": "bot", "message": "Hello", "secondsFromStart": 0.5},
                         {"role": "user", "message": "Hi", "time": 1}]},
        "analysis": {"summary": "Asked about prices.", "structuredData": {"interest": "whitening"}, "successEvaluation": "true"}
    }}))
    .unwrap();
    let WebhookMessage::EndOfCallReport(r) = m else {
        panic!("{m:?}")
    };
    assert_eq!(r.call.call_id.as_deref(), Some("call-9"));
    assert_eq!(r.ended_reason.as_deref(), Some("customer-ended-call"));
    assert_eq!(r.duration_seconds(), Some(210.5));
    assert_eq!(r.cost, Some(0.1234));
    assert_eq!(r.transcript.as_deref(), Some("AI: Hello\nUser: Hi"));
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.messages[0].seconds_from_start, Some(0.5));
    assert_eq!(r.recording_url.as_deref(), Some("https://r.example/1.wav"));
    assert_eq!(r.summary.as_deref(), Some("Asked about prices."));
    assert_eq!(r.structured_data.as_ref().unwrap()["interest"], "whitening");
    assert_eq!(r.success_evaluation.as_deref(), Some("true"));
}

#[test]
fn end_of_call_report_older_top_level_placement() {
    let m = parse(json!({"message": {
        "type": "end-of-call-report", "timestamp": "2026-11-24T15:05:00Z",
        "transcript": "AI: Hello", "summary": "Short call.", "recordingUrl": "https://r.example/2.wav",
        "messages": [{"role": "assistant", "content": "Hello"}], "successEvaluation": false,
        "call": {"id": "call-10", "startedAt": "2026-11-24T15:00:00Z", "endedAt": "2026-11-24T15:01:00Z", "endedReason": "assistant-ended-call"}
    }}))
    .unwrap();
    let WebhookMessage::EndOfCallReport(r) = m else {
        panic!("{m:?}")
    };
    assert_eq!(r.transcript.as_deref(), Some("AI: Hello"));
    assert_eq!(r.summary.as_deref(), Some("Short call."));
    assert_eq!(r.recording_url.as_deref(), Some("https://r.example/2.wav"));
    assert_eq!(r.messages[0].message, "Hello");
    assert_eq!(r.success_evaluation.as_deref(), Some("false"));
    assert_eq!(r.ended_reason.as_deref(), Some("assistant-ended-call"));
    assert_eq!(r.duration_seconds(), Some(60.0));
    // An empty report is still a report.
    let m = parse(json!({"message": {"type": "end-of-call-report"}})).unwrap();
    let WebhookMessage::EndOfCallReport(r) = m else {
        panic!("{m:?}")
    };
    assert_eq!((r.duration_seconds(), r.messages.len()), (None, 0));
}

#[test]
fn status_updates_requests_and_notices() {
    let m = parse(json!({"message": {"type": "status-update", "status": "ended", "endedReason": "silence-timed-out",
        "timestamp": 1795532400000_i64, "call": {"id": "c1"}}}))
    .unwrap();
    let WebhookMessage::StatusUpdate(u) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        (u.status.as_str(), u.ended_reason.as_deref()),
        ("ended", Some("silence-timed-out"))
    );
    assert!(u.at.is_some());
    assert!(matches!(
        parse(json!({"message": {"type": "assistant-request", "call": {"phoneNumberId": "pn-1"}}})).unwrap(),
        WebhookMessage::AssistantRequest { call } if call.phone_number_id.as_deref() == Some("pn-1")
    ));
    assert!(matches!(
        parse(json!({"message": {"type": "transfer-destination-request", "call": {"id": "c2"}}}))
            .unwrap(),
        WebhookMessage::TransferDestinationRequest { .. }
    ));
    for (kind, want) in [
        ("hang", NoticeKind::Hang),
        ("transcript", NoticeKind::Transcript),
        ("conversation-update", NoticeKind::ConversationUpdate),
        ("speech-update", NoticeKind::SpeechUpdate),
        ("user-interrupted", NoticeKind::UserInterrupted),
    ] {
        match parse(json!({"message": {"type": kind, "call": {"id": "c3"}}})).unwrap() {
            WebhookMessage::Notice { kind: got, call } => {
                assert_eq!(
                    (got, got.as_str(), call.call_id.as_deref()),
                    (want, kind, Some("c3"))
                );
            }
            other => panic!("{kind}: {other:?}"),
        }
    }
}

#[test]
fn malformed_bodies_are_refused() {
    assert!(matches!(
        parse_webhook(b"{not json"),
        Err(EnvelopeError::MalformedJson(_))
    ));
    assert!(matches!(
        parse_webhook(b""),
        Err(EnvelopeError::MalformedJson(_))
    ));
    assert_eq!(parse(json!([1, 2])), Err(EnvelopeError::NotAnObject));
    assert_eq!(parse(json!("x")), Err(EnvelopeError::NotAnObject));
    assert_eq!(
        parse(json!({"hello": 1})),
        Err(EnvelopeError::NoMessageOrFunction)
    );
    assert_eq!(
        parse(json!({"message": "x"})),
        Err(EnvelopeError::MessageNotAnObject)
    );
    assert_eq!(
        parse(json!({"message": {}})),
        Err(EnvelopeError::MissingType)
    );
    assert_eq!(
        parse(json!({"message": {"type": "function-call"}})),
        Err(EnvelopeError::MissingFunctionCall)
    );
    assert_eq!(
        parse(json!({"function": 3})),
        Err(EnvelopeError::BadFunctionName)
    );
    assert_eq!(
        parse(json!({"function": " "})),
        Err(EnvelopeError::BadFunctionName)
    );
}

#[test]
fn responses_have_vapi_shapes() {
    let a = ToolCall {
        id: Some("tc1".into()),
        name: "bookAppointment".into(),
        arguments: Ok(Map::new()),
    };
    let b = ToolCall {
        id: Some("tc2".into()),
        name: "x".into(),
        arguments: Ok(Map::new()),
    };
    let v = tool_calls_response(&[
        (&a, ToolOutcome::Answer("Booked.\nSee you".into())),
        (&b, ToolOutcome::refusal("No.")),
    ]);
    assert_eq!(
        v,
        json!({"results": [
            {"name": "bookAppointment", "toolCallId": "tc1", "result": "Booked. See you"},
            {"name": "x", "toolCallId": "tc2", "error": "No."}
        ]})
    );
    assert_eq!(
        single_call_response(&ToolOutcome::refusal("e")),
        json!({"error": "e"})
    );
    assert_eq!(
        single_call_response(&ToolOutcome::Answer("r".into())),
        json!({"result": "r"})
    );
}

/// Whatever the shape, the ids read before authentication are the ones the call is
/// served under: a body cannot be authenticated as one business and served as another.
#[test]
fn the_routes_read_before_authentication_are_the_calls() {
    let shapes = [
        json!({"message": {"type": "tool-calls", "call": {"assistantId": "a-1", "phoneNumberId": "p-1"}}}),
        json!({"message": {"type": "tool-calls", "call": {"assistantId": 7}, "phoneNumber": {"id": "p-2"}}}),
        json!({"message": {"type": "status-update", "call": "not-an-object", "phoneNumber": {"id": "p-3"}}}),
        json!({"message": {"type": "end-of-call-report", "call": {"phoneNumberId": ["x"]}, "phoneNumber": "p"}}),
        json!({"message": {"type": "assistant-request", "phoneNumber": {"id": "p-4"}}}),
        json!({"function": "bookAppointment", "parameters": {}, "call": {"assistantId": "a-9"}}),
    ];
    for body in shapes {
        let (assistant, phone) = call_routes(&body);
        let (assistant, phone) = (assistant.map(str::to_string), phone.map(str::to_string));
        let call = match read_webhook(body.clone()).unwrap() {
            WebhookMessage::ToolCalls { call, .. } | WebhookMessage::SingleCall { call, .. } => {
                call
            }
            WebhookMessage::StatusUpdate(u) => u.call,
            WebhookMessage::EndOfCallReport(r) => r.call,
            WebhookMessage::AssistantRequest { call } => call,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            (call.assistant_id, call.phone_number_id),
            (assistant, phone),
            "{body}"
        );
    }
}

/// cargo fuzz found these: a call "started" near chrono's limits made "tomorrow" overflow.
/// Such times are ignored, so the call is read with our clock's today.
#[test]
fn times_no_call_could_have_are_ignored() {
    for at in [
        json!(8_210_266_876_799_999_i64),
        json!(-8_334_601_228_800_000_i64),
        json!("9999-12-31T23:59:59Z"),
        json!("0001-01-01T00:00:00Z"),
    ] {
        assert_eq!(timestamp_of(&at), None, "{at}");
    }
    assert!(timestamp_of(&json!(1_795_532_280_000_i64)).is_some());
    assert!(timestamp_of(&json!("2026-11-24T15:00:00Z")).is_some());
    let body = br#"{"message":{"type":"tool-calls","timestamp":8210266876799999,"call":{"id":"c","startedAt":-8334601228800000},"toolCallList":[]}}"#;
    let WebhookMessage::ToolCalls { call, .. } = parse_webhook(body).unwrap() else {
        panic!("not tool-calls");
    };
    assert_eq!(call.started_at, None);
}

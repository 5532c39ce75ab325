//! Vapi server messages: the shapes that arrive and the answers that go back (see VAPI.md).
//! Lenient by design: unknown fields and message types are accepted, arguments may be an
//! object or a JSON string, and the tool-call list has four possible placements.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::{Map, Value, json};
use thiserror::Error;

/// Why a body is not a webhook we can read (→ HTTP 400).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("the body has neither \"message\" nor \"function\"")]
    NoMessageOrFunction,
    #[error("\"message\" must be an object")]
    MessageNotAnObject,
    #[error("\"message.type\" is missing or not a string")]
    MissingType,
    #[error("\"message.functionCall\" is missing or has no name")]
    MissingFunctionCall,
    #[error("\"function\" must be the name of a tool")]
    BadFunctionName,
}

/// What the call was when the message was sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallContext {
    pub call_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub customer_number: Option<String>,
    pub assistant_id: Option<String>,
    pub phone_number_id: Option<String>,
}

/// One tool invocation. `arguments` is `Err` when they were a string that is not a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    pub arguments: Result<Map<String, Value>, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WebhookMessage {
    /// `tool-calls`: one result per call, in order, under `results`.
    ToolCalls {
        call: CallContext,
        tool_calls: Vec<ToolCall>,
    },
    /// Legacy `function-call`, or the original system's flat form: answered `{"result": ...}`.
    SingleCall {
        call: CallContext,
        tool_call: ToolCall,
    },
    /// The call is over: transcript, analysis, cost. Answered `{}`.
    EndOfCallReport(Box<EndOfCallReport>),
    /// The call's status changed. Answered `{}`.
    StatusUpdate(StatusUpdate),
    /// An inbound call wants its assistant (answer within 7.5 s).
    AssistantRequest { call: CallContext },
    /// The `transferCall` tool has no destination: we name one.
    TransferDestinationRequest { call: CallContext },
    /// Live notices that need no answer: answered `{}` at once.
    Notice { kind: NoticeKind, call: CallContext },
    /// A type this version does not know: answered `{}` (and logged), never refused.
    Other { kind: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Hang,
    Transcript,
    ConversationUpdate,
    SpeechUpdate,
    UserInterrupted,
}

impl NoticeKind {
    fn from_type(kind: &str) -> Option<Self> {
        Some(match kind {
            "hang" => Self::Hang,
            "transcript" => Self::Transcript,
            "conversation-update" => Self::ConversationUpdate,
            "speech-update" => Self::SpeechUpdate,
            "user-interrupted" => Self::UserInterrupted,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hang => "hang",
            Self::Transcript => "transcript",
            Self::ConversationUpdate => "conversation-update",
            Self::SpeechUpdate => "speech-update",
            Self::UserInterrupted => "user-interrupted",
        }
    }
}

/// One line of the conversation, as the report lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptLine {
    pub role: String,
    pub message: String,
    pub seconds_from_start: Option<f64>,
}

/// `end-of-call-report`, read from the current placement (`artifact`, `analysis`) with the
/// older top-level fields as fallback.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndOfCallReport {
    pub call: CallContext,
    pub ended_reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub cost: Option<f64>,
    pub transcript: Option<String>,
    pub messages: Vec<TranscriptLine>,
    pub recording_url: Option<String>,
    pub summary: Option<String>,
    pub structured_data: Option<Map<String, Value>>,
    /// A string in Vapi's payloads (`"true"`, `"8"`, `"Pass"`): kept as given.
    pub success_evaluation: Option<String>,
}

impl EndOfCallReport {
    /// No duration field is guaranteed: computed from the start and end.
    pub fn duration_seconds(&self) -> Option<f64> {
        let (start, end) = (self.started_at?, self.ended_at?);
        let ms = (end - start).num_milliseconds();
        (ms >= 0).then(|| ms as f64 / 1000.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub call: CallContext,
    /// `scheduled | queued | ringing | in-progress | forwarding | ended | ...`, kept as given.
    pub status: String,
    pub ended_reason: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

/// The spoken outcome of one tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOutcome {
    Result(String),
    Error(String),
}

impl ToolOutcome {
    fn text(&self) -> &str {
        match self {
            Self::Result(t) | Self::Error(t) => t,
        }
    }

    /// `{"result": ...}` or `{"error": ...}`, as remembered for a repeated tool call.
    pub fn to_json(&self) -> String {
        match self {
            Self::Result(t) => serde_json::json!({ "result": t }),
            Self::Error(t) => serde_json::json!({ "error": t }),
        }
        .to_string()
    }

    pub fn from_json(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        match (value.get("result"), value.get("error")) {
            (Some(Value::String(t)), _) => Some(Self::Result(t.clone())),
            (_, Some(Value::String(t))) => Some(Self::Error(t.clone())),
            _ => None,
        }
    }
}

/// Parses a webhook body.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookMessage, EnvelopeError> {
    read_webhook(parse_json(body)?)
}

/// The body as JSON, read for nothing else yet (see `call_routes`).
pub fn parse_json(body: &[u8]) -> Result<Value, EnvelopeError> {
    serde_json::from_slice(body).map_err(|e| EnvelopeError::MalformedJson(e.to_string()))
}

/// The assistant and phone number ids a call came through: all that is read of a body before
/// it is authenticated, to find the business whose secret must sign it. The same code finds
/// them for `CallContext`, so the business authenticated is the business served.
pub fn call_routes(body: &Value) -> (Option<&str>, Option<&str>) {
    body.get("message")
        .and_then(Value::as_object)
        .map_or((None, None), route_ids)
}

fn route_ids(message: &Map<String, Value>) -> (Option<&str>, Option<&str>) {
    let call = message.get("call").and_then(Value::as_object);
    let assistant = call
        .and_then(|c| c.get("assistantId"))
        .and_then(Value::as_str);
    let phone_number = call
        .and_then(|c| c.get("phoneNumberId"))
        .and_then(Value::as_str)
        .or_else(|| {
            message
                .get("phoneNumber")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
        });
    (assistant, phone_number)
}

/// What a webhook asks, from its JSON (`parse_json`).
pub fn read_webhook(value: Value) -> Result<WebhookMessage, EnvelopeError> {
    let Value::Object(mut root) = value else {
        return Err(EnvelopeError::NotAnObject);
    };
    if let Some(message) = root.remove("message") {
        let Value::Object(message) = message else {
            return Err(EnvelopeError::MessageNotAnObject);
        };
        return parse_message(message);
    }
    if let Some(function) = root.remove("function") {
        let Value::String(name) = function else {
            return Err(EnvelopeError::BadFunctionName);
        };
        if name.trim().is_empty() {
            return Err(EnvelopeError::BadFunctionName);
        }
        let arguments = arguments_from(
            root.remove("parameters")
                .or_else(|| root.remove("arguments")),
        );
        return Ok(WebhookMessage::SingleCall {
            call: CallContext::default(),
            tool_call: ToolCall {
                id: None,
                name,
                arguments,
            },
        });
    }
    Err(EnvelopeError::NoMessageOrFunction)
}

fn parse_message(mut message: Map<String, Value>) -> Result<WebhookMessage, EnvelopeError> {
    let kind = match message.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => return Err(EnvelopeError::MissingType),
    };
    match kind.as_str() {
        "tool-calls" => {
            let call = call_context(&message);
            let tool_calls = tool_call_list(&mut message);
            Ok(WebhookMessage::ToolCalls { call, tool_calls })
        }
        "function-call" => {
            let call = call_context(&message);
            let Some(Value::Object(mut fc)) = message.remove("functionCall") else {
                return Err(EnvelopeError::MissingFunctionCall);
            };
            let name = match fc.remove("name") {
                Some(Value::String(n)) if !n.trim().is_empty() => n,
                _ => return Err(EnvelopeError::MissingFunctionCall),
            };
            let arguments =
                arguments_from(fc.remove("parameters").or_else(|| fc.remove("arguments")));
            let id = fc.remove("id").and_then(string_of);
            Ok(WebhookMessage::SingleCall {
                call,
                tool_call: ToolCall {
                    id,
                    name,
                    arguments,
                },
            })
        }
        "end-of-call-report" => Ok(WebhookMessage::EndOfCallReport(Box::new(
            end_of_call_report(&message),
        ))),
        "status-update" => Ok(WebhookMessage::StatusUpdate(StatusUpdate {
            call: call_context(&message),
            status: text(message.get("status")).unwrap_or_else(|| "unknown".into()),
            ended_reason: text(message.get("endedReason")),
            at: message.get("timestamp").and_then(timestamp_of),
        })),
        "assistant-request" => Ok(WebhookMessage::AssistantRequest {
            call: call_context(&message),
        }),
        "transfer-destination-request" => Ok(WebhookMessage::TransferDestinationRequest {
            call: call_context(&message),
        }),
        other => match NoticeKind::from_type(other) {
            Some(kind) => Ok(WebhookMessage::Notice {
                kind,
                call: call_context(&message),
            }),
            None => Ok(WebhookMessage::Other { kind }),
        },
    }
}

/// A non-empty string (numbers and booleans as text: `successEvaluation` may be either).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The first of `paths` (each a list of keys from `message`) that holds a value.
fn first<'a>(message: &'a Map<String, Value>, paths: &[&[&str]]) -> Option<&'a Value> {
    paths.iter().find_map(|path| {
        let (head, rest) = path.split_first()?;
        let mut v = message.get(*head)?;
        for key in rest {
            v = v.get(*key)?;
        }
        (!v.is_null()).then_some(v)
    })
}

fn end_of_call_report(message: &Map<String, Value>) -> EndOfCallReport {
    let call = call_context(message);
    let messages = first(message, &[&["artifact", "messages"], &["messages"]])
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(|line| {
                    let role = text(line.get("role"))?;
                    // System prompts are configuration, not conversation.
                    if role == "system" {
                        return None;
                    }
                    let said = text(line.get("message")).or_else(|| text(line.get("content")))?;
                    Some(TranscriptLine {
                        role,
                        message: said,
                        seconds_from_start: line.get("secondsFromStart").and_then(Value::as_f64),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    EndOfCallReport {
        ended_reason: text(first(
            message,
            &[&["endedReason"], &["call", "endedReason"]],
        )),
        started_at: first(message, &[&["startedAt"], &["call", "startedAt"]])
            .and_then(timestamp_of),
        ended_at: first(message, &[&["endedAt"], &["call", "endedAt"]]).and_then(timestamp_of),
        cost: first(message, &[&["cost"], &["call", "cost"]]).and_then(Value::as_f64),
        transcript: text(first(
            message,
            &[&["artifact", "transcript"], &["transcript"]],
        )),
        messages,
        recording_url: text(first(
            message,
            &[
                &["artifact", "recordingUrl"],
                &["artifact", "recording", "url"],
                &["recordingUrl"],
            ],
        )),
        summary: text(first(message, &[&["analysis", "summary"], &["summary"]])),
        structured_data: first(
            message,
            &[&["analysis", "structuredData"], &["structuredData"]],
        )
        .and_then(Value::as_object)
        .cloned(),
        success_evaluation: text(first(
            message,
            &[&["analysis", "successEvaluation"], &["successEvaluation"]],
        )),
        call,
    }
}

fn string_of(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn arguments_from(value: Option<Value>) -> Result<Map<String, Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err("the tool arguments are not a JSON object".to_string()),
        },
        Some(_) => Err("the tool arguments are not a JSON object".to_string()),
    }
}

/// `toolCallList`, then `toolCalls`, then `toolWithToolCallList[].toolCall`.
fn tool_call_list(message: &mut Map<String, Value>) -> Vec<ToolCall> {
    for key in ["toolCallList", "toolCalls"] {
        if let Some(Value::Array(items)) = message.remove(key)
            && !items.is_empty()
        {
            return items.into_iter().filter_map(tool_call_entry).collect();
        }
    }
    if let Some(Value::Array(items)) = message.remove("toolWithToolCallList") {
        return items
            .into_iter()
            .filter_map(|item| match item {
                Value::Object(mut o) => o.remove("toolCall"),
                _ => None,
            })
            .filter_map(tool_call_entry)
            .collect();
    }
    Vec::new()
}

/// `{id, type, function: {name, arguments}}` or the flattened `{id, name, parameters}`.
fn tool_call_entry(entry: Value) -> Option<ToolCall> {
    let Value::Object(mut entry) = entry else {
        return None;
    };
    let id = entry.remove("id").and_then(string_of);
    let (name, arguments) = match entry.remove("function") {
        Some(Value::Object(mut f)) => (
            f.remove("name"),
            f.remove("arguments").or_else(|| f.remove("parameters")),
        ),
        _ => (
            entry.remove("name"),
            entry
                .remove("parameters")
                .or_else(|| entry.remove("arguments")),
        ),
    };
    let name = match name {
        Some(Value::String(n)) => n,
        _ => String::new(),
    };
    Some(ToolCall {
        id,
        name,
        arguments: arguments_from(arguments),
    })
}

fn call_context(message: &Map<String, Value>) -> CallContext {
    let call = message.get("call").and_then(Value::as_object);
    let get = |obj: Option<&Map<String, Value>>, key: &str| {
        obj.and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let customer_number = call
        .and_then(|c| c.get("customer"))
        .or_else(|| message.get("customer"))
        .and_then(|c| c.get("number"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let (assistant_id, phone_number_id) = route_ids(message);
    let started_at = ["startedAt", "createdAt"]
        .iter()
        .find_map(|k| call.and_then(|c| c.get(*k)).and_then(timestamp_of))
        .or_else(|| message.get("timestamp").and_then(timestamp_of));
    CallContext {
        call_id: get(call, "id"),
        started_at,
        customer_number,
        assistant_id: assistant_id.map(str::to_string),
        phone_number_id: phone_number_id.map(str::to_string),
    }
}

/// ISO 8601 string or epoch milliseconds.
/// Times outside 2000-2099 are not a call's and are ignored (the caller's "today" then comes
/// from our clock): date arithmetic near chrono's limits would overflow (found by cargo fuzz).
pub fn timestamp_of(v: &Value) -> Option<DateTime<Utc>> {
    let at = match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        _ => None,
    }?;
    (2000..2100).contains(&at.year()).then_some(at)
}

/// Keeps answers to one line: they are spoken, or read by the model.
fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `{"results": [{"name", "toolCallId", "result" | "error"}]}` in call order.
pub fn tool_calls_response(answers: &[(&ToolCall, ToolOutcome)]) -> Value {
    let results: Vec<Value> = answers
        .iter()
        .map(|(call, outcome)| {
            let mut entry = Map::new();
            entry.insert("name".into(), Value::String(call.name.clone()));
            entry.insert(
                "toolCallId".into(),
                Value::String(call.id.clone().unwrap_or_default()),
            );
            let key = match outcome {
                ToolOutcome::Result(_) => "result",
                ToolOutcome::Error(_) => "error",
            };
            entry.insert(key.into(), Value::String(single_line(outcome.text())));
            Value::Object(entry)
        })
        .collect();
    json!({ "results": results })
}

/// `{"result": ...}` or `{"error": ...}` for the legacy and flat forms.
pub fn single_call_response(outcome: &ToolOutcome) -> Value {
    match outcome {
        ToolOutcome::Result(t) => json!({ "result": single_line(t) }),
        ToolOutcome::Error(t) => json!({ "error": single_line(t) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (call, c) = tool_calls(
            json!({"message": {"type": "tool-calls", "timestamp": "2026-11-24T15:00:00Z"}}),
        );
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
            parse(json!({"message": {"type": "model-output", "output": "hi", "extra": [1]}}))
                .unwrap(),
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
            parse(
                json!({"message": {"type": "transfer-destination-request", "call": {"id": "c2"}}})
            )
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
            (&a, ToolOutcome::Result("Booked.\nSee you".into())),
            (&b, ToolOutcome::Error("No.".into())),
        ]);
        assert_eq!(
            v,
            json!({"results": [
                {"name": "bookAppointment", "toolCallId": "tc1", "result": "Booked. See you"},
                {"name": "x", "toolCallId": "tc2", "error": "No."}
            ]})
        );
        assert_eq!(
            single_call_response(&ToolOutcome::Error("e".into())),
            json!({"error": "e"})
        );
        assert_eq!(
            single_call_response(&ToolOutcome::Result("r".into())),
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
                WebhookMessage::ToolCalls { call, .. }
                | WebhookMessage::SingleCall { call, .. } => call,
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
}

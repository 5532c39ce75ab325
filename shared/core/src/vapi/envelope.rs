//! Vapi server messages: the shapes that arrive and the answers that go back (see VAPI.md).
//! Lenient by design: unknown fields and message types are accepted, arguments may be an
//! object or a JSON string, and the tool-call list has four possible placements.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::{Map, Value};
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
    /// `call.type`: `inboundPhoneCall`, `outboundPhoneCall`, `webCall`, …
    pub call_type: Option<String>,
}

impl CallContext {
    /// The number the phone network says the caller is calling from. A web or other call's
    /// `customer.number` is whatever its client sent, so it names no one; a message without a
    /// call type (older forms) counts as a phone call.
    pub fn calling_number(&self) -> Option<&str> {
        match self.call_type.as_deref() {
            None | Some("inboundPhoneCall" | "outboundPhoneCall") => {
                self.customer_number.as_deref()
            }
            Some(_) => None,
        }
    }
}

/// One tool invocation. `arguments` is `Err` when they were a string that is not a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    pub arguments: Result<Map<String, Value>, UnreadableArguments>,
}

/// A tool call's arguments that are neither an object nor a string holding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the tool arguments are not a JSON object")]
pub struct UnreadableArguments;

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

fn arguments_from(value: Option<Value>) -> Result<Map<String, Value>, UnreadableArguments> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(UnreadableArguments),
        },
        Some(_) => Err(UnreadableArguments),
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
        call_type: get(call, "type"),
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

#[cfg(test)]
mod tests;

//! What goes back to Vapi for a tool call: the outcome, typed, and the JSON shapes of the
//! answers (`results` for `tool-calls`, a single `result`/`error` for the older forms).

use serde_json::{Map, Value, json};

use crate::values::speech::Refusal;
use crate::vapi::envelope::ToolCall;

/// The outcome of one tool call, as the caller hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOutcome {
    /// Done as asked (Vapi's `result`).
    Answer(String),
    /// Cannot be done as asked, with what to do next (Vapi's `error`). An answer all the same:
    /// a repeat of the tool call hears it again.
    Refusal(Refusal),
    /// A system failed: an apology (Vapi's `error`). Never remembered, so a retry runs the
    /// tool again.
    SystemFailure(String),
}

impl From<Refusal> for ToolOutcome {
    fn from(refusal: Refusal) -> Self {
        Self::Refusal(refusal)
    }
}

impl ToolOutcome {
    pub fn refusal(sentence: impl Into<String>) -> Self {
        Self::Refusal(Refusal::new(sentence))
    }

    /// What the caller hears.
    pub fn text(&self) -> &str {
        match self {
            Self::Answer(t) | Self::SystemFailure(t) => t,
            Self::Refusal(r) => r.as_str(),
        }
    }

    /// Vapi's key for it: `result` for an answer, `error` otherwise.
    fn key(&self) -> &'static str {
        match self {
            Self::Answer(_) => "result",
            Self::Refusal(_) | Self::SystemFailure(_) => "error",
        }
    }

    /// `{"result": ...}` or `{"error": ...}`, as remembered for a repeated tool call; `None` for
    /// a system failure, which is never remembered.
    pub fn remembered(&self) -> Option<String> {
        match self {
            Self::SystemFailure(_) => None,
            other => Some(json!({ other.key(): other.text() }).to_string()),
        }
    }

    /// A remembered outcome read back.
    pub fn from_remembered(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        match (value.get("result"), value.get("error")) {
            (Some(Value::String(t)), _) => Some(Self::Answer(t.clone())),
            (_, Some(Value::String(t))) => Some(Self::refusal(t.clone())),
            _ => None,
        }
    }
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
            entry.insert(
                outcome.key().into(),
                Value::String(single_line(outcome.text())),
            );
            Value::Object(entry)
        })
        .collect();
    json!({ "results": results })
}

/// `{"result": ...}` or `{"error": ...}` for the legacy and flat forms.
pub fn single_call_response(outcome: &ToolOutcome) -> Value {
    json!({ outcome.key(): single_line(outcome.text()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_and_a_system_failure_are_both_spoken_as_errors_but_only_answers_are_remembered() {
        let refused = ToolOutcome::refusal("We're closed on Sundays.");
        let failed = ToolOutcome::SystemFailure("I can't reach the calendar.".into());
        let answered = ToolOutcome::Answer("You're booked.".into());
        assert_eq!(
            single_call_response(&failed),
            json!({"error": "I can't reach the calendar."})
        );
        assert_eq!(failed.remembered(), None);
        for outcome in [refused, answered] {
            let kept = outcome.remembered().unwrap();
            assert_eq!(ToolOutcome::from_remembered(&kept), Some(outcome));
        }
        assert_eq!(ToolOutcome::from_remembered("{\"other\": 1}"), None);
    }
}

//! Tool calls: each answered once (a repeat of the same call and tool-call id hears the first
//! answer), dispatched by the tool it names, and logged without personal data.

use callbook_core::{
    Business, CallContext, Clock, Measurement, OnceError, OncePolicy, Ran, Record, Tool, ToolCall,
    ToolOutcome, Waiting, redact_text, run_once, single_call_response, stable_id,
    tool_calls_response,
};
use chrono::Duration;
use serde_json::Value;
use tracing::field::Empty;
use tracing::{info, warn};

use crate::spoken::{
    ID_REUSED, SystemProblem, TOO_MANY_TOOL_CALLS, UNREADABLE_ARGUMENTS, unknown_tool,
};
use crate::tools::ToolRequest;
use crate::{Webhook, WebhookPorts};

/// A tool call's answer is remembered for an hour; its claim may run 30 s; a repeat that
/// finds the first still running waits up to 2 s for its answer before saying so. The answer
/// is written once: the caller is waiting, and a repeat meets the tools' own duplicate checks.
const ANSWERS: OncePolicy = OncePolicy {
    claim_for: Duration::seconds(30),
    keep_for: Duration::hours(1),
    waiting: Some(Waiting {
        up_to: std::time::Duration::from_secs(2),
        every: std::time::Duration::from_millis(100),
    }),
    record_attempts: 1,
};

/// At most this many tool calls of one message are answered; the rest hear that they should
/// ask again. A body of a thousand calls would otherwise run past Lambda's and Vapi's timeouts.
pub const MAX_TOOL_CALLS: usize = 10;

/// Every answer of a message is given within this: the function times out at 15 s and Vapi
/// waits up to 20 s. A tool still running at the deadline is dropped and the caller hears an
/// apology: what it did so far is what a crash would leave, which its repeat finds (its
/// reservation, its claim on the answer).
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// An outcome a repeat of the tool call hears again: an answer or a refusal, kept as Vapi's
/// answer JSON. A system failure has none, so it cannot be remembered.
struct Remembered {
    outcome: ToolOutcome,
    json: String,
}

impl Record for Remembered {
    fn record(&self) -> String {
        self.json.clone()
    }
}

impl<P: WebhookPorts> Webhook<P> {
    /// `tool-calls`: one result per call, in order.
    pub(crate) async fn answer_tool_calls(
        &self,
        business: &Business,
        call: &CallContext,
        tool_calls: &[ToolCall],
        measured: &mut Vec<Measurement>,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let mut answers = Vec::with_capacity(tool_calls.len());
        for (i, tool_call) in tool_calls.iter().enumerate() {
            // Only the calls run are measured: the rest are refused unrun (logged below), and
            // a body of thousands must not become thousands of values.
            let outcome = if i < MAX_TOOL_CALLS {
                let started = std::time::Instant::now();
                let outcome = self
                    .answer_in_time(business, call, tool_call, deadline)
                    .await;
                measured.extend(crate::measured::tool_call(
                    &tool_call.name,
                    &outcome,
                    started.elapsed(),
                ));
                outcome
            } else {
                ToolOutcome::refusal(TOO_MANY_TOOL_CALLS)
            };
            answers.push((tool_call, outcome));
        }
        if tool_calls.len() > MAX_TOOL_CALLS {
            warn!(
                calls = tool_calls.len(),
                answered = MAX_TOOL_CALLS,
                "too many tool calls in one message"
            );
        }
        tool_calls_response(&answers)
    }

    /// The legacy `function-call` and the original flat form: one call, one answer.
    pub(crate) async fn answer_single_call(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
        measured: &mut Vec<Measurement>,
    ) -> Value {
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let outcome = self
            .answer_in_time(business, call, tool_call, deadline)
            .await;
        measured.extend(crate::measured::tool_call(
            &tool_call.name,
            &outcome,
            started.elapsed(),
        ));
        single_call_response(&outcome)
    }

    /// A tool call answered before `deadline`, or an apology. Its span names it on every line
    /// it logs, with the booking it is about once a tool knows it (`tools::about_booking`).
    #[tracing::instrument(name = "tool_call", skip_all, fields(
        tool_call_id = logged_id(tool_call.id.as_deref()),
        tool = crate::measured::tool_name(&tool_call.name),
        reference = Empty,
    ))]
    async fn answer_in_time(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
        deadline: tokio::time::Instant,
    ) -> ToolOutcome {
        let answer = self.answer_tool(business, call, tool_call);
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(outcome) => outcome,
            Err(_) => {
                warn!(tool = %tool_call.name, "tool call not answered in time");
                SystemProblem::OutOfTime.into()
            }
        }
    }

    /// A tool call answered once: the same call id and tool-call id again (Vapi or a proxy
    /// delivering it twice) gets the stored answer; the same ids with other arguments are
    /// refused; a repeat while the first is still running waits for its answer. Calls without
    /// an id, and system failures, are not remembered.
    async fn answer_tool(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
    ) -> ToolOutcome {
        let Some(id) = tool_call.id.as_deref().filter(|id| !id.is_empty()) else {
            return self.run_tool(business, call, tool_call).await;
        };
        let key = format!(
            "tool#{}#{}#{}",
            business.id,
            call.call_id.as_deref().unwrap_or_default(),
            id
        );
        // The tool and its arguments; not timestamps or the call's status.
        let arguments = match &tool_call.arguments {
            Ok(map) => serde_json::to_string(map).unwrap_or_default(),
            Err(problem) => problem.to_string(),
        };
        let hash = stable_id(format!("{}|{arguments}", tool_call.name).as_bytes());
        let ran = run_once(&self.answers, &self.clock, ANSWERS, &key, &hash, || async {
            let outcome = self.run_tool(business, call, tool_call).await;
            match outcome.remembered() {
                Some(json) => Ok(Remembered { outcome, json }),
                None => Err(outcome),
            }
        })
        .await;
        match ran {
            Ok(Ran::Now(Remembered { outcome, .. })) => outcome,
            Ok(Ran::Unrecorded(Remembered { outcome, .. }, e)) => {
                // The answer stands; a repeat runs again and meets the tools' own duplicate
                // checks (a booking's reference, the calendar's claims).
                warn!(error = %e, "tool answer not remembered");
                outcome
            }
            Ok(Ran::Before(record)) => {
                info!(tool = %tool_call.name, "repeated tool call: the first answer is given again");
                ToolOutcome::from_remembered(&record)
                    .unwrap_or_else(|| SystemProblem::Booking.into())
            }
            Err(OnceError::Work(failure)) => failure,
            Err(OnceError::Mismatch) => {
                warn!(tool = %tool_call.name, "tool-call id reused with other arguments");
                ToolOutcome::refusal(ID_REUSED)
            }
            Err(OnceError::InProgress) => SystemProblem::StillWorking.into(),
            Err(OnceError::Store(e)) => {
                // Without the store the tool still runs: its own checks prevent doubles.
                warn!(error = %e, "idempotency store unavailable; answering without it");
                self.run_tool(business, call, tool_call).await
            }
        }
    }

    async fn run_tool(
        &self,
        business: &Business,
        call: &CallContext,
        tool_call: &ToolCall,
    ) -> ToolOutcome {
        let outcome = match (&tool_call.arguments, Tool::named(&tool_call.name)) {
            (Err(problem), _) => {
                warn!(tool = %tool_call.name, %problem, "tool call rejected");
                ToolOutcome::refusal(UNREADABLE_ARGUMENTS)
            }
            (Ok(_), None) => ToolOutcome::refusal(unknown_tool(&tool_call.name)),
            (Ok(args), Some(tool)) => {
                let request = ToolRequest {
                    business,
                    call,
                    tool_call,
                    args,
                    now: self.clock.now(),
                };
                self.run(tool, &request).await
            }
        };
        match &outcome {
            ToolOutcome::Answer(_) => {
                info!("tool call answered")
            }
            refused => {
                info!(refusal = %redact_text(refused.text()), "tool call refused")
            }
        }
        outcome
    }
}

/// A tool call id as the logs show it: only a well-formed one (the request's claim).
fn logged_id(id: Option<&str>) -> Option<&str> {
    id.map(|id| {
        if callbook_core::is_route_id(id) {
            id
        } else {
            "<malformed>"
        }
    })
}

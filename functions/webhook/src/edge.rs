//! The HTTP edge: routes, and every outcome made into a response (JSON, with its status).

use callbook_core::{
    Business, Measurement, MetricsSink, WebhookMessage, is_route_id, read_webhook,
};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use tracing::field::Empty;
use tracing::{Span, warn};

use crate::gate::{Admitted, Rejection};
use crate::measured::{self, FUNCTION, REJECTED};
use crate::unrouted::{self, UnroutedCalls};
use crate::{WEBHOOK_PATH, Webhook, WebhookPorts};

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn client_error(status: StatusCode, what: impl std::fmt::Display) -> Response<Body> {
    json_response(status, &json!({ "error": what.to_string() }))
}

impl<P: WebhookPorts> Webhook<P> {
    /// A request, answered; its measurements emitted once at the end.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let mut measured: Vec<Measurement> = self.cold_start.measure().into_iter().collect();
        let response = self.route(request, &mut measured).await;
        self.metrics.emit(FUNCTION, &measured);
        response
    }

    async fn route(&self, request: Request, measured: &mut Vec<Measurement>) -> Response<Body> {
        let path = request.uri().path().trim_end_matches('/');
        match (request.method(), path) {
            (&Method::POST, WEBHOOK_PATH) => {
                let started = std::time::Instant::now();
                let (response, message_type) = self.vapi_webhook(&request, measured).await;
                measured.push(measured::request_latency(message_type, started.elapsed()));
                response
            }
            // `/monitoring/*` is the monitoring function's (API Gateway routes it there).
            (_, WEBHOOK_PATH) => client_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            ),
            _ => client_error(
                StatusCode::NOT_FOUND,
                format!("no route for {} {path}", request.method()),
            ),
        }
    }

    /// A Vapi server message: through the gate, then answered by its kind; with its
    /// `MessageType`. Its span names the business once the gate has found it, and the call
    /// once the message is read, so every later line carries them.
    #[tracing::instrument(name = "request", skip_all, fields(business = Empty, call_id = Empty))]
    async fn vapi_webhook(
        &self,
        request: &Request,
        measured: &mut Vec<Measurement>,
    ) -> (Response<Body>, &'static str) {
        let refused = |rejection: Rejection, measured: &mut Vec<Measurement>| {
            measured.push(measured::rejected(&rejection));
            (rejection.response(), REJECTED)
        };
        let Admitted {
            body,
            business,
            unrouted,
        } = match self.admit(request).await {
            Ok(admitted) => admitted,
            Err(rejection) => return refused(rejection, measured),
        };
        let span = Span::current();
        span.record("business", business.id.as_str());
        if unrouted {
            measured.push(measured::unrouted());
        }
        let message = match body.and_then(read_webhook) {
            Ok(message) => message,
            Err(e) => {
                warn!(reason = %e, "webhook rejected: unreadable body");
                return refused(Rejection::Unreadable(e), measured);
            }
        };
        if let Some(call_id) = call_id(&message) {
            span.record("call_id", call_id);
        }
        let message_type = measured::message_type(&message);
        if unrouted && self.unrouted_calls == UnroutedCalls::Refuse {
            let refusal = unrouted::refusal(&message);
            return (json_response(StatusCode::OK, &refusal), message_type);
        }
        let response = self.answer(&business, message, measured).await;
        (response, message_type)
    }

    async fn answer(
        &self,
        business: &Business,
        message: WebhookMessage,
        measured: &mut Vec<Measurement>,
    ) -> Response<Body> {
        let answer = match message {
            WebhookMessage::ToolCalls { call, tool_calls } => {
                self.answer_tool_calls(business, &call, &tool_calls, measured)
                    .await
            }
            WebhookMessage::SingleCall { call, tool_call } => {
                self.answer_single_call(business, &call, &tool_call, measured)
                    .await
            }
            WebhookMessage::AssistantRequest { call } => self.assistant_request(business, &call),
            WebhookMessage::TransferDestinationRequest { call } => {
                self.transfer_destination(business, &call)
            }
            WebhookMessage::EndOfCallReport(report) => {
                match self.end_of_call_report(business, &report).await {
                    Ok(answer) => answer,
                    Err(refused) => return refused.response(),
                }
            }
            WebhookMessage::StatusUpdate(update) => {
                match self.status_update(business, &update).await {
                    Ok(answer) => answer,
                    Err(refused) => return refused.response(),
                }
            }
            WebhookMessage::Notice { .. } => json!({}),
            WebhookMessage::Other { kind } => {
                tracing::info!(message_type = %kind, "unknown message type acknowledged");
                json!({})
            }
        };
        json_response(StatusCode::OK, &answer)
    }
}

/// The message's call id, for its log lines: Vapi's ids are UUIDs; another form is not
/// logged as it came (it could be anything the sender put there).
fn call_id(message: &WebhookMessage) -> Option<&str> {
    let call = match message {
        WebhookMessage::ToolCalls { call, .. }
        | WebhookMessage::SingleCall { call, .. }
        | WebhookMessage::AssistantRequest { call }
        | WebhookMessage::TransferDestinationRequest { call }
        | WebhookMessage::Notice { call, .. } => call,
        WebhookMessage::EndOfCallReport(report) => &report.call,
        WebhookMessage::StatusUpdate(update) => &update.call,
        WebhookMessage::Other { .. } => return None,
    };
    match call.call_id.as_deref()? {
        id if is_route_id(id) => Some(id),
        _ => Some("<malformed>"),
    }
}

//! The HTTP edge: routes, and every outcome made into a response (JSON, with its status).

use callbook_core::{WebhookMessage, read_webhook};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use tracing::warn;

use crate::gate::Rejection;
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
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().trim_end_matches('/');
        match (request.method(), path) {
            (&Method::POST, WEBHOOK_PATH) => self.vapi_webhook(&request).await,
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

    /// A Vapi server message: through the gate, then answered by its kind.
    async fn vapi_webhook(&self, request: &Request) -> Response<Body> {
        let admitted = match self.admit(request).await {
            Ok(admitted) => admitted,
            Err(rejection) => return rejection.response(),
        };
        let message = match admitted.body.and_then(read_webhook) {
            Ok(message) => message,
            Err(e) => {
                warn!(reason = %e, "webhook rejected: unreadable body");
                return Rejection::Unreadable(e).response();
            }
        };
        if admitted.unrouted && self.unrouted_calls == UnroutedCalls::Refuse {
            return json_response(StatusCode::OK, &unrouted::refusal(&message));
        }
        let business = &admitted.business;
        let answer = match message {
            WebhookMessage::ToolCalls { call, tool_calls } => {
                self.answer_tool_calls(business, &call, &tool_calls).await
            }
            WebhookMessage::SingleCall { call, tool_call } => {
                self.answer_single_call(business, &call, &tool_call).await
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

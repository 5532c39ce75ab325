//! `GET /monitoring/health`: the status for anyone (a load balancer or uptime check); each
//! component's detail (tables, queue and dead-letter depths) only with the monitoring token.

use callbook_core::{Clock, HealthProbe, bearer_matches};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::edge::json_response;
use crate::{Webhook, WebhookPorts};

impl<P: WebhookPorts> Webhook<P> {
    /// `Authorization: Bearer <MONITORING_TOKEN>`, compared in constant time.
    pub(crate) fn monitoring_authorized(&self, request: &Request) -> bool {
        self.monitoring_token.as_ref().is_some_and(|token| {
            bearer_matches(
                token,
                request.headers().get("authorization").map(|v| v.as_bytes()),
            )
        })
    }

    pub(crate) async fn health(&self, detailed: bool) -> Response<Body> {
        let checks = self.health.check().await;
        let healthy = checks.iter().all(|c| c.healthy);
        let mut body = json!({
            "status": if healthy { "ok" } else { "unavailable" },
            "checkedAt": self.clock.now().to_rfc3339(),
        });
        if detailed {
            let components: serde_json::Map<String, Value> = checks
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        json!({ "healthy": c.healthy, "detail": c.detail }),
                    )
                })
                .collect();
            body["components"] = Value::Object(components);
        }
        let status = if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        json_response(status, &body)
    }
}

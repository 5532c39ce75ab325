//! `GET /monitoring/health`: the status for anyone (a load balancer or uptime check); each
//! component's detail (tables, queue and dead-letter depths) only with the monitoring token.
//!
//! A probe is about a dozen AWS calls and anyone may ask, so each instance probes at most
//! once per `HealthCache` period and answers everyone else from that probe (`checkedAt` says
//! when it ran).

use std::sync::Arc;

use callbook_core::{Clock, ComponentHealth, HealthProbe, bearer_matches};
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::edge::json_response;
use crate::{Webhook, WebhookPorts};

/// How long a probe's result is served again by default.
pub const HEALTH_CACHE_SECONDS: i64 = 10;

type Probed = (DateTime<Utc>, Arc<Vec<ComponentHealth>>);

/// The instance's last health probe, and when it ran.
#[derive(Debug)]
pub struct HealthCache {
    period: Duration,
    /// Held across the probe, so requests arriving together wait for one probe.
    last: Mutex<Option<Probed>>,
}

impl HealthCache {
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            last: Mutex::new(None),
        }
    }
}

impl Default for HealthCache {
    fn default() -> Self {
        Self::new(Duration::seconds(HEALTH_CACHE_SECONDS))
    }
}

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

    /// The components' health, probed at most once per cache period.
    async fn probed(&self) -> Probed {
        let mut last = self.health_cache.last.lock().await;
        let now = self.clock.now();
        if let Some((at, checks)) = last.as_ref()
            && *at <= now
            && now - *at < self.health_cache.period
        {
            return (*at, checks.clone());
        }
        let probed = (now, Arc::new(self.health.check().await));
        *last = Some(probed.clone());
        probed
    }

    pub(crate) async fn health(&self, detailed: bool) -> Response<Body> {
        let (checked_at, checks) = self.probed().await;
        let healthy = checks.iter().all(|c| c.healthy);
        let mut body = json!({
            "status": if healthy { "ok" } else { "unavailable" },
            "checkedAt": checked_at.to_rfc3339(),
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

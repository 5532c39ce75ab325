//! `GET /monitoring/health`: the status for anyone (a load balancer or uptime check); each
//! component's detail (tables, queue and dead-letter depths) and the deployment's alarms only
//! with the monitoring token.
//!
//! A probe is about a dozen AWS calls and anyone may ask, so each instance probes at most
//! once per `HealthCache` period and answers everyone else from that probe (`checkedAt` says
//! when it ran). The alarms are read only for the token's holder.

use std::sync::Arc;

use callbook_aws::Queue;
use callbook_core::{AlarmStatus, Clock, ComponentHealth, HealthProbe, JobKind, MetricsReader};
use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::edge::json_response;
use crate::{Monitoring, MonitoringPorts};

/// How long a probe's result is served again by default.
pub const HEALTH_CACHE_SECONDS: i64 = 10;

pub(crate) type Probed = (DateTime<Utc>, Arc<Vec<ComponentHealth>>);

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

const KINDS: [JobKind; 4] = [
    JobKind::Booking,
    JobKind::Notification,
    JobKind::Analytics,
    JobKind::FollowUp,
];

/// Messages waiting in each dead-letter queue the probe saw (`booking-dlq`: 2).
pub(crate) fn dead_letters(checks: &[ComponentHealth]) -> Map<String, Value> {
    queue_depths(checks, |kind| Queue::DeadLetters(kind).name())
}

/// Messages waiting in each job queue the probe saw (`booking-queue`: 0).
pub(crate) fn queue_depths(
    checks: &[ComponentHealth],
    name_of: impl Fn(JobKind) -> String,
) -> Map<String, Value> {
    KINDS
        .into_iter()
        .filter_map(|kind| {
            let name = name_of(kind);
            let check = checks.iter().find(|c| c.name == name)?;
            Some((name, json!(check.messages)))
        })
        .collect()
}

pub(crate) fn alarms_json(alarms: &[AlarmStatus]) -> Vec<Value> {
    alarms
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "state": a.state.as_str(),
                "reason": a.reason,
                "since": a.since.map(|t| t.to_rfc3339()),
            })
        })
        .collect()
}

impl<P: MonitoringPorts> Monitoring<P> {
    /// The components' health, probed at most once per cache period.
    pub(crate) async fn probed(&self) -> Probed {
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
            let components: Map<String, Value> = checks
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        json!({ "healthy": c.healthy, "detail": c.detail }),
                    )
                })
                .collect();
            body["components"] = Value::Object(components);
            body["deadLetters"] = Value::Object(dead_letters(&checks));
            // The alarms say what CloudWatch saw; they do not change the status above, which
            // is what this instance could reach.
            body["alarms"] = match self.metrics.alarms().await {
                Ok(alarms) => Value::from(alarms_json(&alarms)),
                Err(e) => json!({ "error": e.to_string() }),
            };
        }
        let status = if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        json_response(status, &body)
    }
}

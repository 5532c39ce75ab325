//! The monitoring Lambda: `GET /monitoring/{health,metrics,dashboard,performance}`, what an
//! operator (or an uptime check) asks about the deployment. Apart from the webhook so the
//! webhook stays small and quick to start: the CloudWatch SDK is only here.
//!
//! - `health` (`health`): the status for anyone; each component, dead letters and alarms
//!   with the monitoring token;
//! - `metrics` (`figures`): the business figures over a window, service-wide from CloudWatch
//!   or one business's from its daily figures;
//! - `dashboard` (`dashboard`, HTML in `html`): today at a glance;
//! - `performance` (`performance`): latency percentiles, error rates, cold starts, job ages.
//!
//! Every route but the minimal health status needs `Authorization: Bearer <token>`.

mod config;
mod dashboard;
mod edge;
mod figures;
mod health;
mod html;
mod performance;
mod queries;

use callbook_aws::SystemClock;
use callbook_aws::cloudwatch::CloudWatchMetrics;
use callbook_aws::figures::DynamoFigures;
use callbook_aws::health::AwsHealthProbe;
use callbook_core::{Clock, DailyFigures, HealthProbe, MetricsReader, WebhookSecret};

pub use config::build;
pub use edge::{Timeframe, prefers_html};
pub use health::{HEALTH_CACHE_SECONDS, HealthCache};

pub const HEALTH_PATH: &str = "/monitoring/health";
pub const METRICS_PATH: &str = "/monitoring/metrics";
pub const DASHBOARD_PATH: &str = "/monitoring/dashboard";
pub const PERFORMANCE_PATH: &str = "/monitoring/performance";
pub const MONITORING_PREFIX: &str = "/monitoring/";

/// The monitoring function's ports, by role.
pub trait MonitoringPorts {
    /// The tables and queues, probed (queue depths, dead letters included).
    type Health: HealthProbe;
    /// The metrics the functions emitted, and the deployment's alarms.
    type Metrics: MetricsReader;
    /// Per-business counters (`?business=`).
    type Figures: DailyFigures;
    type Clock: Clock;
}

pub struct Monitoring<P: MonitoringPorts> {
    /// Opens every route but the minimal health status (`Authorization: Bearer <token>`);
    /// without it only that status is served.
    pub monitoring_token: Option<WebhookSecret>,
    /// The last health probe, served again for a few seconds (anyone may ask for it).
    pub health_cache: HealthCache,
    pub health: P::Health,
    pub metrics: P::Metrics,
    pub figures: P::Figures,
    pub clock: P::Clock,
}

/// In Lambda: DynamoDB and SQS (the probe), CloudWatch, the businesses table, the clock.
pub enum Aws {}

impl MonitoringPorts for Aws {
    type Health = AwsHealthProbe;
    type Metrics = CloudWatchMetrics;
    type Figures = DynamoFigures;
    type Clock = SystemClock;
}

/// The function's `main`: logging, then the SDK configuration and the handler built once
/// from the environment; the runtime lends it to every request.
pub async fn serve() -> Result<(), lambda_http::Error> {
    callbook_aws::telemetry::init_tracing();
    let sdk = callbook_aws::sdk_config().await;
    let monitoring = &build(&sdk, &callbook_aws::config::environment).await?;
    lambda_http::run(lambda_http::service_fn(move |request| async move {
        Ok::<_, lambda_http::Error>(monitoring.handle(request).await)
    }))
    .await
}

#[cfg(test)]
mod tests;

//! The dev server's ports: each function's AWS adapters, wrapped in `Faulty` so
//! `CALLBOOK_FAULTS` can make any of them fail (see `callbook_core::testing::faults`); an
//! unconfigured wrapper passes every call through. One marker, `Dev`, names them for every
//! function, as `Aws` does in each function crate.

use std::sync::Arc;

use analytics_worker::{AnalyticsWorker, AnalyticsWorkerPorts};
use booking_worker::{BookingWorker, BookingWorkerPorts};
use callbook_aws::SystemClock;
use callbook_aws::figures::DynamoFigures;
use callbook_aws::notify::{SesEmail, SnsSms};
use callbook_core::resilience::{Failover, Guarded};
use callbook_core::testing::faults::{FaultSpec, Faulty};
use callbook_core::testing::memory::RecordedMetrics;
use followup_worker::{FollowUpWorker, FollowUpWorkerPorts};
use monitoring::{Monitoring, MonitoringPorts};
use notification_worker::{NotificationWorker, NotificationWorkerPorts, Paced};
use sms_replies::{SmsReplies, SmsRepliesPorts};
use webhook::{Webhook, WebhookPorts};

use crate::metrics::{DevMetrics, dev_metrics};

pub enum Dev {}

/// The ports `CALLBOOK_FAULTS` may name, per function: the handlers' fields (`jobs` is
/// `jobs_done`), and `delete` for the batch delete after a worker's run.
const FAULT_SITES: &[(&str, &[&str])] = &[
    (
        "webhook",
        &[
            "queue",
            "calendar",
            "bookings",
            "directory",
            "answers",
            "quotas",
            "secrets",
            "verifications",
        ],
    ),
    (
        "booking-worker",
        &["bookings", "calendar", "queue", "jobs", "figures", "delete"],
    ),
    (
        "notification-worker",
        &["jobs", "sms", "email", "opt-outs", "figures", "delete"],
    ),
    (
        "analytics-worker",
        &["calls", "directory", "queue", "jobs", "figures", "delete"],
    ),
    (
        "followup-worker",
        &[
            "bookings",
            "calls",
            "queue",
            "last-reminders",
            "jobs",
            "delete",
        ],
    ),
    (
        "sms-replies",
        &[
            "directory",
            "bookings",
            "queue",
            "opt-outs",
            "last-reminders",
            "jobs",
            "quotas",
        ],
    ),
];

/// Every site a spec names exists, so a misspelt one is an error rather than no fault at all.
pub fn check_fault_sites(faults: &FaultSpec) -> Result<(), String> {
    for (function, port, _) in faults.sites() {
        let ports = FAULT_SITES
            .iter()
            .find(|(name, _)| *name == function)
            .map(|(_, ports)| *ports)
            .ok_or_else(|| format!("CALLBOOK_FAULTS: no function {function:?}"))?;
        if !ports.contains(&port) {
            return Err(format!(
                "CALLBOOK_FAULTS: {function} has no port {port:?} (its ports: {})",
                ports.join(", ")
            ));
        }
    }
    Ok(())
}

impl WebhookPorts for Dev {
    type Queue = Faulty<<webhook::Aws as WebhookPorts>::Queue>;
    type Calendar = Faulty<<webhook::Aws as WebhookPorts>::Calendar>;
    type Bookings = Faulty<<webhook::Aws as WebhookPorts>::Bookings>;
    type Directory = Faulty<<webhook::Aws as WebhookPorts>::Directory>;
    type Answers = Faulty<<webhook::Aws as WebhookPorts>::Answers>;
    type Quotas = Faulty<<webhook::Aws as WebhookPorts>::Quotas>;
    type Secrets = Faulty<<webhook::Aws as WebhookPorts>::Secrets>;
    type Verifications = Faulty<<webhook::Aws as WebhookPorts>::Verifications>;
    type Clock = SystemClock;
    type Metrics = DevMetrics;
}

/// CloudWatch's side is the EMF lines the functions printed, read back (`cloudwatch.rs`):
/// the local stack has no alarms.
impl MonitoringPorts for Dev {
    type Health = <monitoring::Aws as MonitoringPorts>::Health;
    type Metrics = crate::cloudwatch::RecordedReader;
    type Figures = <monitoring::Aws as MonitoringPorts>::Figures;
    type Clock = SystemClock;
}

impl BookingWorkerPorts for Dev {
    type Bookings = Faulty<<booking_worker::Aws as BookingWorkerPorts>::Bookings>;
    type Calendar = Faulty<<booking_worker::Aws as BookingWorkerPorts>::Calendar>;
    type Queue = Faulty<<booking_worker::Aws as BookingWorkerPorts>::Queue>;
    type JobsDone = Faulty<<booking_worker::Aws as BookingWorkerPorts>::JobsDone>;
    type Clock = SystemClock;
    type Metrics = DevMetrics;
    type Figures = Faulty<DynamoFigures>;
    type Schedules = Faulty<<booking_worker::Aws as BookingWorkerPorts>::Schedules>;
}

/// The senders' faults are the providers', inside their circuit breakers (as an SNS or SES
/// outage would be), so a fault plan can open a breaker.
impl NotificationWorkerPorts for Dev {
    type JobsDone = Faulty<<notification_worker::Aws as NotificationWorkerPorts>::JobsDone>;
    type Sms = Paced<Failover<Faulty<SnsSms>, SystemClock>>;
    type Email = Paced<Failover<Faulty<SesEmail>, SystemClock>>;
    type OptOuts = Faulty<<notification_worker::Aws as NotificationWorkerPorts>::OptOuts>;
    type Clock = SystemClock;
    type Metrics = DevMetrics;
    type Figures = Faulty<DynamoFigures>;
}

impl AnalyticsWorkerPorts for Dev {
    type Calls = Faulty<<analytics_worker::Aws as AnalyticsWorkerPorts>::Calls>;
    type Directory = Faulty<<analytics_worker::Aws as AnalyticsWorkerPorts>::Directory>;
    type Queue = Faulty<<analytics_worker::Aws as AnalyticsWorkerPorts>::Queue>;
    type JobsDone = Faulty<<analytics_worker::Aws as AnalyticsWorkerPorts>::JobsDone>;
    type Clock = SystemClock;
    type Metrics = DevMetrics;
    type Figures = Faulty<DynamoFigures>;
    type Schedules = Faulty<<analytics_worker::Aws as AnalyticsWorkerPorts>::Schedules>;
}

impl FollowUpWorkerPorts for Dev {
    type Bookings = Faulty<<followup_worker::Aws as FollowUpWorkerPorts>::Bookings>;
    type Calls = Faulty<<followup_worker::Aws as FollowUpWorkerPorts>::Calls>;
    type Queue = Faulty<<followup_worker::Aws as FollowUpWorkerPorts>::Queue>;
    type LastReminders = Faulty<<followup_worker::Aws as FollowUpWorkerPorts>::LastReminders>;
    type JobsDone = Faulty<<followup_worker::Aws as FollowUpWorkerPorts>::JobsDone>;
    type Clock = SystemClock;
    type Metrics = DevMetrics;
}

impl SmsRepliesPorts for Dev {
    type Directory = Faulty<<sms_replies::Aws as SmsRepliesPorts>::Directory>;
    type Bookings = Faulty<<sms_replies::Aws as SmsRepliesPorts>::Bookings>;
    type Queue = Faulty<<sms_replies::Aws as SmsRepliesPorts>::Queue>;
    type OptOuts = Faulty<<sms_replies::Aws as SmsRepliesPorts>::OptOuts>;
    type LastReminders = Faulty<<sms_replies::Aws as SmsRepliesPorts>::LastReminders>;
    type JobsDone = Faulty<<sms_replies::Aws as SmsRepliesPorts>::JobsDone>;
    type Quotas = Faulty<<sms_replies::Aws as SmsRepliesPorts>::Quotas>;
    type Clock = SystemClock;
    type Metrics = DevMetrics;
}

/// The port names `CALLBOOK_FAULTS` uses are the fields' names (`jobs_done` is `jobs`).
/// Every function's metrics are printed and recorded into the one `recorded`.
pub fn webhook(
    w: Webhook<webhook::Aws>,
    faults: &FaultSpec,
    recorded: &Arc<RecordedMetrics>,
) -> Webhook<Dev> {
    Webhook {
        auth: w.auth,
        max_body_bytes: w.max_body_bytes,
        business: w.business,
        unrouted_calls: w.unrouted_calls,
        queue: faults.wrap("webhook", "queue", w.queue),
        calendar: faults.wrap("webhook", "calendar", w.calendar),
        bookings: faults.wrap("webhook", "bookings", w.bookings),
        directory: faults.wrap("webhook", "directory", w.directory),
        answers: faults.wrap("webhook", "answers", w.answers),
        verifications: faults.wrap("webhook", "verifications", w.verifications),
        quotas: faults.wrap("webhook", "quotas", w.quotas),
        secrets: faults.wrap("webhook", "secrets", w.secrets),
        clock: w.clock,
        metrics: dev_metrics(w.metrics.namespace().to_string(), recorded),
        cold_start: w.cold_start,
    }
}

/// The monitoring function with the dev server's metrics in place of CloudWatch.
pub fn monitoring(
    m: Monitoring<monitoring::Aws>,
    metrics: crate::cloudwatch::RecordedReader,
) -> Monitoring<Dev> {
    Monitoring {
        monitoring_token: m.monitoring_token,
        health_cache: m.health_cache,
        health: m.health,
        metrics,
        figures: m.figures,
        clock: m.clock,
    }
}

pub fn booking_worker(
    w: BookingWorker<booking_worker::Aws>,
    faults: &FaultSpec,
    recorded: &Arc<RecordedMetrics>,
) -> BookingWorker<Dev> {
    let name = "booking-worker";
    BookingWorker {
        bookings: faults.wrap(name, "bookings", w.bookings),
        calendar: faults.wrap(name, "calendar", w.calendar),
        queue: faults.wrap(name, "queue", w.queue),
        jobs_done: faults.wrap(name, "jobs", w.jobs_done),
        clock: w.clock,
        metrics: dev_metrics(w.metrics.namespace().to_string(), recorded),
        figures: faults.wrap(name, "figures", w.figures),
        schedules: faults.wrap(name, "schedules", w.schedules),
        cold_start: w.cold_start,
    }
}

/// Each provider of a failover wrapped with the site's faults, inside its breaker.
fn faulty_providers<P>(
    failover: Failover<P, SystemClock>,
    faults: &FaultSpec,
    port: &str,
) -> Failover<Faulty<P>, SystemClock> {
    let guard = |g: Guarded<P>| Guarded {
        name: g.name,
        provider: faults.wrap("notification-worker", port, g.provider),
        breaker: g.breaker,
    };
    Failover {
        primary: guard(failover.primary),
        secondary: failover.secondary.map(guard),
        clock: failover.clock,
    }
}

pub fn notification_worker(
    w: NotificationWorker<notification_worker::Aws>,
    faults: &FaultSpec,
    recorded: &Arc<RecordedMetrics>,
) -> NotificationWorker<Dev> {
    let name = "notification-worker";
    NotificationWorker {
        jobs_done: faults.wrap(name, "jobs", w.jobs_done),
        sms: w.sms.map(|f| faulty_providers(f, faults, "sms")),
        email: w.email.map(|f| faulty_providers(f, faults, "email")),
        opt_outs: faults.wrap(name, "opt-outs", w.opt_outs),
        clock: w.clock,
        metrics: dev_metrics(w.metrics.namespace().to_string(), recorded),
        figures: faults.wrap(name, "figures", w.figures),
        cold_start: w.cold_start,
    }
}

pub fn analytics_worker(
    w: AnalyticsWorker<analytics_worker::Aws>,
    faults: &FaultSpec,
    recorded: &Arc<RecordedMetrics>,
) -> AnalyticsWorker<Dev> {
    let name = "analytics-worker";
    AnalyticsWorker {
        calls: faults.wrap(name, "calls", w.calls),
        default_business: w.default_business,
        directory: faults.wrap(name, "directory", w.directory),
        queue: faults.wrap(name, "queue", w.queue),
        jobs_done: faults.wrap(name, "jobs", w.jobs_done),
        clock: w.clock,
        metrics: dev_metrics(w.metrics.namespace().to_string(), recorded),
        figures: faults.wrap(name, "figures", w.figures),
        schedules: faults.wrap(name, "schedules", w.schedules),
        cold_start: w.cold_start,
    }
}

pub fn followup_worker(
    w: FollowUpWorker<followup_worker::Aws>,
    faults: &FaultSpec,
    recorded: &Arc<RecordedMetrics>,
) -> FollowUpWorker<Dev> {
    let name = "followup-worker";
    FollowUpWorker {
        bookings: faults.wrap(name, "bookings", w.bookings),
        calls: faults.wrap(name, "calls", w.calls),
        queue: faults.wrap(name, "queue", w.queue),
        last_reminders: faults.wrap(name, "last-reminders", w.last_reminders),
        jobs_done: faults.wrap(name, "jobs", w.jobs_done),
        clock: w.clock,
        metrics: dev_metrics(w.metrics.namespace().to_string(), recorded),
        cold_start: w.cold_start,
    }
}

pub fn sms_replies(
    r: SmsReplies<sms_replies::Aws>,
    faults: &FaultSpec,
    recorded: &Arc<RecordedMetrics>,
) -> SmsReplies<Dev> {
    let name = "sms-replies";
    SmsReplies {
        business: r.business,
        directory: faults.wrap(name, "directory", r.directory),
        bookings: faults.wrap(name, "bookings", r.bookings),
        queue: faults.wrap(name, "queue", r.queue),
        opt_outs: faults.wrap(name, "opt-outs", r.opt_outs),
        last_reminders: faults.wrap(name, "last-reminders", r.last_reminders),
        jobs_done: faults.wrap(name, "jobs", r.jobs_done),
        quotas: faults.wrap(name, "quotas", r.quotas),
        clock: r.clock,
        metrics: dev_metrics(r.metrics.namespace().to_string(), recorded),
        cold_start: r.cold_start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_at_a_port_that_does_not_exist_is_refused() {
        let ok = FaultSpec::parse(
            "booking-worker.delete=nth:1; notification-worker.email=percent:50; webhook.answers=first:1",
        )
        .unwrap();
        assert_eq!(check_fault_sites(&ok), Ok(()));
        for (spec, says) in [
            ("booking-worker.store=first:1", "has no port \"store\""),
            ("webhook.delete=first:1", "has no port \"delete\""),
            (
                "billing-worker.queue=first:1",
                "no function \"billing-worker\"",
            ),
        ] {
            let error = check_fault_sites(&FaultSpec::parse(spec).unwrap()).unwrap_err();
            assert!(error.contains(says), "{spec}: {error}");
        }
    }
}

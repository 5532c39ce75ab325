//! The notification worker: sends each notification job once, by SMS (SNS) or email (SESv2),
//! rendered from our templates. A failed send goes back to the queue; never dropped. Runs on
//! callbook-aws's worker skeleton (`Worker`).

mod paced;

use callbook_aws::figures::{DynamoFigures, count_done};
use callbook_aws::idempotency::DynamoIdempotencyStore;
use callbook_aws::metrics::EmfLog;
use callbook_aws::notify::{SesEmail, SmsOptOuts, SnsSms};
use callbook_aws::{Resources, SdkConfig, SystemClock, Table, Worker};
use callbook_core::resilience::{Failover, Guarded};
use callbook_core::templates::{email_for, sms_for};
use callbook_core::{
    Clock, ColdStart, ConfigError, DailyFigures, Dimension, EmailSender, Figure, IdempotencyStore,
    Measurement, Metric, MetricsSink, NotificationJob, NotificationKind, OptOuts, PortError,
    Recipient, SendFailure, SmsAnswer, SmsSender, country_of, number, required, setting,
};
use chrono::Duration;
use tracing::{info, warn};

pub use paced::Paced;

/// A provider failure's reason in `SendFailures`.
pub const UNAVAILABLE: &str = callbook_core::metrics::PROVIDER_UNAVAILABLE;

/// What is recorded for a message its recipient can never get: done, so a redelivery skips it.
pub fn rejected(reason: SendFailure) -> String {
    format!("rejected: {reason}")
}

/// The notification worker's ports, by role; each environment names its set with a marker.
pub trait NotificationWorkerPorts {
    /// Each notification is claimed before it is sent and recorded after.
    type JobsDone: IdempotencyStore;
    type Sms: SmsSender;
    type Email: EmailSender;
    /// Phones that asked for no more SMS get none.
    type OptOuts: OptOuts;
    type Clock: Clock;
    /// Sends and failures by channel, breaker opens (EMF on stdout in Lambda).
    type Metrics: MetricsSink;
    /// Texts and emails sent and failed, per business and day.
    type Figures: DailyFigures;
}

/// The `Function` dimension of its metrics.
pub const FUNCTION: &str = "notification-worker";

pub struct NotificationWorker<P: NotificationWorkerPorts> {
    pub jobs_done: P::JobsDone,
    pub sms: P::Sms,
    pub email: P::Email,
    pub opt_outs: P::OptOuts,
    pub clock: P::Clock,
    pub metrics: P::Metrics,
    pub figures: P::Figures,
    pub cold_start: ColdStart,
}

/// In Lambda: SNS and SES, each paced and behind a circuit breaker with a second region.
pub enum Aws {}

impl NotificationWorkerPorts for Aws {
    type JobsDone = DynamoIdempotencyStore;
    type Sms = Paced<Failover<SnsSms, SystemClock>>;
    type Email = Paced<Failover<SesEmail, SystemClock>>;
    type OptOuts = SmsOptOuts;
    type Clock = SystemClock;
    type Metrics = EmfLog;
    type Figures = DynamoFigures;
}

/// SNS and SES in the function's region, then (with `SECONDARY_REGION`) in a second region
/// when the first fails or its circuit is open; each paced to its per-instance rate.
pub fn build(
    sdk: &SdkConfig,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<NotificationWorker<Aws>, ConfigError> {
    let failures = number(lookup, "BREAKER_FAILURES", 5, 1..=100)?;
    let cool_down = Duration::seconds(i64::from(number(
        lookup,
        "BREAKER_COOL_DOWN_SECONDS",
        30,
        1..=3600,
    )?));
    let sms_rate = number(lookup, "SMS_PER_SECOND", 50, 1..=1000)?;
    let email_rate = number(lookup, "EMAILS_PER_SECOND", 5, 1..=1000)?;
    let sender = required(lookup, "SENDER_EMAIL")?;
    let secondary = setting(lookup, "SECONDARY_REGION");
    let sns_secondary = secondary.as_deref().map(|region| {
        let conf = aws_sdk_sns::config::Builder::from(sdk)
            .region(aws_config::Region::new(region.to_string()))
            .build();
        Guarded::new(
            "sns-secondary",
            SnsSms::new(aws_sdk_sns::Client::from_conf(conf)),
            failures,
            cool_down,
        )
    });
    let ses_secondary = secondary.as_deref().map(|region| {
        let conf = aws_sdk_sesv2::config::Builder::from(sdk)
            .region(aws_config::Region::new(region.to_string()))
            .build();
        Guarded::new(
            "ses-secondary",
            SesEmail::new(aws_sdk_sesv2::Client::from_conf(conf), sender.clone()),
            failures,
            cool_down,
        )
    });
    let names = Resources::from_lookup(lookup);
    Ok(NotificationWorker {
        figures: DynamoFigures::new(
            aws_sdk_dynamodb::Client::new(sdk),
            names.table(Table::Businesses)?,
        ),
        jobs_done: DynamoIdempotencyStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            names.table(Table::Idempotency)?,
        ),
        sms: Paced::new(
            sms_rate,
            Failover {
                primary: Guarded::new(
                    "sns",
                    SnsSms::new(aws_sdk_sns::Client::new(sdk)),
                    failures,
                    cool_down,
                ),
                secondary: sns_secondary,
                clock: SystemClock,
            },
        ),
        email: Paced::new(
            email_rate,
            Failover {
                primary: Guarded::new(
                    "ses",
                    SesEmail::new(aws_sdk_sesv2::Client::new(sdk), sender.clone()),
                    failures,
                    cool_down,
                ),
                secondary: ses_secondary,
                clock: SystemClock,
            },
        ),
        opt_outs: SmsOptOuts::new(
            aws_sdk_dynamodb::Client::new(sdk),
            names.table(Table::Customers)?,
            aws_sdk_sns::Client::new(sdk),
        ),
        clock: SystemClock,
        metrics: EmfLog::from_lookup(lookup),
        cold_start: ColdStart::default(),
    })
}

impl<P: NotificationWorkerPorts> Worker for NotificationWorker<P> {
    type Job = NotificationJob;
    type Error = PortError;
    type JobsDone = P::JobsDone;
    type Clock = P::Clock;
    type Metrics = P::Metrics;
    const FUNCTION: &'static str = FUNCTION;

    fn jobs_done(&self) -> &P::JobsDone {
        &self.jobs_done
    }

    fn clock(&self) -> &P::Clock {
        &self.clock
    }

    fn metrics(&self) -> &P::Metrics {
        &self.metrics
    }

    fn cold_start(&self) -> &ColdStart {
        &self.cold_start
    }

    /// A failed opt-out check is a failed send: the claim is given up and the message
    /// retried, never sent unchecked. Sent but not recorded would mean a second send once the
    /// claim expires, so the skeleton records until its deadline and the claim outlasts the
    /// redeliveries (`SENDING`). A recipient the provider refuses (or who opted out) is done:
    /// recorded with its reason and logged with `send_failure`, never retried.
    async fn run(&self, job: &NotificationJob) -> Result<String, PortError> {
        // The booking worker already leaves these out; this is the last check.
        if let Recipient::Sms { phone } = &job.recipient
            && country_of(phone).is_none()
        {
            return Ok(self.not_sent(job, SendFailure::NoCountry).await);
        }
        // The answer to STOP confirms the opt-out just made: the one text that still goes.
        if let Recipient::Sms { phone } = &job.recipient
            && !confirms_opt_out(job)
            && self.opt_outs.opted_out(&job.business_id, phone).await?
        {
            return Ok(self.not_sent(job, SendFailure::OptedOut).await);
        }
        let opens = self.breaker_opens(&job.recipient);
        let sent = self.send(job).await;
        let channel = job.recipient.channel();
        // Read around the send: an instance sends one message at a time.
        let opened = self.breaker_opens(&job.recipient).saturating_sub(opens);
        if opened > 0 {
            self.metrics.emit(
                FUNCTION,
                &[Measurement::new(Metric::BreakerOpens, opened as f64)
                    .by(Dimension::Channel, channel)],
            );
        }
        match sent {
            Ok(provider_id) => {
                info!(notification = %job.notification_id, %provider_id, "sent");
                let figure = match job.recipient {
                    Recipient::Sms { .. } => Figure::TextsSent,
                    Recipient::Email { .. } => Figure::EmailsSent,
                };
                let sent = Measurement::count(Metric::Sent).by(Dimension::Channel, channel);
                self.count(job, sent, figure).await;
                Ok(provider_id)
            }
            Err(PortError::Rejected(reason)) => Ok(self.not_sent(job, reason).await),
            Err(e) => {
                // Retried: counted per attempt as `unavailable`, not in the business's
                // figures (the message is not failed yet).
                self.metrics.emit(
                    FUNCTION,
                    &[Measurement::count(Metric::SendFailures)
                        .by(Dimension::Channel, channel)
                        .by(Dimension::Reason, UNAVAILABLE)],
                );
                Err(e)
            }
        }
    }
}

/// The answer to a customer's STOP (and nothing else, whatever else a job says).
fn confirms_opt_out(job: &NotificationJob) -> bool {
    job.kind == NotificationKind::SmsAnswer && job.answer == Some(SmsAnswer::OptedOut)
}

impl<P: NotificationWorkerPorts> NotificationWorker<P> {
    fn breaker_opens(&self, recipient: &Recipient) -> u64 {
        match recipient {
            Recipient::Sms { .. } => self.sms.breaker_opens(),
            Recipient::Email { .. } => self.email.breaker_opens(),
        }
    }

    /// A message sent or refused for good: counted once (`count_done`); the claim keeps a
    /// redelivery from sending or refusing it again.
    async fn count(&self, job: &NotificationJob, measured: Measurement, figure: Figure) {
        count_done(
            &self.metrics,
            &self.figures,
            FUNCTION,
            &job.business_id,
            self.clock.now(),
            &[measured],
            &[figure],
        )
        .await;
    }

    /// One log line per message that can never go, by class, and its `SendFailures`; no
    /// number or address in either.
    async fn not_sent(&self, job: &NotificationJob, reason: SendFailure) -> String {
        warn!(
            notification = %job.notification_id,
            kind = job.kind.as_str(),
            channel = job.recipient.channel(),
            send_failure = reason.as_str(),
            "not sent: the recipient cannot get it"
        );
        let figure = match job.recipient {
            Recipient::Sms { .. } => Figure::TextsFailed,
            Recipient::Email { .. } => Figure::EmailsFailed,
        };
        let failed = Measurement::count(Metric::SendFailures)
            .by(Dimension::Channel, job.recipient.channel())
            .by(Dimension::Reason, reason.as_str());
        self.count(job, failed, figure).await;
        rejected(reason)
    }

    async fn send(&self, job: &NotificationJob) -> Result<String, PortError> {
        // A job without what its kind is about can never be sent: it goes to the DLQ.
        let unrenderable = || PortError::Corrupt {
            what: "notification job",
            message: format!("{} has nothing to say for its kind", job.notification_id),
        };
        match &job.recipient {
            Recipient::Sms { phone } => {
                let text = sms_for(job).ok_or_else(unrenderable)?;
                self.sms.send_sms(phone, &text).await
            }
            Recipient::Email { email } => {
                let rendered = email_for(job).ok_or_else(unrenderable)?;
                self.email.send_email(email, &rendered).await
            }
        }
    }
}

#[cfg(test)]
mod tests;

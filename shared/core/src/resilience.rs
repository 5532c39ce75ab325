//! Sending through providers that fail: a circuit breaker per provider, and failover from a
//! primary to a secondary provider of the same channel (for SNS and SES: the same service in
//! a second region, as the original system had a second provider). When both fail, the send
//! fails and the message goes back to its queue; nothing is dropped.
//!
//! Breaker state lives in the Lambda instance (each instance learns on its own; a cold
//! instance starts closed), which is enough to stop hammering a provider that is down.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::ports::{Clock, EmailSender, PortError, SmsSender};
use crate::templates::RenderedEmail;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls are refused until `until`.
    Open { until: DateTime<Utc> },
    /// One trial call is out: its result closes or reopens the breaker.
    HalfOpen,
}

/// Opens after `threshold` consecutive failures; after `cool_down` lets one call try again.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<BreakerState>,
    /// Transitions to open so far (from closed, or a failed half-open trial), for the
    /// `BreakerOpens` metric.
    opens: AtomicU64,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_down,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
            opens: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        *self.lock()
    }

    /// Whether a call may go through now (an open breaker past its cool-down lets one).
    pub fn allow(&self, now: DateTime<Utc>) -> bool {
        let mut state = self.lock();
        match *state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                *state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// How many times it has opened.
    pub fn opens(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }

    pub fn record(&self, ok: bool, now: DateTime<Utc>) {
        let mut state = self.lock();
        let was_open = matches!(*state, BreakerState::Open { .. });
        *state = match (*state, ok) {
            (_, true) => BreakerState::Closed { failures: 0 },
            (BreakerState::Closed { failures }, false) if failures + 1 < self.threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => BreakerState::Open {
                until: now + self.cool_down,
            },
        };
        if !was_open && matches!(*state, BreakerState::Open { .. }) {
            self.opens.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A provider and its breaker.
#[derive(Debug)]
pub struct Guarded<P> {
    pub name: &'static str,
    pub provider: P,
    pub breaker: CircuitBreaker,
}

impl<P> Guarded<P> {
    pub fn new(name: &'static str, provider: P, threshold: u32, cool_down: Duration) -> Self {
        Self {
            name,
            provider,
            breaker: CircuitBreaker::new(threshold, cool_down),
        }
    }
}

/// The primary provider, then the secondary when the primary fails or its breaker is open.
#[derive(Debug)]
pub struct Failover<P, C> {
    pub primary: Guarded<P>,
    pub secondary: Option<Guarded<P>>,
    pub clock: C,
}

impl<P, C: Clock> Failover<P, C> {
    /// Runs `send` on each provider whose breaker allows it, in order, until one succeeds.
    ///
    /// A refused recipient (`PortError::Rejected`) is the provider working: it counts as an
    /// answer, not a failure, for the breaker. The secondary still tries it (a region's
    /// sandbox and verified identities are its own). The send is `Rejected` only when every
    /// provider refused it; one that failed or was skipped might still take it later.
    async fn run<'a, T, F, Fut>(&'a self, operation: &'static str, send: F) -> Result<T, PortError>
    where
        F: Fn(&'a P) -> Fut,
        Fut: std::future::Future<Output = Result<T, PortError>>,
    {
        let mut failed = None;
        let mut rejected = None;
        for guarded in std::iter::once(&self.primary).chain(self.secondary.as_ref()) {
            if !guarded.breaker.allow(self.clock.now()) {
                tracing::warn!(provider = guarded.name, "circuit open: provider skipped");
                failed.get_or_insert_with(|| {
                    PortError::unavailable(operation, "every provider's circuit is open")
                });
                continue;
            }
            match send(&guarded.provider).await {
                Ok(v) => {
                    guarded.breaker.record(true, self.clock.now());
                    return Ok(v);
                }
                Err(PortError::Rejected(reason)) => {
                    guarded.breaker.record(true, self.clock.now());
                    tracing::info!(provider = guarded.name, send_failure = %reason, "recipient refused");
                    rejected = Some(PortError::Rejected(reason));
                }
                Err(e) => {
                    guarded.breaker.record(false, self.clock.now());
                    tracing::warn!(provider = guarded.name, error = %crate::values::redact::redact_text(&e.to_string()), "provider failed");
                    failed = Some(e);
                }
            }
        }
        Err(failed.or(rejected).unwrap_or_else(|| {
            PortError::unavailable(operation, "every provider's circuit is open")
        }))
    }
}

impl<P, C> Failover<P, C> {
    /// Opens of both providers' breakers so far.
    pub fn breaker_opens(&self) -> u64 {
        std::iter::once(&self.primary)
            .chain(self.secondary.as_ref())
            .map(|g| g.breaker.opens())
            .sum()
    }
}

impl<P: SmsSender, C: Clock> SmsSender for Failover<P, C> {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        self.run("send SMS", |p| p.send_sms(to, text)).await
    }

    fn breaker_opens(&self) -> u64 {
        Failover::breaker_opens(self)
    }
}

impl<P: EmailSender, C: Clock> EmailSender for Failover<P, C> {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        self.run("send email", |p| p.send_email(to, email)).await
    }

    fn breaker_opens(&self) -> u64 {
        Failover::breaker_opens(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::faults::Faulty;
    use crate::testing::memory::{FixedClock, MemoryEmail};
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap() + Duration::seconds(secs)
    }

    #[test]
    fn the_breaker_opens_after_n_failures_and_half_opens_after_its_cool_down() {
        let b = CircuitBreaker::new(3, Duration::seconds(30));
        for _ in 0..2 {
            assert!(b.allow(t(0)));
            b.record(false, t(0));
        }
        assert_eq!(b.state(), BreakerState::Closed { failures: 2 });
        assert_eq!(b.opens(), 0);
        b.record(false, t(1));
        assert_eq!(b.state(), BreakerState::Open { until: t(31) });
        assert_eq!(b.opens(), 1);
        assert!(!b.allow(t(10)));
        // One trial after the cool-down; a failure reopens it, a success closes it.
        assert!(b.allow(t(31)));
        assert!(!b.allow(t(31)), "only one trial at a time");
        b.record(false, t(32));
        assert_eq!(b.state(), BreakerState::Open { until: t(62) });
        assert_eq!(b.opens(), 2, "a failed trial opens it again");
        assert!(b.allow(t(62)));
        b.record(true, t(62));
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
    }

    fn email() -> RenderedEmail {
        RenderedEmail {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        }
    }

    #[tokio::test]
    async fn a_failing_primary_opens_and_the_secondary_delivers_both_failing_is_an_error() {
        let failover = Failover {
            primary: Guarded::new(
                "ses-primary",
                Faulty::<MemoryEmail>::default(),
                2,
                Duration::seconds(60),
            ),
            secondary: Some(Guarded::new(
                "ses-secondary",
                Faulty::<MemoryEmail>::default(),
                2,
                Duration::seconds(60),
            )),
            clock: FixedClock(t(0)),
        };
        let to = EmailAddress::parse("a@example.com").unwrap();
        failover.primary.provider.faults.fail_next(100);
        for _ in 0..3 {
            assert!(failover.send_email(&to, &email()).await.is_ok());
        }
        // Two failures opened the primary; the third send went straight to the secondary.
        assert!(matches!(
            failover.primary.breaker.state(),
            BreakerState::Open { .. }
        ));
        assert_eq!(EmailSender::breaker_opens(&failover), 1);
        assert_eq!(
            failover
                .secondary
                .as_ref()
                .unwrap()
                .provider
                .sent
                .lock()
                .unwrap()
                .len(),
            3
        );
        failover
            .secondary
            .as_ref()
            .unwrap()
            .provider
            .faults
            .fail_next(100);
        assert!(failover.send_email(&to, &email()).await.is_err());
        assert!(failover.send_email(&to, &email()).await.is_err());
        let err = failover.send_email(&to, &email()).await.unwrap_err();
        assert!(err.to_string().contains("circuit is open"), "{err}");
    }

    /// A provider that refuses every recipient, as SNS refuses a number that is not one.
    #[derive(Debug, Default)]
    struct Refusing;

    impl SmsSender for Refusing {
        async fn send_sms(&self, _: &PhoneNumber, _: &str) -> Result<String, PortError> {
            Err(PortError::Rejected(
                crate::ports::SendFailure::InvalidNumber,
            ))
        }
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::parse(
            "+17025551234",
            crate::values::phone::PhoneRegion::from_code("US").unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn refused_recipients_never_open_the_breaker_and_are_reported_as_refused() {
        let failover = Failover {
            primary: Guarded::new("sns", Refusing, 2, Duration::seconds(60)),
            secondary: None,
            clock: FixedClock(t(0)),
        };
        for _ in 0..5 {
            let refused = failover.send_sms(&phone(), "hi").await;
            assert_eq!(
                refused,
                Err(PortError::Rejected(
                    crate::ports::SendFailure::InvalidNumber
                ))
            );
        }
        assert_eq!(
            failover.primary.breaker.state(),
            BreakerState::Closed { failures: 0 }
        );
    }

    #[tokio::test]
    async fn a_refusal_by_one_region_and_a_failure_in_the_other_is_retried_later() {
        let failover = Failover {
            primary: Guarded::new("sns", Refusing, 2, Duration::seconds(60)),
            secondary: Some(Guarded::new(
                "sns-secondary",
                Refusing,
                2,
                Duration::seconds(60),
            )),
            clock: FixedClock(t(0)),
        };
        // Both refuse: refused. The secondary's circuit open: it might take it later.
        assert!(matches!(
            failover.send_sms(&phone(), "hi").await,
            Err(PortError::Rejected(_))
        ));
        let secondary = failover.secondary.as_ref().unwrap();
        secondary.breaker.record(false, t(0));
        secondary.breaker.record(false, t(0));
        assert!(matches!(
            failover.send_sms(&phone(), "hi").await,
            Err(PortError::Unavailable { .. })
        ));
    }
}

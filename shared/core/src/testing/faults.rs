//! Faults on demand, for tests and the local stack only: `Faulty<P>` wraps any port and fails
//! the calls its `FaultPlan` picks (the Nth, the first N, every Nth, or a share of them) or a
//! test asks for (`fail_next`), then passes the rest to the port it wraps (a memory store in
//! unit tests, the real adapter in the dev server). Production binaries never compile it: the
//! functions' `main` uses the adapters as they are; the dev server wraps them when
//! `CALLBOOK_FAULTS` asks.
//!
//! `CALLBOOK_FAULTS` lists `<function>.<port>=<plan>` separated by `;`, e.g.
//! `booking-worker.queue=first:1; notification-worker.email=percent:50; booking-worker.delete=nth:2`.
//! Plans: `nth:N` (only the Nth call), `first:N`, `every:N`, `percent:P` (a fixed pseudo-random
//! P % of calls, the same on every run).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use thiserror::Error;

use crate::domain::booking::BookingJob;
use crate::domain::booking::{BookingRecord, CustomerRecord};
use crate::domain::booking_change::BookingChangeJob;
use crate::domain::business::Business;
use crate::domain::callers::{CodeCheck, CodeIssue, PendingCode};
use crate::domain::calls::CallRecord;
use crate::domain::leads::LeadRecord;
use crate::jobs::{FollowUpJob, Job};
use crate::ports::{
    AlarmStatus, BookingStore, BusinessDirectory, CallRoute, CallStore, CallerVerifications,
    ChangeApplied, Claim, CustomerContact, DailyFigures, EmailSender, Figure, FigureCounts,
    FollowUpSchedules, IdempotencyStore, JobQueue, MetricsReader, OptOuts, PortError, QuotaTaken,
    Quotas, RecordOutcome, Reservation, Saved, SecretStore, Series, SeriesQuery, SlotStore,
    SmsSender,
};
use crate::templates::RenderedEmail;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;
use crate::values::secrets::SecretRef;
use crate::values::slots::SlotCell;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FaultSpecError {
    #[error("{0:?}: write <function>.<port>=<plan>, e.g. booking-worker.queue=first:1")]
    Malformed(String),
    #[error("{0:?}: a plan is nth:N, first:N, every:N (N from 1) or percent:P (0 to 100)")]
    BadPlan(String),
}

/// Which calls fail, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPlan {
    Never,
    Nth(u64),
    First(u64),
    Every(u64),
    Percent(u64),
}

impl FaultPlan {
    pub fn fails(&self, call: u64) -> bool {
        match *self {
            Self::Never => false,
            Self::Nth(n) => call == n,
            Self::First(n) => call <= n,
            Self::Every(n) => call.is_multiple_of(n),
            // splitmix64 of the call number: spread, and the same on every run.
            Self::Percent(p) => {
                let mut z = call.wrapping_add(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) % 100 < p
            }
        }
    }
}

impl FromStr for FaultPlan {
    type Err = FaultSpecError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || FaultSpecError::BadPlan(raw.to_string());
        let (kind, n) = raw.trim().split_once(':').ok_or_else(bad)?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        match kind.trim() {
            "nth" if n >= 1 => Ok(Self::Nth(n)),
            "first" => Ok(Self::First(n)),
            "every" if n >= 1 => Ok(Self::Every(n)),
            "percent" if n <= 100 => Ok(Self::Percent(n)),
            _ => Err(bad()),
        }
    }
}

/// A plan and its call count; shared by clones (one count per port, as configured). A test
/// may also fail the next calls on demand (`fail_next`), whatever the plan.
#[derive(Debug, Clone)]
pub struct Faults {
    plan: FaultPlan,
    calls: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    forced: Arc<AtomicU64>,
    /// Milliseconds every call waits before it runs (a slow backend).
    delay_ms: Arc<AtomicU64>,
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            calls: Arc::default(),
            failed: Arc::default(),
            forced: Arc::default(),
            delay_ms: Arc::default(),
        }
    }

    pub fn never() -> Self {
        Self::new(FaultPlan::Never)
    }

    /// The next `n` calls fail, then the plan applies again.
    pub fn fail_next(&self, n: u64) {
        self.forced.store(n, Ordering::SeqCst);
    }

    /// Every call from now on waits `by` before it runs.
    pub fn slow_down(&self, by: std::time::Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    async fn wait(&self) {
        let ms = self.delay_ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }

    /// Counts a call; true when it is forced to fail or the plan fails it.
    pub fn strike(&self) -> bool {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let forced = self
            .forced
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let fails = forced || self.plan.fails(call);
        if fails {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        fails
    }

    /// How many calls were failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    /// How many calls were made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn check(&self, operation: &'static str) -> Result<(), PortError> {
        if self.strike() {
            tracing::warn!(operation, "injected fault");
            Err(PortError::unavailable(operation, "injected fault"))
        } else {
            Ok(())
        }
    }
}

/// The faults `CALLBOOK_FAULTS` asks for, by function and port.
#[derive(Debug, Default)]
pub struct FaultSpec {
    sites: Vec<(String, String, Faults)>,
}

impl FaultSpec {
    pub fn parse(spec: &str) -> Result<Self, FaultSpecError> {
        let mut sites = Vec::new();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let malformed = || FaultSpecError::Malformed(entry.to_string());
            let (site, plan) = entry.split_once('=').ok_or_else(malformed)?;
            let (function, port) = site.split_once('.').ok_or_else(malformed)?;
            let (function, port) = (function.trim(), port.trim());
            if function.is_empty() || port.is_empty() {
                return Err(malformed());
            }
            sites.push((
                function.to_string(),
                port.to_string(),
                Faults::new(plan.parse()?),
            ));
        }
        Ok(Self { sites })
    }

    /// The faults for one port of one function (none configured: never).
    pub fn at(&self, function: &str, port: &str) -> Faults {
        self.sites
            .iter()
            .find(|(f, p, _)| f == function && p == port)
            .map_or_else(Faults::never, |(_, _, faults)| faults.clone())
    }

    /// `port` of `function`, wrapped with its faults.
    pub fn wrap<P>(&self, function: &str, port: &str, inner: P) -> Faulty<P> {
        Faulty {
            inner,
            faults: self.at(function, port),
        }
    }

    /// Every configured site, for the startup log.
    pub fn sites(&self) -> impl Iterator<Item = (&str, &str, FaultPlan)> {
        self.sites
            .iter()
            .map(|(f, p, faults)| (f.as_str(), p.as_str(), faults.plan))
    }
}

/// A port that fails the calls its plan picks and passes the others on. It reads as the port
/// it wraps (`Deref`), so a test inspects a wrapped memory store directly.
#[derive(Debug)]
pub struct Faulty<P> {
    pub inner: P,
    pub faults: Faults,
}

impl<P> Faulty<P> {
    /// `inner`, failing only the calls a test asks for (`faults.fail_next`).
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            faults: Faults::never(),
        }
    }
}

impl<P: Default> Default for Faulty<P> {
    fn default() -> Self {
        Self::new(P::default())
    }
}

impl<P> std::ops::Deref for Faulty<P> {
    type Target = P;

    fn deref(&self) -> &P {
        &self.inner
    }
}

/// `Faulty<P>` is the port `P` is: each method counts the call against the plan, fails it
/// with `PortError::Unavailable` when picked, and otherwise asks the port it wraps.
macro_rules! faulty {
    ($port:ident: $(fn $method:ident($($arg:ident: $ty:ty),*) -> $out:ty, $operation:literal;)+) => {
        impl<P: $port> $port for Faulty<P> {
            $(async fn $method(&self, $($arg: $ty),*) -> Result<$out, PortError> {
                self.faults.wait().await;
                self.faults.check($operation)?;
                self.inner.$method($($arg),*).await
            })+
        }
    };
}

faulty!(JobQueue: fn enqueue(jobs: &[Job]) -> (), "enqueue";);
faulty!(BookingStore:
    fn record_booking(job: &BookingJob, now: DateTime<Utc>) -> RecordOutcome, "record booking";
    fn booking(business_id: &str, reference: &BookingReference) -> Option<BookingRecord>, "read booking";
    fn customer(business_id: &str, phone: &PhoneNumber) -> Option<CustomerRecord>, "read customer";
    fn bookings_of(business_id: &str, phone: &PhoneNumber, from: DateTime<Utc>) -> Vec<BookingRecord>, "list bookings";
    fn apply_change(job: &BookingChangeJob, now: DateTime<Utc>) -> ChangeApplied, "apply change";
);
faulty!(CallStore:
    fn call(business_id: &str, call_id: &str) -> Option<CallRecord>, "read call";
    fn save_call(call: &CallRecord, contact: Option<&CustomerContact>) -> Saved, "save call";
    fn lead(business_id: &str, phone: &PhoneNumber) -> Option<LeadRecord>, "read lead";
    fn save_lead(lead: &LeadRecord) -> Saved, "save lead";
);
faulty!(IdempotencyStore:
    fn claim(key: &str, payload_hash: &str, now: DateTime<Utc>, in_progress_for: Duration) -> Claim, "claim";
    fn complete(key: &str, payload_hash: &str, result: &str, now: DateTime<Utc>, keep_for: Duration) -> (), "complete";
    fn release(key: &str) -> (), "release claim";
);
// By hand: the breaker's count is read through the wrapper.
impl<P: SmsSender> SmsSender for Faulty<P> {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        self.faults.wait().await;
        self.faults.check("send sms")?;
        self.inner.send_sms(to, text).await
    }

    fn breaker_opens(&self) -> u64 {
        self.inner.breaker_opens()
    }
}

impl<P: EmailSender> EmailSender for Faulty<P> {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        self.faults.wait().await;
        self.faults.check("send email")?;
        self.inner.send_email(to, email).await
    }

    fn breaker_opens(&self) -> u64 {
        self.inner.breaker_opens()
    }
}
faulty!(SlotStore:
    fn reserve(business_id: &str, cells: &[SlotCell], capacity: u32, reference: &BookingReference, holder: &str) -> Reservation, "reserve slot";
    fn reserve_new(business_id: &str, cells: &[SlotCell], capacity: u32, reference: &BookingReference, holder: &str, claimant: &str) -> Reservation, "reserve slot";
    fn held_by(business_id: &str, first: &SlotCell, holder: &str) -> Option<BookingReference>, "read holder";
    fn release(business_id: &str, cells: &[SlotCell], reference: &BookingReference) -> (), "release slot";
    fn taken(business_id: &str, day: NaiveDate) -> Vec<(SlotCell, u32)>, "read calendar";
);
faulty!(BusinessDirectory:
    fn business_for(route: CallRoute<'_>) -> Option<Arc<Business>>, "find business";
    fn business(id: &str) -> Option<Arc<Business>>, "find business";
);
faulty!(SecretStore: fn secret(reference: &SecretRef) -> String, "read secret";);
faulty!(CallerVerifications:
    fn store_code(business_id: &str, call_id: &str, code: &PendingCode) -> CodeIssue, "store code";
    fn check_code(business_id: &str, call_id: &str, code_hash: &str, now: DateTime<Utc>) -> CodeCheck, "check code";
    fn verified(business_id: &str, call_id: &str) -> Vec<PhoneNumber>, "read verified numbers";
);
faulty!(OptOuts: fn opted_out(business_id: &str, phone: &PhoneNumber) -> bool, "check opt-out";);
faulty!(Quotas:
    fn take(key: &str, taker: &str, limit: u32, window_ends: DateTime<Utc>, now: DateTime<Utc>) -> QuotaTaken, "take quota";
    fn give_back(key: &str, taker: &str) -> (), "give back quota";
);
faulty!(DailyFigures:
    fn add(business_id: &str, at: DateTime<Utc>, figures: &[Figure]) -> (), "add figures";
    fn counts(business_id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> FigureCounts, "read figures";
);
faulty!(MetricsReader:
    fn series(queries: &[SeriesQuery], from: DateTime<Utc>, to: DateTime<Utc>, period: Duration) -> Vec<Series>, "read metrics";
    fn alarms() -> Vec<AlarmStatus>, "read alarms";
);
faulty!(FollowUpSchedules:
    fn put(job: &FollowUpJob) -> (), "put schedule";
    fn delete(name: &str) -> (), "delete schedule";
);

#[cfg(test)]
mod tests;

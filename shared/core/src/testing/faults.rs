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
use crate::domain::calls::CallRecord;
use crate::domain::leads::LeadRecord;
use crate::jobs::Job;
use crate::ports::{
    BookingStore, BusinessDirectory, CallRoute, CallStore, ChangeApplied, Claim, CustomerContact,
    EmailSender, IdempotencyStore, JobQueue, OptOuts, PortError, RecordOutcome, Reservation, Saved,
    SecretStore, SlotStore, SmsSender,
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
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            calls: Arc::default(),
            failed: Arc::default(),
            forced: Arc::default(),
        }
    }

    pub fn never() -> Self {
        Self::new(FaultPlan::Never)
    }

    /// The next `n` calls fail, then the plan applies again.
    pub fn fail_next(&self, n: u64) {
        self.forced.store(n, Ordering::SeqCst);
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

impl<P: JobQueue> JobQueue for Faulty<P> {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError> {
        self.faults.check("enqueue")?;
        self.inner.enqueue(jobs).await
    }
}

impl<P: BookingStore> BookingStore for Faulty<P> {
    async fn record_booking(
        &self,
        job: &BookingJob,
        now: DateTime<Utc>,
    ) -> Result<RecordOutcome, PortError> {
        self.faults.check("record booking")?;
        self.inner.record_booking(job, now).await
    }

    async fn booking(
        &self,
        business_id: &str,
        reference: &BookingReference,
    ) -> Result<Option<BookingRecord>, PortError> {
        self.faults.check("read booking")?;
        self.inner.booking(business_id, reference).await
    }

    async fn customer(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<CustomerRecord>, PortError> {
        self.faults.check("read customer")?;
        self.inner.customer(business_id, phone).await
    }

    async fn bookings_of(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        from: DateTime<Utc>,
    ) -> Result<Vec<BookingRecord>, PortError> {
        self.faults.check("list bookings")?;
        self.inner.bookings_of(business_id, phone, from).await
    }

    async fn apply_change(
        &self,
        job: &BookingChangeJob,
        now: DateTime<Utc>,
    ) -> Result<ChangeApplied, PortError> {
        self.faults.check("apply change")?;
        self.inner.apply_change(job, now).await
    }
}

impl<P: CallStore> CallStore for Faulty<P> {
    async fn call(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<Option<CallRecord>, PortError> {
        self.faults.check("read call")?;
        self.inner.call(business_id, call_id).await
    }

    async fn save_call(
        &self,
        call: &CallRecord,
        contact: Option<&CustomerContact>,
    ) -> Result<Saved, PortError> {
        self.faults.check("save call")?;
        self.inner.save_call(call, contact).await
    }

    async fn lead(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<LeadRecord>, PortError> {
        self.faults.check("read lead")?;
        self.inner.lead(business_id, phone).await
    }

    async fn save_lead(&self, lead: &LeadRecord) -> Result<Saved, PortError> {
        self.faults.check("save lead")?;
        self.inner.save_lead(lead).await
    }
}

impl<P: IdempotencyStore> IdempotencyStore for Faulty<P> {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_for: Duration,
    ) -> Result<Claim, PortError> {
        self.faults.check("claim")?;
        self.inner
            .claim(key, payload_hash, now, in_progress_for)
            .await
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        result: &str,
        now: DateTime<Utc>,
        keep_for: Duration,
    ) -> Result<(), PortError> {
        self.faults.check("complete")?;
        self.inner
            .complete(key, payload_hash, result, now, keep_for)
            .await
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.faults.check("release claim")?;
        self.inner.release(key).await
    }
}

impl<P: SmsSender> SmsSender for Faulty<P> {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        self.faults.check("send sms")?;
        self.inner.send_sms(to, text).await
    }
}

impl<P: EmailSender> EmailSender for Faulty<P> {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        self.faults.check("send email")?;
        self.inner.send_email(to, email).await
    }
}

impl<P: SlotStore> SlotStore for Faulty<P> {
    async fn reserve(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
    ) -> Result<Reservation, PortError> {
        self.faults.check("reserve slot")?;
        self.inner
            .reserve(business_id, cells, capacity, reference, holder)
            .await
    }

    async fn held_by(
        &self,
        business_id: &str,
        first: &SlotCell,
        holder: &str,
    ) -> Result<Option<BookingReference>, PortError> {
        self.faults.check("read holder")?;
        self.inner.held_by(business_id, first, holder).await
    }

    async fn release(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        reference: &BookingReference,
    ) -> Result<(), PortError> {
        self.faults.check("release slot")?;
        self.inner.release(business_id, cells, reference).await
    }

    async fn taken(
        &self,
        business_id: &str,
        day: NaiveDate,
    ) -> Result<Vec<(SlotCell, u32)>, PortError> {
        self.faults.check("read calendar")?;
        self.inner.taken(business_id, day).await
    }
}

impl<P: BusinessDirectory> BusinessDirectory for Faulty<P> {
    async fn business_for(&self, route: CallRoute<'_>) -> Result<Option<Arc<Business>>, PortError> {
        self.faults.check("find business")?;
        self.inner.business_for(route).await
    }

    async fn business(&self, id: &str) -> Result<Option<Arc<Business>>, PortError> {
        self.faults.check("find business")?;
        self.inner.business(id).await
    }
}

impl<P: SecretStore> SecretStore for Faulty<P> {
    async fn secret(&self, reference: &SecretRef) -> Result<String, PortError> {
        self.faults.check("read secret")?;
        self.inner.secret(reference).await
    }
}

impl<P: OptOuts> OptOuts for Faulty<P> {
    async fn opted_out(&self, business_id: &str, phone: &PhoneNumber) -> Result<bool, PortError> {
        self.faults.check("check opt-out")?;
        self.inner.opted_out(business_id, phone).await
    }
}

#[cfg(test)]
mod tests;

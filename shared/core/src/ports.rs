//! The I/O the handlers need, as small traits: one AWS adapter each (callbook-aws) and an
//! in-memory version for tests (`testing::memory`).

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use thiserror::Error;

mod followups;
mod monitoring;
pub use followups::{FollowUpSchedules, LastReminders, OptOutList, Reminded};
pub use monitoring::{
    AlarmState, AlarmStatus, ComponentHealth, DailyFigures, Figure, FigureCounts, HealthProbe,
    MetricsReader, Series, SeriesQuery, Statistic,
};

use crate::domain::booking::BookingJob;
use crate::domain::booking::{BookingRecord, CustomerRecord};
use crate::domain::booking_change::BookingChangeJob;
use crate::domain::business::{Business, is_route_id};
use crate::domain::callers::{CodeCheck, CodeIssue, PendingCode};
use crate::domain::calls::CallRecord;
use crate::domain::leads::LeadRecord;
use crate::jobs::Job;
use crate::templates::RenderedEmail;
use crate::values::email::EmailAddress;
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;
use crate::values::slots::SlotCell;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PortError {
    /// The backend could not be reached or refused the request; worth retrying.
    #[error("{operation} failed: {message}")]
    Unavailable {
        operation: &'static str,
        message: String,
    },
    /// What the backend holds cannot be read back.
    #[error("stored {what} is unreadable: {message}")]
    Corrupt { what: &'static str, message: String },
    /// The request conflicts with what is stored and will never succeed as it is.
    #[error("{0}")]
    Conflict(String),
    /// The provider answered and refused this recipient: sending again would be refused too,
    /// so the message is done (not retried) and the provider is not at fault (not counted by
    /// a circuit breaker).
    #[error("the provider refused the recipient: {0}")]
    Rejected(SendFailure),
}

/// Why a message can never reach its recipient, as a class (no address or number in it):
/// the `send_failure` field of the log line and the `Reason` of `SendFailures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendFailure {
    /// SNS found the phone number invalid for SMS.
    InvalidNumber,
    /// The phone asked for no more SMS (our list or the provider's).
    OptedOut,
    /// SES refused the message (in the sandbox: an unverified recipient).
    EmailRejected,
    /// SES found the request invalid; with a validated sender and body, the address.
    InvalidAddress,
    /// A number of no country (+882, +883...): never texted.
    NoCountry,
}

impl SendFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidNumber => "invalid_number",
            Self::OptedOut => "opted_out",
            Self::EmailRejected => "email_rejected",
            Self::InvalidAddress => "invalid_address",
            Self::NoCountry => "no_country",
        }
    }
}

impl std::fmt::Display for SendFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PortError {
    pub fn unavailable(operation: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            operation,
            message: error.to_string(),
        }
    }
}

/// The time, and waiting (a repeated tool call waits for the first one's answer). The system
/// clock is callbook-aws's `SystemClock`; tests fix the time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn sleep(&self, duration: std::time::Duration) -> impl Future<Output = ()> + Send;
}

/// Sends jobs to the queue of their kind. Returns only once every job is accepted.
pub trait JobQueue: Send + Sync {
    fn enqueue(&self, jobs: &[Job]) -> impl Future<Output = Result<(), PortError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The booking and the customer update were written together.
    Recorded,
    /// This job was recorded before (a redelivery): nothing was written.
    AlreadyRecorded,
}

pub trait BookingStore: Send + Sync {
    /// Writes the booking and upserts its customer atomically, once per job.
    fn record_booking(
        &self,
        job: &BookingJob,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<RecordOutcome, PortError>> + Send;
    fn booking(
        &self,
        business_id: &str,
        reference: &BookingReference,
    ) -> impl Future<Output = Result<Option<BookingRecord>, PortError>> + Send;
    fn customer(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> impl Future<Output = Result<Option<CustomerRecord>, PortError>> + Send;
    /// The caller's bookings that start after `from` (any status), soonest first.
    fn bookings_of(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        from: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<BookingRecord>, PortError>> + Send;
    /// Applies a change to its booking exactly once (`BookingRecord::decide`), writing the
    /// record and the customer's lifetime value together, conditionally on the version read.
    fn apply_change(
        &self,
        job: &BookingChangeJob,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<ChangeApplied, PortError>> + Send;
}

/// What `apply_change` did, with the booking as it now stands. The calendar cells of an
/// applied change are written with the record; `release` lists what the webhook reserved for
/// a change that will not apply (superseded, or its new time was taken meanwhile).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeApplied {
    pub booking: BookingRecord,
    /// Cells to free in the calendar now.
    pub release: Vec<SlotCell>,
    /// Whether the caller should be notified (applied now or before).
    pub notify: bool,
    /// Applied by this call (not found applied before): what the change's metric and
    /// figure count, so a redelivery counts nothing twice.
    pub applied_now: bool,
}

/// Whether a conditional write of a versioned record went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Written,
    /// Someone wrote a newer version first: read again and re-apply.
    Stale,
}

/// A call counted on the customer's history (once per call, with its record's first report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerContact {
    pub phone: PhoneNumber,
    pub call_id: String,
    pub at: DateTime<Utc>,
}

/// Call records and leads, written with optimistic locking on their `version`.
pub trait CallStore: Send + Sync {
    fn call(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> impl Future<Output = Result<Option<CallRecord>, PortError>> + Send;
    /// Writes `record` if the stored one is still at `record.version - 1` (absent for 1);
    /// with `contact`, counts the call on the customer's history in the same transaction.
    fn save_call(
        &self,
        record: &CallRecord,
        contact: Option<&CustomerContact>,
    ) -> impl Future<Output = Result<Saved, PortError>> + Send;
    fn lead(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> impl Future<Output = Result<Option<LeadRecord>, PortError>> + Send;
    /// Writes `lead` if the stored one is still at `lead.version - 1` (absent for 1).
    fn save_lead(&self, lead: &LeadRecord)
    -> impl Future<Output = Result<Saved, PortError>> + Send;
}

/// The state of an idempotency key when a worker tries to claim it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours: do the work, then `complete` (or `release` on failure).
    Acquired,
    /// Done before; the stored result.
    Completed(String),
    /// Another invocation holds it and its claim has not expired.
    InProgress,
    /// The key was used with a different payload: a client error, never a repeat.
    Mismatch,
}

pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for the request whose payload hashes to `payload_hash`, until
    /// `now + in_progress_for` (an expired claim, or an expired result, may be taken over).
    fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_for: Duration,
    ) -> impl Future<Output = Result<Claim, PortError>> + Send;
    /// Records the result; kept until `now + keep_for`.
    fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        result: &str,
        now: DateTime<Utc>,
        keep_for: Duration,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Gives the claim up so a retry can run.
    fn release(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

pub trait SmsSender: Send + Sync {
    /// Returns the provider's message id.
    fn send_sms(
        &self,
        to: &PhoneNumber,
        text: &str,
    ) -> impl Future<Output = Result<String, PortError>> + Send;

    /// How many times a circuit breaker in front of the provider has opened since it was
    /// built (0 without one): the worker reads it around a send to count `BreakerOpens`.
    fn breaker_opens(&self) -> u64 {
        0
    }
}

pub trait EmailSender: Send + Sync {
    /// Returns the provider's message id.
    fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> impl Future<Output = Result<String, PortError>> + Send;

    /// As `SmsSender::breaker_opens`.
    fn breaker_opens(&self) -> u64 {
        0
    }
}

/// What an attempt to reserve a booking's cells found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The same holder (caller, time, service) already has this booking: nothing changed.
    HeldBy(BookingReference),
    /// Every cell now holds this booking.
    Reserved,
    /// This booking already held every cell (a retry): nothing changed.
    AlreadyReserved,
    /// At least one cell was at capacity: nothing changed.
    Full,
    /// Another booking of the business has this reference: nothing changed; try the next.
    ReferenceTaken,
}

/// The business calendar's cells. Reserving is atomic across all of a booking's cells.
/// `holder` is an opaque tag of who booked (a hash of business, phone and start) kept on the
/// first cell, so the same caller asking again for the same time finds their booking.
pub trait SlotStore: Send + Sync {
    fn reserve(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
    ) -> impl Future<Output = Result<Reservation, PortError>> + Send;
    /// `reserve` for a new booking, which also claims its reference for the business in the
    /// same transaction, so no two bookings share one. `claimant` names the request (a repeat
    /// of it passes the claim it made; any other gets `ReferenceTaken`).
    fn reserve_new(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
        claimant: &str,
    ) -> impl Future<Output = Result<Reservation, PortError>> + Send;
    /// The booking `holder` already has starting in `cell`, if any.
    fn held_by(
        &self,
        business_id: &str,
        cell: &SlotCell,
        holder: &str,
    ) -> impl Future<Output = Result<Option<BookingReference>, PortError>> + Send;
    /// Frees what `reference` holds in `cells` (cells it does not hold are left alone).
    fn release(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        reference: &BookingReference,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// How many bookings hold each taken cell of a local day.
    fn taken(
        &self,
        business_id: &str,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Vec<(SlotCell, u32)>, PortError>> + Send;
}

/// Where a call comes from, as Vapi names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallRoute<'a> {
    Assistant(&'a str),
    PhoneNumber(&'a str),
}

/// The stored businesses (tenants), found by the assistant or phone number a call came
/// through, or by id.
pub trait BusinessDirectory: Send + Sync {
    fn business_for(
        &self,
        route: CallRoute<'_>,
    ) -> impl Future<Output = Result<Option<Arc<Business>>, PortError>> + Send;
    fn business(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Arc<Business>>, PortError>> + Send;
}

/// Whose a call is, by the assistant and phone number it names.
#[derive(Debug, Clone)]
pub enum CallOwner {
    /// A stored business claims the call's assistant, or else its phone number.
    Stored(Arc<Business>),
    /// The install's default business: the call names no assistant or phone number, or the
    /// assistant is the default business's own (`VAPI_ASSISTANT_ID`).
    Default,
    /// The call names an assistant or phone number that no business claims (ids no business
    /// could have, [`is_route_id`], among them: those are not looked up).
    Unclaimed,
}

/// The owner of a call: the stored business that claims its assistant, else the one that
/// claims its phone number, else the default business when the call names nothing else or its
/// own assistant. Only well-formed ids are looked up.
pub async fn business_for_call<D: BusinessDirectory>(
    directory: &D,
    default: &Business,
    assistant_id: Option<&str>,
    phone_number_id: Option<&str>,
) -> Result<CallOwner, PortError> {
    let (assistant_id, phone_number_id) = (
        assistant_id.filter(|id| !id.is_empty()),
        phone_number_id.filter(|id| !id.is_empty()),
    );
    if assistant_id.is_none() && phone_number_id.is_none() {
        return Ok(CallOwner::Default);
    }
    let routes = [
        assistant_id.map(CallRoute::Assistant),
        phone_number_id.map(CallRoute::PhoneNumber),
    ];
    for route in routes.into_iter().flatten() {
        let (CallRoute::Assistant(id) | CallRoute::PhoneNumber(id)) = route;
        if is_route_id(id)
            && let Some(business) = directory.business_for(route).await?
        {
            return Ok(CallOwner::Stored(business));
        }
    }
    if assistant_id.is_some() && assistant_id == default.assistant_id.as_deref() {
        return Ok(CallOwner::Default);
    }
    Ok(CallOwner::Unclaimed)
}

/// Secrets kept outside the environment (SSM or Secrets Manager), by reference.
pub trait SecretStore: Send + Sync {
    fn secret(
        &self,
        reference: &crate::values::secrets::SecretRef,
    ) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// A business by id: a stored one, or the default (jobs carry the id of either).
pub async fn business_by_id<D: BusinessDirectory>(
    directory: &D,
    default: &Arc<Business>,
    id: &str,
) -> Result<Arc<Business>, PortError> {
    if id == default.id {
        return Ok(default.clone());
    }
    directory
        .business(id)
        .await?
        .ok_or_else(|| PortError::Conflict(format!("no business {id:?} is stored")))
}

/// Codes texted to prove a caller holds a number, and the numbers a call has proved; one
/// record per call, kept a day.
pub trait CallerVerifications: Send + Sync {
    /// Stores `code` as the call's pending code (replacing an earlier one) unless the call
    /// has had `CODES_PER_CALL` codes already.
    fn store_code(
        &self,
        business_id: &str,
        call_id: &str,
        code: &PendingCode,
    ) -> impl Future<Output = Result<CodeIssue, PortError>> + Send;
    /// Checks a code the caller read back, counting the try atomically (a call has
    /// `CODE_ATTEMPTS` per code); a right code adds its number to the call's verified ones.
    fn check_code(
        &self,
        business_id: &str,
        call_id: &str,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<CodeCheck, PortError>> + Send;
    /// The numbers this call has proved.
    fn verified(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> impl Future<Output = Result<Vec<PhoneNumber>, PortError>> + Send;
}

/// Phones that asked for no more SMS: the business's own list (STOP) and the provider's.
pub trait OptOuts: Send + Sync {
    fn opted_out(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// What taking one unit of a quota gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaTaken {
    /// Taken (or taken before by the same taker): `used` units of the window are gone.
    Granted { used: u32 },
    /// The window's units are all taken: nothing was counted.
    Exhausted,
}

/// Counters that allow so many of something per window: bookings and changes per call, texts
/// per number per day (and, later, verification codes per number per hour). Atomic: two
/// concurrent takes never both get the last unit.
pub trait Quotas: Send + Sync {
    /// Takes one unit of the quota `key`, which allows `limit` units until `window_ends` (then
    /// it starts again from zero). The same `taker` again (a retried request) is granted
    /// without counting twice; give each distinct request its own taker.
    fn take(
        &self,
        key: &str,
        taker: &str,
        limit: u32,
        window_ends: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<QuotaTaken, PortError>> + Send;
    /// Gives back the unit `taker` took from `key` (its request then did nothing, e.g. the
    /// time was taken); nothing when it holds none.
    fn give_back(
        &self,
        key: &str,
        taker: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

//! In-memory ports for tests: as atomic as the real ones (one lock per store), and able to
//! fail on demand so the handlers' failure paths can be exercised.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::booking::{BookingRecord, CustomerRecord};
use crate::business::Business;
use crate::calls::CallRecord;
use crate::changes::{CalendarChange, ChangeDecision};
use crate::email::EmailAddress;
use crate::jobs::{BookingChange, BookingChangeJob, BookingJob, Job};
use crate::leads::LeadRecord;
use crate::phone::PhoneNumber;
use crate::ports::{
    BookingStore, BusinessDirectory, CallRoute, CallStore, ChangeApplied, Claim, Clock,
    ComponentHealth, CustomerContact, EmailSender, HealthProbe, IdempotencyStore, JobQueue,
    OptOuts, PortError, RecordOutcome, Reservation, Saved, SecretStore, SlotStore, SmsSender,
};
use crate::reference::BookingReference;
use crate::secrets::SecretRef;
use crate::slots::SlotCell;
use crate::templates::RenderedEmail;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A test that panicked while holding the lock must not hide the other failures.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Fails the next `n` calls, then succeeds.
#[derive(Debug, Default)]
pub struct Failures(AtomicUsize);

impl Failures {
    pub fn fail_next(&self, n: usize) {
        self.0.store(n, Ordering::SeqCst);
    }

    fn take(&self, operation: &'static str) -> Result<(), PortError> {
        let failed = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failed {
            Err(PortError::unavailable(operation, "injected failure"))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub jobs: Mutex<Vec<Job>>,
    pub failures: Failures,
}

impl MemoryQueue {
    pub fn sent(&self) -> Vec<Job> {
        lock(&self.jobs).clone()
    }
}

impl JobQueue for MemoryQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError> {
        self.failures.take("enqueue")?;
        lock(&self.jobs).extend_from_slice(jobs);
        Ok(())
    }
}

/// Bookings and customers, each keyed by (business, reference or phone).
type BookingState = (
    HashMap<(String, String), BookingRecord>,
    HashMap<(String, String), CustomerRecord>,
);

#[derive(Debug, Default)]
pub struct MemoryBookingStore {
    state: Mutex<BookingState>,
    pub failures: Failures,
    /// The calendar a change's cells are written to with its record (share it with the
    /// worker's `SlotStore`: `Arc<MemorySlotStore>`).
    pub calendar: Arc<MemorySlotStore>,
}

impl MemoryBookingStore {
    pub fn bookings(&self) -> Vec<BookingRecord> {
        lock(&self.state).0.values().cloned().collect()
    }

    pub fn customers(&self) -> Vec<CustomerRecord> {
        lock(&self.state).1.values().cloned().collect()
    }
}

impl BookingStore for MemoryBookingStore {
    async fn record_booking(
        &self,
        job: &BookingJob,
        now: DateTime<Utc>,
    ) -> Result<RecordOutcome, PortError> {
        self.failures.take("record booking")?;
        let mut state = lock(&self.state);
        let (bookings, customers) = &mut *state;
        let booking_key = (job.business_id.clone(), job.reference.to_string());
        if let Some(existing) = bookings.get(&booking_key) {
            return if existing.job_id == job.job_id {
                Ok(RecordOutcome::AlreadyRecorded)
            } else {
                Err(PortError::Conflict(format!(
                    "booking reference {} is taken by another job",
                    job.reference
                )))
            };
        }
        let customer_key = (job.business_id.clone(), job.customer.phone.to_string());
        let customer = CustomerRecord::after_booking(customers.get(&customer_key), job, now);
        customers.insert(customer_key, customer);
        bookings.insert(booking_key, BookingRecord::from_job(job, now));
        Ok(RecordOutcome::Recorded)
    }

    async fn booking(
        &self,
        business_id: &str,
        reference: &BookingReference,
    ) -> Result<Option<BookingRecord>, PortError> {
        Ok(lock(&self.state)
            .0
            .get(&(business_id.to_string(), reference.to_string()))
            .cloned())
    }

    async fn customer(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<CustomerRecord>, PortError> {
        Ok(lock(&self.state)
            .1
            .get(&(business_id.to_string(), phone.to_string()))
            .cloned())
    }

    async fn bookings_of(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        from: DateTime<Utc>,
    ) -> Result<Vec<BookingRecord>, PortError> {
        self.failures.take("read bookings")?;
        let mut found: Vec<BookingRecord> = lock(&self.state)
            .0
            .values()
            .filter(|b| b.business_id == business_id && b.customer_phone == *phone)
            .filter(|b| b.start_utc > from)
            .cloned()
            .collect();
        found.sort_by_key(|b| b.start_utc);
        Ok(found)
    }

    async fn apply_change(
        &self,
        job: &BookingChangeJob,
        now: DateTime<Utc>,
    ) -> Result<ChangeApplied, PortError> {
        self.failures.take("change booking")?;
        let mut state = lock(&self.state);
        let (bookings, customers) = &mut *state;
        let key = (job.business_id.clone(), job.reference.to_string());
        let Some(current) = bookings.get(&key).cloned() else {
            return Err(PortError::unavailable(
                "change booking",
                format!("booking {} is not recorded (yet)", job.reference),
            ));
        };
        Ok(match current.decide(job, now) {
            ChangeDecision::Apply {
                record,
                calendar,
                value_delta,
            } => {
                // The record and its calendar cells change together, as in DynamoDB.
                if let Err(refusal) =
                    self.calendar
                        .apply_calendar(&job.business_id, &job.reference, &calendar)
                {
                    return match refusal {
                        CalendarRefusal::Unavailable => Ok(ChangeApplied {
                            release: match &job.change {
                                BookingChange::Reschedule { reserved, .. } => reserved
                                    .iter()
                                    .filter(|c| !current.slot_cells.contains(c))
                                    .copied()
                                    .collect(),
                                BookingChange::Cancel { .. } => Vec::new(),
                            },
                            booking: current,
                            notify: false,
                        }),
                        CalendarRefusal::Inconsistent(what) => {
                            Err(PortError::unavailable("change booking", what))
                        }
                    };
                }
                if let Some(c) =
                    customers.get_mut(&(job.business_id.clone(), record.customer_phone.to_string()))
                {
                    c.lifetime_value_cents += value_delta;
                }
                bookings.insert(key, (*record).clone());
                ChangeApplied {
                    booking: *record,
                    release: Vec::new(),
                    notify: true,
                }
            }
            ChangeDecision::AlreadyApplied => ChangeApplied {
                booking: current,
                release: Vec::new(),
                notify: true,
            },
            ChangeDecision::Superseded { release } => ChangeApplied {
                booking: current,
                release,
                notify: false,
            },
        })
    }
}

impl MemoryBookingStore {
    /// Puts a booking as the booking worker would have recorded it.
    pub fn insert(&self, record: BookingRecord) {
        lock(&self.state).0.insert(
            (record.business_id.clone(), record.reference.to_string()),
            record,
        );
    }
}

/// Phones that opted out of SMS, per business.
#[derive(Debug, Default)]
pub struct MemoryOptOuts {
    pub phones: Mutex<Vec<(String, PhoneNumber)>>,
    pub failures: Failures,
}

impl OptOuts for MemoryOptOuts {
    async fn opted_out(&self, business_id: &str, phone: &PhoneNumber) -> Result<bool, PortError> {
        self.failures.take("read opt-outs")?;
        Ok(lock(&self.phones)
            .iter()
            .any(|(b, p)| b == business_id && p == phone))
    }
}

/// Stored businesses, found by the ids they claim.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    businesses: Mutex<Vec<Arc<Business>>>,
    pub failures: Failures,
}

impl MemoryDirectory {
    pub fn add(&self, business: Business) {
        lock(&self.businesses).push(Arc::new(business));
    }
}

impl BusinessDirectory for MemoryDirectory {
    async fn business_for(&self, route: CallRoute<'_>) -> Result<Option<Arc<Business>>, PortError> {
        self.failures.take("find business")?;
        Ok(lock(&self.businesses)
            .iter()
            .find(|b| match route {
                CallRoute::Assistant(id) => b.assistant_ids.iter().any(|a| a == id),
                CallRoute::PhoneNumber(id) => b.phone_number_ids.iter().any(|p| p == id),
            })
            .cloned())
    }

    async fn business(&self, id: &str) -> Result<Option<Arc<Business>>, PortError> {
        self.failures.take("find business")?;
        Ok(lock(&self.businesses).iter().find(|b| b.id == id).cloned())
    }
}

/// Calls, leads and the calls counted on customers, keyed by business and call id or phone.
#[derive(Debug, Default)]
pub struct MemoryCallStore {
    calls: Mutex<HashMap<(String, String), CallRecord>>,
    leads: Mutex<HashMap<(String, String), LeadRecord>>,
    /// Per (business, phone): calls counted and the last call id.
    pub contacts: Mutex<HashMap<(String, String), (u32, String)>>,
    pub failures: Failures,
    /// Makes the next `n` saves find a newer version (as a concurrent writer would).
    pub stale: Failures,
}

impl MemoryCallStore {
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.calls).values().cloned().collect()
    }

    pub fn leads(&self) -> Vec<LeadRecord> {
        lock(&self.leads).values().cloned().collect()
    }
}

fn is_next<T>(stored: Option<&T>, version: u64, of: impl Fn(&T) -> u64) -> bool {
    stored.map_or(0, of) + 1 == version
}

impl CallStore for MemoryCallStore {
    async fn call(
        &self,
        business_id: &str,
        call_id: &str,
    ) -> Result<Option<CallRecord>, PortError> {
        self.failures.take("read call")?;
        Ok(lock(&self.calls)
            .get(&(business_id.to_string(), call_id.to_string()))
            .cloned())
    }

    async fn save_call(
        &self,
        record: &CallRecord,
        contact: Option<&CustomerContact>,
    ) -> Result<Saved, PortError> {
        self.failures.take("save call")?;
        if self.stale.take("save call").is_err() {
            return Ok(Saved::Stale);
        }
        let mut calls = lock(&self.calls);
        let key = (record.business_id.clone(), record.call_id.clone());
        if !is_next(calls.get(&key), record.version, |c| c.version) {
            return Ok(Saved::Stale);
        }
        calls.insert(key, record.clone());
        if let Some(contact) = contact {
            let mut contacts = lock(&self.contacts);
            let entry = contacts
                .entry((record.business_id.clone(), contact.phone.to_string()))
                .or_insert((0, String::new()));
            entry.0 += 1;
            entry.1 = contact.call_id.clone();
        }
        Ok(Saved::Written)
    }

    async fn lead(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> Result<Option<LeadRecord>, PortError> {
        self.failures.take("read lead")?;
        Ok(lock(&self.leads)
            .get(&(business_id.to_string(), phone.to_string()))
            .cloned())
    }

    async fn save_lead(&self, lead: &LeadRecord) -> Result<Saved, PortError> {
        self.failures.take("save lead")?;
        let mut leads = lock(&self.leads);
        let key = (lead.business_id.clone(), lead.phone.to_string());
        if !is_next(leads.get(&key), lead.version, |l| l.version) {
            return Ok(Saved::Stale);
        }
        leads.insert(key, lead.clone());
        Ok(Saved::Written)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyState {
    InProgress {
        hash: String,
        until: DateTime<Utc>,
    },
    Completed {
        hash: String,
        result: String,
        until: DateTime<Utc>,
    },
}

#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    keys: Mutex<HashMap<String, KeyState>>,
    /// Fails claims (the store unreachable before any work is done).
    pub failures: Failures,
}

impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        payload_hash: &str,
        now: DateTime<Utc>,
        in_progress_for: Duration,
    ) -> Result<Claim, PortError> {
        self.failures.take("claim")?;
        let mut keys = lock(&self.keys);
        match keys.get(key) {
            Some(
                KeyState::Completed { hash, until, .. } | KeyState::InProgress { hash, until },
            ) if *until > now && hash != payload_hash => {
                return Ok(Claim::Mismatch);
            }
            Some(KeyState::Completed { result, until, .. }) if *until > now => {
                return Ok(Claim::Completed(result.clone()));
            }
            Some(KeyState::InProgress { until, .. }) if *until > now => {
                return Ok(Claim::InProgress);
            }
            _ => {}
        }
        keys.insert(
            key.to_string(),
            KeyState::InProgress {
                hash: payload_hash.to_string(),
                until: now + in_progress_for,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        key: &str,
        payload_hash: &str,
        result: &str,
        now: DateTime<Utc>,
        keep_for: Duration,
    ) -> Result<(), PortError> {
        lock(&self.keys).insert(
            key.to_string(),
            KeyState::Completed {
                hash: payload_hash.to_string(),
                result: result.to_string(),
                until: now + keep_for,
            },
        );
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        lock(&self.keys).remove(key);
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct MemorySms {
    pub sent: Mutex<Vec<(PhoneNumber, String)>>,
    pub failures: Failures,
}

impl SmsSender for MemorySms {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<String, PortError> {
        self.failures.take("send SMS")?;
        let mut sent = lock(&self.sent);
        sent.push((to.clone(), text.to_string()));
        Ok(format!("sms-{}", sent.len()))
    }
}

#[derive(Debug, Default)]
pub struct MemoryEmail {
    pub sent: Mutex<Vec<(EmailAddress, RenderedEmail)>>,
    pub failures: Failures,
}

impl EmailSender for MemoryEmail {
    async fn send_email(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, PortError> {
        self.failures.take("send email")?;
        let mut sent = lock(&self.sent);
        sent.push((to.clone(), email.clone()));
        Ok(format!("email-{}", sent.len()))
    }
}

/// Cells and the references holding them; one lock, so reserving is as atomic as a transaction.
#[derive(Debug, Default)]
pub struct MemorySlotStore {
    cells: Mutex<HashMap<(String, SlotCell), Vec<String>>>,
    /// (business, first cell, holder tag) → reference; changed only under the `cells` lock.
    holders: Mutex<HashMap<(String, SlotCell, String), String>>,
    pub failures: Failures,
}

impl MemorySlotStore {
    /// No cell is held by anyone.
    pub fn is_empty(&self) -> bool {
        lock(&self.cells).values().all(Vec::is_empty)
    }

    /// Frees every cell (benchmarks book the same slot over and over).
    pub fn clear(&self) {
        let mut cells = lock(&self.cells);
        lock(&self.holders).clear();
        cells.clear();
    }
}

/// Why a change's calendar part could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarRefusal {
    /// A cell of the new time is full.
    Unavailable,
    /// The calendar does not match the record (a cell to free is not held, a claim is taken).
    Inconsistent(String),
}

impl MemorySlotStore {
    /// Writes a change's calendar part: every condition checked first, then all of it, under
    /// the lock (DynamoDB does it in the change's transaction).
    pub fn apply_calendar(
        &self,
        business_id: &str,
        reference: &BookingReference,
        change: &CalendarChange,
    ) -> Result<(), CalendarRefusal> {
        let mut held = lock(&self.cells);
        let mut holders = lock(&self.holders);
        let key = |c: &SlotCell| (business_id.to_string(), *c);
        let holds = |refs: Option<&Vec<String>>| {
            refs.is_some_and(|r| r.iter().any(|x| x == reference.as_str()))
        };
        if let Some(cell) = change.release.iter().find(|c| !holds(held.get(&key(c)))) {
            return Err(CalendarRefusal::Inconsistent(format!(
                "{reference} does not hold {}",
                cell.key()
            )));
        }
        let full = change.reserve.iter().any(|c| {
            let refs = held.get(&key(c));
            holds(refs) || refs.map_or(0, Vec::len) >= change.capacity as usize
        });
        if full {
            return Err(CalendarRefusal::Unavailable);
        }
        if let Some((cell, tag)) = &change.claim
            && holders
                .get(&(business_id.to_string(), *cell, tag.clone()))
                .is_some_and(|r| r != reference.as_str())
        {
            return Err(CalendarRefusal::Inconsistent(format!(
                "the claim on {} is another booking's",
                cell.key()
            )));
        }
        for c in &change.release {
            if let Some(refs) = held.get_mut(&key(c)) {
                refs.retain(|x| x != reference.as_str());
            }
        }
        for c in &change.reserve {
            held.entry(key(c)).or_default().push(reference.to_string());
        }
        if let Some((cell, tag)) = &change.unclaim {
            holders.remove(&(business_id.to_string(), *cell, tag.clone()));
        }
        if let Some((cell, tag)) = &change.claim {
            holders.insert(
                (business_id.to_string(), *cell, tag.clone()),
                reference.to_string(),
            );
        }
        Ok(())
    }
}

impl SlotStore for MemorySlotStore {
    async fn reserve(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
    ) -> Result<Reservation, PortError> {
        self.failures.take("reserve slots")?;
        let mut held = lock(&self.cells);
        let key = |c: &SlotCell| (business_id.to_string(), *c);
        let holds = |refs: Option<&Vec<String>>| {
            refs.is_some_and(|r| r.iter().any(|x| x == reference.as_str()))
        };
        // The same rules as the DynamoDB store: no cells is an error; every cell already held
        // is a retry; a cell that is full or already held (but not all) refuses the lot.
        if cells.is_empty() {
            return Err(PortError::Conflict(
                "a booking must cover at least one slot".into(),
            ));
        }
        let claim = (business_id.to_string(), cells[0], holder.to_string());
        if let Some(existing) = lock(&self.holders)
            .get(&claim)
            .and_then(|r| BookingReference::parse(r))
        {
            return Ok(if existing == *reference {
                Reservation::AlreadyReserved
            } else {
                Reservation::HeldBy(existing)
            });
        }
        if cells.iter().all(|c| holds(held.get(&key(c)))) {
            return Ok(Reservation::AlreadyReserved);
        }
        let full = cells.iter().any(|c| {
            let refs = held.get(&key(c));
            holds(refs) || refs.map_or(0, Vec::len) >= capacity as usize
        });
        if full {
            return Ok(Reservation::Full);
        }
        for c in cells {
            let refs = held.entry(key(c)).or_default();
            if !refs.iter().any(|x| x == reference.as_str()) {
                refs.push(reference.to_string());
            }
        }
        if let Some(first) = cells.first() {
            lock(&self.holders).insert(
                (business_id.to_string(), *first, holder.to_string()),
                reference.to_string(),
            );
        }
        Ok(Reservation::Reserved)
    }

    async fn held_by(
        &self,
        business_id: &str,
        cell: &SlotCell,
        holder: &str,
    ) -> Result<Option<BookingReference>, PortError> {
        let _cells = lock(&self.cells);
        let holders = lock(&self.holders);
        Ok(holders
            .get(&(business_id.to_string(), *cell, holder.to_string()))
            .and_then(|r| BookingReference::parse(r)))
    }

    async fn release(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        reference: &BookingReference,
    ) -> Result<(), PortError> {
        let mut held = lock(&self.cells);
        for c in cells {
            if let Some(refs) = held.get_mut(&(business_id.to_string(), *c)) {
                refs.retain(|x| x != reference.as_str());
            }
        }
        // The holder's claim goes with the cell it sits on (a reschedule keeps the new one).
        lock(&self.holders).retain(|(b, c, _), r| {
            !(b == business_id && r == reference.as_str() && cells.contains(c))
        });
        Ok(())
    }

    async fn taken(
        &self,
        business_id: &str,
        day: NaiveDate,
    ) -> Result<Vec<(SlotCell, u32)>, PortError> {
        self.failures.take("read slots")?;
        let held = lock(&self.cells);
        let mut taken: Vec<(SlotCell, u32)> = held
            .iter()
            .filter(|((b, c), refs)| b == business_id && c.day == day && !refs.is_empty())
            .map(|((_, c), refs)| (*c, refs.len() as u32))
            .collect();
        taken.sort();
        Ok(taken)
    }
}

/// A health probe that reports what it is given.
#[derive(Debug, Default)]
pub struct StaticHealth(pub Vec<ComponentHealth>);

impl HealthProbe for StaticHealth {
    async fn check(&self) -> Vec<ComponentHealth> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    use super::*;
    use crate::slots::cells_for;

    fn reference(i: usize) -> BookingReference {
        BookingReference::derive(format!("r{i}").as_bytes())
    }

    fn at(h: u32, m: u32) -> Vec<SlotCell> {
        cells_for(
            New_York.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap(),
            60,
            30,
        )
    }

    #[tokio::test]
    async fn reserving_is_all_or_nothing_and_respects_capacity() {
        let store = MemorySlotStore::default();
        assert_eq!(
            store
                .reserve("b", &at(14, 0), 1, &reference(1), "tag")
                .await,
            Ok(Reservation::Reserved)
        );
        assert_eq!(
            store
                .reserve("b", &at(14, 0), 1, &reference(1), "tag")
                .await,
            Ok(Reservation::AlreadyReserved)
        );
        // 14:30 overlaps the 14:30 cell: full at capacity 1, and the 15:00 cell stays free.
        assert_eq!(
            store
                .reserve("b", &at(14, 30), 1, &reference(2), "tag")
                .await,
            Ok(Reservation::Full)
        );
        assert_eq!(store.taken("b", at(14, 0)[0].day).await.unwrap().len(), 2);
        assert_eq!(
            store
                .reserve("b", &at(14, 30), 2, &reference(2), "tag")
                .await,
            Ok(Reservation::Reserved)
        );
        // Another business has its own calendar.
        assert_eq!(
            store
                .reserve("other", &at(14, 0), 1, &reference(3), "tag")
                .await,
            Ok(Reservation::Reserved)
        );
        store.release("b", &at(14, 0), &reference(1)).await.unwrap();
        assert_eq!(
            store
                .reserve("b", &at(14, 0), 1, &reference(4), "tag")
                .await,
            Ok(Reservation::Full)
        );
        store
            .release("b", &at(14, 30), &reference(2))
            .await
            .unwrap();
        assert_eq!(
            store
                .reserve("b", &at(14, 0), 1, &reference(4), "tag")
                .await,
            Ok(Reservation::Reserved)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twenty_concurrent_reservations_of_one_slot_leave_one_booked() {
        let store = Arc::new(MemorySlotStore::default());
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .reserve("b", &at(14, 0), 1, &reference(i), "tag")
                        .await
                })
            })
            .collect();
        let mut reserved = 0;
        for t in tasks {
            if t.await.unwrap() == Ok(Reservation::Reserved) {
                reserved += 1;
            }
        }
        assert_eq!(reserved, 1);
    }
}

/// Secrets by reference; a reference not put here is "not found" (a conflict: retrying
/// will not make it appear).
#[derive(Debug, Default)]
pub struct MemorySecrets {
    pub secrets: Mutex<HashMap<SecretRef, String>>,
    /// How many reads reached the store.
    pub reads: AtomicUsize,
    pub failures: Failures,
}

impl MemorySecrets {
    pub fn with(secrets: &[(&str, &str)]) -> Self {
        let store = Self::default();
        for (reference, secret) in secrets {
            if let Ok(reference) = SecretRef::parse(reference) {
                lock(&store.secrets).insert(reference, secret.to_string());
            }
        }
        store
    }
}

impl SecretStore for MemorySecrets {
    async fn secret(&self, reference: &SecretRef) -> Result<String, PortError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.failures.take("read secret")?;
        lock(&self.secrets)
            .get(reference)
            .cloned()
            .ok_or_else(|| PortError::Conflict(format!("no secret at {reference}")))
    }
}

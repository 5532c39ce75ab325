//! In-memory ports for tests: as atomic as the real ones (one lock per store), and able to
//! fail on demand so the handlers' failure paths can be exercised.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::booking::{BookingRecord, CustomerRecord};
use crate::email::EmailAddress;
use crate::jobs::{BookingJob, Job};
use crate::phone::PhoneNumber;
use crate::ports::{
    BookingStore, Claim, Clock, ComponentHealth, EmailSender, HealthProbe, IdempotencyStore,
    JobQueue, PortError, RecordOutcome, SmsSender,
};
use crate::reference::BookingReference;
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyState {
    InProgress {
        until: DateTime<Utc>,
    },
    Completed {
        result: String,
        until: DateTime<Utc>,
    },
}

#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    keys: Mutex<HashMap<String, KeyState>>,
}

impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        in_progress_for: Duration,
    ) -> Result<Claim, PortError> {
        let mut keys = lock(&self.keys);
        match keys.get(key) {
            Some(KeyState::Completed { result, until }) if *until > now => {
                return Ok(Claim::Completed(result.clone()));
            }
            Some(KeyState::InProgress { until }) if *until > now => return Ok(Claim::InProgress),
            _ => {}
        }
        keys.insert(
            key.to_string(),
            KeyState::InProgress {
                until: now + in_progress_for,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        key: &str,
        result: &str,
        now: DateTime<Utc>,
        keep_for: Duration,
    ) -> Result<(), PortError> {
        lock(&self.keys).insert(
            key.to_string(),
            KeyState::Completed {
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

/// A health probe that reports what it is given.
#[derive(Debug, Default)]
pub struct StaticHealth(pub Vec<ComponentHealth>);

impl HealthProbe for StaticHealth {
    async fn check(&self) -> Vec<ComponentHealth> {
        self.0.clone()
    }
}

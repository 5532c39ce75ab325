//! In-memory ports for tests: as atomic as the real ones (one lock per store). To make one
//! fail, wrap it in `Faulty` (`testing::faults`): the one fault mechanism, shared with the dev
//! server.

mod bookings;
mod calendar;
mod calls;
mod directory;
mod followups;
mod idempotency;
mod metrics;
mod quotas;
mod senders;
mod verifications;

pub use bookings::MemoryBookingStore;
pub use calendar::{CalendarRefusal, MemorySlotStore};
pub use calls::{Countdown, MemoryCallStore};
pub use directory::{MemoryDirectory, MemorySecrets};
pub use followups::{MemoryLastReminders, MemorySchedules};
pub use idempotency::MemoryIdempotencyStore;
pub use metrics::{MemoryFigures, MemoryMetrics, RecordedMetrics, statistic};
pub use quotas::MemoryQuotas;
pub use senders::{MemoryEmail, MemoryOptOuts, MemorySms};
pub use verifications::MemoryVerifications;

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::jobs::Job;
use crate::ports::{Clock, ComponentHealth, HealthProbe, JobQueue, PortError};

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A test that panicked while holding the lock must not hide the other failures.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A clock stopped at one instant; it still waits for real (a repeat waiting for an answer).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }

    async fn sleep(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub jobs: Mutex<Vec<Job>>,
}

impl MemoryQueue {
    pub fn sent(&self) -> Vec<Job> {
        lock(&self.jobs).clone()
    }
}

impl JobQueue for MemoryQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError> {
        lock(&self.jobs).extend_from_slice(jobs);
        Ok(())
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

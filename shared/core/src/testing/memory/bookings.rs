//! Bookings and their customers.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{CalendarRefusal, MemorySlotStore, lock};
use crate::domain::booking::{BookingJob, BookingRecord, CustomerRecord};
use crate::domain::booking_change::{BookingChange, BookingChangeJob, ChangeDecision};
use crate::ports::{BookingStore, ChangeApplied, PortError, RecordOutcome};
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;

/// Bookings and customers, each keyed by (business, reference or phone).
type BookingState = (
    HashMap<(String, String), BookingRecord>,
    HashMap<(String, String), CustomerRecord>,
);

#[derive(Debug, Default)]
pub struct MemoryBookingStore {
    state: Mutex<BookingState>,
    /// The calendar a change's cells are written to with its record (share it with the
    /// worker's `SlotStore`: a clone of it is the same calendar).
    pub calendar: MemorySlotStore,
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
                                BookingChange::Cancel { .. }
                                | BookingChange::Confirm
                                | BookingChange::Ended { .. } => Vec::new(),
                            },
                            booking: current,
                            notify: false,
                            applied_now: false,
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
                    applied_now: true,
                }
            }
            ChangeDecision::AlreadyApplied => ChangeApplied {
                booking: current,
                release: Vec::new(),
                notify: true,
                applied_now: false,
            },
            ChangeDecision::Superseded { release } => ChangeApplied {
                booking: current,
                release,
                notify: false,
                applied_now: false,
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

//! The follow-ups' I/O: one-time schedules that put a job on the followup queue when it is
//! due, the opt-out list a customer's STOP and START write, and which booking a number was
//! last reminded of (what its C or X is about).

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::jobs::FollowUpJob;
use crate::values::phone::PhoneNumber;
use crate::values::reference::BookingReference;

use super::PortError;

/// One-time schedules (EventBridge Scheduler in AWS), named by what they are about
/// (`FollowUpJob::schedule_name`), each deleted after it fires.
pub trait FollowUpSchedules: Send + Sync {
    /// Creates the schedule of `job` to fire at its `due_at`, or moves the one of that name
    /// there (creating twice is harmless).
    fn put(&self, job: &FollowUpJob) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Deletes the schedule `name`; one already gone (fired, or never made) is fine.
    fn delete(&self, name: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The opt-outs the customer's texts change (`OptOuts` reads them).
pub trait OptOutList: Send + Sync {
    /// STOP: nothing more is texted to `phone` by any business of this deployment (the STOP
    /// went to the number they all text from); `business_id` is the one it answered.
    fn opt_out(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// START: texts resume, the number's opt-out and this business's own lifted (nothing
    /// when not opted out).
    fn opt_in(
        &self,
        business_id: &str,
        phone: &PhoneNumber,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The booking a number was last reminded of: what a reply from that number is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminded {
    pub business_id: String,
    pub reference: BookingReference,
    pub at: DateTime<Utc>,
}

pub trait LastReminders: Send + Sync {
    /// Remembers `reminded` as the last reminder to `phone` (a later one replaces it; an
    /// earlier one arriving late does not).
    fn remember(
        &self,
        phone: &PhoneNumber,
        reminded: &Reminded,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    fn last(
        &self,
        phone: &PhoneNumber,
    ) -> impl Future<Output = Result<Option<Reminded>, PortError>> + Send;
}

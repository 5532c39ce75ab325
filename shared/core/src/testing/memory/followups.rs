//! The follow-ups' ports in memory: schedules by name, the opt-out list (shared with
//! `MemoryOptOuts`'s reading), the last reminder per number.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use super::senders::{EVERY_BUSINESS, MemoryOptOuts};
use crate::jobs::FollowUpJob;
use crate::ports::{FollowUpSchedules, LastReminders, OptOutList, PortError, Reminded};
use crate::values::phone::PhoneNumber;

#[derive(Debug, Default)]
pub struct MemorySchedules {
    pub schedules: Mutex<BTreeMap<String, FollowUpJob>>,
}

impl MemorySchedules {
    /// The schedules waiting, by name.
    pub fn waiting(&self) -> BTreeMap<String, FollowUpJob> {
        lock(&self.schedules).clone()
    }

    /// Takes out the schedules due by `now`, as Scheduler fires (and deletes) them.
    pub fn fire_due(&self, now: DateTime<Utc>) -> Vec<FollowUpJob> {
        let mut schedules = lock(&self.schedules);
        let due: Vec<String> = schedules
            .iter()
            .filter(|(_, job)| job.due_at() <= now)
            .map(|(name, _)| name.clone())
            .collect();
        due.iter()
            .filter_map(|name| schedules.remove(name))
            .collect()
    }
}

impl FollowUpSchedules for MemorySchedules {
    async fn put(&self, job: &FollowUpJob) -> Result<(), PortError> {
        lock(&self.schedules).insert(job.schedule_name(), job.clone());
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), PortError> {
        lock(&self.schedules).remove(name);
        Ok(())
    }
}

/// A STOP by text opts the number out for every business (`EVERY_BUSINESS`), as in DynamoDB.
impl OptOutList for MemoryOptOuts {
    async fn opt_out(
        &self,
        _business_id: &str,
        phone: &PhoneNumber,
        _at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut phones = lock(&self.phones);
        if !phones
            .iter()
            .any(|(b, p)| b == EVERY_BUSINESS && p == phone)
        {
            phones.push((EVERY_BUSINESS.to_string(), phone.clone()));
        }
        Ok(())
    }

    async fn opt_in(&self, business_id: &str, phone: &PhoneNumber) -> Result<(), PortError> {
        lock(&self.phones)
            .retain(|(b, p)| !((b == business_id || b == EVERY_BUSINESS) && p == phone));
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct MemoryLastReminders {
    pub last: Mutex<BTreeMap<String, Reminded>>,
}

impl LastReminders for MemoryLastReminders {
    async fn remember(&self, phone: &PhoneNumber, reminded: &Reminded) -> Result<(), PortError> {
        let mut last = lock(&self.last);
        let newer = last
            .get(phone.as_str())
            .is_none_or(|before| before.at <= reminded.at);
        if newer {
            last.insert(phone.as_str().to_string(), reminded.clone());
        }
        Ok(())
    }

    async fn last(&self, phone: &PhoneNumber) -> Result<Option<Reminded>, PortError> {
        Ok(lock(&self.last).get(phone.as_str()).cloned())
    }
}

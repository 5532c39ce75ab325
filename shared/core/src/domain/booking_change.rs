//! A change to a recorded booking (reschedule or cancel): the job the webhook queues, and how
//! it applies to the stored record exactly once (`BookingRecord::decide`: pure; both stores
//! only do the I/O).

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::booking::{AuditEntry, BookingRecord, BookingStatus};
use crate::domain::followups::FollowUpSettings;
use crate::domain::limits::TextPermission;
use crate::values::reference::BookingReference;
use crate::values::slots::SlotCell;

/// A change a caller asked for on a booking they have; the booking worker applies it to the
/// record (with an audit entry), frees the calendar cells it no longer needs, and notifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingChangeJob {
    /// Stable across redeliveries; the audit trail records it, so a change applies once.
    pub job_id: String,
    pub business_id: String,
    pub business_name: String,
    pub reference: BookingReference,
    pub change: BookingChange,
    pub call_id: Option<String>,
    pub tool_call_id: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// Whether the booking's number may be texted (the business's `textCountries`).
    #[serde(default)]
    pub texts: TextPermission,
    /// The business's reminders (a reschedule moves them, a cancel deletes them); `None`:
    /// queued before them, or a change that leaves them (confirm, ended).
    #[serde(default)]
    pub followups: Option<FollowUpSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum BookingChange {
    #[serde(rename_all = "camelCase")]
    Cancel { reason: Option<String> },
    /// The new time and its cells.
    #[serde(rename_all = "camelCase")]
    Reschedule {
        start_utc: DateTime<Utc>,
        start_local: DateTime<FixedOffset>,
        slot_cells: Vec<SlotCell>,
        /// The cells the webhook reserved for it (those the booking did not hold then).
        #[serde(default)]
        reserved: Vec<SlotCell>,
        /// The holder claim of the new time (who booked it: see `SlotStore::reserve`).
        #[serde(default)]
        holder: Option<String>,
        /// The business's capacity, for cells that must be taken when the change applies.
        #[serde(default = "one")]
        capacity: u32,
    },
    /// The customer replied C to a reminder.
    Confirm,
    /// The appointment that started at `start_utc` has ended: marked for the business to
    /// confirm attendance (nothing when it was cancelled or moved since).
    #[serde(rename_all = "camelCase")]
    Ended { start_utc: DateTime<Utc> },
}

impl BookingChange {
    /// A change the customer hears of (a move or a cancel); a confirmation by text gets its
    /// own answer, and the end of an appointment none.
    pub fn notifies(&self) -> bool {
        matches!(self, Self::Cancel { .. } | Self::Reschedule { .. })
    }
}

fn one() -> u32 {
    1
}

/// The calendar side of a booking change, written in the same transaction as the record, so
/// the cells a booking holds are always the cells its record names (plus the new time's cells
/// the webhook reserved for a change still on its way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarChange {
    /// Cells the booking gives up (each held by it).
    pub release: Vec<SlotCell>,
    /// Cells of the new time it does not hold yet (an earlier change freed them after the
    /// webhook looked): taken now, within `capacity`, or the change cannot apply.
    pub reserve: Vec<SlotCell>,
    pub capacity: u32,
    /// The old start's holder claim to drop: (its first cell, holder tag).
    pub unclaim: Option<(SlotCell, String)>,
    /// The new start's holder claim: (its first cell, holder tag).
    pub claim: Option<(SlotCell, String)>,
}

impl CalendarChange {
    /// Every cell this change touches, once each (a transaction may touch an item once).
    pub fn cells(&self) -> Vec<SlotCell> {
        let mut cells: Vec<SlotCell> = self
            .release
            .iter()
            .chain(&self.reserve)
            .copied()
            .chain(self.unclaim.iter().map(|(c, _)| *c))
            .chain(self.claim.iter().map(|(c, _)| *c))
            .collect();
        cells.sort();
        cells.dedup();
        cells
    }
}

/// What applying a change job to a stored booking comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeDecision {
    /// Write `record` and `calendar` together, conditionally on the record's version;
    /// `value_delta` adjusts the customer's lifetime value.
    Apply {
        record: Box<BookingRecord>,
        calendar: CalendarChange,
        value_delta: i64,
    },
    /// This job was applied before (a redelivery): nothing to write; its notifications are
    /// asked for again (deduplicated downstream).
    AlreadyApplied,
    /// Nothing to apply: the booking was cancelled meanwhile, a newer change won, or it is
    /// already at that time. The cells the webhook reserved for this job and the booking
    /// does not use are freed (`release`); nobody is notified.
    Superseded { release: Vec<SlotCell> },
}

impl BookingRecord {
    /// Decides what `job` does to this booking (pure: the store writes the result).
    pub fn decide(&self, job: &BookingChangeJob, now: DateTime<Utc>) -> ChangeDecision {
        if self
            .audit
            .iter()
            .any(|e| e.job_id.as_deref() == Some(job.job_id.as_str()))
        {
            return ChangeDecision::AlreadyApplied;
        }
        let not_used = |cells: &[SlotCell]| -> Vec<SlotCell> {
            cells
                .iter()
                .filter(|c| !self.slot_cells.contains(c))
                .copied()
                .collect()
        };
        let newer_change_applied = self
            .audit
            .iter()
            .any(|e| e.requested_at.is_some_and(|at| at > job.requested_at));
        let old_claim = match (self.slot_cells.first(), &self.holder) {
            (Some(cell), Some(tag)) => Some((*cell, tag.clone())),
            _ => None,
        };
        let mut record = self.clone();
        record.version = self.version + 1;
        record.updated_at = now;
        // Noted without `requested_at`: neither orders the moves and cancels.
        let note = |record: &mut BookingRecord, note: &str| {
            record.audit.push(AuditEntry {
                at: now,
                status: self.status,
                note: note.to_string(),
                job_id: Some(job.job_id.clone()),
                requested_at: None,
                released: Vec::new(),
            });
        };
        let unchanged = || ChangeDecision::Superseded {
            release: Vec::new(),
        };
        match &job.change {
            BookingChange::Confirm
                if self.status == BookingStatus::Cancelled
                    || self.confirmed_by_customer_at.is_some() =>
            {
                unchanged()
            }
            BookingChange::Confirm => {
                record.confirmed_by_customer_at = Some(now);
                note(&mut record, "confirmed by the customer's text reply");
                ChangeDecision::Apply {
                    record: Box::new(record),
                    calendar: CalendarChange::default(),
                    value_delta: 0,
                }
            }
            BookingChange::Ended { start_utc }
                if self.status == BookingStatus::Cancelled
                    || *start_utc != self.start_utc
                    || self.attendance.is_some() =>
            {
                unchanged()
            }
            BookingChange::Ended { .. } => {
                record.attendance = Some(crate::domain::booking::Attendance::ToConfirm);
                note(&mut record, "ended: attendance to confirm");
                ChangeDecision::Apply {
                    record: Box::new(record),
                    calendar: CalendarChange::default(),
                    value_delta: 0,
                }
            }
            BookingChange::Cancel { .. } if self.status == BookingStatus::Cancelled => {
                ChangeDecision::Superseded {
                    release: Vec::new(),
                }
            }
            BookingChange::Cancel { reason } => {
                record.status = BookingStatus::Cancelled;
                record.holder = None;
                record.audit.push(AuditEntry {
                    at: now,
                    status: BookingStatus::Cancelled,
                    note: match reason {
                        Some(r) => format!("cancelled by phone assistant: {r}"),
                        None => "cancelled by phone assistant".to_string(),
                    },
                    job_id: Some(job.job_id.clone()),
                    requested_at: Some(job.requested_at),
                    released: self.slot_cells.clone(),
                });
                ChangeDecision::Apply {
                    record: Box::new(record),
                    calendar: CalendarChange {
                        release: self.slot_cells.clone(),
                        reserve: Vec::new(),
                        capacity: 0,
                        unclaim: old_claim,
                        claim: None,
                    },
                    value_delta: -(self.price_cents.unwrap_or(0) as i64),
                }
            }
            BookingChange::Reschedule { reserved, .. }
                if self.status == BookingStatus::Cancelled || newer_change_applied =>
            {
                ChangeDecision::Superseded {
                    release: not_used(reserved),
                }
            }
            BookingChange::Reschedule {
                start_utc,
                reserved,
                ..
            } if *start_utc == self.start_utc => ChangeDecision::Superseded {
                release: not_used(reserved),
            },
            BookingChange::Reschedule {
                start_utc,
                start_local,
                slot_cells,
                reserved,
                holder,
                capacity,
            } => {
                let release: Vec<SlotCell> = self
                    .slot_cells
                    .iter()
                    .filter(|c| !slot_cells.contains(c))
                    .copied()
                    .collect();
                let reserve: Vec<SlotCell> = slot_cells
                    .iter()
                    .filter(|c| !self.slot_cells.contains(c) && !reserved.contains(c))
                    .copied()
                    .collect();
                record.status = BookingStatus::Rescheduled;
                // A confirmation and an attendance mark were about the old time.
                record.confirmed_by_customer_at = None;
                record.attendance = None;
                record.start_utc = *start_utc;
                record.start_local = *start_local;
                record.slot_cells = slot_cells.clone();
                record.holder = holder.clone();
                record.audit.push(AuditEntry {
                    at: now,
                    status: BookingStatus::Rescheduled,
                    note: format!(
                        "moved from {} to {} by phone assistant",
                        self.start_local.to_rfc3339(),
                        start_local.to_rfc3339()
                    ),
                    job_id: Some(job.job_id.clone()),
                    requested_at: Some(job.requested_at),
                    released: release.clone(),
                });
                let claim = match (slot_cells.first(), holder) {
                    (Some(cell), Some(tag)) => Some((*cell, tag.clone())),
                    _ => None,
                };
                ChangeDecision::Apply {
                    record: Box::new(record),
                    calendar: CalendarChange {
                        release,
                        reserve,
                        capacity: *capacity,
                        unclaim: old_claim.filter(|old| Some(old) != claim.as_ref()),
                        claim,
                    },
                    value_delta: 0,
                }
            }
        }
    }
}

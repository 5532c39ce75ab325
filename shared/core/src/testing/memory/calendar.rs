//! The business calendar's cells.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use super::lock;
use crate::domain::booking_change::CalendarChange;
use crate::ports::{PortError, Reservation, SlotStore};
use crate::values::reference::BookingReference;
use crate::values::slots::SlotCell;

/// Cells and the references holding them; one lock, so reserving is as atomic as a transaction.
/// A clone is the same calendar (the booking store writes a change's cells to the calendar
/// the booking worker frees).
#[derive(Debug, Default, Clone)]
pub struct MemorySlotStore {
    cells: Arc<Mutex<Cells>>,
    /// (business, first cell, holder tag) → reference; changed only under the `cells` lock.
    holders: Arc<Mutex<Holders>>,
    /// (business, reference) → the request that claimed it; changed only under `cells`.
    references: Arc<Mutex<HashMap<(String, String), String>>>,
}

/// (business, cell) → the references holding it.
type Cells = HashMap<(String, SlotCell), Vec<String>>;
/// (business, first cell, holder tag) → reference.
type Holders = HashMap<(String, SlotCell, String), String>;

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

impl MemorySlotStore {
    /// `reserve`, under the cells' lock the caller holds.
    fn reserve_in(
        &self,
        held: &mut Cells,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
    ) -> Result<Reservation, PortError> {
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
        let mut held = lock(&self.cells);
        self.reserve_in(&mut held, business_id, cells, capacity, reference, holder)
    }

    async fn reserve_new(
        &self,
        business_id: &str,
        cells: &[SlotCell],
        capacity: u32,
        reference: &BookingReference,
        holder: &str,
        claimant: &str,
    ) -> Result<Reservation, PortError> {
        let mut held = lock(&self.cells);
        let key = (business_id.to_string(), reference.to_string());
        if lock(&self.references)
            .get(&key)
            .is_some_and(|by| by != claimant)
        {
            return Ok(Reservation::ReferenceTaken);
        }
        let reserved =
            self.reserve_in(&mut held, business_id, cells, capacity, reference, holder)?;
        if reserved == Reservation::Reserved {
            lock(&self.references).insert(key, claimant.to_string());
        }
        Ok(reserved)
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

#[cfg(test)]
mod tests {

    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    use super::*;
    use crate::values::slots::cells_for;

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
    async fn a_new_booking_claims_its_reference_once_per_business() {
        let store = MemorySlotStore::default();
        let r = reference(1);
        let nine = at(9, 0);
        let new = |claimant| store.reserve_new("b", &nine, 1, &r, "tag", claimant);
        assert_eq!(new("first").await, Ok(Reservation::Reserved));
        // Another request with the same reference, at a free time: refused, nothing held.
        assert_eq!(
            store
                .reserve_new("b", &at(11, 0), 1, &r, "tag-2", "second")
                .await,
            Ok(Reservation::ReferenceTaken)
        );
        assert_eq!(store.taken("b", at(11, 0)[0].day).await.unwrap().len(), 2);
        // The same request again passes its own claim; another business may use it.
        assert_eq!(new("first").await, Ok(Reservation::AlreadyReserved));
        assert_eq!(
            store
                .reserve_new("other", &at(9, 0), 1, &r, "tag", "second")
                .await,
            Ok(Reservation::Reserved)
        );
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

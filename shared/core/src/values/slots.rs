//! Slots: the grid cells an appointment occupies. A booking reserves every cell its duration
//! overlaps, each holding at most `capacity` bookings (staff or rooms), atomically: all cells or
//! none. Cells are keyed by their UTC start, so clock changes cannot merge or split them.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// One grid cell of a business's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotCell {
    /// The local day it belongs to (the partition availability is read by).
    pub day: NaiveDate,
    pub start_utc: DateTime<Utc>,
}

impl SlotCell {
    /// The cell's sort key: its UTC start to the minute, e.g. `2026-11-25T19:00Z`.
    pub fn key(&self) -> String {
        self.start_utc.format("%Y-%m-%dT%H:%MZ").to_string()
    }
}

/// The cells an appointment of `minutes` from `start` overlaps on a `step_minutes` grid.
pub fn cells_for(start: DateTime<Tz>, minutes: u32, step_minutes: u32) -> Vec<SlotCell> {
    let step = i64::from(step_minutes.max(1));
    let zone = start.timezone();
    // The cell the start falls in: back to the grid line at or before it.
    let into_cell = i64::from(start.hour() * 60 + start.minute()) % step;
    let first = start.with_timezone(&Utc)
        - Duration::minutes(into_cell)
        - Duration::seconds(i64::from(start.second()))
        - Duration::nanoseconds(i64::from(start.nanosecond()));
    let end = start.with_timezone(&Utc) + Duration::minutes(i64::from(minutes));
    let mut cells = Vec::new();
    let mut at = first;
    while at < end && cells.len() < 1_000 {
        cells.push(SlotCell {
            day: at.with_timezone(&zone).date_naive(),
            start_utc: at,
        });
        at += Duration::minutes(step);
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    fn ny(d: u32, h: u32, m: u32) -> DateTime<Tz> {
        New_York.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    fn keys(cells: &[SlotCell]) -> Vec<String> {
        cells.iter().map(SlotCell::key).collect()
    }

    #[test]
    fn an_hour_on_a_half_hour_grid_takes_two_cells() {
        assert_eq!(
            keys(&cells_for(ny(25, 14, 0), 60, 30)),
            ["2026-11-25T19:00Z", "2026-11-25T19:30Z"]
        );
        assert_eq!(
            cells_for(ny(25, 14, 0), 60, 30)[0].day,
            NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
        );
    }

    #[test]
    fn an_off_grid_start_blocks_every_cell_it_overlaps() {
        // 14:15 for 30 minutes touches the 14:00 and 14:30 cells.
        assert_eq!(
            keys(&cells_for(ny(25, 14, 15), 30, 30)),
            ["2026-11-25T19:00Z", "2026-11-25T19:30Z"]
        );
        // 14:00 for 45 minutes: 14:00 and 14:30.
        assert_eq!(cells_for(ny(25, 14, 0), 45, 30).len(), 2);
        assert_eq!(cells_for(ny(25, 14, 0), 30, 30).len(), 1);
    }

    #[test]
    fn overlapping_bookings_share_a_cell() {
        let a = cells_for(ny(25, 14, 0), 60, 30);
        let b = cells_for(ny(25, 14, 30), 60, 30);
        assert!(a.iter().any(|c| b.contains(c)));
        let c = cells_for(ny(25, 15, 0), 60, 30);
        assert!(!a.iter().any(|x| c.contains(x)));
    }

    #[test]
    fn cells_keep_their_local_day_across_utc_midnight() {
        // 19:30 in New York is 00:30 UTC the next day; the cell still belongs to the 25th.
        let cells = cells_for(ny(25, 19, 30), 30, 30);
        assert_eq!(cells[0].key(), "2026-11-26T00:30Z");
        assert_eq!(cells[0].day, NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
    }
}

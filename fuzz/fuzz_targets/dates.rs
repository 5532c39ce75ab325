//! Spoken or written dates and times → `resolve_date`, `parse_time`, `resolve_start`: a value
//! or an error, never a panic. Input: `<date>\n<time>` (no newline: the whole input is both).
//! Each pair is resolved at a few fixed call-start instants, around DST changes and year and
//! leap-day ends, in New York, London and Chatham (+12:45/+13:45), with both date orders.
#![no_main]

use callbook_core::{parse_time, resolve_date, resolve_start};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

const ZONES: [Tz; 3] = [
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Pacific::Chatham,
];

static NOWS: LazyLock<Vec<DateTime<Utc>>> = LazyLock::new(|| {
    [
        (2026, 11, 24, 15, 0, 0),  // a Tuesday afternoon (never_panics.rs's clock)
        (2026, 3, 8, 6, 30, 0),    // 01:30 in New York, half an hour before the spring gap
        (2026, 10, 25, 0, 30, 0),  // 01:30 BST in London, the hour that repeats after it
        (2026, 12, 31, 23, 30, 0), // the year's last half hour (already 1 Jan in Chatham)
        (2028, 2, 29, 12, 0, 0),   // a leap day
    ]
    .iter()
    .map(|&(y, mo, d, h, mi, s)| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let (date, time) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let date = String::from_utf8_lossy(date);
    let time = String::from_utf8_lossy(time);
    let _ = parse_time(&date);
    let _ = parse_time(&time);
    for &now in NOWS.iter() {
        for zone in ZONES {
            let today = now.with_timezone(&zone).date_naive();
            for month_first in [true, false] {
                let _ = resolve_date(&date, today, month_first);
                let _ = resolve_start(&date, &time, zone, now, month_first);
            }
        }
    }
});

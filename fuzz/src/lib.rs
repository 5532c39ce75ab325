//! What the fuzz targets share: the businesses the tool parsers answer for, and one call that
//! feeds a set of arguments to every tool-argument parser, as the webhook does
//! (`shared/core/tests/never_panics.rs` drives the same functions with proptest).

use std::sync::LazyLock;

use callbook_core::availability_request;
use callbook_core::book_appointment_request;
use callbook_core::Business;
use callbook_core::{cancel_request, reschedule_request};
use callbook_core::capture_lead_request;
use callbook_core::CallContext;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

fn business(settings: &'static [(&'static str, &'static str)]) -> Business {
    Business::from_lookup(&|name: &str| {
        settings
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
    .expect("the fuzz businesses' settings are valid")
}

const SERVICES: &str = "Consultation=60@150; Cleaning|Hygiene=30@90";

/// A US business (America/New_York, 11/28 dates, Saturday mornings) and a UK one
/// (Europe/London, 28/11 dates, an evening session, 15-minute slots), both with the services
/// never_panics.rs uses.
pub static BUSINESSES: LazyLock<[Business; 2]> = LazyLock::new(|| {
    [
        business(&[
            ("BUSINESS_SERVICES", SERVICES),
            (
                "BUSINESS_OPENING_HOURS",
                "Mon-Fri 09:00-17:00; Sat 10:00-14:00",
            ),
        ]),
        business(&[
            ("BUSINESS_TIME_ZONE", "Europe/London"),
            ("DEFAULT_PHONE_REGION", "GB"),
            ("BUSINESS_SERVICES", SERVICES),
            ("BUSINESS_OPENING_HOURS", "Mon-Fri 08:30-18:00,19:00-21:00"),
            ("SLOT_MINUTES", "15"),
        ]),
    ]
});

/// The clock the tool parsers are given: a Tuesday afternoon, as in never_panics.rs.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// Every tool-argument parser on one set of arguments; each answers a value or an error.
pub fn all_tool_parsers(args: &Map<String, Value>, call: &CallContext, now: DateTime<Utc>) {
    for b in BUSINESSES.iter() {
        let _ = book_appointment_request(args, call, b, now);
        let _ = availability_request(args, call, b, now);
        let _ = reschedule_request(args, call, b);
        let _ = cancel_request(args, call, b);
        let _ = capture_lead_request(args, call, call.call_id.as_deref(), b, now);
    }
}

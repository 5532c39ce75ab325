//! A business's limits on what callers can make it send: the countries its texts may go to,
//! and how many bookings and changes a call, or a number in a day, may make. Settings only;
//! the rules that use them are in `domain::limits`.

use crate::values::config::{ConfigError, number, setting};
use crate::values::countries::TextCountries;
use crate::values::phone::PhoneRegion;

/// Bookings and changes one call may make: enough for a family's appointments, few enough
/// that one call cannot flood a number.
pub const DEFAULT_CHANGES_PER_CALL: u32 = 3;
/// Texts one number may get in a day (one per booking, move or cancel): a real customer
/// rarely needs more than a handful; ten bounds what any number of calls can send to a
/// stranger's phone, and the business's cost, while leaving room for a family's bookings.
pub const DEFAULT_TEXTS_PER_NUMBER_PER_DAY: u32 = 10;

/// A business's limits on what callers can make it send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerLimits {
    /// Where texts may go (default: the business's own country).
    pub text_countries: TextCountries,
    /// Bookings, moves and cancellations per call.
    pub changes_per_call: u32,
    /// Texts (bookings, moves and cancellations) per destination number per day.
    pub texts_per_number_per_day: u32,
}

impl CallerLimits {
    /// `TEXT_COUNTRIES` ("US,CA"), `CHANGES_PER_CALL`, `TEXTS_PER_NUMBER_PER_DAY`.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        region: PhoneRegion,
    ) -> Result<Self, ConfigError> {
        let text_countries = match setting(lookup, "TEXT_COUNTRIES") {
            None => TextCountries::home(region),
            Some(raw) => TextCountries::parse(&raw).map_err(|e| ConfigError::Invalid {
                name: "TEXT_COUNTRIES",
                reason: e.to_string(),
            })?,
        };
        Ok(Self {
            text_countries,
            changes_per_call: number(lookup, "CHANGES_PER_CALL", DEFAULT_CHANGES_PER_CALL, 1..=50)?,
            texts_per_number_per_day: number(
                lookup,
                "TEXTS_PER_NUMBER_PER_DAY",
                DEFAULT_TEXTS_PER_NUMBER_PER_DAY,
                1..=100,
            )?,
        })
    }
}

//! What a caller can make the business send: texts only to the countries the business allows,
//! and a limited number of bookings and changes (each sends a text and an email) per call and
//! per number per day. The webhook takes one unit of each limit before it reserves anything
//! (`Quotas`, an atomic counter), so a caller who reached one holds nothing.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::business::Business;
use crate::values::countries::country_of;
use crate::values::phone::PhoneNumber;
use crate::values::recipient::Recipient;
use crate::values::reference::stable_id;

/// Whether the customer's number may be texted, decided by the webhook from the business's
/// `text_countries` and carried by the booking and change jobs to the booking worker, which
/// then queues the email alone. Jobs queued before this rule read as `Allowed`; a number of
/// no country is never texted whatever a job says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TextPermission {
    #[default]
    Allowed,
    NotToThatCountry,
}

impl TextPermission {
    /// Whether a message to `recipient` may be sent: emails always.
    pub fn keeps(self, recipient: &Recipient) -> bool {
        match recipient {
            Recipient::Sms { phone } => self == Self::Allowed && country_of(phone).is_some(),
            Recipient::Email { .. } => true,
        }
    }
}

impl Business {
    /// Whether this business texts `phone` (its `textCountries`).
    pub fn texts_to(&self, phone: &PhoneNumber) -> TextPermission {
        if self.limits.text_countries.allows(phone) {
            TextPermission::Allowed
        } else {
            TextPermission::NotToThatCountry
        }
    }
}

/// Which limit a unit is taken from: each has its own sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    PerCall,
    PerNumberPerDay,
    /// Caller codes to one number in an hour.
    CodesPerNumberPerHour,
    /// Caller codes the business texts in an hour, to any numbers.
    CodesPerHour,
}

/// One unit to take from a limit: its counter's key (no phone number in clear), how many
/// units it allows, and when its window ends (the counter then starts again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitUnit {
    pub kind: LimitKind,
    pub key: String,
    pub limit: u32,
    pub window_ends: DateTime<Utc>,
}

/// The units a booking, move or cancellation takes: one from the call's limit (when the call
/// has an id) and, for a booking, one from the destination number's limit for the business's
/// local day (`texted`). A move or cancel is made by a caller acting for the booking's own
/// number, so it texts only them: counting it there would let a stranger who booked in
/// someone's name use up their day and keep them from cancelling.
pub fn units_for_change(
    business: &Business,
    call_id: Option<&str>,
    texted: Option<&PhoneNumber>,
    now: DateTime<Utc>,
) -> Vec<LimitUnit> {
    let mut units = Vec::with_capacity(2);
    if let Some(call_id) = call_id.filter(|id| !id.is_empty()) {
        units.push(LimitUnit {
            kind: LimitKind::PerCall,
            key: format!(
                "quota#{}#call#{}",
                business.id,
                stable_id(call_id.as_bytes())
            ),
            limit: business.limits.changes_per_call,
            // No call lasts a day; the counter then goes.
            window_ends: now + Duration::days(1),
        });
    }
    if let Some(texted) = texted {
        units.push(texts_today(business, texted, now));
    }
    units
}

/// A unit of the texts `texted` may get in the business's local day.
pub fn texts_today(business: &Business, texted: &PhoneNumber, now: DateTime<Utc>) -> LimitUnit {
    let local = now.with_timezone(&business.zone);
    let day = local.date_naive();
    let midnight = day
        .succ_opt()
        .and_then(|next| {
            next.and_time(NaiveTime::MIN)
                .and_local_timezone(business.zone)
                .earliest()
        })
        .map_or(now + Duration::days(1), |t| t.with_timezone(&Utc));
    LimitUnit {
        kind: LimitKind::PerNumberPerDay,
        key: format!(
            "quota#{}#texts#{}#{day}",
            business.id,
            stable_id(format!("{}|{}", business.id, texted).as_bytes())
        ),
        limit: business.limits.texts_per_number_per_day,
        window_ends: midnight,
    }
}

/// What the caller hears when a limit is reached: nothing was booked or changed.
pub fn limit_reached(kind: LimitKind, business: &Business) -> String {
    match kind {
        LimitKind::PerCall => format!(
            "I can make at most {} bookings or changes in one call, so I haven't done that one; please call us again for anything more.",
            business.limits.changes_per_call
        ),
        LimitKind::PerNumberPerDay => "That number has had as many messages from us as we send in one day, so I haven't booked or changed anything; please try again tomorrow.".to_string(),
        LimitKind::CodesPerNumberPerHour | LimitKind::CodesPerHour => TOO_MANY_CODES.to_string(),
    }
}

/// A caller code refused by one of its limits (verifyCaller).
pub const TOO_MANY_CODES: &str = "I've sent as many codes as I can for now. Please call back from the number the booking was made with, or try again later.";

/// Said after a booking whose number the business does not text.
pub const NO_TEXTS_THERE: &str =
    "Texts can't go to that number's country, so your confirmation will come by email only.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::config::ConfigError;
    use chrono::TimeZone;

    fn business(settings: &'static [(&'static str, &'static str)]) -> Business {
        Business::from_lookup(&|name: &str| {
            settings
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::try_from(raw.to_string()).unwrap()
    }

    #[test]
    fn limits_default_to_the_home_country_three_per_call_and_ten_a_day() {
        let b = business(&[]);
        assert_eq!(b.limits.text_countries.codes(), ["US"]);
        assert_eq!(b.limits.changes_per_call, 3);
        assert_eq!(b.limits.texts_per_number_per_day, 10);
        let b = business(&[
            ("DEFAULT_PHONE_REGION", "GB"),
            ("TEXT_COUNTRIES", "GB, IE"),
            ("CHANGES_PER_CALL", "5"),
        ]);
        assert_eq!(b.limits.text_countries.codes(), ["GB", "IE"]);
        assert_eq!(b.limits.changes_per_call, 5);
        let bad = Business::from_lookup(&|name: &str| {
            (name == "TEXT_COUNTRIES").then(|| "US, Narnia".to_string())
        });
        assert!(matches!(
            bad,
            Err(ConfigError::Invalid {
                name: "TEXT_COUNTRIES",
                ..
            })
        ));
    }

    #[test]
    fn a_business_file_names_its_text_countries_and_limits() {
        let file = include_str!("../../../../infra/business.example.json");
        let mut profile: crate::domain::business::BusinessProfile =
            serde_json::from_str(file).unwrap();
        let b = Business::from_profile(&profile).unwrap();
        assert_eq!(b.limits.text_countries.codes(), ["GB", "IE"]);
        assert!(b.texts_to(&phone("+353861234567")) == TextPermission::Allowed);
        assert!(b.texts_to(&phone("+17025551234")) == TextPermission::NotToThatCountry);
        profile.text_countries = vec!["Narnia".into()];
        assert!(matches!(
            Business::from_profile(&profile),
            Err(ConfigError::Invalid {
                name: "textCountries",
                ..
            })
        ));
        profile.text_countries.clear();
        profile.changes_per_call = Some(0);
        assert!(Business::from_profile(&profile).is_err());
    }

    #[test]
    fn a_change_takes_from_the_call_and_from_the_number_until_local_midnight() {
        let b = business(&[("BUSINESS_TIME_ZONE", "America/New_York")]);
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap(); // 18:30 in New York
        let units = units_for_change(&b, Some("call-1"), Some(&phone("+17025551234")), now);
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].kind, LimitKind::PerCall);
        assert_eq!(units[0].limit, 3);
        assert_eq!(units[1].kind, LimitKind::PerNumberPerDay);
        assert!(units[1].key.ends_with("#2026-11-30"), "{}", units[1].key);
        assert!(!units[1].key.contains("7025551234"), "no number in clear");
        assert_eq!(
            units[1].window_ends,
            Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap()
        );
        // Without a call id only the number's limit applies.
        assert_eq!(
            units_for_change(&b, None, Some(&phone("+17025551234")), now).len(),
            1
        );
        assert!(limit_reached(LimitKind::PerCall, &b).contains("at most 3"));
        // A move or cancel counts on the call only.
        let change = units_for_change(&b, Some("call-1"), None, now);
        assert_eq!(
            change.iter().map(|u| u.kind).collect::<Vec<_>>(),
            [LimitKind::PerCall]
        );
    }
}

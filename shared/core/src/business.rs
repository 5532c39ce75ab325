//! The business an assistant answers for, and configuration read from the environment.

use chrono_tz::Tz;
use thiserror::Error;

use crate::hours::OpeningHours;
use crate::phone::{PhoneNumber, PhoneRegion};
use crate::services::Services;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads one setting; `lookup` is the environment in Lambda and the provisioned stack locally.
pub fn setting(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    setting(lookup, name).ok_or(ConfigError::Missing(name))
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    match setting(lookup, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not a number in {range:?}"),
            }),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Business {
    pub id: String,
    pub name: String,
    pub zone: Tz,
    pub hours: OpeningHours,
    pub phone_region: PhoneRegion,
    /// How long an appointment lasts.
    pub appointment_minutes: u32,
    /// The grid appointments start on.
    pub slot_minutes: u32,
    /// What callers may book; empty accepts any service at `appointment_minutes`.
    pub services: Services,
    /// How many appointments may run at once (staff or rooms).
    pub capacity: u32,
    /// The Vapi assistant that answers this business's calls (for `assistant-request`).
    pub assistant_id: Option<String>,
    /// Where a caller is transferred when the assistant hands over to a person.
    pub transfer_number: Option<PhoneNumber>,
}

impl Business {
    /// The default business of a single-business install.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let zone_name =
            setting(lookup, "BUSINESS_TIME_ZONE").unwrap_or_else(|| "America/New_York".into());
        let zone: Tz = zone_name.parse().map_err(|_| ConfigError::Invalid {
            name: "BUSINESS_TIME_ZONE",
            reason: format!("{zone_name:?} is not an IANA time zone"),
        })?;
        let hours = setting(lookup, "BUSINESS_OPENING_HOURS")
            .unwrap_or_else(|| "Mon-Fri 09:00-17:00".into())
            .parse()
            .map_err(|e: crate::hours::HoursError| ConfigError::Invalid {
                name: "BUSINESS_OPENING_HOURS",
                reason: e.to_string(),
            })?;
        let region = setting(lookup, "DEFAULT_PHONE_REGION").unwrap_or_else(|| "US".into());
        let phone_region = PhoneRegion::from_code(&region).map_err(|e| ConfigError::Invalid {
            name: "DEFAULT_PHONE_REGION",
            reason: e.to_string(),
        })?;
        let id = setting(lookup, "BUSINESS_ID").unwrap_or_else(|| "default".into());
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::Invalid {
                name: "BUSINESS_ID",
                reason: "use letters, digits, - and _".into(),
            });
        }
        let transfer_number = setting(lookup, "TRANSFER_PHONE_NUMBER")
            .map(|raw| PhoneNumber::parse(&raw, phone_region))
            .transpose()
            .map_err(|e| ConfigError::Invalid {
                name: "TRANSFER_PHONE_NUMBER",
                reason: e.to_string(),
            })?;
        let business = Self {
            id,
            name: setting(lookup, "BUSINESS_NAME").unwrap_or_else(|| "our office".into()),
            zone,
            hours,
            phone_region,
            appointment_minutes: number(lookup, "APPOINTMENT_MINUTES", 60, 5..=720)?,
            slot_minutes: number(lookup, "SLOT_MINUTES", 30, 5..=240)?,
            services: setting(lookup, "BUSINESS_SERVICES")
                .unwrap_or_default()
                .parse()
                .map_err(|e: crate::services::ServicesError| ConfigError::Invalid {
                    name: "BUSINESS_SERVICES",
                    reason: e.to_string(),
                })?,
            capacity: number(lookup, "BUSINESS_CAPACITY", 1, 1..=100)?,
            assistant_id: setting(lookup, "VAPI_ASSISTANT_ID"),
            transfer_number,
        };
        business.validate()?;
        Ok(business)
    }
}

/// DynamoDB's limit of items in one transaction: a booking's cells plus nothing else.
const MAX_CELLS_PER_BOOKING: u32 = 100;

impl Business {
    /// Settings that parse but cannot work together.
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.hours.on_grid(self.slot_minutes) {
            return Err(ConfigError::Invalid {
                name: "BUSINESS_OPENING_HOURS",
                reason: format!(
                    "opening and closing times must fall on the {}-minute slot grid (SLOT_MINUTES)",
                    self.slot_minutes
                ),
            });
        }
        let longest = self
            .services
            .list()
            .iter()
            .map(|s| s.minutes)
            .chain([self.appointment_minutes])
            .max()
            .unwrap_or(0);
        // An off-grid start can touch one cell more than the length needs.
        if longest.div_ceil(self.slot_minutes) + 1 > MAX_CELLS_PER_BOOKING {
            return Err(ConfigError::Invalid {
                name: "SLOT_MINUTES",
                reason: format!(
                    "a {longest}-minute appointment would span more than {MAX_CELLS_PER_BOOKING} slots; use longer slots"
                ),
            });
        }
        Ok(())
    }
}

/// The service a booking is for, as the catalogue names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenService {
    pub name: String,
    pub minutes: u32,
    pub price_cents: Option<u64>,
}

impl Business {
    /// The service a caller asked for; `Err` is a sentence listing what is offered.
    pub fn service(&self, asked: &str) -> Result<ChosenService, String> {
        if self.services.is_empty() {
            return Ok(ChosenService {
                name: asked.trim().to_string(),
                minutes: self.appointment_minutes,
                price_cents: None,
            });
        }
        self.services
            .find(asked)
            .map(|s| ChosenService {
                name: s.name.clone(),
                minutes: s.minutes,
                price_cents: s.price_cents,
            })
            .ok_or_else(|| {
                format!(
                    "We don't offer {}. We offer {}; which would you like?",
                    asked.trim(),
                    self.services.spoken()
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_describe_a_weekday_business_in_new_york() {
        let b = Business::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(b.zone, chrono_tz::America::New_York);
        assert_eq!(b.id, "default");
        assert_eq!(b.hours.spoken(), "Monday to Friday, 9:00 AM to 5:00 PM");
    }

    #[test]
    fn bad_settings_are_named() {
        let err =
            Business::from_lookup(&lookup(&[("BUSINESS_TIME_ZONE", "Mars/Olympus")])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "BUSINESS_TIME_ZONE",
                ..
            }
        ));
        let err = Business::from_lookup(&lookup(&[("APPOINTMENT_MINUTES", "0")])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "APPOINTMENT_MINUTES",
                ..
            }
        ));
        let err = Business::from_lookup(&lookup(&[("BUSINESS_ID", "a#b")])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "BUSINESS_ID",
                ..
            }
        ));
        assert_eq!(
            required(&lookup(&[("X", " ")]), "SENDER_EMAIL"),
            Err(ConfigError::Missing("SENDER_EMAIL"))
        );
    }

    #[test]
    fn services_resolve_from_the_catalogue() {
        let b = Business::from_lookup(&lookup(&[(
            "BUSINESS_SERVICES",
            "Consultation=60@150; Cleaning|Hygiene=30",
        )]))
        .unwrap();
        assert_eq!(
            b.service("hygiene"),
            Ok(ChosenService {
                name: "Cleaning".into(),
                minutes: 30,
                price_cents: None
            })
        );
        assert_eq!(
            b.service("massage"),
            Err(
                "We don't offer massage. We offer Consultation and Cleaning; which would you like?"
                    .into()
            )
        );
        let open = Business::from_lookup(&lookup(&[])).unwrap();
        assert_eq!(
            open.service(" Anything ").unwrap(),
            ChosenService {
                name: "Anything".into(),
                minutes: 60,
                price_cents: None
            }
        );
        let err =
            Business::from_lookup(&lookup(&[("BUSINESS_SERVICES", "Consultation")])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "BUSINESS_SERVICES",
                ..
            }
        ));
    }

    #[test]
    fn settings_that_cannot_work_together_are_refused() {
        let err = Business::from_lookup(&lookup(&[
            ("BUSINESS_OPENING_HOURS", "Mon-Fri 08:30-17:30"),
            ("SLOT_MINUTES", "60"),
        ]))
        .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "BUSINESS_OPENING_HOURS",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            Business::from_lookup(&lookup(&[(
                "BUSINESS_OPENING_HOURS",
                "Mon-Fri 08:30-17:30"
            )]))
            .is_ok()
        );
        let err = Business::from_lookup(&lookup(&[
            ("BUSINESS_SERVICES", "Retreat=720"),
            ("SLOT_MINUTES", "5"),
        ]))
        .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "SLOT_MINUTES",
                    ..
                }
            ),
            "{err}"
        );
    }
}

//! The business an assistant answers for, and configuration read from the environment.

use chrono_tz::Tz;

use serde::{Deserialize, Serialize};

use crate::domain::followups::FollowUpSettings;
use crate::domain::services::Services;
use crate::values::config::{ConfigError, number, setting};
use crate::values::email::EmailAddress;
use crate::values::hours::OpeningHours;
use crate::values::limits::CallerLimits;
use crate::values::name::plain_words;
use crate::values::phone::{PhoneNumber, PhoneRegion};
use crate::values::recipient::Recipient;
use crate::values::secrets::SecretRef;
use crate::values::speech::Refusal;

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
    /// Who at the business hears of new bookings and leads (besides the caller's own SMS
    /// and email).
    pub owner_email: Option<EmailAddress>,
    pub owner_phone: Option<PhoneNumber>,
    /// The Vapi assistants and phone numbers whose calls are this business's (stored
    /// businesses only; the default business takes every call no stored one claims).
    pub assistant_ids: Vec<String>,
    pub phone_number_ids: Vec<String>,
    /// The business's own webhook secrets (one, or two while rotating): its calls must
    /// carry one of these instead of the deployment's. Empty: the deployment's secret.
    pub webhook_secrets: Vec<SecretRef>,
    /// Where texts may go, and how many bookings and changes a call or a number may make.
    pub limits: CallerLimits,
    /// Reminders, quiet hours, replies by text and the lead follow-up.
    pub followups: FollowUpSettings,
}

/// The longest id a business, an assistant or a phone number may have. Vapi's ids are UUIDs
/// (36 characters); the bound keeps what a stranger can make us look up, and cache, small.
pub const MAX_ROUTE_ID_LEN: usize = 64;

/// An id a business, an assistant or a phone number may have: 1 to [`MAX_ROUTE_ID_LEN`] ASCII
/// letters, digits, `-` and `_` (a UUID, or a readable id such as `asst-smile-london`). The
/// webhook looks up no other id before authentication.
pub fn is_route_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ROUTE_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
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
            .map_err(|e: crate::values::hours::HoursError| ConfigError::Invalid {
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
                .map_err(
                    |e: crate::domain::services::ServicesError| ConfigError::Invalid {
                        name: "BUSINESS_SERVICES",
                        reason: e.to_string(),
                    },
                )?,
            capacity: number(lookup, "BUSINESS_CAPACITY", 1, 1..=100)?,
            assistant_id: setting(lookup, "VAPI_ASSISTANT_ID"),
            transfer_number,
            owner_email: setting(lookup, "OWNER_EMAIL")
                .map(|raw| EmailAddress::parse(&raw))
                .transpose()
                .map_err(|e| ConfigError::Invalid {
                    name: "OWNER_EMAIL",
                    reason: e.to_string(),
                })?,
            owner_phone: setting(lookup, "OWNER_PHONE")
                .map(|raw| PhoneNumber::parse(&raw, phone_region))
                .transpose()
                .map_err(|e| ConfigError::Invalid {
                    name: "OWNER_PHONE",
                    reason: e.to_string(),
                })?,
            assistant_ids: Vec::new(),
            phone_number_ids: Vec::new(),
            webhook_secrets: Vec::new(),
            limits: CallerLimits::from_lookup(lookup, phone_region)?,
            followups: FollowUpSettings::from_lookup(lookup)?,
        };
        business.validate()?;
        Ok(business)
    }
}

/// One service in a business file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceProfile {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub minutes: u32,
    /// In the business's currency, e.g. 150 or 89.50.
    #[serde(default)]
    pub price: Option<f64>,
}

/// A business as its file and its stored record describe it (`make load-business`). The
/// same settings as the default business's environment, named for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessProfile {
    pub id: String,
    pub name: String,
    /// IANA zone, e.g. Europe/London.
    pub time_zone: String,
    /// Per weekday: "Mon-Fri 09:00-17:00; Sat 10:00-14:00".
    pub opening_hours: String,
    /// ISO region for numbers said without a country code (and the date order): US, GB...
    #[serde(default)]
    pub phone_region: Option<String>,
    #[serde(default)]
    pub appointment_minutes: Option<u32>,
    #[serde(default)]
    pub slot_minutes: Option<u32>,
    /// How many appointments may run at once (staff or rooms); 1 when absent.
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub services: Vec<ServiceProfile>,
    /// Vapi assistant ids whose calls belong here; the first answers `assistant-request`.
    #[serde(default)]
    pub assistant_ids: Vec<String>,
    /// Vapi phone number ids whose calls belong here.
    #[serde(default)]
    pub phone_number_ids: Vec<String>,
    #[serde(default)]
    pub transfer_number: Option<String>,
    #[serde(default)]
    pub owner_email: Option<String>,
    #[serde(default)]
    pub owner_phone: Option<String>,
    /// Where the business's own webhook secret is kept, when its Vapi account signs with its
    /// own: `ssm:<parameter>` or `secretsmanager:<secret id>`; two while rotating.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_secrets: Vec<String>,
    /// ISO countries texts may go to; the business's own (`phoneRegion`) when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_countries: Vec<String>,
    /// Bookings and changes one call may make (3 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_per_call: Option<u32>,
    /// Texts one number may get in a day (10 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texts_per_number_per_day: Option<u32>,
    /// When reminders go before an appointment: ["24h", "2h"] when absent; [] for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Vec<String>>,
    /// Local hours no reminder goes in: "21:00-08:00" when absent; "off" for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<String>,
    /// Whether reminders invite "Reply C to confirm or X to cancel" (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_replies: Option<bool>,
    /// The local time a lead who did not book hears back the next day the business is
    /// open: "10:00" when absent; "off" for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_follow_up_at: Option<String>,
}

/// Which profile field an environment setting comes from, for errors in its words.
const PROFILE_FIELDS: &[(&str, &str)] = &[
    ("BUSINESS_ID", "id"),
    ("BUSINESS_NAME", "name"),
    ("BUSINESS_TIME_ZONE", "timeZone"),
    ("BUSINESS_OPENING_HOURS", "openingHours"),
    ("DEFAULT_PHONE_REGION", "phoneRegion"),
    ("APPOINTMENT_MINUTES", "appointmentMinutes"),
    ("SLOT_MINUTES", "slotMinutes"),
    ("BUSINESS_CAPACITY", "capacity"),
    ("BUSINESS_SERVICES", "services"),
    ("VAPI_ASSISTANT_ID", "assistantIds"),
    ("TRANSFER_PHONE_NUMBER", "transferNumber"),
    ("OWNER_EMAIL", "ownerEmail"),
    ("OWNER_PHONE", "ownerPhone"),
    ("TEXT_COUNTRIES", "textCountries"),
    ("CHANGES_PER_CALL", "changesPerCall"),
    ("TEXTS_PER_NUMBER_PER_DAY", "textsPerNumberPerDay"),
    ("REMINDERS", "reminders"),
    ("QUIET_HOURS", "quietHours"),
    ("SMS_REPLIES", "smsReplies"),
    ("LEAD_FOLLOW_UP_AT", "leadFollowUpAt"),
];

/// Longest list of assistant or phone number ids one business may claim.
pub const MAX_ROUTES: usize = 20;

impl BusinessProfile {
    /// The services as the environment spells them: `Name|Alias=MINUTES@PRICE; ...`.
    fn services_spec(&self) -> Result<String, ConfigError> {
        let mut entries = Vec::new();
        for s in &self.services {
            let names: Vec<&str> = std::iter::once(s.name.as_str())
                .chain(s.aliases.iter().map(String::as_str))
                .collect();
            if names.iter().any(|n| n.contains(['|', '=', '@', ';'])) {
                return Err(ConfigError::Invalid {
                    name: "services",
                    reason: format!("{:?}: names may not contain | = @ or ;", s.name),
                });
            }
            let price = match s.price {
                Some(p) if p.is_finite() && p >= 0.0 => {
                    format!("@{:.2}", (p * 100.0).round() / 100.0)
                }
                Some(p) => {
                    return Err(ConfigError::Invalid {
                        name: "services",
                        reason: format!("{}: {p} is not a price", s.name),
                    });
                }
                None => String::new(),
            };
            entries.push(format!("{}={}{price}", names.join("|"), s.minutes));
        }
        Ok(entries.join("; "))
    }
}

impl Business {
    /// A stored (or loaded) business, checked by the same rules as the default one.
    pub fn from_profile(profile: &BusinessProfile) -> Result<Self, ConfigError> {
        let services = profile.services_spec()?;
        let number = |n: Option<u32>| n.map(|n| n.to_string());
        let lookup = |name: &str| -> Option<String> {
            match name {
                "BUSINESS_ID" => Some(profile.id.clone()),
                "BUSINESS_NAME" => Some(profile.name.clone()),
                "BUSINESS_TIME_ZONE" => Some(profile.time_zone.clone()),
                "BUSINESS_OPENING_HOURS" => Some(profile.opening_hours.clone()),
                "DEFAULT_PHONE_REGION" => profile.phone_region.clone(),
                "APPOINTMENT_MINUTES" => number(profile.appointment_minutes),
                "SLOT_MINUTES" => number(profile.slot_minutes),
                "BUSINESS_CAPACITY" => number(profile.capacity),
                "BUSINESS_SERVICES" => Some(services.clone()),
                "VAPI_ASSISTANT_ID" => profile.assistant_ids.first().cloned(),
                "TRANSFER_PHONE_NUMBER" => profile.transfer_number.clone(),
                "OWNER_EMAIL" => profile.owner_email.clone(),
                "OWNER_PHONE" => profile.owner_phone.clone(),
                "TEXT_COUNTRIES" => Some(profile.text_countries.join(",")),
                "CHANGES_PER_CALL" => number(profile.changes_per_call),
                "TEXTS_PER_NUMBER_PER_DAY" => number(profile.texts_per_number_per_day),
                "REMINDERS" => profile.reminders.as_ref().map(|r| {
                    if r.is_empty() {
                        "off".to_string()
                    } else {
                        r.join(",")
                    }
                }),
                "QUIET_HOURS" => profile.quiet_hours.clone(),
                "SMS_REPLIES" => profile
                    .sms_replies
                    .map(|on| if on { "on" } else { "off" }.to_string()),
                "LEAD_FOLLOW_UP_AT" => profile.lead_follow_up_at.clone(),
                _ => None,
            }
        };
        let in_profile_words = |e: ConfigError| {
            let field = |env: &str| {
                PROFILE_FIELDS
                    .iter()
                    .find(|(from, _)| *from == env)
                    .map_or("business", |(_, to)| to)
            };
            match e {
                ConfigError::Missing(n) => ConfigError::Missing(field(n)),
                ConfigError::Invalid { name, reason } => ConfigError::Invalid {
                    name: field(name),
                    reason,
                },
                other @ ConfigError::Unreadable { .. } => other,
            }
        };
        if profile.name.trim().is_empty() {
            return Err(ConfigError::Missing("name"));
        }
        let valid_id = |id: &String| is_route_id(id);
        if !valid_id(&profile.id) {
            return Err(ConfigError::Invalid {
                name: "id",
                reason: format!("use 1 to {MAX_ROUTE_ID_LEN} letters, digits, - and _"),
            });
        }
        for (name, ids) in [
            ("assistantIds", &profile.assistant_ids),
            ("phoneNumberIds", &profile.phone_number_ids),
        ] {
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            if unique.len() != ids.len() {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "an id is listed twice".into(),
                });
            }
            if ids.len() > MAX_ROUTES || !ids.iter().all(valid_id) {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!(
                        "at most {MAX_ROUTES} ids of 1 to {MAX_ROUTE_ID_LEN} letters, digits, - and _"
                    ),
                });
            }
        }
        if profile.webhook_secrets.len() > 2 {
            return Err(ConfigError::Invalid {
                name: "webhookSecrets",
                reason: "at most two (the current one and the one being rotated out)".into(),
            });
        }
        let webhook_secrets = profile
            .webhook_secrets
            .iter()
            .map(|raw| SecretRef::parse(raw))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::Invalid {
                name: "webhookSecrets",
                reason: e.to_string(),
            })?;
        if webhook_secrets.iter().any(|r| !r.readable_by_webhook()) {
            return Err(ConfigError::Invalid {
                name: "webhookSecrets",
                reason: "the webhook may read only ssm:/callbook/... and secretsmanager:callbook/... (see template.yaml)".into(),
            });
        }
        let mut business = Self::from_lookup(&lookup).map_err(in_profile_words)?;
        business.assistant_ids = profile.assistant_ids.clone();
        business.phone_number_ids = profile.phone_number_ids.clone();
        business.webhook_secrets = webhook_secrets;
        Ok(business)
    }

    /// Who at the business hears of new bookings and leads.
    pub fn owner_recipients(&self) -> Vec<Recipient> {
        let mut to = Vec::new();
        if let Some(phone) = &self.owner_phone {
            to.push(Recipient::Sms {
                phone: phone.clone(),
            });
        }
        if let Some(email) = &self.owner_email {
            to.push(Recipient::Email {
                email: email.clone(),
            });
        }
        to
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
    pub fn service(&self, asked: &str) -> Result<ChosenService, Refusal> {
        if self.services.is_empty() {
            // Said back in texts and emails: words only, never a link.
            let name = plain_words(asked).ok_or_else(|| {
                Refusal::from("Which service is the appointment for? Please say it in a few words.")
            })?;
            return Ok(ChosenService {
                name,
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
                Refusal::new(format!(
                    "We don't offer {}. We offer {}; which would you like?",
                    asked.trim(),
                    self.services.spoken()
                ))
            })
    }
}

#[cfg(test)]
mod tests;

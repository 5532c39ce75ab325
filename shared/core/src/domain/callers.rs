//! Who is calling. The number Vapi reports for the call is the caller; a phone number in a
//! tool's arguments is a claim about which booking is meant, never who is asking. A booking is
//! read, moved or cancelled from its own number, or by a call that proved it holds that
//! number: a one-time code texted there and read back (`verifyCaller`).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Map, Value};

use crate::domain::business::Business;
use crate::domain::limits::{LimitKind, LimitUnit, texts_today};
use crate::values::phone::PhoneNumber;
use crate::values::reference::stable_id;
use crate::values::speech::Refusal;
use crate::vapi::envelope::CallContext;
use crate::vapi::tools::VERIFY_CALLER;

/// A code is good for ten minutes, and three wrong tries end it.
pub const CODE_VALID_FOR: Duration = Duration::minutes(10);
pub const CODE_ATTEMPTS: u32 = 3;
/// At most this many codes are texted during one call, and to one number in an hour.
pub const CODES_PER_CALL: u32 = 3;
pub const CODES_PER_NUMBER_PER_HOUR: u32 = 3;
/// Codes a business texts in an hour, to any numbers: far above a small business's callers
/// who call from another phone, far below what SMS pumping would want.
pub const CODES_PER_HOUR: u32 = 30;
pub const CODE_DIGITS: usize = 6;

/// The caller, as far as this call has shown: the number it comes from (absent for a web
/// call or a withheld number) and the numbers it proved it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub calling_from: Option<PhoneNumber>,
    pub verified: Vec<PhoneNumber>,
}

impl Caller {
    /// The caller as Vapi reports the call; nothing verified yet.
    pub fn of_call(call: &CallContext, business: &Business) -> Self {
        Self {
            calling_from: call
                .calling_number()
                .and_then(|n| PhoneNumber::parse(n, business.phone_region).ok()),
            verified: Vec::new(),
        }
    }

    /// Whether the caller may read and change what belongs to `phone`.
    pub fn acts_for(&self, phone: &PhoneNumber) -> bool {
        self.calling_from.as_ref() == Some(phone) || self.verified.contains(phone)
    }
}

/// A code as texted: six digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerCode(String);

impl CallerCode {
    pub fn generate(rng: &mut impl Rng) -> Self {
        Self(
            (0..CODE_DIGITS)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect(),
        )
    }

    /// What a caller reads back: the digits, whatever is between them.
    pub fn parse(raw: &str) -> Option<Self> {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        (digits.len() == CODE_DIGITS
            && raw
                .chars()
                .all(|c| c.is_ascii_digit() || " -.,".contains(c)))
        .then_some(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: never the code itself. The call and number are in the hash, so a code
    /// is good only for the call and number it was sent for.
    pub fn hash(&self, business_id: &str, call_id: &str, phone: &PhoneNumber) -> String {
        stable_id(format!("code|{business_id}|{call_id}|{phone}|{}", self.0).as_bytes())
    }
}

/// verifyCaller's arguments: the number to prove, and the code once the caller has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    pub phone: PhoneNumber,
    pub code: Option<CallerCode>,
}

pub fn verify_request(
    args: &Map<String, Value>,
    business: &Business,
) -> Result<VerifyRequest, Refusal> {
    let args = VERIFY_CALLER.arguments(args);
    let phone = args
        .text("phoneNumber")?
        .ok_or_else(|| Refusal::from("Which phone number was the booking made with?"))?;
    let phone = PhoneNumber::parse_spoken(&phone, business.phone_region)?;
    let code = match args.text("code")? {
        None => None,
        Some(raw) => Some(CallerCode::parse(&raw).ok_or_else(|| {
            Refusal::from("The code has six digits. Could you read it to me again?")
        })?),
    };
    Ok(VerifyRequest { phone, code })
}

/// A code texted during a call, as stored for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    pub phone: PhoneNumber,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// What checking a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the call now acts for this number.
    Verified(PhoneNumber),
    /// Wrong, with this many tries left.
    Wrong { attempts_left: u32 },
    /// Past its ten minutes.
    Expired,
    /// Three wrong tries ended it.
    NoAttemptsLeft,
    /// No code was sent for that number during this call.
    NoCode,
}

impl CodeCheck {
    /// For logs: the outcome without the number.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Verified(_) => "verified",
            Self::Wrong { .. } => "wrong",
            Self::Expired => "expired",
            Self::NoAttemptsLeft => "no attempts left",
            Self::NoCode => "no code",
        }
    }
}

/// Whether the code was stored (then texted) or this call has had its share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeIssue {
    Stored,
    TooManyForCall,
}

/// The units a code texted to `phone` takes: one of the number's codes this hour, one of the
/// texts it may get today (codes count with bookings), and one of the business's codes this
/// hour, so no caller can make the business text codes in bulk (SMS pumping). No number is
/// in a key in clear.
pub fn units_for_code(
    business: &Business,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Vec<LimitUnit> {
    let hour = now.timestamp().div_euclid(3600);
    let ends = DateTime::from_timestamp((hour + 1) * 3600, 0).unwrap_or(now);
    let number = stable_id(format!("{}|{phone}", business.id).as_bytes());
    vec![
        LimitUnit {
            kind: LimitKind::CodesPerNumberPerHour,
            key: format!("quota#{}#codes#{number}#{hour}", business.id),
            limit: CODES_PER_NUMBER_PER_HOUR,
            window_ends: ends,
        },
        texts_today(business, phone, now),
        LimitUnit {
            kind: LimitKind::CodesPerHour,
            key: format!("quota#{}#codes#{hour}", business.id),
            limit: CODES_PER_HOUR,
            window_ends: ends,
        },
    ]
}

/// The last four digits, as a receptionist would say them back.
pub fn last_digits(phone: &PhoneNumber) -> &str {
    let s = phone.as_str();
    &s[s.len().saturating_sub(4)..]
}

/// What the caller hears, case by case.
pub mod sentences {
    use super::*;

    pub fn code_sent(phone: &PhoneNumber) -> String {
        format!(
            "I've texted a six-digit code to the number ending in {}. Please read it to me when it arrives.",
            last_digits(phone)
        )
    }

    pub fn verified(phone: &PhoneNumber) -> String {
        format!(
            "Thank you, that's confirmed. I can now help with bookings made with the number ending in {}.",
            last_digits(phone)
        )
    }

    pub const ALREADY_YOURS: &str =
        "You're calling from that number, so there's nothing to confirm. How can I help?";
    pub const NO_CALL: &str = "I can only confirm a phone number during a phone call. Please call us from the number the booking was made with.";
    pub use crate::domain::limits::TOO_MANY_CODES;
    pub const EXPIRED: &str = "That code has expired. I can send a new one if you'd like.";
    pub const NO_ATTEMPTS_LEFT: &str = "That code can't be used any more after too many tries. I can send a new one if you'd like.";
    pub const NO_CODES_THERE: &str = "Texts can't go to that number's country, so I can't send a code there. Please call us from the number the booking was made with.";
    pub const NO_CODE: &str =
        "I haven't sent a code for that number on this call yet. Shall I send one?";

    pub fn wrong_code(attempts_left: u32) -> String {
        match attempts_left {
            0 => NO_ATTEMPTS_LEFT.to_string(),
            1 => "That code isn't right. You have one more try.".to_string(),
            n => format!("That code isn't right. You have {n} more tries."),
        }
    }

    /// A booking the caller may not see, or none: the same words either way, so a number or a
    /// reference cannot be tested for existence.
    pub const NOT_FOUND_OR_NOT_YOURS: &str = "I couldn't find an upcoming booking with those details that I can change on this call. If it was made with another phone number, I can text a code to that number to confirm it's yours.";

    /// Bookings of a number the caller does not call from and has not proved.
    pub const ANOTHER_NUMBER: &str = "For your privacy I can only look up bookings made with the number you're calling from. If the booking was made with another number, I can text a code to that number to confirm it's yours.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::phone::PhoneRegion;
    use rand::{SeedableRng, rngs::StdRng};

    fn us() -> PhoneRegion {
        PhoneRegion::from_code("US").unwrap()
    }

    #[test]
    fn codes_are_six_digits_and_read_back_forgivingly() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let code = CallerCode::generate(&mut rng);
            assert_eq!(code.as_str().len(), 6);
            assert_eq!(CallerCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(CallerCode::parse("12 34-56").unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12a456", "", "one two three"] {
            assert_eq!(CallerCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_code_hash_is_bound_to_its_call_and_number() {
        let code = CallerCode::parse("123456").unwrap();
        let a = PhoneNumber::parse("+17025551234", us()).unwrap();
        let b = PhoneNumber::parse("+17025559999", us()).unwrap();
        let h = code.hash("biz", "call-1", &a);
        assert_ne!(h, code.hash("biz", "call-2", &a));
        assert_ne!(h, code.hash("biz", "call-1", &b));
        assert!(!h.contains("123456"));
    }

    #[test]
    fn a_code_counts_per_number_and_hour_on_the_days_texts_and_per_business_hour() {
        let business = Business::from_lookup(&|_: &str| None).unwrap();
        let a = PhoneNumber::parse("+17025551234", us()).unwrap();
        let b = PhoneNumber::parse("+17025559999", us()).unwrap();
        let at = |h, m| {
            DateTime::parse_from_rfc3339(&format!("2026-11-24T{h:02}:{m:02}:00Z"))
                .unwrap()
                .to_utc()
        };
        let units = units_for_code(&business, &a, at(15, 10));
        let kinds: Vec<LimitKind> = units.iter().map(|u| u.kind).collect();
        assert_eq!(
            kinds,
            [
                LimitKind::CodesPerNumberPerHour,
                LimitKind::PerNumberPerDay,
                LimitKind::CodesPerHour
            ]
        );
        assert_eq!(
            units_for_code(&business, &a, at(15, 59))[0].key,
            units[0].key
        );
        assert_ne!(
            units_for_code(&business, &a, at(16, 0))[0].key,
            units[0].key
        );
        assert_ne!(
            units_for_code(&business, &b, at(15, 10))[0].key,
            units[0].key
        );
        assert_eq!(
            units_for_code(&business, &b, at(15, 10))[2].key,
            units[2].key
        );
        assert_eq!(units[0].window_ends, at(16, 0));
        assert!(units.iter().all(|u| !u.key.contains("7025551234")));
    }

    #[test]
    fn the_caller_acts_for_its_own_and_verified_numbers_only() {
        let own = PhoneNumber::parse("+17025551234", us()).unwrap();
        let other = PhoneNumber::parse("+17025559999", us()).unwrap();
        let mut caller = Caller {
            calling_from: Some(own.clone()),
            verified: vec![],
        };
        assert!(caller.acts_for(&own));
        assert!(!caller.acts_for(&other));
        caller.verified.push(other.clone());
        assert!(caller.acts_for(&other));
        assert!(!Caller::default().acts_for(&own));
    }
}

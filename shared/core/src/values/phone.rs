//! Phone numbers to E.164, without a metadata database: callers' numbers arrive as
//! "+1 (702) 555-1234", "702.555.1234" or "07700 900123" and must become one key per person.

use crate::values::speech::Refusal;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A phone number in E.164 form (`+` then 8 to 15 digits, no leading zero).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("the phone number has characters that are not digits")]
    InvalidCharacters,
    #[error("the phone number has too few or too many digits")]
    WrongLength,
    #[error("the region {0} is not supported for numbers without a country code")]
    UnsupportedRegion(String),
}

/// A region whose national numbers we can complete to E.164.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion {
    pub code: &'static str,
    country_code: &'static str,
    /// Digits a national number starts with that are dropped internationally ("0" in the UK).
    trunk_prefix: Option<&'static str>,
    /// Valid national significant number lengths.
    lengths: &'static [usize],
}

const REGIONS: &[PhoneRegion] = &[
    PhoneRegion {
        code: "US",
        country_code: "1",
        trunk_prefix: Some("1"),
        lengths: &[10],
    },
    PhoneRegion {
        code: "CA",
        country_code: "1",
        trunk_prefix: Some("1"),
        lengths: &[10],
    },
    PhoneRegion {
        code: "GB",
        country_code: "44",
        trunk_prefix: Some("0"),
        lengths: &[9, 10],
    },
    PhoneRegion {
        code: "IE",
        country_code: "353",
        trunk_prefix: Some("0"),
        lengths: &[7, 8, 9],
    },
    PhoneRegion {
        code: "AU",
        country_code: "61",
        trunk_prefix: Some("0"),
        lengths: &[9],
    },
    PhoneRegion {
        code: "NZ",
        country_code: "64",
        trunk_prefix: Some("0"),
        lengths: &[8, 9, 10],
    },
    PhoneRegion {
        code: "DE",
        country_code: "49",
        trunk_prefix: Some("0"),
        lengths: &[6, 7, 8, 9, 10, 11],
    },
    PhoneRegion {
        code: "FR",
        country_code: "33",
        trunk_prefix: Some("0"),
        lengths: &[9],
    },
    PhoneRegion {
        code: "ES",
        country_code: "34",
        trunk_prefix: None,
        lengths: &[9],
    },
    PhoneRegion {
        code: "IT",
        country_code: "39",
        trunk_prefix: None,
        lengths: &[6, 7, 8, 9, 10, 11],
    },
    PhoneRegion {
        code: "NL",
        country_code: "31",
        trunk_prefix: Some("0"),
        lengths: &[9],
    },
    PhoneRegion {
        code: "IN",
        country_code: "91",
        trunk_prefix: Some("0"),
        lengths: &[10],
    },
    PhoneRegion {
        code: "ZA",
        country_code: "27",
        trunk_prefix: Some("0"),
        lengths: &[9],
    },
];

impl PhoneRegion {
    /// Looks a region up by its ISO 3166 code ("US", "gb").
    pub fn from_code(code: &str) -> Result<Self, PhoneError> {
        REGIONS
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code.trim()))
            .copied()
            .ok_or_else(|| PhoneError::UnsupportedRegion(code.trim().to_ascii_uppercase()))
    }

    /// Whether this region writes numeric dates month first (11/28).
    pub fn month_first_dates(&self) -> bool {
        self.country_code == "1"
    }
}

impl PhoneNumber {
    /// Normalizes what a caller or the model typed. Numbers with `+` or `00` are taken as
    /// international; others are national numbers of `region`.
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(raw.len());
        let mut international = false;
        for (i, c) in raw.char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => international = true,
                ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
                _ => return Err(PhoneError::InvalidCharacters),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        if !international && let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
            international = true;
        }
        let full = if international {
            digits
        } else {
            let national = match region.trunk_prefix {
                Some(prefix)
                    if digits.starts_with(prefix) && !region.lengths.contains(&digits.len()) =>
                {
                    &digits[prefix.len()..]
                }
                _ => digits.as_str(),
            };
            if !region.lengths.contains(&national.len()) {
                return Err(PhoneError::WrongLength);
            }
            format!("{}{}", region.country_code, national)
        };
        Self::from_e164_digits(&full)
    }

    fn from_e164_digits(digits: &str) -> Result<Self, PhoneError> {
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::WrongLength);
        }
        // North American numbers: area code and exchange never start with 0 or 1.
        if let Some(nanp) = digits.strip_prefix('1') {
            let b = nanp.as_bytes();
            if b.len() != 10 || b[0] < b'2' || b[3] < b'2' {
                return Err(PhoneError::WrongLength);
            }
        }
        Ok(Self(format!("+{digits}")))
    }

    /// `parse`, with what the caller hears when the number cannot be used.
    pub fn parse_spoken(raw: &str, region: PhoneRegion) -> Result<Self, Refusal> {
        Self::parse(raw, region).map_err(|e| match e {
            PhoneError::UnsupportedRegion(_) => {
                Refusal::from("I can't use that phone number; could you give it with the country code?")
            }
            _ => Refusal::from("That phone number doesn't look complete; could you say it again with the area code?"),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: never the whole number, only its last two digits.
    pub fn redacted(&self) -> String {
        redact_phone(&self.0)
    }
}

/// Redacts any phone-like string to its last two digits.
pub fn redact_phone(raw: &str) -> String {
    let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
    format!("***{tail}")
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.strip_prefix('+') {
            Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                Self::from_e164_digits(digits)
            }
            _ => Err(PhoneError::InvalidCharacters),
        }
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> PhoneRegion {
        PhoneRegion::from_code("US").unwrap()
    }

    #[test]
    fn normalizes_us_formats() {
        for raw in [
            "+17025551234",
            "(702) 555-1234",
            "702.555.1234",
            "1 702 555 1234",
            "001 702 555 1234",
            "+1 702-555-1234",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw, us()).unwrap().as_str(),
                "+17025551234",
                "{raw}"
            );
        }
    }

    #[test]
    fn normalizes_national_numbers_of_other_regions() {
        let gb = PhoneRegion::from_code("gb").unwrap();
        assert_eq!(
            PhoneNumber::parse("07700 900123", gb).unwrap().as_str(),
            "+447700900123"
        );
        assert_eq!(
            PhoneNumber::parse("+44 7700 900123", us())
                .unwrap()
                .as_str(),
            "+447700900123"
        );
        let au = PhoneRegion::from_code("AU").unwrap();
        assert_eq!(
            PhoneNumber::parse("0412 345 678", au).unwrap().as_str(),
            "+61412345678"
        );
    }

    #[test]
    fn refuses_bad_numbers() {
        assert_eq!(PhoneNumber::parse("", us()), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("  ", us()), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("555-1234", us()),
            Err(PhoneError::WrongLength)
        );
        assert_eq!(
            PhoneNumber::parse("call me", us()),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("+1 012 555 1234", us()),
            Err(PhoneError::WrongLength)
        );
        assert_eq!(
            PhoneNumber::parse("7025551234+", us()),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            PhoneNumber::parse("+1234567890123456", us()),
            Err(PhoneError::WrongLength)
        );
        assert!(matches!(
            PhoneRegion::from_code("XX"),
            Err(PhoneError::UnsupportedRegion(_))
        ));
    }

    #[test]
    fn redacts_to_last_two_digits() {
        assert_eq!(
            PhoneNumber::parse("+17025551234", us()).unwrap().redacted(),
            "***34"
        );
        assert_eq!(redact_phone("x"), "***");
    }

    #[test]
    fn serde_round_trip_validates() {
        let p: PhoneNumber = serde_json::from_str("\"+17025551234\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+17025551234\"");
        assert!(serde_json::from_str::<PhoneNumber>("\"7025551234\"").is_err());
    }
}

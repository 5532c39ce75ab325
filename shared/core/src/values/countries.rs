//! Which country a phone number is in, from its E.164 country calling code (ITU-T E.164
//! assignments), and the countries a business lets its texts go to (`TextCountries`).
//!
//! Codes that belong to no country (+800 freephone, +808, +870 Inmarsat, +878, +881 satellite
//! phones, +882/+883 international networks, +888, +979) and unassigned ones map to none: a
//! text never goes there. +1 is split by area code (US, Canada, the Caribbean members of the
//! North American plan); +7 between Russia and Kazakhstan. Where a code is shared by
//! territories that use the same numbers (+44 with Guernsey, Jersey and the Isle of Man, +39
//! with the Vatican, +47 with Svalbard...), the number counts as the main country's.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::values::phone::{PhoneNumber, PhoneRegion};

/// Country calling code → ISO 3166 country. Codes are prefix-free, so the first match of
/// one, two or three digits is the code.
#[rustfmt::skip]
const CALLING_CODES: &[(&str, &str)] = &[
    ("20", "EG"), ("211", "SS"), ("212", "MA"), ("213", "DZ"), ("216", "TN"), ("218", "LY"),
    ("220", "GM"), ("221", "SN"), ("222", "MR"), ("223", "ML"), ("224", "GN"), ("225", "CI"),
    ("226", "BF"), ("227", "NE"), ("228", "TG"), ("229", "BJ"), ("230", "MU"), ("231", "LR"),
    ("232", "SL"), ("233", "GH"), ("234", "NG"), ("235", "TD"), ("236", "CF"), ("237", "CM"),
    ("238", "CV"), ("239", "ST"), ("240", "GQ"), ("241", "GA"), ("242", "CG"), ("243", "CD"),
    ("244", "AO"), ("245", "GW"), ("246", "IO"), ("247", "AC"), ("248", "SC"), ("249", "SD"),
    ("250", "RW"), ("251", "ET"), ("252", "SO"), ("253", "DJ"), ("254", "KE"), ("255", "TZ"),
    ("256", "UG"), ("257", "BI"), ("258", "MZ"), ("260", "ZM"), ("261", "MG"), ("262", "RE"),
    ("263", "ZW"), ("264", "NA"), ("265", "MW"), ("266", "LS"), ("267", "BW"), ("268", "SZ"),
    ("269", "KM"), ("27", "ZA"), ("290", "SH"), ("291", "ER"), ("297", "AW"), ("298", "FO"),
    ("299", "GL"), ("30", "GR"), ("31", "NL"), ("32", "BE"), ("33", "FR"), ("34", "ES"),
    ("350", "GI"), ("351", "PT"), ("352", "LU"), ("353", "IE"), ("354", "IS"), ("355", "AL"),
    ("356", "MT"), ("357", "CY"), ("358", "FI"), ("359", "BG"), ("36", "HU"), ("370", "LT"),
    ("371", "LV"), ("372", "EE"), ("373", "MD"), ("374", "AM"), ("375", "BY"), ("376", "AD"),
    ("377", "MC"), ("378", "SM"), ("380", "UA"), ("381", "RS"), ("382", "ME"), ("383", "XK"),
    ("385", "HR"), ("386", "SI"), ("387", "BA"), ("389", "MK"), ("39", "IT"), ("40", "RO"),
    ("41", "CH"), ("420", "CZ"), ("421", "SK"), ("423", "LI"), ("43", "AT"), ("44", "GB"),
    ("45", "DK"), ("46", "SE"), ("47", "NO"), ("48", "PL"), ("49", "DE"), ("500", "FK"),
    ("501", "BZ"), ("502", "GT"), ("503", "SV"), ("504", "HN"), ("505", "NI"), ("506", "CR"),
    ("507", "PA"), ("508", "PM"), ("509", "HT"), ("51", "PE"), ("52", "MX"), ("53", "CU"),
    ("54", "AR"), ("55", "BR"), ("56", "CL"), ("57", "CO"), ("58", "VE"), ("590", "GP"),
    ("591", "BO"), ("592", "GY"), ("593", "EC"), ("594", "GF"), ("595", "PY"), ("596", "MQ"),
    ("597", "SR"), ("598", "UY"), ("599", "CW"), ("60", "MY"), ("61", "AU"), ("62", "ID"),
    ("63", "PH"), ("64", "NZ"), ("65", "SG"), ("66", "TH"), ("670", "TL"), ("672", "NF"),
    ("673", "BN"), ("674", "NR"), ("675", "PG"), ("676", "TO"), ("677", "SB"), ("678", "VU"),
    ("679", "FJ"), ("680", "PW"), ("681", "WF"), ("682", "CK"), ("683", "NU"), ("685", "WS"),
    ("686", "KI"), ("687", "NC"), ("688", "TV"), ("689", "PF"), ("690", "TK"), ("691", "FM"),
    ("692", "MH"), ("81", "JP"), ("82", "KR"), ("84", "VN"), ("850", "KP"), ("852", "HK"),
    ("853", "MO"), ("855", "KH"), ("856", "LA"), ("86", "CN"), ("880", "BD"), ("886", "TW"),
    ("90", "TR"), ("91", "IN"), ("92", "PK"), ("93", "AF"), ("94", "LK"), ("95", "MM"),
    ("960", "MV"), ("961", "LB"), ("962", "JO"), ("963", "SY"), ("964", "IQ"), ("965", "KW"),
    ("966", "SA"), ("967", "YE"), ("968", "OM"), ("970", "PS"), ("971", "AE"), ("972", "IL"),
    ("973", "BH"), ("974", "QA"), ("975", "BT"), ("976", "MN"), ("977", "NP"), ("98", "IR"),
    ("992", "TJ"), ("993", "TM"), ("994", "AZ"), ("995", "GE"), ("996", "KG"), ("998", "UZ"),
];

/// Canada's area codes in the North American plan.
#[rustfmt::skip]
const CANADA: &[u16] = &[
    204, 226, 236, 249, 250, 257, 263, 289, 306, 343, 354, 365, 367, 368, 382, 387, 403, 416,
    418, 428, 431, 437, 438, 450, 460, 468, 474, 506, 514, 519, 548, 579, 581, 584, 587, 600,
    604, 613, 622, 639, 647, 672, 683, 705, 709, 742, 753, 778, 780, 782, 807, 819, 825, 867,
    873, 879, 902, 905, 942,
];

/// The other members of the North American plan, by area code.
#[rustfmt::skip]
const NANP_OTHERS: &[(u16, &str)] = &[
    (242, "BS"), (246, "BB"), (264, "AI"), (268, "AG"), (284, "VG"), (340, "VI"), (345, "KY"),
    (441, "BM"), (473, "GD"), (649, "TC"), (658, "JM"), (664, "MS"), (670, "MP"), (671, "GU"),
    (684, "AS"), (721, "SX"), (758, "LC"), (767, "DM"), (784, "VC"), (787, "PR"), (809, "DO"),
    (829, "DO"), (849, "DO"), (868, "TT"), (869, "KN"), (876, "JM"), (939, "PR"),
];

/// The country `phone` is in; `None` for codes that belong to no country or to none yet.
pub fn country_of(phone: &PhoneNumber) -> Option<&'static str> {
    let digits = phone.as_str().trim_start_matches('+');
    if let Some(national) = digits.strip_prefix('1') {
        let area: u16 = national.get(..3)?.parse().ok()?;
        if CANADA.contains(&area) {
            return Some("CA");
        }
        return Some(
            NANP_OTHERS
                .iter()
                .find(|(code, _)| *code == area)
                .map_or("US", |(_, country)| country),
        );
    }
    if let Some(national) = digits.strip_prefix('7') {
        return Some(if matches!(national.get(..1), Some("6" | "7")) {
            "KZ"
        } else {
            "RU"
        });
    }
    (2..=3).find_map(|len| {
        let code = digits.get(..len)?;
        CALLING_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, country)| *country)
    })
}

/// Every country a number can be in.
fn all_countries() -> impl Iterator<Item = &'static str> {
    CALLING_CODES
        .iter()
        .map(|(_, c)| *c)
        .chain(NANP_OTHERS.iter().map(|(_, c)| *c))
        .chain(["US", "CA", "RU", "KZ"])
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0:?} is not a country with its own phone numbers (use ISO codes such as US, CA, GB)")]
pub struct CountryError(pub String);

/// The countries a business's texts may go to (ISO 3166 codes). Elsewhere the caller is told
/// that texts can't go there, and hears from the business by email only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct TextCountries(Vec<&'static str>);

impl TextCountries {
    /// Only the business's own country: the default.
    pub fn home(region: PhoneRegion) -> Self {
        Self(vec![region.code])
    }

    /// "US, CA" or "US CA".
    pub fn parse(raw: &str) -> Result<Self, CountryError> {
        Self::from_codes(raw.split([',', ' ', ';']).filter(|c| !c.trim().is_empty()))
    }

    fn from_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, CountryError> {
        let mut countries: Vec<&'static str> = Vec::new();
        for raw in codes {
            let code = raw.trim().to_ascii_uppercase();
            let known = all_countries()
                .find(|c| *c == code)
                .ok_or(CountryError(code))?;
            if !countries.contains(&known) {
                countries.push(known);
            }
        }
        Ok(Self(countries))
    }

    /// Whether a text may go to `phone`: never to a number of no country.
    pub fn allows(&self, phone: &PhoneNumber) -> bool {
        country_of(phone).is_some_and(|country| self.0.contains(&country))
    }

    pub fn codes(&self) -> &[&'static str] {
        &self.0
    }
}

impl TryFrom<Vec<String>> for TextCountries {
    type Error = CountryError;
    fn try_from(codes: Vec<String>) -> Result<Self, CountryError> {
        Self::from_codes(codes.iter().map(String::as_str))
    }
}

impl From<TextCountries> for Vec<String> {
    fn from(countries: TextCountries) -> Self {
        countries.0.iter().map(|c| c.to_string()).collect()
    }
}

impl fmt::Display for TextCountries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::try_from(raw.to_string()).unwrap()
    }

    #[test]
    fn numbers_are_placed_by_their_calling_code() {
        for (number, country) in [
            ("+17025551234", Some("US")),
            ("+14165551234", Some("CA")),
            ("+18765551234", Some("JM")),
            ("+447700900123", Some("GB")),
            ("+37491234567", Some("AM")),
            ("+74951234567", Some("RU")),
            ("+77011234567", Some("KZ")),
            ("+353861234567", Some("IE")),
            ("+61412345678", Some("AU")),
            ("+8823456789012", None),
            ("+8833456789012", None),
            ("+80012345678", None),
            ("+87012345678", None),
            ("+2812345678", None),
        ] {
            assert_eq!(country_of(&phone(number)), country, "{number}");
        }
    }

    #[test]
    fn texts_go_only_where_the_business_allows() {
        let us = TextCountries::home(PhoneRegion::from_code("US").unwrap());
        assert!(us.allows(&phone("+17025551234")));
        assert!(!us.allows(&phone("+14165551234")));
        assert!(!us.allows(&phone("+37491234567")));
        assert!(!us.allows(&phone("+8823456789012")));

        let north_america = TextCountries::parse("us, CA").unwrap();
        assert_eq!(north_america.codes(), ["US", "CA"]);
        assert!(north_america.allows(&phone("+14165551234")));
        assert!(!north_america.allows(&phone("+447700900123")));

        assert_eq!(
            TextCountries::parse("US, XX"),
            Err(CountryError("XX".into()))
        );
        let from_json: TextCountries = serde_json::from_str(r#"["gb","IE"]"#).unwrap();
        assert_eq!(from_json.to_string(), "GB, IE");
        assert!(serde_json::from_str::<TextCountries>(r#"["Mars"]"#).is_err());
    }
}

//! The services a business offers: what a caller may book, how long each takes (and so which
//! slots it blocks), and its price (for lifetime value).

use std::str::FromStr;

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// Other names callers use ("hygiene" for "Cleaning").
    pub aliases: Vec<String>,
    pub minutes: u32,
    pub price_cents: Option<u64>,
}

/// A business's catalogue. Empty means "any service, default length": single-business
/// installs that have not listed their services yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Services(Vec<Service>);

#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "services {spec:?}: {reason} (expected e.g. \"Consultation=60@150; Cleaning|Hygiene=30@90\")"
)]
pub struct ServicesError {
    spec: String,
    reason: String,
}

/// Lower case, single spaces, without a trailing plural "s" or the word "appointment".
fn normalize(name: &str) -> String {
    let words: Vec<String> = name
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|w| {
            !matches!(
                w.as_str(),
                "appointment" | "appointments" | "a" | "an" | "the"
            )
        })
        .collect();
    let joined = words.join(" ");
    joined
        .strip_suffix('s')
        .filter(|s| s.len() > 2)
        .map(str::to_string)
        .unwrap_or(joined)
}

impl FromStr for Services {
    type Err = ServicesError;

    /// `Name[|Alias...]=MINUTES[@PRICE]` entries separated by `;`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| ServicesError {
            spec: spec.to_string(),
            reason,
        };
        let mut services = Vec::new();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (names, terms) = entry
                .split_once('=')
                .ok_or_else(|| err(format!("{entry:?} has no =MINUTES")))?;
            let mut names = names.split('|').map(str::trim).filter(|n| !n.is_empty());
            let name = names
                .next()
                .ok_or_else(|| err(format!("{entry:?} has no name")))?
                .to_string();
            let (minutes, price) = match terms.split_once('@') {
                Some((m, p)) => (m, Some(p)),
                None => (terms, None),
            };
            let minutes: u32 = minutes
                .trim()
                .parse()
                .ok()
                .filter(|m| (5..=720).contains(m))
                .ok_or_else(|| err(format!("{name}: minutes must be 5 to 720")))?;
            let price_cents = price
                .map(|p| {
                    let p = p.trim().trim_start_matches('$');
                    let (whole, cents) = p.split_once('.').unwrap_or((p, "0"));
                    let cents = format!("{cents:0<2}");
                    match (whole.parse::<u64>(), cents.len() == 2, cents.parse::<u64>()) {
                        (Ok(w), true, Ok(c)) => Ok(w * 100 + c),
                        _ => Err(err(format!("{name}: {p:?} is not a price"))),
                    }
                })
                .transpose()?;
            services.push(Service {
                name,
                aliases: names.map(str::to_string).collect(),
                minutes,
                price_cents,
            });
        }
        Ok(Self(services))
    }
}

impl Services {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn list(&self) -> &[Service] {
        &self.0
    }

    /// The service a caller asked for, by name or alias, forgiving case, plurals and the word
    /// "appointment". `None` when the catalogue lists services and this is not one of them.
    pub fn find(&self, asked: &str) -> Option<&Service> {
        let asked = normalize(asked);
        self.0.iter().find(|s| {
            std::iter::once(&s.name)
                .chain(&s.aliases)
                .any(|n| normalize(n) == asked)
        })
    }

    /// "Consultation, Cleaning and Whitening"
    pub fn spoken(&self) -> String {
        let names: Vec<String> = self.0.iter().map(|s| s.name.clone()).collect();
        crate::values::speech::spoken_list(&names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Services {
        "Consultation=60@150; Cleaning|Hygiene|teeth cleaning=30@89.5; Whitening=90"
            .parse()
            .unwrap()
    }

    #[test]
    fn parses_names_aliases_minutes_and_prices() {
        let s = catalogue();
        assert_eq!(s.list().len(), 3);
        assert_eq!(
            s.list()[1],
            Service {
                name: "Cleaning".into(),
                aliases: vec!["Hygiene".into(), "teeth cleaning".into()],
                minutes: 30,
                price_cents: Some(8950)
            }
        );
        assert_eq!(s.list()[0].price_cents, Some(15000));
        assert_eq!(s.list()[2].price_cents, None);
        assert_eq!(s.spoken(), "Consultation, Cleaning and Whitening");
        assert!("".parse::<Services>().unwrap().is_empty());
    }

    #[test]
    fn finds_what_callers_say() {
        let s = catalogue();
        for asked in [
            "consultation",
            " Consultations ",
            "a consultation appointment",
            "hygiene",
            "Teeth Cleaning",
        ] {
            assert!(s.find(asked).is_some(), "{asked}");
        }
        assert_eq!(s.find("hygiene").unwrap().name, "Cleaning");
        assert!(s.find("massage").is_none());
    }

    #[test]
    fn refuses_bad_catalogues() {
        for bad in [
            "Consultation",
            "=60",
            "Consultation=0",
            "Consultation=abc",
            "Consultation=60@1.234",
            "Consultation=60@x",
        ] {
            assert!(bad.parse::<Services>().is_err(), "{bad}");
        }
    }
}

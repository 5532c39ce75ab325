//! Booking references a caller can hear and repeat: 6 characters without 0/O/1/I.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Digits and capitals that cannot be confused when spoken or read aloud.
pub const REFERENCE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const REFERENCE_LEN: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BookingReference(String);

impl BookingReference {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let s = (0..REFERENCE_LEN)
            .map(|_| REFERENCE_ALPHABET[rng.random_range(0..REFERENCE_ALPHABET.len())] as char)
            .collect();
        Self(s)
    }

    /// The same reference for the same seed: a retried tool call (same call and tool-call id)
    /// maps to the booking it already made. 32 symbols divide 256, so each byte maps evenly.
    pub fn derive(seed: &[u8]) -> Self {
        let digest = Sha256::digest(seed);
        Self(
            digest
                .iter()
                .take(REFERENCE_LEN)
                .map(|b| REFERENCE_ALPHABET[usize::from(*b) % 32] as char)
                .collect(),
        )
    }

    /// Accepts what a caller reads back: any case, spaces or dashes between characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let s: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (s.len() == REFERENCE_LEN && s.bytes().all(|b| REFERENCE_ALPHABET.contains(&b)))
            .then_some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "K-7-P-2-X-9": text-to-speech reads each character on its own.
    pub fn spoken(&self) -> String {
        let chars: Vec<String> = self.0.chars().map(String::from).collect();
        chars.join("-")
    }
}

/// A hex id derived from `seed` (128 bits of its SHA-256).
pub fn stable_id(seed: &[u8]) -> String {
    hex::encode(&Sha256::digest(seed)[..16])
}

impl fmt::Display for BookingReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BookingReference {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("not a booking reference: {value:?}"))
    }
}

impl From<BookingReference> for String {
    fn from(r: BookingReference) -> Self {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn generated_references_are_speakable() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let r = BookingReference::generate(&mut rng);
            assert_eq!(r.as_str().len(), 6);
            assert!(!r.as_str().contains(['0', 'O', '1', 'I']), "{r}");
            assert_eq!(BookingReference::parse(r.as_str()), Some(r.clone()));
        }
    }

    #[test]
    fn derived_references_are_stable_and_speakable() {
        let a = BookingReference::derive(b"default|call-1|tc-1");
        assert_eq!(a, BookingReference::derive(b"default|call-1|tc-1"));
        assert_ne!(a, BookingReference::derive(b"default|call-1|tc-2"));
        assert_eq!(BookingReference::parse(a.as_str()), Some(a));
    }

    #[test]
    fn parses_what_callers_read_back() {
        assert_eq!(
            BookingReference::parse("k7p-2x9").unwrap().as_str(),
            "K7P2X9"
        );
        assert_eq!(
            BookingReference::parse("K 7 P 2 X 9").unwrap().spoken(),
            "K-7-P-2-X-9"
        );
        assert!(BookingReference::parse("K7P2X").is_none());
        assert!(BookingReference::parse("K7P2X0").is_none());
    }
}

//! A caller's name, as it may appear in a text or an email the business sends: letters of any
//! script (with their accents and other combining marks), spaces, apostrophes, hyphens and
//! periods, at most 100 characters. No digits, no links, no control or bidi characters: a
//! name is what the business greets someone with, never a way to make it send other text.
//!
//! Periods are for initials and abbreviations ("J.R.R. Tolkien", "St. John", "Jr."): inside a
//! word only single letters come before one, so "evil.example" is not a name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::values::speech::Refusal;
use crate::values::text::is_hidden;

/// The longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerName(String);

/// Why a text is not a name (never carries the text: it may be someone's name).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("the name has a digit")]
    Digit,
    #[error("the name has a control or bidi character")]
    Hidden,
    #[error("the name has a character that is not a letter, space, apostrophe, hyphen or period")]
    NotALetter,
    #[error("the name has a period inside a word that is not an initial")]
    Period,
}

/// Marks that combine with the letter before them (é written as e + U+0301, Hebrew and
/// Arabic vowel points, Indic viramas and nuktas, Thai tone marks, kana voicing marks).
/// `char::is_alphabetic` already counts most vowel signs; these are the marks it leaves out.
fn is_combining_mark(c: char) -> bool {
    let indic = ('\u{900}'..='\u{DFF}').contains(&c) && matches!(u32::from(c) & 0x7F, 0x3C | 0x4D);
    indic
        || matches!(
            c,
            '\u{300}'..='\u{36F}'
                | '\u{483}'..='\u{489}'
                | '\u{591}'..='\u{5BD}'
                | '\u{5BF}'
                | '\u{5C1}'..='\u{5C2}'
                | '\u{5C4}'..='\u{5C5}'
                | '\u{5C7}'
                | '\u{610}'..='\u{61A}'
                | '\u{64B}'..='\u{65F}'
                | '\u{670}'
                | '\u{6D6}'..='\u{6DC}'
                | '\u{6DF}'..='\u{6E4}'
                | '\u{6E7}'..='\u{6E8}'
                | '\u{6EA}'..='\u{6ED}'
                | '\u{DCA}'
                | '\u{E31}'..='\u{E3A}'
                | '\u{E47}'..='\u{E4E}'
                | '\u{1AB0}'..='\u{1AFF}'
                | '\u{1DC0}'..='\u{1DFF}'
                | '\u{20D0}'..='\u{20FF}'
                | '\u{3099}'..='\u{309A}'
                | '\u{FE20}'..='\u{FE2F}'
        )
}

/// A letter of any script, or a mark that belongs to one.
pub fn is_name_letter(c: char) -> bool {
    c.is_alphabetic() || is_combining_mark(c)
}

fn is_apostrophe_or_hyphen(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '-' | '\u{2010}' | '\u{2011}'
    )
}

/// Periods only after initials: every part of a word before its last period is one letter
/// (with its marks), so "J.R.R." and "Jr." pass and "evil.example" or "x.co" do not.
fn periods_are_initials(word: &str) -> bool {
    let mut parts: Vec<&str> = word.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let one_letter = |part: &str| {
        let mut letters = part.chars().filter(|c| !is_combining_mark(*c));
        letters.next().is_some() && letters.next().is_none()
    };
    match parts.split_last() {
        None => true,
        // "Jr." / "St." : a word ending in its only period.
        Some((_, [])) if last.is_empty() => true,
        Some((final_part, earlier)) => {
            earlier.iter().all(|p| one_letter(p))
                && one_letter(final_part)
                && (last.is_empty() || one_letter(last))
        }
    }
}

impl CustomerName {
    /// Trims and joins runs of spaces; refuses anything else that is not part of a name.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.chars().any(is_hidden) {
            return Err(NameError::Hidden);
        }
        let words: Vec<&str> = raw.split_whitespace().collect();
        let name = words.join(" ");
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        for c in name.chars() {
            if c.is_numeric() {
                return Err(NameError::Digit);
            }
            if !(is_name_letter(c) || c == ' ' || c == '.' || is_apostrophe_or_hyphen(c)) {
                return Err(NameError::NotALetter);
            }
        }
        if !name.chars().any(char::is_alphabetic) {
            return Err(NameError::NotALetter);
        }
        if !words.iter().all(|w| periods_are_initials(w)) {
            return Err(NameError::Period);
        }
        Ok(Self(name))
    }

    /// `parse`, with what the caller hears when it is not a name.
    pub fn parse_spoken(raw: &str) -> Result<Self, Refusal> {
        Self::parse(raw).map_err(|e| match e {
            NameError::TooLong => Refusal::from(
                "That name is too long for our records; could you give me a shorter form of it?",
            ),
            _ => Refusal::from(
                "Sorry, I didn't catch the name; could you say it again, just the name as it's spelled?",
            ),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first word, for a greeting ("hi Ann").
    pub fn first_name(&self) -> &str {
        self.0.split(' ').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for CustomerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CustomerName {
    type Err = NameError;
    fn from_str(raw: &str) -> Result<Self, NameError> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for CustomerName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, NameError> {
        Self::parse(&value)
    }
}

impl From<CustomerName> for String {
    fn from(name: CustomerName) -> Self {
        name.0
    }
}

/// A service a caller names when the business lists none (it is then said back in texts and
/// emails): words of letters and digits, spaces, apostrophes, hyphens, `&` and initials'
/// periods, at most 100 characters; never a link or a hidden character.
pub fn plain_words(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let text = words.join(" ");
    let allowed = |c: char| {
        is_name_letter(c)
            || c.is_numeric()
            || matches!(c, ' ' | '.' | '&')
            || is_apostrophe_or_hyphen(c)
    };
    let ok = !raw.chars().any(is_hidden)
        && !text.is_empty()
        && text.chars().count() <= MAX_NAME_CHARS
        && text.chars().all(allowed)
        && text.chars().any(char::is_alphabetic)
        && words.iter().all(|w| periods_are_initials(w));
    ok.then_some(text)
}

#[cfg(test)]
mod tests;

//! Redaction for free text that reaches logs (provider error messages, refusals that quote
//! what the caller said): phone-like digit runs keep their last two digits, email addresses
//! their first character and domain.

use crate::values::phone::redact_phone;

/// Characters that may appear inside a written phone number.
fn phone_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '(' | ')' | ' ')
}

pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        if let Some(at) = trimmed.find('@')
            && at > 0
            && trimmed[at + 1..].contains('.')
        {
            let start = trimmed[..at]
                .rfind(|c: char| !(c.is_alphanumeric() || "._%+-".contains(c)))
                .map_or(0, |p| p + 1);
            let first: String = trimmed[start..].chars().take(1).collect();
            out.push_str(&trimmed[..start]);
            out.push_str(&first);
            out.push_str("***");
            out.push_str(&word[at..]);
        } else {
            out.push_str(word);
        }
    }
    mask_phone_runs(&out)
}

/// Replaces every run of phone characters that holds 7 or more digits.
fn mask_phone_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || chars[i] == '+' {
            let mut j = i;
            while j < chars.len() && phone_char(chars[j]) {
                j += 1;
            }
            // Do not swallow trailing separators (a sentence's spaces and dots).
            while j > i && !chars[j - 1].is_ascii_digit() {
                j -= 1;
            }
            let run: String = chars[i..j].iter().collect();
            if run.chars().filter(char::is_ascii_digit).count() >= 7 {
                out.push_str(&redact_phone(&run));
                i = j;
                continue;
            }
            if j > i {
                out.push_str(&run);
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phones_and_emails_but_keeps_the_rest() {
        assert_eq!(
            redact_text(
                "Invalid parameter: PhoneNumber +1 702-555-1234 for test.user@example.com."
            ),
            "Invalid parameter: PhoneNumber ***34 for t***@example.com."
        );
        assert_eq!(
            redact_text("status 400 after 3 attempts at 14:00"),
            "status 400 after 3 attempts at 14:00"
        );
        assert_eq!(redact_text("call (702) 555 1234 now"), "call (***34 now");
        assert_eq!(redact_text("a@b"), "a@b");
        assert_eq!(redact_text(""), "");
        assert_eq!(redact_text("é +17025551234é"), "é ***34é");
    }
}

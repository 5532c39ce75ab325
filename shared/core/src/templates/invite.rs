//! The calendar invite an email carries (RFC 5545, `METHOD:REQUEST`, then `CANCEL`): one UID
//! for the booking's whole life and a SEQUENCE raised on every change, so a calendar app
//! moves or removes the event it already has instead of adding another. Times are in UTC
//! (`…Z`), which every calendar shows in its own zone. Pure: the email adapter attaches it.

use chrono::{DateTime, Utc};

use crate::values::reference::{BookingReference, stable_id};

/// What an invite asks of the calendar that receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteMethod {
    /// Add the event, or move it (same UID, higher SEQUENCE).
    Request,
    /// Remove it.
    Cancel,
}

impl InviteMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// One booking's event, as one invite describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite<'a> {
    pub method: InviteMethod,
    pub business_id: &'a str,
    pub business_name: &'a str,
    /// The organiser's address (the business's sender).
    pub organizer_email: &'a str,
    pub reference: &'a BookingReference,
    pub service: &'a str,
    pub customer_name: &'a str,
    pub customer_email: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Raised on every change of the booking (its record's version less one).
    pub sequence: u64,
    /// When the invite was made (DTSTAMP).
    pub stamp: DateTime<Utc>,
}

/// The booking's event UID: the same for its whole life, the same in every email.
pub fn invite_uid(business_id: &str, reference: &BookingReference) -> String {
    format!(
        "booking-{}@callbook",
        stable_id(format!("{business_id}#{reference}").as_bytes())
    )
}

/// The `text/calendar` body (CRLF line ends, lines folded at 75 octets).
pub fn invite_ics(invite: &Invite<'_>) -> String {
    let utc = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let (status, summary) = match invite.method {
        InviteMethod::Request => ("CONFIRMED", invite.service.to_string()),
        InviteMethod::Cancel => ("CANCELLED", format!("Cancelled: {}", invite.service)),
    };
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//callbook//bookings//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        format!("METHOD:{}", invite.method.as_str()),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", invite_uid(invite.business_id, invite.reference)),
        format!("SEQUENCE:{}", invite.sequence),
        format!("DTSTAMP:{}", utc(invite.stamp)),
        format!("DTSTART:{}", utc(invite.start)),
        format!("DTEND:{}", utc(invite.end)),
        format!(
            "SUMMARY:{}",
            text(&format!("{summary} with {}", invite.business_name))
        ),
        format!(
            "DESCRIPTION:{}",
            text(&format!(
                "Booking reference {}. To change or cancel, call {} and quote it.",
                invite.reference, invite.business_name
            ))
        ),
        format!("STATUS:{status}"),
        format!(
            "ORGANIZER;CN={}:mailto:{}",
            param(invite.business_name),
            invite.organizer_email
        ),
        format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{}",
            param(invite.customer_name),
            invite.customer_email
        ),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// A TEXT value: backslash, semicolon, comma and line breaks escaped; no control characters.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (CN): quoted, without the characters a quoted value may not hold.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// Appends `line` folded at 75 octets (never inside a UTF-8 character), CRLF-terminated.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests;

//! Message templates: rendered here, in code, because SES templates are per-account state
//! that drifts (and the local emulator does not implement them).

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use crate::jobs::{BookingSummary, LeadSummary, NotificationJob, NotificationKind};
use crate::values::speech::spoken_datetime;
use crate::values::text::visible;

mod followups;
mod invite;
pub use followups::{REPLY_LINE, relative_when};
pub use invite::{Invite, InviteMethod, invite_ics, invite_uid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// "Wednesday, November 25 at 2:00 PM EST"
pub fn when(start: &DateTime<FixedOffset>, time_zone: &str) -> String {
    match time_zone.parse::<Tz>() {
        Ok(zone) => {
            let local = start.with_timezone(&zone);
            format!("{} {}", spoken_datetime(&local), local.format("%Z"))
        }
        Err(_) => format!(
            "{} (UTC{})",
            start.format("%A, %B %-d at %-I:%M %p"),
            start.format("%:z")
        ),
    }
}

/// The SMS a notification job sends; `None` when the job lacks what its kind is about. Never
/// a control or bidi character, whatever a record stored before names were checked holds.
pub fn sms_for(job: &NotificationJob) -> Option<String> {
    let job = &shown(job);
    match job.kind {
        NotificationKind::Reminder => {
            let (booking, note) = (job.booking.as_ref()?, job.reminder.as_ref()?);
            return Some(followups::reminder_sms(&job.business_name, booking, note));
        }
        NotificationKind::LeadFollowUp => {
            return Some(followups::lead_follow_up_sms(
                &job.business_name,
                job.lead.as_ref()?,
            ));
        }
        NotificationKind::SmsAnswer => {
            return followups::answer_sms(&job.business_name, job.answer?, job.booking.as_ref());
        }
        _ => {}
    }
    if job.kind == NotificationKind::CallerCode {
        return job
            .code
            .as_deref()
            .map(|code| caller_code_sms(&job.business_name, code));
    }
    match (job.kind, &job.booking, &job.lead) {
        (NotificationKind::OwnerNewLead, _, Some(lead)) => {
            Some(owner_new_lead_sms(&job.business_name, lead))
        }
        (NotificationKind::OwnerNewLead, _, None) => None,
        (kind, Some(booking), _) => Some(sms(kind, &job.business_name, booking)),
        (_, None, _) => None,
    }
}

/// The email a notification job sends; `None` when the job lacks what its kind is about.
/// Never a control or bidi character (line breaks stay in the text body).
pub fn email_for(job: &NotificationJob) -> Option<RenderedEmail> {
    match job.kind {
        // Texts only.
        NotificationKind::CallerCode
        | NotificationKind::LeadFollowUp
        | NotificationKind::SmsAnswer => return None,
        NotificationKind::Reminder => {
            let job = &shown(job);
            let (booking, note) = (job.booking.as_ref()?, job.reminder.as_ref()?);
            return Some(followups::reminder_email(&job.business_name, booking, note));
        }
        _ => {}
    }
    let job = &shown(job);
    match (job.kind, &job.booking, &job.lead) {
        (NotificationKind::OwnerNewLead, _, Some(lead)) => {
            Some(owner_new_lead_email(&job.business_name, lead))
        }
        (NotificationKind::OwnerNewLead, _, None) => None,
        (kind, Some(booking), _) => Some(email(kind, &job.business_name, booking)),
        (_, None, _) => None,
    }
}

fn caller_code_sms(business_name: &str, code: &str) -> String {
    single_line(&format!(
        "{business_name}: your code is {code}. Read it to the assistant on your call; it works for 10 minutes. If you didn't ask for it, ignore this text."
    ))
}

/// The job with every text it carries on one line and without control or bidi characters:
/// records stored before names were checked, and notes, may hold them.
fn shown(job: &NotificationJob) -> NotificationJob {
    let line = |s: &str| single_line(&visible(s, false));
    let mut job = job.clone();
    job.business_name = line(&job.business_name);
    if let Some(b) = job.booking.as_mut() {
        b.customer_name = line(&b.customer_name);
        b.service = line(&b.service);
    }
    if let Some(lead) = job.lead.as_mut() {
        lead.name = lead.name.as_deref().map(line);
        lead.interests = lead.interests.iter().map(|i| line(i)).collect();
        lead.note = lead.note.as_deref().map(line);
        lead.grade = line(&lead.grade);
    }
    job
}

fn phone_of(b: &BookingSummary) -> &str {
    b.customer_phone
        .as_ref()
        .map_or("no number", |p| p.as_str())
}

fn owner_new_lead_sms(business_name: &str, lead: &LeadSummary) -> String {
    single_line(&format!(
        "{business_name}: new {} lead (score {}) - {} {}: {}.{}",
        lead.grade,
        lead.score,
        lead.name.as_deref().unwrap_or("caller"),
        lead.phone,
        lead.interests.join(", "),
        lead.note
            .as_deref()
            .map(|n| format!(" Note: {n}"))
            .unwrap_or_default()
    ))
}

fn owner_new_lead_email(business_name: &str, lead: &LeadSummary) -> RenderedEmail {
    let who = lead.name.as_deref().unwrap_or("A caller");
    let email = lead.email.as_ref().map_or("not given", |e| e.as_str());
    let interests = lead.interests.join(", ");
    let note = lead.note.as_deref().unwrap_or("none");
    RenderedEmail {
        subject: single_line(&format!(
            "New {} lead for {business_name}: {who}, {interests}",
            lead.grade
        )),
        text: format!(
            "{who} is interested in {interests}.\n\nPhone: {phone}\nEmail: {email}\nScore: {score} ({grade})\nNote: {note}\n\nCall them back soon.\n",
            phone = lead.phone,
            score = lead.score,
            grade = lead.grade,
        ),
        html: format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
             <p><strong>{who}</strong> is interested in <strong>{interests}</strong>.</p>\
             <p>Phone: {phone}<br>Email: {email}<br>Score: {score} ({grade})<br>Note: {note}</p>\
             <p>Call them back soon.</p></body></html>",
            who = escape_html(who),
            interests = escape_html(&interests),
            phone = escape_html(lead.phone.as_str()),
            email = escape_html(email),
            score = lead.score,
            grade = escape_html(&lead.grade),
            note = escape_html(note),
        ),
    }
}

/// The SMS for a booking notification of `kind`.
pub fn sms(kind: NotificationKind, business_name: &str, b: &BookingSummary) -> String {
    match kind {
        // Kinds not about a booking (a lead, a caller code) have their own texts (`sms_for`);
        // given a booking, they read as the owner's notice.
        NotificationKind::OwnerNewBooking
        | NotificationKind::OwnerNewLead
        | NotificationKind::CallerCode
        | NotificationKind::Reminder
        | NotificationKind::LeadFollowUp
        | NotificationKind::SmsAnswer => format!(
            "{business_name}: new booking {} - {} ({}), {} on {}.",
            b.reference,
            b.customer_name,
            phone_of(b),
            b.service,
            when(&b.start_local, &b.time_zone)
        ),
        NotificationKind::BookingConfirmation => booking_confirmation_sms(business_name, b),
        NotificationKind::BookingRescheduled => format!(
            "{business_name}: hi {}, your {} is moved to {}. Reference {}. Reply STOP to opt out.",
            first_name(&b.customer_name),
            b.service,
            when(&b.start_local, &b.time_zone),
            b.reference
        ),
        NotificationKind::BookingCancelled => format!(
            "{business_name}: hi {}, your {} on {} is cancelled. Reference {}. Call us to book again. Reply STOP to opt out.",
            first_name(&b.customer_name),
            b.service,
            when(&b.start_local, &b.time_zone),
            b.reference
        ),
    }
}

/// The email for a notification of `kind`.
pub fn email(kind: NotificationKind, business_name: &str, b: &BookingSummary) -> RenderedEmail {
    let (subject, headline, footer) = match kind {
        NotificationKind::BookingConfirmation => {
            return booking_confirmation_email(business_name, b);
        }
        NotificationKind::OwnerNewBooking
        | NotificationKind::OwnerNewLead
        | NotificationKind::CallerCode
        | NotificationKind::Reminder
        | NotificationKind::LeadFollowUp
        | NotificationKind::SmsAnswer => {
            return owner_new_booking_email(business_name, b);
        }
        NotificationKind::BookingRescheduled => (
            "is moved",
            "is moved to",
            "To change or cancel, call us and quote the reference.",
        ),
        NotificationKind::BookingCancelled => (
            "is cancelled",
            "is cancelled. It was booked for",
            "To book again, just call us.",
        ),
    };
    let when = when(&b.start_local, &b.time_zone);
    customer_email(
        business_name,
        b,
        CustomerEmail {
            subject: format!("Your {} with {business_name} {subject}: {when}", b.service),
            opening: "Your",
            headline,
            when: &when,
            footer,
        },
    )
}

/// A customer's email about one booking: "{opening} {service} with {business} {headline}
/// {when}.", its reference, a footer; the same layout for every kind.
pub(crate) struct CustomerEmail<'a> {
    pub subject: String,
    pub opening: &'a str,
    /// Empty: the time follows the business's name.
    pub headline: &'a str,
    pub when: &'a str,
    pub footer: &'a str,
}

pub(crate) fn customer_email(
    business_name: &str,
    b: &BookingSummary,
    e: CustomerEmail<'_>,
) -> RenderedEmail {
    let headline = if e.headline.is_empty() {
        String::new()
    } else {
        format!("{} ", e.headline)
    };
    let text = format!(
        "Hello {name},\n\n{opening} {service} with {business_name} {headline}{when}.\n\
         Your booking reference is {reference}.\n\n{footer}\n\n{business_name}\n",
        name = b.customer_name,
        opening = e.opening,
        service = b.service,
        when = e.when,
        reference = b.reference,
        footer = e.footer,
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p>Hello {name},</p>\
         <p>{opening} <strong>{service}</strong> with {biz} {headline}<strong>{when}</strong>.</p>\
         <p>Your booking reference is <strong>{reference}</strong>.</p>\
         <p>{footer}</p><p>{biz}</p></body></html>",
        name = escape_html(&b.customer_name),
        opening = e.opening,
        service = escape_html(&b.service),
        biz = escape_html(business_name),
        when = escape_html(e.when),
        reference = escape_html(b.reference.as_str()),
        footer = e.footer,
    );
    RenderedEmail {
        subject: single_line(&e.subject),
        text,
        html,
    }
}

fn owner_new_booking_email(business_name: &str, b: &BookingSummary) -> RenderedEmail {
    let when = when(&b.start_local, &b.time_zone);
    RenderedEmail {
        subject: single_line(&format!(
            "New booking for {business_name}: {}, {when}",
            b.service
        )),
        text: format!(
            "{name} booked a {service} for {when}.\n\nPhone: {phone}\nReference: {reference}\n",
            name = b.customer_name,
            service = b.service,
            phone = phone_of(b),
            reference = b.reference,
        ),
        html: format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
             <p><strong>{name}</strong> booked a <strong>{service}</strong> for <strong>{when}</strong>.</p>\
             <p>Phone: {phone}<br>Reference: {reference}</p></body></html>",
            name = escape_html(&b.customer_name),
            service = escape_html(&b.service),
            when = escape_html(&when),
            phone = escape_html(phone_of(b)),
            reference = escape_html(b.reference.as_str()),
        ),
    }
}

pub fn booking_confirmation_sms(business_name: &str, b: &BookingSummary) -> String {
    format!(
        "{business_name}: hi {}, your {} is booked for {}. Reference {}. Reply STOP to opt out.",
        first_name(&b.customer_name),
        b.service,
        when(&b.start_local, &b.time_zone),
        b.reference
    )
}

pub fn booking_confirmation_email(business_name: &str, b: &BookingSummary) -> RenderedEmail {
    let when = when(&b.start_local, &b.time_zone);
    customer_email(
        business_name,
        b,
        CustomerEmail {
            subject: format!("Your {} with {business_name} is booked: {when}", b.service),
            opening: "Your",
            headline: "is booked for",
            when: &when,
            footer: "To change or cancel, call us and quote the reference.",
        },
    )
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn single_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::reference::BookingReference;

    fn summary(name: &str) -> BookingSummary {
        BookingSummary {
            reference: BookingReference::parse("K7P2X9").unwrap(),
            customer_name: name.into(),
            customer_phone: None,
            service: "Consultation".into(),
            start_local: DateTime::parse_from_rfc3339("2026-11-25T14:00:00-05:00").unwrap(),
            time_zone: "America/New_York".into(),
        }
    }

    #[test]
    fn sms_says_when_and_the_reference() {
        assert_eq!(
            booking_confirmation_sms("Clinic", &summary("Test User")),
            "Clinic: hi Test, your Consultation is booked for Wednesday, November 25 at 2:00 PM EST. Reference K7P2X9. Reply STOP to opt out."
        );
    }

    #[test]
    fn changes_say_what_changed() {
        let b = summary("Test User");
        assert_eq!(
            sms(NotificationKind::BookingCancelled, "Clinic", &b),
            "Clinic: hi Test, your Consultation on Wednesday, November 25 at 2:00 PM EST is cancelled. Reference K7P2X9. Call us to book again. Reply STOP to opt out."
        );
        assert!(
            sms(NotificationKind::BookingRescheduled, "Clinic", &b)
                .contains("is moved to Wednesday, November 25 at 2:00 PM EST")
        );
        let e = email(NotificationKind::BookingRescheduled, "A&B", &b);
        assert_eq!(
            e.subject,
            "Your Consultation with A&B is moved: Wednesday, November 25 at 2:00 PM EST"
        );
        assert!(e.html.contains("A&amp;B is moved to <strong>"));
    }

    #[test]
    fn stored_hidden_characters_never_reach_a_message() {
        let job = NotificationJob {
            notification_id: "n".into(),
            business_id: "default".into(),
            business_name: "Clinic".into(),
            kind: NotificationKind::BookingConfirmation,
            recipient: crate::values::recipient::Recipient::Sms {
                phone: "+17025551234".to_string().try_into().unwrap(),
            },
            booking: Some(summary("Ann\0\u{1b}[2J\u{202E}eeL\nx")),
            lead: None,
            code: None,
            reminder: None,
            answer: None,
        };
        let text = sms_for(&job).unwrap();
        assert!(text.starts_with("Clinic: hi Ann[2JeeL, your"), "{text}");
        assert!(!text.contains('\n'));
        let email = email_for(&job).unwrap();
        for part in [&email.subject, &email.text, &email.html] {
            assert!(!part.contains(['\0', '\u{1b}', '\u{202E}']), "{part}");
        }
        assert!(
            email.text.starts_with("Hello Ann[2JeeL x,\n"),
            "{}",
            email.text
        );
    }

    #[test]
    fn email_escapes_what_callers_said() {
        let e = booking_confirmation_email("A&B Clinic", &summary("<script>x</script>"));
        assert!(e.html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(e.html.contains("A&amp;B Clinic"));
        assert!(!e.html.contains("<script>"));
        assert!(
            e.text
                .contains("booked for Wednesday, November 25 at 2:00 PM EST")
        );
        assert_eq!(
            e.subject,
            "Your Consultation with A&B Clinic is booked: Wednesday, November 25 at 2:00 PM EST"
        );
    }
}

//! The follow-ups' messages: reminders (the day said relative to when they go), the lead's
//! next-day text, and the one answer to each customer text.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{CustomerEmail, RenderedEmail, customer_email, first_name, single_line, when};
use crate::jobs::{BookingSummary, LeadSummary, ReminderNote, SmsAnswer};
use crate::values::speech::spoken_time;

/// "today at 2:00 PM GMT", "tomorrow at ...", or "on Wednesday, December 9 at ...", as seen
/// when the reminder goes.
pub fn relative_when(b: &BookingSummary, sent_for: DateTime<Utc>) -> String {
    let Ok(zone) = b.time_zone.parse::<Tz>() else {
        return format!("on {}", when(&b.start_local, &b.time_zone));
    };
    let start = b.start_local.with_timezone(&zone);
    let days = (start.date_naive() - sent_for.with_timezone(&zone).date_naive()).num_days();
    let at = format!("{} {}", spoken_time(start.time()), start.format("%Z"));
    match days {
        0 => format!("today at {at}"),
        1 => format!("tomorrow at {at}"),
        _ => format!("on {}", when(&b.start_local, &b.time_zone)),
    }
}

/// The reply line of a reminder that takes replies.
pub const REPLY_LINE: &str = "Reply C to confirm or X to cancel.";

pub fn reminder_sms(business_name: &str, b: &BookingSummary, note: &ReminderNote) -> String {
    let reply = if note.replies {
        format!(" {REPLY_LINE}")
    } else {
        String::new()
    };
    single_line(&format!(
        "{business_name}: hi {}, a reminder of your {} {}. Reference {}.{reply} Reply STOP to opt out.",
        first_name(&b.customer_name),
        b.service,
        relative_when(b, note.sent_for),
        b.reference
    ))
}

pub fn reminder_email(
    business_name: &str,
    b: &BookingSummary,
    note: &ReminderNote,
) -> RenderedEmail {
    let when = relative_when(b, note.sent_for);
    customer_email(
        business_name,
        b,
        CustomerEmail {
            subject: format!("Reminder: your {} with {business_name} {when}", b.service),
            opening: "A reminder of your",
            headline: "",
            when: &when,
            footer: "To change or cancel, call us and quote the reference.",
        },
    )
}

pub fn lead_follow_up_sms(business_name: &str, lead: &LeadSummary) -> String {
    let about = if lead.interests.is_empty() {
        String::new()
    } else {
        format!(" in {}", lead.interests.join(", "))
    };
    single_line(&format!(
        "{business_name}: hi{}, thanks for your interest{about}. Call us back whenever suits you and we'll find you a time. Reply STOP to opt out.",
        lead.name
            .as_deref()
            .map(|n| format!(" {}", first_name(n)))
            .unwrap_or_default()
    ))
}

pub fn answer_sms(
    business_name: &str,
    answer: SmsAnswer,
    b: Option<&BookingSummary>,
) -> Option<String> {
    let text = match (answer, b) {
        (SmsAnswer::OptedOut, _) => format!(
            "{business_name}: you're unsubscribed and will get no more texts from us. Reply START to subscribe again."
        ),
        (SmsAnswer::OptedIn, _) => format!(
            "{business_name}: you're subscribed again. Reply STOP to opt out, HELP for help."
        ),
        (SmsAnswer::Help, _) => format!(
            "{business_name}: appointment reminders. Reply C to confirm or X to cancel the appointment we last reminded you of, STOP to opt out. For anything else, please call us."
        ),
        (SmsAnswer::HelpWithoutReplies, _) => format!(
            "{business_name}: appointment texts. Reply STOP to opt out. To change or cancel an appointment, please call us."
        ),
        (SmsAnswer::Confirmed, Some(b)) => format!(
            "{business_name}: thanks {}, your {} on {} is confirmed. Reference {}.",
            first_name(&b.customer_name),
            b.service,
            when(&b.start_local, &b.time_zone),
            b.reference
        ),
        (SmsAnswer::Confirmed, None) => return None,
        (SmsAnswer::NoBooking, _) => format!(
            "{business_name}: we found no upcoming appointment of yours to confirm or cancel. Please call us."
        ),
    };
    Some(single_line(&text))
}

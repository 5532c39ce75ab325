use super::*;
use icalendar::parser::{read_calendar, unfold};

fn reference() -> BookingReference {
    BookingReference::parse("K7P2X9").unwrap()
}

fn invite<'a>(reference: &'a BookingReference, method: InviteMethod, sequence: u64) -> Invite<'a> {
    Invite {
        method,
        business_id: "smile",
        business_name: "Smile, Dental; \"Clinic\"",
        organizer_email: "bookings@smile.example",
        reference,
        service: "Cleaning",
        customer_name: "Zoë O'Neil",
        customer_email: "zoe@example.com",
        start: "2026-12-09T14:00:00Z".parse().unwrap(),
        end: "2026-12-09T14:30:00Z".parse().unwrap(),
        sequence,
        stamp: "2026-12-01T10:00:00Z".parse().unwrap(),
    }
}

/// (property name, value) of the event, as a real iCalendar parser reads them.
fn event_properties(ics: &str) -> Vec<(String, String)> {
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded).unwrap_or_else(|e| panic!("{e}\n{ics}"));
    // The parser may keep VCALENDAR as a component or unwrap it: look at both levels.
    let event = calendar
        .components
        .iter()
        .chain(calendar.components.iter().flat_map(|c| c.components.iter()))
        .find(|c| c.name == "VEVENT")
        .unwrap_or_else(|| panic!("no VEVENT in {calendar:?}"));
    event
        .properties
        .iter()
        .map(|p| (p.name.to_string(), p.val.to_string()))
        .collect()
}

fn value<'a>(props: &'a [(String, String)], name: &str) -> &'a str {
    props
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {props:?}"))
}

#[test]
fn an_invite_parses_and_a_move_and_a_cancel_keep_its_uid_with_a_higher_sequence() {
    let r = reference();
    let booked = invite_ics(&invite(&r, InviteMethod::Request, 0));
    assert!(booked.contains("METHOD:REQUEST\r\n"));
    let first = event_properties(&booked);
    assert_eq!(value(&first, "DTSTART"), "20261209T140000Z");
    assert_eq!(value(&first, "DTEND"), "20261209T143000Z");
    assert_eq!(value(&first, "STATUS"), "CONFIRMED");
    assert_eq!(value(&first, "SEQUENCE"), "0");

    let mut moved = invite(&r, InviteMethod::Request, 1);
    moved.start = "2026-12-10T09:00:00Z".parse().unwrap();
    moved.end = "2026-12-10T09:30:00Z".parse().unwrap();
    let second = event_properties(&invite_ics(&moved));
    let cancelled = invite_ics(&invite(&r, InviteMethod::Cancel, 2));
    assert!(cancelled.contains("METHOD:CANCEL\r\n"));
    let third = event_properties(&cancelled);
    assert_eq!(value(&third, "STATUS"), "CANCELLED");

    let uid = value(&first, "UID");
    assert_eq!(uid, invite_uid("smile", &r));
    assert_eq!(value(&second, "UID"), uid);
    assert_eq!(value(&third, "UID"), uid);
    let sequences: Vec<u64> = [&first, &second, &third]
        .iter()
        .map(|p| value(p, "SEQUENCE").parse().unwrap())
        .collect();
    assert_eq!(sequences, [0, 1, 2]);
    assert_eq!(value(&second, "DTSTART"), "20261210T090000Z");
}

#[test]
fn what_people_typed_is_escaped_and_long_lines_are_folded() {
    let r = reference();
    let ics = invite_ics(&invite(&r, InviteMethod::Request, 0));
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{line:?}");
    }
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    let props = event_properties(&ics);
    // Escaped on the wire, read back as typed.
    assert!(unfold(&ics).contains("SUMMARY:Cleaning with Smile\\, Dental\\; \"Clinic\""));
    assert_eq!(
        value(&props, "SUMMARY"),
        "Cleaning with Smile, Dental; \"Clinic\""
    );
    // A name with quotes cannot break out of its parameter.
    assert!(ics.contains("CN=\"Smile, Dental; Clinic\""));
    assert!(unfold(&ics).contains("CN=\"Zoë O'Neil\""));
    assert_ne!(invite_uid("smile", &r), invite_uid("other", &r));
}

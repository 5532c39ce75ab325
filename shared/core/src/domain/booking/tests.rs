use super::*;
use chrono::TimeZone;
use serde_json::json;

fn business() -> Business {
    Business::from_lookup(&|_: &str| None).unwrap()
}

/// Tuesday 2026-11-24, 10:00 in New York.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// The refusal as the caller hears it with an empty calendar.
fn say(result: Result<BookingRequest, BookingRefusal>) -> String {
    let b = business();
    let refusal = result.unwrap_err();
    refusal
        .spoken(&b, &refusal.candidates(&b, now()), &HashMap::new())
        .to_string()
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn seed_args() -> Value {
    json!({"customerName": "Test User", "customerPhone": "+17025551234", "customerEmail": "test@example.com",
           "serviceType": "Consultation", "date": "tomorrow", "time": "2pm"})
}

#[test]
fn the_seed_booking_resolves() {
    let r = book_appointment_request(
        &args(seed_args()),
        &CallContext::default(),
        &business(),
        now(),
    )
    .unwrap();
    assert_eq!(
        r.start,
        chrono_tz::America::New_York
            .with_ymd_and_hms(2026, 11, 25, 14, 0, 0)
            .unwrap()
    );
    assert_eq!(r.customer.phone.as_str(), "+17025551234");
    let reference = BookingReference::parse("K7P2X9").unwrap();
    assert_eq!(
        booking_confirmation(&r, &reference),
        "You're booked for Consultation on Wednesday, November 25 at 2:00 PM. Your booking reference is K-7-P-2-X-9. We'll send a confirmation by text and email."
    );
}

#[test]
fn missing_arguments_are_listed() {
    let err = book_appointment_request(
        &args(json!({"customerName": "A", "date": "tomorrow"})),
        &CallContext::default(),
        &business(),
        now(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        BookingRefusal::Invalid(
            "To book the appointment I still need the phone number, email address, service and time.".into()
        )
    );
}

#[test]
fn the_callers_number_fills_in_a_missing_phone() {
    let mut a = args(seed_args());
    a.remove("customerPhone");
    let call = CallContext {
        customer_number: Some("+17025550000".into()),
        ..Default::default()
    };
    let r = book_appointment_request(&a, &call, &business(), now()).unwrap();
    assert_eq!(r.customer.phone.as_str(), "+17025550000");
}

#[test]
fn bad_values_get_spoken_errors() {
    let cases = [
        (
            "customerPhone",
            json!("555"),
            "phone number doesn't look complete",
        ),
        (
            "customerEmail",
            json!("test@"),
            "email address doesn't look right",
        ),
        ("date", json!("someday"), "could not understand the date"),
        ("time", json!("lunchtime"), "could not understand the time"),
        ("customerName", json!("x".repeat(201)), "too long"),
    ];
    for (key, value, expected) in cases {
        let mut a = args(seed_args());
        a.insert(key.into(), value);
        let err = say(book_appointment_request(
            &a,
            &CallContext::default(),
            &business(),
            now(),
        ));
        assert!(err.contains(expected), "{key}: {err}");
    }
}

#[test]
fn closed_days_offer_the_next_open_times() {
    let mut a = args(seed_args());
    a.insert("date".into(), json!("Saturday"));
    let err = say(book_appointment_request(
        &a,
        &CallContext::default(),
        &business(),
        now(),
    ));
    assert_eq!(
        err,
        "We're closed on Saturdays; we're open Monday to Friday, 9:00 AM to 5:00 PM. The nearest times I can offer are Monday, November 30 at 9:00 AM, 9:30 AM or 10:00 AM. Would one of those work?"
    );
}

#[test]
fn outside_hours_and_past_times_are_refused_with_alternatives() {
    let mut a = args(seed_args());
    a.insert("time".into(), json!("4:30pm"));
    let err = say(book_appointment_request(
        &a,
        &CallContext::default(),
        &business(),
        now(),
    ));
    assert!(
        err.starts_with("We can't book Wednesday, November 25 at 4:30 PM because we're open"),
        "{err}"
    );
    assert!(err.contains("Thursday, November 26 at 9:00 AM"), "{err}");

    a.insert("date".into(), json!("today"));
    a.insert("time".into(), json!("9am"));
    let err = say(book_appointment_request(
        &a,
        &CallContext::default(),
        &business(),
        now(),
    ));
    assert!(
        err.starts_with("Tuesday, November 24 at 9:00 AM has already passed."),
        "{err}"
    );
    // It is 10:00 now: the next bookable start is 10:30.
    assert!(
        err.contains("Tuesday, November 24 at 10:30 AM, 11:00 AM or 11:30 AM"),
        "{err}"
    );
}

#[test]
fn customer_history_accumulates() {
    let r = book_appointment_request(
        &args(seed_args()),
        &CallContext::default(),
        &business(),
        now(),
    )
    .unwrap();
    let job = BookingJob {
        job_id: "j".into(),
        business_id: "default".into(),
        business_name: "Clinic".into(),
        reference: BookingReference::parse("K7P2X9").unwrap(),
        customer: r.customer.clone(),
        service: r.service.name.clone(),
        duration_minutes: 60,
        price_cents: None,
        start_utc: r.start.with_timezone(&Utc),
        start_local: r.start.fixed_offset(),
        time_zone: "America/New_York".into(),
        slot_cells: Vec::new(),
        call_id: None,
        tool_call_id: None,
        requested_at: now(),
        owner: Vec::new(),
        holder: None,
        texts: Default::default(),
        followups: None,
    };
    let first = CustomerRecord::after_booking(None, &job, now());
    let later = now() + chrono::Duration::days(1);
    let second = CustomerRecord::after_booking(Some(&first), &job, later);
    assert_eq!(
        (
            second.booking_count,
            second.first_contact_at,
            second.last_contact_at
        ),
        (2, now(), later)
    );
    assert_eq!(BookingRecord::from_job(&job, now()).audit.len(), 1);
}

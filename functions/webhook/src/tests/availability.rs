use super::*;

fn check(date: &str, preference: Option<&str>) -> Value {
    let mut args = json!({"serviceType": "Consultation", "date": date});
    if let Some(p) = preference {
        args["timePreference"] = json!(p);
    }
    tool_calls_body(
        json!([{"id": format!("tc-avail-{date}-{preference:?}"), "type": "function", "function": {"name": "checkAvailability", "arguments": args}}]),
    )
}

#[tokio::test]
async fn check_availability_offers_free_times_only() {
    let w = webhook();
    let (_, answer) = send(&w, authed(&check("tomorrow", None))).await;
    assert_eq!(
        answer["results"][0]["result"],
        "On Wednesday, November 25 I have 9:00 AM, 11:00 AM, 1:30 PM or 4:00 PM for a Consultation. Which would you like?"
    );
    let mut nine = seed_body();
    nine["parameters"]["time"] = json!("9am");
    send(&w, authed(&nine)).await;
    let (_, answer) = send(&w, authed(&check("tomorrow", Some("morning")))).await;
    let text = answer["results"][0]["result"].as_str().unwrap();
    assert!(
        text.starts_with("On Wednesday, November 25 I have 10:00 AM"),
        "{text}"
    );
    assert!(
        !text.contains("9:00 AM") && !text.contains("9:30 AM"),
        "{text}"
    );
    assert!(
        w.queue.sent().len() == 1,
        "checking availability enqueues nothing"
    );
}

#[tokio::test]
async fn a_full_or_closed_day_points_to_the_next_days_with_room() {
    let w = webhook();
    // Fill Wednesday: every cell from 9:00 to 17:00.
    let zone = w.business.zone;
    let day_cells = callbook_core::cells_for(
        zone.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(),
        8 * 60,
        30,
    );
    let filler = BookingReference::derive(b"filler");
    w.calendar
        .reserve("default", &day_cells, 1, &filler, "filler")
        .await
        .unwrap();
    let (_, answer) = send(&w, authed(&check("tomorrow", None))).await;
    assert_eq!(
        answer["results"][0]["result"],
        "Wednesday, November 25 is fully booked. The next days with room are Thursday, November 26 from 9:00 AM and Friday, November 27 from 9:00 AM. Would one of those work?"
    );
    let (_, answer) = send(&w, authed(&check("Saturday", None))).await;
    assert!(
        answer["results"][0]["result"].as_str().unwrap().starts_with(
            "We're closed on Saturday, November 28. The next days with room are Monday, November 30 from 9:00 AM"
        ),
        "{answer}"
    );
}

#[tokio::test]
async fn check_availability_explains_bad_input_and_a_calendar_it_cannot_read() {
    let w = webhook();
    let (_, answer) = send(&w, authed(&check("someday", None))).await;
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("could you say the day another way")
    );
    let (_, answer) = send(&w, authed(&check("2026-11-20", None))).await;
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("has already passed")
    );
    w.calendar.faults.fail_next(1);
    let (_, answer) = send(&w, authed(&check("tomorrow", None))).await;
    assert!(
        answer["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("can't check the calendar")
    );
}

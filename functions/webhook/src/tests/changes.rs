use super::*;

#[tokio::test]
async fn rescheduling_reserves_the_new_time_before_answering() {
    let w = webhook();
    let job = booked(&w, "2pm", "+17025551234").await;
    let answer = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": job.reference.spoken(), "newDate": "Friday", "newTime": "10am"}),
    )
    .await;
    assert_eq!(
        answer["result"].as_str().unwrap(),
        format!(
            "Done: your Consultation is moved from Wednesday, November 25 at 2:00 PM to Friday, November 27 at 10:00 AM. Your booking reference stays {}, and we'll send the new time by text and email.",
            job.reference.spoken()
        )
    );
    let changes = change_jobs(&w);
    assert_eq!(changes.len(), 1);
    let BookingChange::Reschedule { slot_cells, .. } = &changes[0].change else {
        panic!("a reschedule job");
    };
    assert_eq!(slot_cells.len(), 2);
    // The new time is held for this booking: another caller is offered other times.
    let mut other = seed_body();
    other["parameters"]["customerPhone"] = json!("+17025559999");
    other["parameters"]["date"] = json!("Friday");
    other["parameters"]["time"] = json!("10am");
    let (_, refused) = send(&w, authed(&other)).await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("Sorry, Friday, November 27 at 10:00 AM is already booked."),
        "{refused}"
    );
    // Moving to the time it already has, or to a closed day, is refused aloud.
    let same = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": job.reference.as_str(), "newDate": "tomorrow", "newTime": "2pm"}),
    )
    .await;
    assert_eq!(
        same["error"],
        "Your Consultation is already booked for Wednesday, November 25 at 2:00 PM."
    );
    let closed = tool(
        &w,
        "rescheduleAppointment",
        json!({"newDate": "Saturday", "newTime": "10am"}),
    )
    .await;
    assert!(
        closed["error"]
            .as_str()
            .unwrap()
            .starts_with("We're closed on Saturdays"),
        "{closed}"
    );
    assert_eq!(change_jobs(&w).len(), 1);
}

#[tokio::test]
async fn rescheduling_onto_a_taken_time_offers_others() {
    let w = webhook();
    let mine = booked(&w, "2pm", "+17025551234").await;
    booked(&w, "4pm", "+17025559999").await;
    let answer = tool(
        &w,
        "rescheduleAppointment",
        json!({"bookingReference": mine.reference.as_str(), "newDate": "tomorrow", "newTime": "4pm"}),
    )
    .await;
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.starts_with("Sorry, Wednesday, November 25 at 4:00 PM is already booked. The nearest times I can offer are"),
        "{error}"
    );
    assert!(change_jobs(&w).is_empty());
}

#[tokio::test]
async fn cancelling_by_phone_finds_the_booking_or_asks_which() {
    let w = webhook();
    let first = booked(&w, "2pm", "+17025551234").await;
    let answer = tool(&w, "cancelAppointment", json!({"reason": "feeling better"})).await;
    assert_eq!(
        answer["result"],
        "Your Consultation on Wednesday, November 25 at 2:00 PM is cancelled, and we'll confirm by text and email."
    );
    let changes = change_jobs(&w);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].reference, first.reference);
    assert_eq!(
        changes[0].change,
        BookingChange::Cancel {
            reason: Some("feeling better".into())
        }
    );
    booked(&w, "3pm", "+17025551234").await;
    let answer = tool(&w, "cancelAppointment", json!({})).await;
    assert!(
        answer["error"].as_str().unwrap().starts_with(
            "You have 2 upcoming appointments: Consultation on Wednesday, November 25 at 2:00 PM"
        ),
        "{answer}"
    );
    let answer = tool(
        &w,
        "cancelAppointment",
        json!({"bookingReference": "ZZZZZZ"}),
    )
    .await;
    assert_eq!(answer["error"], NOT_FOUND_OR_NOT_YOURS, "{answer}");
    // The store failing is a spoken problem, not an HTTP error.
    w.bookings.faults.fail_next(1);
    let answer = tool(&w, "cancelAppointment", json!({})).await;
    assert_eq!(answer["error"], LOOKUP_PROBLEM);
}

#[tokio::test]
async fn get_appointments_lists_the_callers_upcoming_bookings() {
    let w = webhook();
    let answer = tool(&w, "getAppointments", json!({})).await;
    assert_eq!(
        answer["result"],
        "I can't find any upcoming appointments for the number ending in 1234."
    );
    let job = booked(&w, "2pm", "+17025551234").await;
    booked(&w, "3pm", "+17025559999").await;
    let answer = tool(&w, "getAppointments", json!({})).await;
    assert_eq!(
        answer["result"].as_str().unwrap(),
        format!(
            "You have one upcoming appointment: Consultation on Wednesday, November 25 at 2:00 PM, reference {}.",
            job.reference.spoken()
        )
    );
}

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_books_lists_moves_and_cancels_and_each_change_frees_its_time() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    let date = next_open_day();
    let call = "call-e2e-life";
    let other = "+17025550199";

    let booked = book(&stack, call, PHONE, "Test User", &date, "10am");
    let reference = reference_in(
        booked["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{booked}")),
    );
    let record = |status: &'static str| {
        let tables = &tables;
        let table = bookings_table.clone();
        let reference = reference.clone();
        move || {
            let table = table.clone();
            let reference = reference.clone();
            async move {
                tables
                    .item(&table, booking_key("default", reference.as_str()))
                    .await
                    .filter(|b| s(b, "status") == status)
            }
        }
    };
    eventually(
        "the booking recorded",
        Duration::from_secs(20),
        record("confirmed"),
    )
    .await;

    let listed = tool_call(&stack, call, PHONE, "getAppointments", json!({}));
    let text = listed["result"].as_str().unwrap();
    assert!(
        text.starts_with("You have one upcoming appointment: Consultation on "),
        "{text}"
    );
    assert!(text.contains(&reference.spoken()), "{text}");

    // Moved by phone (no reference): 10 AM is given up, 2 PM taken.
    let moved = tool_call(
        &stack,
        call,
        PHONE,
        "rescheduleAppointment",
        json!({"newDate": date, "newTime": "2pm"}),
    );
    let text = moved["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{moved}"));
    assert!(
        text.contains("is moved from") && text.contains("at 2:00 PM"),
        "{text}"
    );
    let rescheduled = eventually(
        "the reschedule applied",
        Duration::from_secs(20),
        record("rescheduled"),
    )
    .await;
    assert!(s(&rescheduled, "startLocal").contains("T14:00:00"));
    let taken = book(&stack, "call-other-1", other, "Other Caller", &date, "2pm");
    assert!(
        taken["error"]
            .as_str()
            .is_some_and(|e| e.contains("is already booked")),
        "{taken}"
    );
    let freed = book(&stack, "call-other-1", other, "Other Caller", &date, "10am");
    assert!(
        freed["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("You're booked")),
        "the old time is free: {freed}"
    );

    // Cancelled by reference: 2 PM is free again.
    let cancelled = tool_call(
        &stack,
        call,
        PHONE,
        "cancelAppointment",
        json!({"bookingReference": reference.spoken(), "reason": "travelling"}),
    );
    assert!(
        cancelled["result"]
            .as_str()
            .is_some_and(|r| r.contains("is cancelled")),
        "{cancelled}"
    );
    let record_after = eventually(
        "the cancel applied",
        Duration::from_secs(20),
        record("cancelled"),
    )
    .await;
    assert!(
        record_after
            .get("audit")
            .and_then(|a| a.as_l().ok())
            .is_some_and(|entries| entries.len() == 3),
        "booked, rescheduled, cancelled"
    );
    let rebooked = book(&stack, "call-other-2", other, "Other Caller", &date, "2pm");
    assert!(
        rebooked["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("You're booked")),
        "cancelling frees the slot: {rebooked}"
    );
    let none = tool_call(&stack, call, PHONE, "getAppointments", json!({}));
    assert_eq!(
        none["result"],
        "I can't find any upcoming appointments for the number ending in 1234."
    );

    // The caller heard about each change by SMS and email.
    eventually(
        "the change notifications",
        Duration::from_secs(20),
        || async {
            let sent = stack.sent_messages();
            let sms = sent.sms_to(PHONE);
            (sms.iter().any(|t| t.contains("is moved to"))
                && sms.iter().any(|t| t.contains("is cancelled"))
                && sent.emails_to(EMAIL).len() >= 3)
                .then_some(())
        },
    )
    .await;

    // The call's record: its report, and what was done in it.
    let report = json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
        "call": {"id": call, "customer": {"number": PHONE}},
        "startedAt": "2026-11-24T15:00:00.000Z", "endedAt": "2026-11-24T15:06:00.000Z",
        "artifact": {"transcript": "AI: Hello.\nUser: I'd like to book, then move it, then cancel.",
            "messages": [{"role": "user", "message": "I'd like to book", "secondsFromStart": 2.0}]},
        "analysis": {"summary": "The caller booked, moved and cancelled a consultation.", "successEvaluation": "true"}}});
    let (status, _) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &report.to_string(),
    );
    assert_eq!(status, 200);
    let calls_table = format!("{TABLE_PREFIX}CallsTable");
    let key = callbook_aws::calls::call_key("default", call);
    let record = eventually(
        "the call record with its report and changes",
        Duration::from_secs(20),
        || async {
            tables.item(&calls_table, key.clone()).await.filter(|c| {
                c.get("report").is_some_and(|r| r.as_m().is_ok())
                    && c.get("cancelled")
                        .and_then(|v| v.as_l().ok())
                        .is_some_and(|l| !l.is_empty())
            })
        },
    )
    .await;
    assert_eq!(s(&record, "outcome"), "booked");
    let report = record["report"].as_m().unwrap();
    assert!(s(report, "transcript").contains("then cancel"));
    assert_eq!(n(report, "durationSeconds"), "360");
}

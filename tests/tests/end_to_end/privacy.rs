use super::*;

/// Names, phone numbers, emails, transcripts and the secret Vapi echoes in payloads never reach
/// the logs in clear, over a whole run: a booking, a lead, a status update and a call report.
#[tokio::test(flavor = "multi_thread")]
async fn the_logs_of_a_whole_run_hold_no_personal_values_or_secrets() {
    let log = std::env::temp_dir().join(format!("callbook-pii-{}.log", uuid::Uuid::new_v4()));
    let stack = DevStack::start_logged(&log);
    let tables = Tables::new(&stack).await;
    let (name, phone, email) = ("Zebulon Quixote", "+17025550123", "zq.private@example.org");
    let (transcript, echoed) = (
        "my dog Biscuit bit the mailman",
        "vapi-echoed-server-secret-77",
    );
    let date = next_open_day();
    let call = json!({"id": "call-pii", "customer": {"number": phone}});
    let messages = [
        json!({"message": {"type": "tool-calls", "call": call, "server": {"url": "https://x", "secret": echoed},
        "toolCallList": [
            {"id": "t1", "type": "function", "function": {"name": "bookAppointment", "arguments":
                {"customerName": name, "customerEmail": email, "serviceType": "Consultation", "date": date, "time": "9am"}}},
            {"id": "t2", "type": "function", "function": {"name": "captureLead", "arguments":
                {"name": name, "email": email, "interest": "whitening", "notes": transcript}}},
            {"id": "t3", "type": "function", "function": {"name": "bookAppointment", "arguments":
                {"customerName": name, "customerEmail": "not-an-email", "serviceType": "Consultation", "date": date, "time": "9am"}}}
        ]}}),
        json!({"message": {"type": "status-update", "status": "ended", "call": call}}),
        json!({"message": {"type": "end-of-call-report", "call": call, "endedReason": "customer-ended-call",
            "artifact": {"transcript": transcript, "messages": [{"role": "user", "message": transcript}]},
            "analysis": {"summary": format!("{name} asked about whitening")}}}),
    ];
    for message in &messages {
        let (status, answer) = post(
            &stack.webhook_url(),
            &[("x-vapi-secret", stack.secret.as_str())],
            &message.to_string(),
        );
        assert_eq!(status, 200, "{answer}");
    }
    let (status, _) = post(&stack.webhook_url(), &[("x-vapi-secret", "wrong")], "{}");
    assert_eq!(status, 401);
    eventually("the run to finish", Duration::from_secs(30), || async {
        let sent = stack.sent_messages();
        (tables.bookings().await == 1
            && sent.sms_to(phone).len() == 1
            && tables
                .item(
                    &format!("{TABLE_PREFIX}CallsTable"),
                    callbook_aws::calls::call_key("default", "call-pii"),
                )
                .await
                .is_some_and(|c| c.get("report").is_some_and(|r| r.as_m().is_ok())))
        .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("booking accepted"),
        "the log was captured: {text}"
    );
    for secret in [
        "Zebulon",
        "Quixote",
        "7025550123",
        "zq.private",
        "example.org",
        "Biscuit",
        echoed,
        stack.secret.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret:?} in the log:\n{text}");
    }
    let _ = std::fs::remove_file(&log);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_on_the_opt_out_list_gets_its_email_but_no_sms() {
    let stack = DevStack::start(2, 3);
    let (ok, out) = stack.admin(&["opt-out", "default", PHONE]);
    assert!(ok && out.contains("opted out of SMS"), "{out}");
    assert!(
        !out.contains("5551234"),
        "the phone is not printed in clear: {out}"
    );
    let date = next_open_day();
    let booked = book(&stack, "call-optout", PHONE, "Test User", &date, "10am");
    assert!(booked["result"].is_string(), "{booked}");
    eventually("the email", Duration::from_secs(20), || async {
        (stack.sent_messages().emails_to(EMAIL).len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(stack.sent_messages().sms_to(PHONE).is_empty());
    // Opted back in: the next booking's SMS goes out.
    let (ok, _) = stack.admin(&["opt-in", "default", PHONE]);
    assert!(ok);
    let again = book(&stack, "call-optin", PHONE, "Test User", &date, "3pm");
    assert!(again["result"].is_string(), "{again}");
    eventually("the SMS", Duration::from_secs(20), || async {
        (stack.sent_messages().sms_to(PHONE).len() == 1).then_some(())
    })
    .await;
}

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
    // The caller texts too (two-way SMS): neither the number nor the words are logged.
    let sns = aws_sdk_sns::Client::new(&stack.sdk_config().await);
    super::replies::text(&sns, phone, "Zebulon here, Biscuit says hi").await;
    eventually("the run to finish", Duration::from_secs(30), || async {
        let sent = stack.sent_messages();
        (tables.bookings().await == 1
            && sent.sms_to(phone).len() == 2
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
        text.contains("booking accepted") && text.contains("text handled"),
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

/// Items of `table` whose key starts with `prefix` (a scan: fine in a test).
async fn items_starting(tables: &Tables, table: &str, prefix: &str) -> i32 {
    tables
        .dynamodb
        .scan()
        .table_name(format!("{TABLE_PREFIX}{table}"))
        .filter_expression("begins_with(pk, :prefix)")
        .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
        .send()
        .await
        .unwrap()
        .count
}

/// Issue 11: a name that is a link, or carries control or bidi characters, is asked again;
/// nothing is read, held, counted, queued or sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_name_that_is_a_link_is_asked_again_and_nothing_is_held_or_sent() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    for (i, name) in [
        "https://evil.example/verify Smith",
        "Ann\u{0}\u{1b}[2J Lee",
        "Ann \u{202E}eeL",
    ]
    .into_iter()
    .enumerate()
    {
        let call = format!("call-evil-{i}");
        let answer = book(&stack, &call, PHONE, name, &date, "2pm");
        let refusal = answer["error"].as_str().unwrap_or_default();
        assert!(refusal.contains("say it again"), "{name:?}: {answer}");
        let lead = tool_call(
            &stack,
            &call,
            PHONE,
            "captureLead",
            json!({"name": name, "interest": "whitening"}),
        );
        assert!(lead["error"].is_string(), "{name:?}: {lead}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tables.bookings().await, 0);
    assert_eq!(
        items_starting(&tables, "BookingsTable", "BIZ#default#SLOTS#").await,
        0,
        "no time held"
    );
    assert_eq!(
        items_starting(&tables, "IdempotencyTable", "quota#").await,
        0,
        "no limit counted"
    );
    assert_eq!(tables.depth("BookingQueue").await, 0);
    assert_eq!(tables.depth("AnalyticsQueue").await, 0);
    let sent = stack.sent_messages();
    assert!(sent.sms.is_empty() && sent.emails.is_empty(), "{sent:?}");
}

/// Issue 11: the default business (US) texts only US numbers. A number in Armenia, or on an
/// international network (+882) that is in no country, is booked: the caller hears that the
/// confirmation comes by email, and the email goes while no SMS does.
#[tokio::test(flavor = "multi_thread")]
async fn texts_go_only_to_the_business_country_and_the_email_still_goes() {
    let stack = DevStack::start(2, 3);
    let date = next_open_day();
    let abroad = ["+37491234567", "+8823456789012"];
    for (phone, time) in abroad.iter().zip(["9am", "11am"]) {
        let answer = book(
            &stack,
            &format!("call-abroad-{time}"),
            phone,
            "Ann Lee",
            &date,
            time,
        );
        let result = answer["result"].as_str().unwrap_or_default();
        assert!(
            result.ends_with(callbook_core::NO_TEXTS_THERE),
            "{phone}: {answer}"
        );
    }
    eventually("both emails", Duration::from_secs(30), || async {
        (stack.sent_messages().emails_to(EMAIL).len() == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = stack.sent_messages();
    for phone in abroad {
        assert!(sent.sms_to(phone).is_empty(), "{phone}: {:?}", sent.sms);
    }
    assert!(sent.sms.is_empty(), "{:?}", sent.sms);
}

/// Issue 11: book-then-cancel cannot send any number of messages: the fourth booking or
/// change in one call is refused aloud, and holds, queues and sends nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_fourth_booking_in_one_call_is_refused_and_sends_nothing() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    for time in ["9am", "11am", "1pm"] {
        let answer = book(&stack, "call-many", PHONE, "Ann Lee", &date, time);
        assert!(answer["result"].is_string(), "{time}: {answer}");
    }
    let fourth = book(&stack, "call-many", PHONE, "Ann Lee", &date, "3pm");
    let refusal = fourth["error"].as_str().unwrap_or_default();
    assert!(
        refusal.starts_with("I can make at most 3 bookings or changes in one call"),
        "{fourth}"
    );
    eventually("three confirmations", Duration::from_secs(30), || async {
        let sent = stack.sent_messages();
        (sent.sms_to(PHONE).len() == 3 && sent.emails_to(EMAIL).len() == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(tables.bookings().await, 3);
    let sent = stack.sent_messages();
    assert_eq!(sent.sms_to(PHONE).len(), 3);
    assert_eq!(sent.emails_to(EMAIL).len(), 3);
    // 3pm is still free: another call books it.
    let other = book(&stack, "call-other", "+17025550199", "Bo Lee", &date, "3pm");
    assert!(other["result"].is_string(), "{other}");
}

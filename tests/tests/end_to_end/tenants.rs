use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_business_loaded_from_its_file_takes_its_own_calls_and_its_owner_hears_of_bookings() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let file = callbook_tests::repo_root().join("infra/business.example.json");
    let file = file.to_string_lossy();
    let (ok, out) = stack.admin(&["load-business", &file]);
    assert!(ok, "{out}");
    assert!(
        out.contains("business smile-dental-london created"),
        "{out}"
    );
    let (ok, out) = stack.admin(&["load-business", &file]);
    assert!(
        ok && out.contains("updated"),
        "loading again is safe: {out}"
    );

    // Another business may not claim its assistant.
    let mut other: Value = serde_json::from_str(&std::fs::read_to_string(&*file).unwrap()).unwrap();
    other["id"] = json!("rival-clinic");
    let rival = stack.dev_dir.join("rival.json");
    std::fs::write(&rival, other.to_string()).unwrap();
    let (ok, out) = stack.admin(&["load-business", &rival.to_string_lossy()]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("already belongs to business \"smile-dental-london\""),
        "{out}"
    );
    let (ok, out) = stack.admin(&["load-business", "/nonexistent.json"]);
    assert!(!ok && out.contains("cannot read"), "{out}");

    // A call through its assistant: its catalogue, its zone, keys under its id.
    let date = next_open_day();
    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": "call-london-1", "assistantId": "asst-smile-london", "customer": {"number": "+447700900456"}},
        "toolCallList": [{"id": "call_L1", "type": "function", "function": {"name": "bookAppointment",
            "arguments": {"customerName": "Jo Bloggs", "customerEmail": "jo@example.com", "serviceType": "scale and polish", "date": date, "time": "10am"}}}]}});
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &body.to_string(),
    );
    assert_eq!(status, 200);
    let text = answer["results"][0]["result"]
        .as_str()
        .unwrap_or_else(|| panic!("not booked: {answer}"));
    assert!(text.starts_with("You're booked for Hygiene on "), "{text}");
    let reference = reference_in(text);
    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    let booking = eventually(
        "the booking under its business",
        Duration::from_secs(20),
        || {
            tables.item(
                &bookings_table,
                booking_key("smile-dental-london", reference.as_str()),
            )
        },
    )
    .await;
    assert_eq!(s(&booking, "timeZone"), "Europe/London");
    assert!(
        s(&booking, "startLocal").contains("T10:00:00"),
        "{booking:?}"
    );

    // The caller and the owner both hear of it.
    eventually("the owner's notices", Duration::from_secs(20), || async {
        let sent = stack.sent_messages();
        (sent
            .sms_to("+447700900123")
            .iter()
            .any(|t| t.contains("new booking"))
            && sent.emails_to("owner@smile-dental.example").len() == 1
            && sent.sms_to("+447700900456").len() == 1)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_business_with_its_own_secret_in_ssm_is_authenticated_with_it() {
    let stack = DevStack::start(2, 3);
    callbook_tests::put_secret(
        &stack.moto_endpoint,
        "ssm:/callbook/e2e/smile-webhook",
        "smile-e2e-secret-0001",
    );
    let mut profile: Value = serde_json::from_str(
        &std::fs::read_to_string(callbook_tests::repo_root().join("infra/business.example.json"))
            .unwrap(),
    )
    .unwrap();
    profile["webhookSecrets"] = json!(["ssm:/callbook/e2e/smile-webhook"]);
    let file = stack.dev_dir.join("smile-own-secret.json");
    std::fs::write(&file, profile.to_string()).unwrap();
    let (ok, out) = stack.admin(&["load-business", &file.to_string_lossy()]);
    assert!(ok, "{out}");

    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": "call-own-secret", "assistantId": "asst-smile-london", "customer": {"number": "+447700900456"}},
        "toolCallList": [{"id": "call_S1", "type": "function", "function": {"name": "checkAvailability",
            "arguments": {"serviceType": "Check-up", "date": next_open_day()}}}]}})
    .to_string();
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &body,
    );
    assert_eq!(
        status, 401,
        "the deployment's secret does not open it: {answer}"
    );
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("authorization", "Bearer smile-e2e-secret-0001")],
        &body,
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer["results"][0]["result"].is_string(), "{answer}");
    // The default business still takes the deployment's secret, and not the business's.
    let flat = json!({"function": "checkAvailability", "parameters": {"serviceType": "Consultation", "date": next_open_day()}}).to_string();
    let (status, _) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &flat,
    );
    assert_eq!(status, 200);
    let (status, _) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", "smile-e2e-secret-0001")],
        &flat,
    );
    assert_eq!(status, 401);
}

/// The attack of issue 11: with businesses loaded and `UnroutedCalls=refuse`, a call through
/// an assistant or phone number no business claims (a tenant's misconfiguration, or someone
/// holding the deployment's secret) is not served by the default business. Each message hears
/// the refusal, 200 so Vapi does not retry, and nothing is booked, held, queued or sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_no_business_claims_is_refused_when_unrouted_calls_are_refused() {
    const REFUSED: &str = "I'm sorry, this line isn't set up to take bookings yet, so I can't help with that now. Please contact the business directly.";
    let stack = DevStack::start_with_params(2, 3, &[("UnroutedCalls", "refuse")]);
    let tables = Tables::new(&stack).await;
    let file = callbook_tests::repo_root().join("infra/business.example.json");
    let (ok, out) = stack.admin(&["load-business", &file.to_string_lossy()]);
    assert!(ok, "{out}");

    let secret = [("x-vapi-secret", stack.secret.as_str())];
    let call = json!({"id": "call-unrouted-1", "assistantId": "9b0c3e1a-6a53-4f0e-8d1e-6f1d2c3b4a59",
        "phoneNumberId": "4e1f7c2d-0b9a-4c8e-9f3a-2d5e6b7c8a90", "customer": {"number": "+447700900456"}});
    let book = json!({"message": {"type": "tool-calls", "call": call,
        "toolCallList": [{"id": "call_U1", "type": "function", "function": {"name": "bookAppointment",
            "arguments": {"customerName": "Jo Bloggs", "customerEmail": "jo@example.com",
                "serviceType": "Consultation", "date": next_open_day(), "time": "2pm"}}}]}});
    let (status, answer) = post(&stack.webhook_url(), &secret, &book.to_string());
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"results": [{"name": "bookAppointment", "toolCallId": "call_U1", "error": REFUSED}]})
        )
    );
    let request = json!({"message": {"type": "assistant-request", "call": call}});
    let (status, answer) = post(&stack.webhook_url(), &secret, &request.to_string());
    assert_eq!((status, answer), (200, json!({"error": REFUSED})));
    let report = json!({"message": {"type": "end-of-call-report", "call": call,
        "endedReason": "customer-ended-call", "startedAt": "2026-11-24T15:00:00Z",
        "endedAt": "2026-11-24T15:02:00Z", "artifact": {"transcript": "AI: Hello"}}});
    let (status, answer) = post(&stack.webhook_url(), &secret, &report.to_string());
    assert_eq!((status, answer), (200, json!({})));

    // Nothing was booked, held or recorded for the refused call, and nothing was sent: give
    // the workers time to have acted had anything been queued.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for table in [
        "BookingsTable",
        "IdempotencyTable",
        "CallsTable",
        "CustomersTable",
    ] {
        assert_eq!(
            tables.count(&format!("{TABLE_PREFIX}{table}")).await,
            0,
            "{table}"
        );
    }
    for queue in [
        "BookingQueue",
        "AnalyticsQueue",
        "NotificationQueue",
        "BookingDeadLetterQueue",
        "AnalyticsDeadLetterQueue",
    ] {
        assert_eq!(tables.depth(queue).await, 0, "{queue}");
    }
    let sent = stack.sent_messages();
    assert!(
        sent.sms.is_empty() && sent.emails.is_empty(),
        "nothing sent: {:?}",
        sent.sms
    );

    // A claimed call is still served, so the refusals above are not an outage.
    let mut claimed = book.clone();
    claimed["message"]["call"] = json!({"id": "call-claimed-1", "assistantId": "asst-smile-london",
        "customer": {"number": "+447700900789"}});
    claimed["message"]["toolCallList"][0]["function"] = json!({"name": "checkAvailability",
        "arguments": {"serviceType": "Check-up", "date": next_open_day()}});
    let (status, answer) = post(&stack.webhook_url(), &secret, &claimed.to_string());
    assert_eq!(status, 200);
    assert!(answer["results"][0]["result"].is_string(), "{answer}");
}

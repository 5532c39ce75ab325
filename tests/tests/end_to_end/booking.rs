use super::*;
use callbook_core::testing::sample_events;

#[tokio::test(flavor = "multi_thread")]
async fn bookings_flow_to_dynamodb_and_the_customer_gets_one_sms_and_one_email_each() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let auth = [
        ("content-type", "application/json"),
        ("x-vapi-secret", stack.secret.as_str()),
    ];

    // The seed's curl: booked, or (when tomorrow is a closed day) refused with alternatives.
    let (status, answer) = post(&stack.webhook_url(), &auth, &seed_curl_body());
    assert_eq!(status, 200, "{answer}");
    let mut references = Vec::new();
    match (answer["result"].as_str(), answer["error"].as_str()) {
        (Some(result), None) => {
            assert!(
                result.starts_with("You're booked for Consultation on "),
                "{result}"
            );
            references.push(reference_in(result));
        }
        (None, Some(refusal)) => assert!(
            refusal.contains("The nearest times I can offer are"),
            "{refusal}"
        ),
        _ => panic!("unexpected answer {answer}"),
    }

    // A Vapi tool-calls message for a day that is open.
    let date = next_open_day();
    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": "call-e2e-1", "customer": {"number": PHONE}},
        "toolCallList": [{"id": "call_e2e_A", "type": "function", "function": {"name": "bookAppointment",
            "arguments": {"customerName": "Test User", "customerEmail": EMAIL, "serviceType": "Consultation", "date": date, "time": "3pm"}}}]}});
    let bearer = format!("Bearer {}", stack.secret);
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("authorization", bearer.as_str())],
        &body.to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    let result = &answer["results"][0];
    assert_eq!(result["toolCallId"], "call_e2e_A");
    let text = result["result"]
        .as_str()
        .unwrap_or_else(|| panic!("not booked: {answer}"));
    assert!(text.contains("at 3:00 PM"), "{text}");
    references.push(reference_in(text));

    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    let customers_table = format!("{TABLE_PREFIX}CustomersTable");
    for reference in &references {
        let booking = eventually("the booking in DynamoDB", Duration::from_secs(20), || {
            tables.item(&bookings_table, booking_key("default", reference.as_str()))
        })
        .await;
        assert_eq!(s(&booking, "status"), "confirmed");
        assert_eq!(s(&booking, "customerPhone"), PHONE);
        assert_eq!(s(&booking, "timeZone"), "America/New_York");
        // The seed books 2 PM, the tool call 3 PM, local time (EST or EDT).
        let local = s(&booking, "startLocal");
        assert!(
            ["T14:00:00-0", "T15:00:00-0"]
                .iter()
                .any(|t| local.contains(t)),
            "{local}"
        );
    }
    let customer = tables
        .item(&customers_table, customer_key("default", PHONE))
        .await
        .expect("customer");
    assert_eq!(n(&customer, "bookingCount"), references.len().to_string());
    assert_eq!(s(&customer, "email"), EMAIL);

    // Exactly one SMS and one email per booking, naming its reference.
    let expected = references.len();
    eventually("the confirmations", Duration::from_secs(20), || async {
        let sent = stack.sent_messages();
        (sent.sms_to(PHONE).len() >= expected && sent.emails_to(EMAIL).len() >= expected)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // time for any duplicate to show up
    let sent = stack.sent_messages();
    assert_eq!(sent.sms_to(PHONE).len(), expected, "{:?}", sent.sms);
    assert_eq!(sent.emails_to(EMAIL).len(), expected);
    for reference in &references {
        assert_eq!(
            sent.sms_to(PHONE)
                .iter()
                .filter(|t| t.contains(reference.as_str()))
                .count(),
            1
        );
        assert_eq!(
            sent.emails_to(EMAIL)
                .iter()
                .filter(|(_, body)| body.contains(reference.as_str()))
                .count(),
            1
        );
    }

    let (status, health) = get(&format!("{}/monitoring/health", stack.base_url));
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");
    assert!(health.get("components").is_none(), "details need the token");
    let mut response = callbook_tests::http()
        .get(format!("{}/monitoring/health", stack.base_url))
        .header("authorization", "Bearer local-monitoring-token")
        .call()
        .unwrap();
    let health: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        health["components"].as_object().map(|c| c.len()),
        Some(13),
        "{health}"
    );
    let (status, _) = get(&format!("{}/monitoring/metrics", stack.base_url));
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_requests_leave_no_queue_message_and_no_record() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let url = stack.webhook_url();
    let cases: [(Headers, String, u16); 5] = [
        (
            &[("content-type", "application/json")],
            seed_curl_body(),
            401,
        ),
        (&[("x-vapi-secret", "wrong-secret")], seed_curl_body(), 401),
        (
            &[("authorization", "Bearer wrong-secret")],
            seed_curl_body(),
            401,
        ),
        (
            &[("x-vapi-secret", stack.secret.as_str())],
            "{\"function\": \"bookAppointment\", ".to_string(),
            400,
        ),
        (
            &[
                ("x-vapi-secret", stack.secret.as_str()),
                ("content-type", "text/plain"),
            ],
            seed_curl_body(),
            415,
        ),
    ];
    for (headers, body, expected) in cases {
        let (status, answer) = post(&url, headers, &body);
        assert_eq!(status, expected, "{headers:?}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for queue in [
        "BookingQueue",
        "NotificationQueue",
        "AnalyticsQueue",
        "BookingDeadLetterQueue",
        "NotificationDeadLetterQueue",
        "AnalyticsDeadLetterQueue",
    ] {
        assert_eq!(tables.depth(queue).await, 0, "{queue}");
    }
    for table in [
        "BookingsTable",
        "CustomersTable",
        "IdempotencyTable",
        "CallsTable",
    ] {
        assert_eq!(
            tables.count(&format!("{TABLE_PREFIX}{table}")).await,
            0,
            "{table}"
        );
    }
    let sent = stack.sent_messages();
    assert!(sent.sms.is_empty() && sent.emails.is_empty());
}

/// Every webhook sample in events/ through the local stack, as API Gateway would deliver it:
/// the status each expects (with this stack's secret in place of the local default).
#[tokio::test(flavor = "multi_thread")]
async fn every_webhook_sample_is_answered_through_the_stack() {
    let stack = DevStack::start(2, 3);
    let samples = sample_events("webhook-");
    for (name, text) in &samples {
        let event: Value = serde_json::from_str(text).unwrap();
        let url = format!("{}{}", stack.base_url, event["rawPath"].as_str().unwrap());
        let headers: Vec<(String, String)> = event["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length"))
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .unwrap()
                        .replace("local-dev-secret", &stack.secret),
                )
            })
            .collect();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, answer) = match event["requestContext"]["http"]["method"].as_str() {
            Some("GET") => get(&url),
            _ => post(
                &url,
                &header_refs,
                event["body"].as_str().unwrap_or_default(),
            ),
        };
        assert_eq!(
            u64::from(status),
            event["_expect"]["status"].as_u64().unwrap(),
            "{name}: {answer}"
        );
        if status == 200 && event["rawPath"] == "/vapi-webhook" {
            assert!(answer.is_object(), "{name}: {answer}");
        }
    }
    assert!(
        samples.len() >= 15,
        "only {} webhook samples",
        samples.len()
    );
}

/// 20 callers ask for the same slot at once (capacity 1): one is booked, the others are
/// offered other times, and only one booking and one confirmation exist afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_bookings_of_one_slot_book_exactly_one() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let (url, secret, date) = (stack.webhook_url(), stack.secret.clone(), date.clone());
            std::thread::spawn(move || {
                let body = json!({"message": {"type": "tool-calls", "call": {"id": format!("call-race-{i}")},
                    "toolCallList": [{"id": format!("tc-race-{i}"), "type": "function", "function": {"name": "bookAppointment",
                        "arguments": {"customerName": format!("Racer {}", char::from(b'A' + i as u8)), "customerPhone": format!("+1702555{:04}", 3000 + i),
                            "customerEmail": format!("racer{i}@example.com"), "serviceType": "Consultation", "date": date, "time": "11am"}}}]}});
                post(&url, &[("x-vapi-secret", secret.as_str())], &body.to_string())
            })
        })
        .collect();
    let mut booked = Vec::new();
    for t in threads {
        let (status, answer) = t.join().unwrap();
        assert_eq!(status, 200, "{answer}");
        let result = &answer["results"][0];
        match (result["result"].as_str(), result["error"].as_str()) {
            (Some(text), _) => booked.push(reference_in(text)),
            (_, Some(refusal)) => {
                assert!(
                    refusal.contains("is already booked. The nearest times I can offer are"),
                    "{refusal}"
                )
            }
            _ => panic!("{answer}"),
        }
    }
    assert_eq!(booked.len(), 1, "exactly one caller gets the slot");
    eventually("the one booking", Duration::from_secs(20), || async {
        (tables.bookings().await == 1).then_some(())
    })
    .await;
    eventually("its confirmation", Duration::from_secs(20), || async {
        (stack.sent_messages().sms.len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let bookings = tables
        .item(
            &format!("{TABLE_PREFIX}BookingsTable"),
            booking_key("default", booked[0].as_str()),
        )
        .await;
    assert!(bookings.is_some());
    assert_eq!(stack.sent_messages().sms.len(), 1);
}

/// The model re-issues a booking (new tool-call id) and the flat form repeats it: one booking,
/// one SMS, one email, and every answer names the same reference.
#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_booking_request_books_once() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let args = json!({"customerName": "Test User", "customerPhone": PHONE, "customerEmail": EMAIL,
        "serviceType": "Consultation", "date": next_open_day(), "time": "10am"});
    let auth = [("x-vapi-secret", stack.secret.as_str())];
    let mut answers = Vec::new();
    for id in ["tc-dup-1", "tc-dup-2"] {
        // From the booking's own number: a repeat is recognised across calls and forms.
        let body = json!({"message": {"type": "tool-calls", "call": {"id": "call-dup", "customer": {"number": PHONE}},
            "toolCallList": [{"id": id, "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]}});
        let (_, answer) = post(&stack.webhook_url(), &auth, &body.to_string());
        answers.push(
            answer["results"][0]["result"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let (_, flat) = post(
        &stack.webhook_url(),
        &auth,
        &json!({"function": "bookAppointment", "parameters": args}).to_string(),
    );
    answers.push(flat["result"].as_str().unwrap_or_default().to_string());
    let reference = reference_in(&answers[0]);
    assert!(
        answers.iter().all(|a| reference_in(a) == reference),
        "{answers:?}"
    );
    eventually("the confirmations", Duration::from_secs(20), || async {
        let sent = stack.sent_messages();
        (sent.sms_to(PHONE).len() == 1 && sent.emails_to(EMAIL).len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(tables.bookings().await, 1);
    let sent = stack.sent_messages();
    assert_eq!(
        (sent.sms_to(PHONE).len(), sent.emails_to(EMAIL).len()),
        (1, 1)
    );
    let customer = tables
        .item(
            &format!("{TABLE_PREFIX}CustomersTable"),
            customer_key("default", PHONE),
        )
        .await
        .unwrap();
    assert_eq!(n(&customer, "bookingCount"), "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_tool_calls_in_one_message_answer_three_results_in_order() {
    let stack = DevStack::start(2, 3);
    let date = next_open_day();
    let body = json!({"message": {"type": "tool-calls",
    "call": {"id": "call-e2e-three", "customer": {"number": PHONE}},
    "toolCallList": [
        {"id": "call_one", "type": "function", "function": {"name": "checkAvailability",
            "arguments": {"serviceType": "Consultation", "date": date}}},
        {"id": "call_two", "type": "function", "function": {"name": "bookAppointment",
            "arguments": book_args("Test User", &date, "11am")}},
        {"id": "call_three", "type": "function", "function": {"name": "noSuchTool", "arguments": {}}}
    ]}});
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &body.to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["toolCallId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call_one", "call_two", "call_three"]);
    assert!(
        results[0]["result"]
            .as_str()
            .is_some_and(|r| r.contains("I have")),
        "{answer}"
    );
    assert!(
        results[1]["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("You're booked")),
        "{answer}"
    );
    assert!(
        results[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("noSuchTool")),
        "{answer}"
    );
}

/// Vapi (or a proxy) delivering the same webhook five times, one after another and all at
/// once: one booking, one SMS, one email.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_webhook_five_times_books_once_and_notifies_once() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    let body = |id: &str, time: &str| {
        json!({"message": {"type": "tool-calls", "call": {"id": format!("call-{id}"), "customer": {"number": PHONE}},
            "toolCallList": [{"id": id, "type": "function", "function": {"name": "bookAppointment",
                "arguments": book_args("Test User", &date, time)}}]}})
        .to_string()
    };
    let sequential = body("tc-seq", "10am");
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(post(
            &stack.webhook_url(),
            &[("x-vapi-secret", stack.secret.as_str())],
            &sequential,
        ));
    }
    let concurrent = body("tc-par", "1pm");
    let url = stack.webhook_url();
    let secret = stack.secret.clone();
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let (url, secret, concurrent) = (url.clone(), secret.clone(), concurrent.clone());
            std::thread::spawn(move || {
                post(&url, &[("x-vapi-secret", secret.as_str())], &concurrent)
            })
        })
        .collect();
    answers.extend(handles.into_iter().map(|h| h.join().unwrap()));
    let mut references = std::collections::BTreeSet::new();
    for (status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        let text = answer["results"][0]["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        references.insert(reference_in(text).to_string());
    }
    assert_eq!(
        references.len(),
        2,
        "one reference per distinct request: {references:?}"
    );
    eventually(
        "both bookings and their notices",
        Duration::from_secs(30),
        || async {
            let sent = stack.sent_messages();
            (tables.bookings().await == 2
                && sent.sms_to(PHONE).len() >= 2
                && sent.emails_to(EMAIL).len() >= 2)
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // time for any duplicate to show up
    let sent = stack.sent_messages();
    assert_eq!(tables.bookings().await, 2);
    assert_eq!(
        (sent.sms_to(PHONE).len(), sent.emails_to(EMAIL).len()),
        (2, 2)
    );
}

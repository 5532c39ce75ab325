use super::*;

#[tokio::test]
async fn each_call_is_served_by_the_business_its_assistant_or_number_belongs_to() {
    let w = webhook();
    w.directory.add(london());
    let book = |service: &str| {
        json!([{"id": next_id(), "type": "function", "function": {"name": "bookAppointment", "arguments": {
            "customerName": "Jo Bloggs", "customerEmail": "jo@example.com", "serviceType": service,
            "date": "tomorrow", "time": "2pm"}}}])
    };
    // Its catalogue, not the default's.
    let (_, answer) = send(
        &w,
        authed(&call_via(
            Some("asst-smile-london"),
            None,
            book("Consultation"),
        )),
    )
    .await;
    assert_eq!(
        answer["results"][0]["error"],
        "We don't offer Consultation. We offer Check-up, Hygiene and Whitening; which would you like?"
    );
    // Its zone: 2 PM in London, by the phone number when the assistant is not one of its.
    let (_, answer) = send(
        &w,
        authed(&call_via(
            Some("asst-unknown"),
            Some("pn-smile-london-main"),
            book("scale and polish"),
        )),
    )
    .await;
    let text = answer["results"][0]["result"].as_str().unwrap();
    assert!(
        text.starts_with("You're booked for Hygiene on Wednesday, November 25 at 2:00 PM."),
        "{text}"
    );
    let job = booking_jobs(&w).pop().unwrap();
    assert_eq!(
        (
            job.business_id.as_str(),
            job.time_zone.as_str(),
            job.start_utc.to_rfc3339().as_str()
        ),
        (
            "smile-dental-london",
            "Europe/London",
            "2026-11-25T14:00:00+00:00"
        )
    );
    assert_eq!(job.owner.len(), 2, "the owner's phone and email hear of it");
    assert!(job.job_id.starts_with("smile-dental-london#"));
    // The same time at the default business is another calendar.
    let (_, answer) = send(&w, authed(&call_via(None, None, book("Consultation")))).await;
    assert!(
        answer["results"][0]["result"]
            .as_str()
            .unwrap()
            .starts_with("You're booked for Consultation")
    );
    assert_eq!(booking_jobs(&w).last().unwrap().business_id, "default");
}

#[tokio::test]
async fn assistant_requests_are_answered_per_number_and_a_failed_lookup_is_spoken() {
    let w = webhook();
    w.directory.add(london());
    let request = json!({"message": {"type": "assistant-request", "call": {"id": "c", "phoneNumberId": "pn-smile-london-main"}}});
    let (status, answer) = send(&w, authed(&request)).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"assistantId": "asst-smile-london"}))
    );

    // The business is looked up before authentication (its own secret may apply), so a
    // failed lookup is 503 for every message that names an assistant or number.
    w.directory.faults.fail_next(1);
    let (status, _) = send(&w, authed(&call_via(Some("asst-smile-london"), None, json!([
        {"id": "t1", "type": "function", "function": {"name": "getAppointments", "arguments": {}}}
    ])))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    w.directory.faults.fail_next(1);
    let report = json!({"message": {"type": "end-of-call-report", "call": {"id": "c", "assistantId": "asst-smile-london"}}});
    assert_eq!(
        send(&w, authed(&report)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(w.queue.sent().is_empty());
}

/// London with its own secret in SSM (two while rotating); the default business keeps the
/// deployment's.
fn with_own_secrets(w: &mut TestWebhook, references: &[&str]) {
    let mut business = london();
    business.webhook_secrets = references
        .iter()
        .map(|r| callbook_core::SecretRef::parse(r).unwrap())
        .collect();
    w.directory.add(business);
    w.secrets = Faulty::new(MemorySecrets::with(&[
        ("ssm:/callbook/smile/webhook", "smile-own-secret-0001"),
        ("secretsmanager:callbook/smile-old", "smile-old-secret-0002"),
    ]));
}

fn as_london(secret: &str, calls: Value) -> Request {
    post(
        &[("x-vapi-secret", secret)],
        &call_via(Some("asst-smile-london"), None, calls).to_string(),
    )
}

fn availability_call() -> Value {
    json!([{"id": next_id(), "type": "function", "function": {"name": "checkAvailability",
        "arguments": {"serviceType": "Check-up", "date": "tomorrow"}}}])
}

#[tokio::test]
async fn a_business_with_its_own_secret_is_authenticated_with_it_not_the_deployments() {
    let mut w = webhook();
    with_own_secrets(
        &mut w,
        &[
            "ssm:/callbook/smile/webhook",
            "secretsmanager:callbook/smile-old",
        ],
    );
    // Its own secret, or the one being rotated out: served as London.
    for secret in ["smile-own-secret-0001", "smile-old-secret-0002"] {
        let (status, answer) = send(&w, as_london(secret, availability_call())).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(answer["results"][0]["result"].is_string(), "{answer}");
    }
    // The deployment's secret does not open a business that has its own.
    let (status, answer) = send(&w, as_london(SECRET, availability_call())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"], "invalid webhook credentials");
    // ...and the business's secret does not open the default business.
    let (status, _) = send(
        &w,
        post(
            &[("x-vapi-secret", "smile-own-secret-0001")],
            &seed_body().to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(w.queue.sent().is_empty(), "nothing queued by a refusal");
}

#[tokio::test]
async fn a_business_secret_that_cannot_be_read_is_503_and_nothing_else_happens() {
    let mut w = webhook();
    with_own_secrets(&mut w, &["ssm:/callbook/smile/missing"]);
    let book = json!([{"id": next_id(), "type": "function", "function": {"name": "bookAppointment",
        "arguments": {"customerName": "Jo Bloggs", "customerEmail": "jo@example.com",
        "serviceType": "Check-up", "date": "tomorrow", "time": "2pm"}}}]);
    let (status, answer) = send(&w, as_london("smile-own-secret-0001", book.clone())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    // The directory failing is the same: we cannot tell whose secret applies.
    let mut w = webhook();
    with_own_secrets(&mut w, &["ssm:/callbook/smile/webhook"]);
    w.directory.faults.fail_next(1);
    let (status, _) = send(&w, as_london("smile-own-secret-0001", book)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(w.queue.sent().is_empty());
    assert!(w.calendar.is_empty(), "no slot reserved");
}

#[tokio::test]
async fn ids_no_business_could_have_are_not_looked_up_before_authentication() {
    let mut w = webhook();
    with_own_secrets(&mut w, &["ssm:/callbook/smile/webhook"]);
    // A failing directory would turn any lookup into 503: these never reach it, so a
    // stranger gets the deployment's 401.
    w.directory.faults.fail_next(1);
    let too_long = "x".repeat(callbook_core::MAX_ROUTE_ID_LEN + 1);
    for assistant in ["a b", too_long.as_str(), "ünïcode", ""] {
        let body = call_via(Some(assistant), None, availability_call());
        let (status, _) = send(&w, post(&[("x-vapi-secret", "wrong")], &body.to_string())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{assistant:?}");
    }
    // Malformed JSON is authenticated with the deployment's secret, then refused as 400.
    let (status, _) = send(&w, post(&[("x-vapi-secret", "wrong")], "{not json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&w, post(&[("x-vapi-secret", SECRET)], "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The business is looked up once per message, before authentication (it may have its own
/// secret), and that lookup serves the message: a directory that would fail a second call is
/// never called twice, whatever the message holds.
#[tokio::test]
async fn the_business_is_looked_up_once_per_message() {
    use callbook_core::testing::faults::{FaultPlan, Faults};
    let mut w = webhook();
    let directory = MemoryDirectory::default();
    directory.add(london());
    w.directory = Faulty {
        inner: directory,
        faults: Faults::new(FaultPlan::Nth(2)),
    };
    let body = call_via(
        Some("asst-smile-london"),
        None,
        json!([
            {"id": next_id(), "type": "function", "function": {"name": "getAppointments", "arguments": {}}},
            {"id": next_id(), "type": "function", "function": {"name": "checkAvailability", "arguments": {"serviceType": "Check-up", "date": "tomorrow"}}}
        ]),
    );
    let response = w.handle(authed(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert!(answer["results"][0]["result"].is_string(), "{answer}");
    assert!(answer["results"][1]["result"].is_string(), "{answer}");
    assert_eq!(
        (w.directory.faults.calls(), w.directory.faults.failed()),
        (1, 0)
    );
}

/// Nothing was read, written, queued or remembered for a message.
fn untouched(w: &TestWebhook) {
    assert_eq!(
        (
            w.queue.faults.calls(),
            w.calendar.faults.calls(),
            w.bookings.faults.calls(),
            w.answers.faults.calls(),
            w.secrets.faults.calls(),
        ),
        (0, 0, 0, 0, 0),
        "queue, calendar, bookings, answers, secrets"
    );
    assert!(w.queue.sent().is_empty());
    assert!(w.calendar.is_empty());
}

/// With `UNROUTED_CALLS=refuse`, a call through an assistant or number no business claims is
/// not the default business's: every kind of message hears the refusal (200, so Vapi does
/// not retry) and nothing is read, booked, queued or remembered for it.
#[tokio::test]
async fn a_call_no_business_claims_is_refused_and_nothing_is_done_for_it() {
    let mut w = webhook();
    w.unrouted_calls = UnroutedCalls::Refuse;
    w.directory.add(london());
    let calls = json!([
        {"id": "t-unrouted-1", "type": "function", "function": {"name": "bookAppointment", "arguments": {
            "customerName": "Jo Bloggs", "customerEmail": "jo@example.com", "serviceType": "Consultation",
            "date": "tomorrow", "time": "2pm"}}},
        {"id": "t-unrouted-2", "type": "function", "function": {"name": "getAppointments", "arguments": {}}}
    ]);
    for (assistant, phone_number) in [
        (Some("asst-misconfigured"), None),
        (None, Some("pn-misconfigured")),
        (Some("asst-misconfigured"), Some("pn-misconfigured")),
        (Some("not a route id"), None),
    ] {
        let (status, answer) = send(
            &w,
            authed(&call_via(assistant, phone_number, calls.clone())),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{assistant:?} {phone_number:?}");
        assert_eq!(
            answer,
            json!({"results": [
                {"name": "bookAppointment", "toolCallId": "t-unrouted-1", "error": UNROUTED_CALL},
                {"name": "getAppointments", "toolCallId": "t-unrouted-2", "error": UNROUTED_CALL}
            ]})
        );
    }
    let call = json!({"id": "call-unrouted", "assistantId": "asst-misconfigured", "customer": {"number": "+447700900456"}});
    let legacy = json!({"message": {"type": "function-call", "call": call,
        "functionCall": {"name": "bookAppointment", "parameters": seed_body()["parameters"]}}});
    assert_eq!(
        send(&w, authed(&legacy)).await,
        (StatusCode::OK, json!({"error": UNROUTED_CALL}))
    );
    for kind in ["assistant-request", "transfer-destination-request"] {
        let request = json!({"message": {"type": kind, "call": call}});
        assert_eq!(
            send(&w, authed(&request)).await,
            (StatusCode::OK, json!({"error": UNROUTED_CALL})),
            "{kind}"
        );
    }
    for report in [
        json!({"message": {"type": "end-of-call-report", "call": call, "endedReason": "customer-ended-call"}}),
        json!({"message": {"type": "status-update", "status": "ended", "call": call}}),
    ] {
        assert_eq!(send(&w, authed(&report)).await, (StatusCode::OK, json!({})));
    }
    untouched(&w);
    // Each well-formed id looked up once (the tool calls: 1 + 1 + 2, the malformed id
    // never; the legacy call, two requests and two reports: 1 each), and nothing else.
    assert_eq!(w.directory.faults.calls(), 4 + 1 + 2 + 2);

    // Authentication still comes first: a stranger gets 401, not the sentence.
    let (status, _) = send(
        &w,
        post(
            &[("x-vapi-secret", "wrong")],
            &call_via(Some("asst-misconfigured"), None, calls.clone()).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    untouched(&w);

    // Claimed calls are served: a stored business's, the default business's own assistant,
    // and calls that name no assistant or number (the original flat form).
    let availability = |assistant: Option<&str>| call_via(assistant, None, availability_call());
    for body in [
        availability(Some("asst-smile-london")),
        availability(Some("asst-test-1")),
        seed_body(),
    ] {
        let (status, answer) = send(&w, authed(&body)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            answer["results"][0]["result"].is_string() || answer["result"].is_string(),
            "{answer}"
        );
    }
    assert_eq!(
        booking_jobs(&w).len(),
        1,
        "the flat form booked at the default business"
    );
}

/// With `UNROUTED_CALLS=serve` (the default, for single-business installs that store no
/// businesses) the default business serves a call no business claims.
#[tokio::test]
async fn a_call_no_business_claims_is_served_by_the_default_business_when_so_configured() {
    let w = webhook();
    assert_eq!(w.unrouted_calls, UnroutedCalls::default());
    w.directory.add(london());
    let book = json!([{"id": next_id(), "type": "function", "function": {"name": "bookAppointment", "arguments": {
        "customerName": "Jo Bloggs", "customerEmail": "jo@example.com", "serviceType": "Consultation",
        "date": "tomorrow", "time": "2pm"}}}]);
    let (status, answer) = send(&w, authed(&call_via(Some("asst-unclaimed"), None, book))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        answer["results"][0]["result"]
            .as_str()
            .is_some_and(|t| t.starts_with("You're booked")),
        "{answer}"
    );
    assert_eq!(
        booking_jobs(&w).pop().map(|j| j.business_id),
        Some("default".to_string())
    );
}

#[test]
fn unrouted_calls_are_configured_as_serve_or_refuse() {
    let read = |value: Option<&'static str>| {
        UnroutedCalls::from_lookup(&move |name: &str| {
            (name == "UNROUTED_CALLS")
                .then(|| value.map(str::to_string))
                .flatten()
        })
    };
    assert_eq!(read(None), Ok(UnroutedCalls::Serve));
    assert_eq!(read(Some("serve")), Ok(UnroutedCalls::Serve));
    assert_eq!(read(Some(" refuse ")), Ok(UnroutedCalls::Refuse));
    assert!(matches!(
        read(Some("default")),
        Err(callbook_core::ConfigError::Invalid {
            name: "UNROUTED_CALLS",
            ..
        })
    ));
}

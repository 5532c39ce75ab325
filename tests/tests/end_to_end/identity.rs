//! Who is calling, through the local stack: a stranger naming someone's number, reference and
//! name can neither read, change, nor book over their booking, until the call proves the
//! number with the code texted there; references never collide; a message's tool calls are
//! capped.

use super::*;

const STRANGER: &str = "+17025559999";

fn booking_status(item: &std::collections::HashMap<String, AttributeValue>) -> String {
    s(item, "status")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_is_refused_until_the_texted_code_proves_the_number() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    let booked = book(&stack, "call-victim", PHONE, "Victim Person", &date, "2pm");
    let reference = reference_in(booked["result"].as_str().unwrap());
    eventually(
        "the booking and its texts",
        Duration::from_secs(30),
        || async {
            (tables.bookings().await == 1 && stack.sent_messages().sms_to(PHONE).len() == 1)
                .then_some(())
        },
    )
    .await;
    // The attack: the victim's reference, name and number, from another phone.
    let claims = json!({"bookingReference": reference.as_str(), "customerName": "Victim Person",
        "customerPhone": PHONE, "reason": "no longer needed"});
    let call = "call-stranger";
    let cancel = tool_call(&stack, call, STRANGER, "cancelAppointment", claims.clone());
    let absent = tool_call(
        &stack,
        call,
        STRANGER,
        "cancelAppointment",
        json!({"bookingReference": "ZZZZZZ"}),
    );
    assert_eq!(
        cancel["error"], absent["error"],
        "existence is not revealed"
    );
    let listing = tool_call(
        &stack,
        call,
        STRANGER,
        "getAppointments",
        json!({"customerPhone": PHONE}),
    );
    assert!(
        !listing.to_string().contains(&reference.spoken()),
        "{listing}"
    );
    let mut same_time = book_args("Someone Else", &date, "2pm");
    same_time["customerPhone"] = json!(PHONE);
    let rebook = tool_call(&stack, call, STRANGER, "bookAppointment", same_time);
    assert!(
        !rebook.to_string().contains(&reference.spoken()),
        "{rebook}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let key = booking_key("default", reference.as_str());
    let record = tables
        .item(&format!("{TABLE_PREFIX}BookingsTable"), key.clone())
        .await
        .unwrap();
    assert_eq!(booking_status(&record), "confirmed", "nothing changed");
    assert_eq!(tables.bookings().await, 1, "nothing booked");
    assert_eq!(stack.sent_messages().sms_to(PHONE).len(), 1, "nothing sent");
    // The caller proves the number: the code goes to the booking's phone, not theirs.
    let sent = tool_call(
        &stack,
        call,
        STRANGER,
        "verifyCaller",
        json!({"phoneNumber": PHONE}),
    );
    assert!(
        sent["result"].as_str().unwrap().contains("ending in 1234"),
        "{sent}"
    );
    let code = eventually("the code to arrive", Duration::from_secs(30), || async {
        let sent = stack.sent_messages();
        let texts = sent.sms_to(PHONE);
        texts.iter().find(|t| t.contains("your code is")).map(|t| {
            t.chars()
                .filter(char::is_ascii_digit)
                .take(6)
                .collect::<String>()
        })
    })
    .await;
    assert!(stack.sent_messages().sms_to(STRANGER).is_empty());
    let verified = tool_call(
        &stack,
        call,
        STRANGER,
        "verifyCaller",
        json!({"phoneNumber": PHONE, "code": code}),
    );
    assert!(
        verified["result"]
            .as_str()
            .unwrap()
            .starts_with("Thank you"),
        "{verified}"
    );
    let cancel = tool_call(&stack, call, STRANGER, "cancelAppointment", claims);
    assert!(
        cancel["result"].as_str().unwrap().contains("is cancelled"),
        "{cancel}"
    );
    eventually("the cancel to apply", Duration::from_secs(30), || async {
        let record = tables
            .item(&format!("{TABLE_PREFIX}BookingsTable"), key.clone())
            .await?;
        (booking_status(&record) == "cancelled").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reference_another_booking_holds_is_never_given_twice() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    // Another booking already holds the reference this tool call derives first.
    let (call, tool_call_id) = ("call-collide", "tc-collide");
    let taken = BookingReference::derive(format!("default|{call}|{tool_call_id}").as_bytes());
    tables
        .dynamodb
        .put_item()
        .table_name(format!("{TABLE_PREFIX}BookingsTable"))
        .item(
            "pk",
            AttributeValue::S(format!("BIZ#default#REFERENCE#{taken}")),
        )
        .item("sk", AttributeValue::S("REFERENCE".into()))
        .item("claimant", AttributeValue::S("an earlier booking".into()))
        .send()
        .await
        .unwrap();
    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": call, "customer": {"number": PHONE}},
        "toolCallList": [{"id": tool_call_id, "type": "function",
            "function": {"name": "bookAppointment", "arguments": book_args("Test User", &next_open_day(), "2pm")}}]}});
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &body.to_string(),
    );
    assert_eq!(status, 200);
    let reference = reference_in(answer["results"][0]["result"].as_str().unwrap());
    assert_ne!(reference, taken);
    eventually(
        "the booking recorded under its own reference",
        Duration::from_secs(30),
        || async {
            let key = booking_key("default", reference.as_str());
            tables
                .item(&format!("{TABLE_PREFIX}BookingsTable"), key)
                .await
                .map(|_| ())
        },
    )
    .await;
    assert_eq!(tables.depth("BookingDeadLetterQueue").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_of_many_tool_calls_answers_ten_and_asks_again_for_the_rest() {
    let stack = DevStack::start(2, 3);
    let calls: Vec<Value> = (0..12)
        .map(|i| json!({"id": format!("many-{i}"), "type": "function", "function": {
            "name": "checkAvailability", "arguments": {"serviceType": "Consultation", "date": next_open_day()}}}))
        .collect();
    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": "call-many", "customer": {"number": PHONE}}, "toolCallList": calls}});
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &body.to_string(),
    );
    assert_eq!(status, 200);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    assert!(
        results[..10].iter().all(|r| r["result"].is_string()),
        "{answer}"
    );
    assert!(results[10..].iter().all(|r| {
        r["error"]
            .as_str()
            .unwrap()
            .contains("a few requests at once")
    }));
}

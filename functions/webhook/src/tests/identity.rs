//! Who is calling: a number in the arguments is a claim. Another number's bookings are neither
//! read, changed nor confirmed to exist until the call proves the number with a texted code.

use super::*;
use callbook_core::{CodeCheck, NotificationKind};

const VICTIM: &str = "+17025551234";
const STRANGER: &str = "+17025559999";

/// One tool call from `from` (or a call without a number), on call `call-other`.
fn from(number: Option<&str>, name: &str, args: Value) -> Value {
    let mut call = json!({"id": "call-other"});
    if let Some(n) = number {
        call["customer"] = json!({"number": n});
    }
    json!({"message": {"type": "tool-calls", "call": call,
        "toolCallList": [{"id": next_id(), "type": "function", "function": {"name": name, "arguments": args}}]}})
}

async fn ask(w: &TestWebhook, number: Option<&str>, name: &str, args: Value) -> Value {
    let (status, answer) = send(w, authed(&from(number, name, args))).await;
    assert_eq!(status, StatusCode::OK);
    answer["results"][0].clone()
}

async fn stranger(w: &TestWebhook, name: &str, args: Value) -> Value {
    ask(w, Some(STRANGER), name, args).await
}

/// A code that is not `code`.
fn another_code(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

fn codes_texted(w: &TestWebhook) -> Vec<String> {
    w.queue
        .sent()
        .into_iter()
        .filter_map(|j| match j {
            Job::Notification(n) if n.kind == NotificationKind::CallerCode => n.code,
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_stranger_can_neither_read_nor_change_a_booking_nor_learn_it_exists() {
    let w = webhook();
    let job = booked(&w, "2pm", VICTIM).await;
    let reads_before = w.bookings.faults.calls();
    for number in [Some(STRANGER), None] {
        // By reference, with the victim's name and number claimed: one sentence for all.
        let claims = json!({"bookingReference": job.reference.as_str(),
            "customerName": "Test User", "customerPhone": VICTIM});
        let cancel = ask(&w, number, "cancelAppointment", claims.clone()).await;
        assert_eq!(cancel["error"], NOT_FOUND_OR_NOT_YOURS);
        let mut moving = claims.clone();
        moving["newDate"] = json!("Friday");
        moving["newTime"] = json!("10am");
        let reschedule = ask(&w, number, "rescheduleAppointment", moving).await;
        assert_eq!(reschedule["error"], NOT_FOUND_OR_NOT_YOURS);
        let absent = ask(
            &w,
            number,
            "cancelAppointment",
            json!({"bookingReference": "ZZZZZZ"}),
        )
        .await;
        assert_eq!(
            absent["error"], NOT_FOUND_OR_NOT_YOURS,
            "an absent booking sounds the same"
        );
        // By the victim's number: not even read.
        let listing = ask(
            &w,
            number,
            "getAppointments",
            json!({"customerPhone": VICTIM}),
        )
        .await;
        assert_eq!(listing["error"], ANOTHER_NUMBER);
        let by_phone = ask(
            &w,
            number,
            "cancelAppointment",
            json!({"customerPhone": VICTIM}),
        )
        .await;
        assert_eq!(by_phone["error"], ANOTHER_NUMBER);
    }
    assert!(change_jobs(&w).is_empty(), "nothing changed");
    assert!(
        w.queue.sent().iter().all(|j| matches!(j, Job::Booking(_))),
        "nothing sent"
    );
    // Only the reference lookups read a booking (GetItem); no one's list was queried.
    assert_eq!(w.bookings.faults.calls() - reads_before, 6);
    assert!(
        w.calendar
            .taken("default", job.start_local.date_naive())
            .await
            .unwrap()
            .len()
            == 2
    );
}

#[tokio::test]
async fn a_stranger_booking_the_victims_time_hears_it_is_taken_never_the_reference() {
    let w = webhook();
    let job = booked(&w, "2pm", VICTIM).await;
    let mut args = seed_body()["parameters"].clone();
    args["customerName"] = json!("Someone Else");
    let answer = stranger(&w, "bookAppointment", args).await;
    let text = answer["error"].as_str().unwrap();
    assert!(text.contains("already booked"), "{text}");
    assert!(!text.contains(&job.reference.spoken()), "{text}");
    assert_eq!(booking_jobs(&w).len(), 1, "nothing new queued");
}

#[tokio::test]
async fn a_caller_from_another_number_proves_it_with_a_texted_code_then_may_act() {
    let w = webhook();
    let job = booked(&w, "2pm", VICTIM).await;
    let send_code = stranger(&w, "verifyCaller", json!({"phoneNumber": VICTIM})).await;
    assert_eq!(
        send_code["result"],
        "I've texted a six-digit code to the number ending in 1234. Please read it to me when it arrives."
    );
    let codes = codes_texted(&w);
    assert_eq!(codes.len(), 1);
    let texted = w.queue.sent().into_iter().find_map(|j| match j {
        Job::Notification(n) => Some(n),
        _ => None,
    });
    assert_eq!(
        texted.map(|n| n.recipient),
        Some(callbook_core::Recipient::Sms {
            phone: job.customer.phone.clone()
        }),
        "the code goes to the booking's number, not the caller's"
    );
    let wrong = another_code(&codes[0]);
    let answer = stranger(
        &w,
        "verifyCaller",
        json!({"phoneNumber": VICTIM, "code": wrong}),
    )
    .await;
    assert_eq!(
        answer["error"],
        "That code isn't right. You have 2 more tries."
    );
    // Still a stranger.
    let listing = stranger(&w, "getAppointments", json!({"customerPhone": VICTIM})).await;
    assert_eq!(listing["error"], ANOTHER_NUMBER);
    let answer = stranger(
        &w,
        "verifyCaller",
        json!({"phoneNumber": VICTIM, "code": codes[0]}),
    )
    .await;
    assert!(
        answer["result"]
            .as_str()
            .unwrap()
            .starts_with("Thank you, that's confirmed"),
        "{answer}"
    );
    let listing = stranger(&w, "getAppointments", json!({"customerPhone": VICTIM})).await;
    assert!(
        listing["result"]
            .as_str()
            .unwrap()
            .contains(&job.reference.spoken())
    );
    let cancel = stranger(
        &w,
        "cancelAppointment",
        json!({"bookingReference": job.reference.as_str()}),
    )
    .await;
    assert!(
        cancel["result"].as_str().unwrap().contains("is cancelled"),
        "{cancel}"
    );
    assert_eq!(change_jobs(&w).len(), 1);
}

#[tokio::test]
async fn codes_are_few_short_lived_and_bound_to_their_call_and_number() {
    let mut w = webhook();
    let ask_code = json!({"phoneNumber": VICTIM});
    for _ in 0..3 {
        assert!(stranger(&w, "verifyCaller", ask_code.clone()).await["result"].is_string());
    }
    let fourth = stranger(&w, "verifyCaller", ask_code.clone()).await;
    assert_eq!(fourth["error"], TOO_MANY_CODES);
    assert_eq!(codes_texted(&w).len(), 3);
    let last = codes_texted(&w).pop().unwrap();
    // Three wrong tries end the code, even the right one after them.
    let wrong = another_code(&last);
    for left in [2, 1] {
        let answer = stranger(
            &w,
            "verifyCaller",
            json!({"phoneNumber": VICTIM, "code": wrong}),
        )
        .await;
        assert_eq!(answer["error"], wrong_code(left));
    }
    stranger(
        &w,
        "verifyCaller",
        json!({"phoneNumber": VICTIM, "code": wrong}),
    )
    .await;
    let late = stranger(
        &w,
        "verifyCaller",
        json!({"phoneNumber": VICTIM, "code": last}),
    )
    .await;
    assert_eq!(late["error"], NO_ATTEMPTS_LEFT);
    // A fresh call: a code read for another number than it was sent to does not verify.
    let call = "call-fresh";
    let code = callbook_core::CallerCode::parse("123456").unwrap();
    let victim = callbook_core::PhoneNumber::parse(VICTIM, w.business.phone_region).unwrap();
    let pending = callbook_core::PendingCode {
        code_hash: code.hash("default", call, &victim),
        phone: victim.clone(),
        expires_at: w.clock.now() + callbook_core::CODE_VALID_FOR,
    };
    w.verifications
        .store_code("default", call, &pending)
        .await
        .unwrap();
    let other = callbook_core::PhoneNumber::parse("+17025550000", w.business.phone_region).unwrap();
    let checked = w
        .verifications
        .check_code(
            "default",
            call,
            &code.hash("default", call, &other),
            w.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(checked, CodeCheck::Wrong { attempts_left: 2 });
    // Ten minutes later the right code has expired.
    w.clock =
        callbook_core::testing::memory::FixedClock(w.clock.now() + chrono::Duration::minutes(11));
    let checked = w
        .verifications
        .check_code(
            "default",
            call,
            &code.hash("default", call, &victim),
            w.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(checked, CodeCheck::Expired);
}

#[tokio::test]
async fn a_caller_needs_no_code_for_the_number_they_call_from_and_a_web_call_gets_none() {
    let w = webhook();
    let mine = ask(
        &w,
        Some(VICTIM),
        "verifyCaller",
        json!({"phoneNumber": VICTIM}),
    )
    .await;
    assert_eq!(mine["result"], ALREADY_YOURS);
    let body = json!({"message": {"type": "tool-calls", "call": {},
        "toolCallList": [{"id": next_id(), "type": "function", "function": {"name": "verifyCaller", "arguments": {"phoneNumber": VICTIM}}}]}});
    let (_, answer) = send(&w, authed(&body)).await;
    assert_eq!(answer["results"][0]["error"], NO_CALL);
    assert!(codes_texted(&w).is_empty());
    // Codes cannot be stored: an apology, nothing texted.
    w.verifications.faults.fail_next(1);
    let answer = stranger(&w, "verifyCaller", json!({"phoneNumber": VICTIM})).await;
    assert_eq!(answer["error"], VERIFICATION_PROBLEM);
    assert!(codes_texted(&w).is_empty());
}

#[tokio::test]
async fn a_number_gets_a_few_codes_an_hour_whichever_calls_ask_and_only_where_texts_go() {
    let w = webhook();
    let ask_from = |call: &'static str| {
        json!({"message": {"type": "tool-calls", "call": {"id": call, "customer": {"number": STRANGER}},
            "toolCallList": [{"id": next_id(), "type": "function", "function": {
                "name": "verifyCaller", "arguments": {"phoneNumber": VICTIM}}}]}})
    };
    for call in ["call-a", "call-a", "call-b"] {
        let (_, answer) = send(&w, authed(&ask_from(call))).await;
        assert!(answer["results"][0]["result"].is_string(), "{answer}");
    }
    let (_, answer) = send(&w, authed(&ask_from("call-c"))).await;
    assert_eq!(answer["results"][0]["error"], TOO_MANY_CODES);
    assert_eq!(codes_texted(&w).len(), 3);
    // A number in a country the business does not text gets no code.
    let abroad = stranger(&w, "verifyCaller", json!({"phoneNumber": "+37491234567"})).await;
    assert_eq!(abroad["error"], NO_CODES_THERE);
    assert_eq!(codes_texted(&w).len(), 3);
}

#[tokio::test]
async fn a_web_calls_reported_number_proves_nothing() {
    let w = webhook();
    let job = booked(&w, "2pm", VICTIM).await;
    // A web call's customer number is whatever its client sent.
    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": "call-web", "type": "webCall", "customer": {"number": VICTIM}},
        "toolCallList": [{"id": next_id(), "type": "function", "function": {
            "name": "cancelAppointment", "arguments": {"bookingReference": job.reference.as_str()}}}]}});
    let (_, answer) = send(&w, authed(&body)).await;
    assert_eq!(answer["results"][0]["error"], NOT_FOUND_OR_NOT_YOURS);
    // The same number on a phone call is the caller.
    let mut phone_call = body.clone();
    phone_call["message"]["call"]["type"] = json!("inboundPhoneCall");
    phone_call["message"]["toolCallList"][0]["id"] = json!(next_id());
    let (_, answer) = send(&w, authed(&phone_call)).await;
    assert!(
        answer["results"][0]["result"]
            .as_str()
            .unwrap()
            .contains("is cancelled")
    );
}

#[tokio::test]
async fn bookings_a_stranger_made_in_your_name_never_keep_you_from_cancelling() {
    let mut w = webhook();
    Arc::make_mut(&mut w.business).capacity = 20;
    // A stranger books the victim's number until its texts for the day are used up.
    let mut references = Vec::new();
    for (i, time) in [
        "9am", "10am", "11am", "1pm", "2pm", "3pm", "4pm", "9:30am", "10:30am", "11:30am",
    ]
    .iter()
    .enumerate()
    {
        let mut args = seed_body()["parameters"].clone();
        args["time"] = json!(time);
        let body = json!({"message": {"type": "tool-calls",
            "call": {"id": format!("call-s{}", i / 3), "customer": {"number": STRANGER}},
            "toolCallList": [{"id": next_id(), "type": "function", "function": {
                "name": "bookAppointment", "arguments": args}}]}});
        let (_, answer) = send(&w, authed(&body)).await;
        assert!(answer["results"][0]["result"].is_string(), "{answer}");
        let job = booking_jobs(&w).pop().unwrap();
        w.bookings
            .insert(callbook_core::BookingRecord::from_job(&job, w.clock.now()));
        references.push(job.reference);
    }
    // The victim, from their own number, cancels them (three a call).
    for (i, reference) in references.iter().take(3).enumerate() {
        let answer = ask(
            &w,
            Some(VICTIM),
            "cancelAppointment",
            json!({"bookingReference": reference.as_str()}),
        )
        .await;
        assert!(
            answer["result"].as_str().unwrap().contains("is cancelled"),
            "{i}: {answer}"
        );
    }
}

#[tokio::test]
async fn codes_that_are_not_sent_spend_nothing_and_the_business_sends_few_an_hour() {
    let w = webhook();
    let number = |i: usize| format!("+1702555{:04}", 3000 + i);
    let code_for = |call: String, n: String| {
        json!({"message": {"type": "tool-calls", "call": {"id": call, "customer": {"number": STRANGER}},
            "toolCallList": [{"id": next_id(), "type": "function", "function": {
                "name": "verifyCaller", "arguments": {"phoneNumber": n}}}]}})
    };
    // A call past its three codes asks for a fourth number: refused, and that number's hour
    // is not spent: another call still gets it three codes.
    for i in 0..3 {
        let (_, a) = send(&w, authed(&code_for("call-x".into(), number(i)))).await;
        assert!(a["results"][0]["result"].is_string(), "{a}");
    }
    let (_, a) = send(&w, authed(&code_for("call-x".into(), number(3)))).await;
    assert_eq!(a["results"][0]["error"], TOO_MANY_CODES);
    for call in ["call-y", "call-y", "call-y"] {
        let (_, a) = send(&w, authed(&code_for(call.into(), number(3)))).await;
        assert!(a["results"][0]["result"].is_string(), "{a}");
    }
    // The business's hourly cap: 30 codes in all, whichever numbers and calls.
    let mut sent = codes_texted(&w).len();
    for i in 4.. {
        let (_, a) = send(&w, authed(&code_for(format!("call-z{i}"), number(i)))).await;
        if a["results"][0]["error"] == TOO_MANY_CODES {
            break;
        }
        sent += 1;
        assert!(sent <= callbook_core::CODES_PER_HOUR as usize, "{a}");
    }
    assert_eq!(
        codes_texted(&w).len(),
        callbook_core::CODES_PER_HOUR as usize
    );
}

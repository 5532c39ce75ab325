use super::*;

#[tokio::test]
async fn tool_calls_answer_each_call_in_order_with_its_id() {
    let w = webhook();
    let args = seed_body()["parameters"].clone();
    let mut later = args.clone();
    later["time"] = json!("3:30pm");
    let body = tool_calls_body(json!([
        {"id": "call_A", "type": "function", "function": {"name": "bookAppointment", "arguments": args}},
        {"id": "call_B", "type": "function", "function": {"name": "bookAppointment", "arguments": later.to_string()}},
        {"id": "call_C", "type": "function", "function": {"name": "orderPizza", "arguments": {}}}
    ]));
    let (status, body) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    let results = body["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["toolCallId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call_A", "call_B", "call_C"]);
    assert!(
        results[0]["result"]
            .as_str()
            .unwrap()
            .contains("Wednesday, November 25 at 2:00 PM")
    );
    assert!(results[1]["result"].is_string());
    assert!(results[2]["error"].as_str().unwrap().contains("orderPizza"));
    assert_eq!(results[0]["name"], "bookAppointment");
    let jobs = booking_jobs(&w);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].call_id.as_deref(), Some("call-123"));
    assert_eq!(jobs[0].tool_call_id.as_deref(), Some("call_A"));
}

#[tokio::test]
async fn a_redelivered_tool_call_gets_the_same_booking_identity() {
    let w = webhook();
    let args = seed_body()["parameters"].clone();
    let body = tool_calls_body(
        json!([{"id": "call_R", "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
    );
    let (_, first) = send(&w, authed(&body)).await;
    let (_, second) = send(&w, authed(&body)).await;
    assert_eq!(first, second);
    // The second delivery is answered from the first's stored answer: one job.
    assert_eq!(booking_jobs(&w).len(), 1);
    // Without the stored answer (it expired, or the store was down), the same ids still
    // give the same booking identity, and the job is recorded once downstream.
    let w2 = webhook();
    send(&w2, authed(&body)).await;
    w2.answers
        .release("tool#default#call-123#call_R")
        .await
        .unwrap();
    send(&w2, authed(&body)).await;
    let jobs = booking_jobs(&w2);
    assert_eq!(
        (jobs[0].job_id.as_str(), &jobs[0].reference),
        (jobs[1].job_id.as_str(), &jobs[1].reference)
    );
    // Another tool call in the same call is another booking.
    let mut later = args.clone();
    later["time"] = json!("4pm");
    let other = tool_calls_body(
        json!([{"id": "call_S", "type": "function", "function": {"name": "bookAppointment", "arguments": later}}]),
    );
    send(&w, authed(&other)).await;
    assert_ne!(booking_jobs(&w)[1].reference, jobs[0].reference);
}

#[tokio::test]
async fn legacy_function_call_answers_result() {
    let w = webhook();
    let body = json!({"message": {"type": "function-call", "functionCall": {"name": "bookAppointment", "parameters": seed_body()["parameters"]}}});
    let (status, body) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["result"]
            .as_str()
            .unwrap()
            .contains("Your booking reference is")
    );
    assert_eq!(w.queue.sent().len(), 1);
}

#[tokio::test]
async fn invalid_arguments_are_spoken_errors_and_enqueue_nothing() {
    let w = webhook();
    let mut args = seed_body()["parameters"].clone();
    args["customerEmail"] = json!("not-an-email");
    let body = tool_calls_body(
        json!([{"id": "tc1", "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
    );
    let (status, body) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["toolCallId"], "tc1");
    assert!(
        body["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("email address")
    );
    assert!(body["results"][0].get("result").is_none());

    let (status, body) = send(
        &w,
        authed(&json!({"function": "bookAppointment", "parameters": {"customerName": "A"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("To book the appointment I still need the phone number")
    );

    let body = tool_calls_body(
        json!([{"id": "tc2", "function": {"name": "bookAppointment", "arguments": "{oops"}}]),
    );
    let (_, body) = send(&w, authed(&body)).await;
    assert!(
        body["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("couldn't read the details")
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn three_tool_calls_answer_three_results_in_order() {
    let w = webhook();
    let book = seed_body()["parameters"].clone();
    let body = tool_calls_body(json!([
        {"id": "call_A", "type": "function", "function": {"name": "checkAvailability", "arguments": {"serviceType": "Consultation", "date": "tomorrow"}}},
        {"id": "call_B", "type": "function", "function": {"name": "bookAppointment", "arguments": book}},
        {"id": "call_C", "type": "function", "function": {"name": "noSuchTool", "arguments": {}}}
    ]));
    let (status, answer) = send(&w, authed(&body)).await;
    assert_eq!(status, StatusCode::OK);
    let results = answer["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["toolCallId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["call_A", "call_B", "call_C"]);
    assert!(
        results[0]["result"]
            .as_str()
            .unwrap()
            .contains("Wednesday, November 25")
    );
    assert!(
        results[1]["result"]
            .as_str()
            .unwrap()
            .starts_with("You're booked")
    );
    assert!(results[2]["error"].as_str().unwrap().contains("noSuchTool"));
}

#[tokio::test]
async fn a_tool_call_is_answered_once_and_its_id_cannot_be_reused_for_other_arguments() {
    let w = webhook();
    let call = |args: Value| {
        tool_calls_body(
            json!([{"id": "call_once", "type": "function", "function": {"name": "bookAppointment", "arguments": args}}]),
        )
    };
    let args = seed_body()["parameters"].clone();
    // The queue fails the first time: that answer is not remembered, so the retry runs.
    w.queue.faults.fail_next(1);
    let (_, failed) = send(&w, authed(&call(args.clone()))).await;
    assert_eq!(failed["results"][0]["error"], SYSTEM_PROBLEM);
    let (_, booked) = send(&w, authed(&call(args.clone()))).await;
    assert!(booked["results"][0]["result"].is_string(), "{booked}");
    let (_, again) = send(&w, authed(&call(args.clone()))).await;
    assert_eq!(booked, again);
    assert_eq!(booking_jobs(&w).len(), 1);
    let mut other = args;
    other["time"] = json!("3pm");
    let (_, refused) = send(&w, authed(&call(other))).await;
    assert_eq!(
        refused["results"][0]["error"],
        "That request was already made with other details; please ask again."
    );
    assert_eq!(booking_jobs(&w).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_duplicate_waits_for_the_first_answer() {
    let w = std::sync::Arc::new(webhook());
    let body = tool_calls_body(
        json!([{"id": "call_dup", "type": "function", "function": {"name": "bookAppointment", "arguments": seed_body()["parameters"]}}]),
    );
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (w, body) = (w.clone(), body.clone());
            tokio::spawn(async move { send(&w, authed(&body)).await.1 })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert!(answers[0]["results"][0]["result"].is_string());
    assert_eq!(booking_jobs(&w).len(), 1);
}

#[tokio::test]
async fn at_most_ten_tool_calls_of_one_message_are_answered() {
    let w = webhook();
    let calls: Vec<Value> = (0..25)
        .map(|i| {
            json!({"id": format!("call_{i}"), "type": "function", "function": {
                "name": "checkAvailability", "arguments": {"serviceType": "Consultation", "date": "tomorrow"}}})
        })
        .collect();
    let (status, body) = send(&w, authed(&tool_calls_body(json!(calls)))).await;
    assert_eq!(status, StatusCode::OK);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 25, "every call gets an answer with its id");
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result["toolCallId"], format!("call_{i}"));
        if i < tool_calls::MAX_TOOL_CALLS {
            assert!(result["result"].is_string(), "{result}");
        } else {
            assert_eq!(result["error"], TOO_MANY_TOOL_CALLS);
        }
    }
    // Only the answered ones read the calendar or were remembered.
    assert_eq!(
        w.answers.faults.calls(),
        2 * tool_calls::MAX_TOOL_CALLS as u64
    );
}

#[tokio::test(start_paused = true)]
async fn a_message_is_answered_within_its_deadline_even_when_the_calendar_is_slow() {
    let w = webhook();
    // Each calendar read takes 4 s: the third call would end past the 10 s deadline.
    w.calendar
        .faults
        .slow_down(std::time::Duration::from_secs(4));
    let calls: Vec<Value> = (0..4)
        .map(|i| {
            json!({"id": format!("slow_{i}"), "type": "function", "function": {
                "name": "checkAvailability", "arguments": {"serviceType": "Consultation", "date": "tomorrow"}}})
        })
        .collect();
    let started = tokio::time::Instant::now();
    let (status, body) = send(&w, authed(&tool_calls_body(json!(calls)))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() <= tool_calls::ANSWER_WITHIN + std::time::Duration::from_millis(50));
    let results = body["results"].as_array().unwrap();
    assert!(results[0]["result"].is_string() && results[1]["result"].is_string());
    assert_eq!(results[2]["error"], OUT_OF_TIME);
    assert_eq!(results[3]["error"], OUT_OF_TIME);
}

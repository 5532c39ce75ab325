use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_same_booking_job_twice_leaves_one_booking_one_customer_one_sms_one_email() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let sample: Value =
        serde_json::from_str(include_str!("../../../events/booking-worker-sqs.json")).unwrap();
    let job = sample["Records"][0]["body"].as_str().unwrap().to_string();
    let queue = tables.queue_url("BookingQueue").await;
    for _ in 0..2 {
        tables
            .sqs
            .send_message()
            .queue_url(&queue)
            .message_body(&job)
            .send()
            .await
            .unwrap();
    }
    eventually(
        "both deliveries processed",
        Duration::from_secs(20),
        || async {
            (tables.depth("BookingQueue").await == 0
                && tables.depth("NotificationQueue").await == 0)
                .then_some(())
        },
    )
    .await;
    assert_booked_once(&stack, &tables).await;
}

/// The booking worker dies after its DynamoDB write, twice over: first before it asks for the
/// notifications (its enqueue fails), then after everything but the SQS delete. The message
/// comes back each time; the booking, the customer's count, the SMS and the email stay single.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_dying_between_its_write_and_the_delete_doubles_nothing() {
    let log = std::env::temp_dir().join(format!("callbook-faults-{}.log", rand_suffix()));
    let stack = DevStack::start_with_faults(
        2,
        5,
        "booking-worker.queue=first:1; booking-worker.delete=nth:1",
        Some(&log),
    );
    let tables = Tables::new(&stack).await;
    let date = next_open_day();
    let answer = book(&stack, "call-e2e-crash", PHONE, "Test User", &date, "1pm");
    assert!(
        answer["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("You're booked")),
        "{answer}"
    );
    eventually(
        "the customer's SMS and email",
        Duration::from_secs(30),
        || async {
            let sent = stack.sent_messages();
            (sent.sms_to(PHONE).len() == 1 && sent.emails_to(EMAIL).len() == 1).then_some(())
        },
    )
    .await;
    // Both faults happened, and the redeliveries have run their course.
    eventually(
        "both faults and the last redelivery",
        Duration::from_secs(30),
        || async {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            (text.contains("injected fault") && text.contains("the batch is not deleted"))
                .then_some(())?;
            (tables.depth("BookingQueue").await == 0
                && tables.depth("NotificationQueue").await == 0)
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_booked_once(&stack, &tables).await;
    assert_eq!(tables.depth("BookingDeadLetterQueue").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_is_retried_then_kept_in_the_dead_letter_queue() {
    let stack = DevStack::start(1, 2);
    let tables = Tables::new(&stack).await;
    let queue = tables.queue_url("BookingQueue").await;
    tables
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body("{\"not\": \"a booking\"}")
        .send()
        .await
        .unwrap();
    eventually(
        "the message in the DLQ",
        Duration::from_secs(30),
        || async { (tables.depth("BookingDeadLetterQueue").await == 1).then_some(()) },
    )
    .await;
    assert_eq!(tables.depth("BookingQueue").await, 0);
    assert_eq!(tables.bookings().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_redrive_command_moves_dead_letters_back_and_they_are_processed_once() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let sample: Value =
        serde_json::from_str(include_str!("../../../events/booking-worker-sqs.json")).unwrap();
    let job = sample["Records"][0]["body"].as_str().unwrap().to_string();
    let dlq = tables.queue_url("BookingDeadLetterQueue").await;
    let source = tables.queue_url("BookingQueue").await;
    // A job that failed five times while, say, DynamoDB was down, now parked in the DLQ.
    tables
        .sqs
        .send_message()
        .queue_url(&dlq)
        .message_body(&job)
        .send()
        .await
        .unwrap();
    let (ok, out) = stack.admin(&["redrive", &dlq, &source]);
    assert!(ok && out.contains("1 message(s) moved back"), "{out}");
    let (ok, out) = stack.admin(&["redrive", &dlq, &source]);
    assert!(
        ok && out.contains("0 message(s) moved back"),
        "safe to run twice: {out}"
    );
    eventually("the redriven booking", Duration::from_secs(20), || async {
        (tables.bookings().await == 1 && tables.depth("BookingQueue").await == 0).then_some(())
    })
    .await;
    eventually("its confirmations", Duration::from_secs(20), || async {
        let sent = stack.sent_messages();
        (sent.sms_to(PHONE).len() == 1 && sent.emails_to(EMAIL).len() == 1).then_some(())
    })
    .await;
    assert_eq!(tables.depth("BookingDeadLetterQueue").await, 0);
}

/// SES refusing in the primary region (its sender identity is gone): the secondary region
/// delivers. Both refusing: SES's MessageRejected is final for the message (recorded with its
/// reason, never retried), so it leaves no dead letter behind, and the SMS goes as ever.
#[tokio::test(flavor = "multi_thread")]
async fn email_fails_over_to_the_secondary_region_and_a_refusal_by_both_is_not_retried() {
    let log = std::env::temp_dir().join(format!("callbook-refused-{}.log", rand_suffix()));
    let stack = DevStack::start_with(1, 2, Some(&log), &[("SecondaryRegion", "us-west-2")], None);
    let tables = Tables::new(&stack).await;
    let sdk = stack.sdk_config().await;
    let primary = aws_sdk_sesv2::Client::new(&sdk);
    let secondary = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&sdk)
            .region(aws_config::Region::new("us-west-2"))
            .build(),
    );
    let sender = stack
        .function_env("notification-worker")
        .into_iter()
        .find(|(k, _)| k == "SENDER_EMAIL")
        .map(|(_, v)| v)
        .unwrap();
    // The primary region loses its sender identity (SES refuses to send); the secondary has it.
    primary
        .delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    secondary
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let date = next_open_day();
    let first = book(&stack, "call-fo-1", PHONE, "Test User", &date, "9am");
    assert!(first["result"].is_string(), "{first}");
    eventually(
        "the email, sent from the secondary region",
        Duration::from_secs(30),
        || async { (stack.sent_messages().emails_to(EMAIL).len() == 1).then_some(()) },
    )
    .await;

    // Now neither region will send: the second booking's email is refused, once.
    secondary
        .delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let second = book(&stack, "call-fo-2", PHONE, "Test User", &date, "11am");
    assert!(second["result"].is_string(), "{second}");
    eventually(
        "the refusal recorded and the queues drained",
        Duration::from_secs(30),
        || async {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            (text.contains("email_rejected")
                && stack.sent_messages().sms_to(PHONE).len() == 2
                && tables.depth("NotificationQueue").await == 0)
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    // One refusal: logged once with its class (each region refused it once), never retried.
    assert_eq!(
        text.matches("not sent: the recipient cannot get it")
            .count(),
        1,
        "{text}"
    );
    // The banner's example request aside, the address is never logged.
    let logged = text.split("Ctrl-C").nth(1).unwrap_or_default();
    assert!(!logged.contains(EMAIL), "{logged}");
    assert_eq!(stack.sent_messages().emails_to(EMAIL).len(), 1);
    assert_eq!(tables.depth("NotificationDeadLetterQueue").await, 0);
}

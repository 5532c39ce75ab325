//! End to end through the local stack (`callbook-dev`: moto + webhook + workers), as a user
//! of `make dev` would see it: POST to the webhook, read back DynamoDB and what moto sent.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use callbook_aws::dynamo::{booking_key, customer_key};
use callbook_core::BookingReference;
use callbook_tests::{DevStack, eventually, get, post, queue_depth, queue_url};
use chrono::{Datelike, Utc, Weekday};
use serde_json::{Value, json};

const PHONE: &str = "+17025551234";
const EMAIL: &str = "test@example.com";

fn seed_curl_body() -> String {
    json!({"function": "bookAppointment", "parameters": {
        "customerName": "Test User", "customerPhone": PHONE, "customerEmail": EMAIL,
        "serviceType": "Consultation", "date": "tomorrow", "time": "2pm"}})
    .to_string()
}

/// The next weekday after today in New York: always bookable at 2pm whatever day the test runs.
fn next_open_day() -> String {
    let mut day = Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    loop {
        day = day.succ_opt().unwrap();
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            return day.format("%Y-%m-%d").to_string();
        }
    }
}

fn reference_in(text: &str) -> BookingReference {
    let spoken = text
        .split("Your booking reference is ")
        .nth(1)
        .unwrap_or_else(|| panic!("no reference in {text:?}"));
    BookingReference::parse(spoken.split('.').next().unwrap()).unwrap()
}

struct Tables {
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
}

impl Tables {
    async fn new(stack: &DevStack) -> Self {
        let sdk = stack.sdk_config().await;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
        }
    }

    async fn item(
        &self,
        table: &str,
        key: std::collections::HashMap<String, AttributeValue>,
    ) -> Option<std::collections::HashMap<String, AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    async fn count(&self, table: &str) -> i32 {
        // A scan is fine in a test: the request paths never scan.
        self.dynamodb
            .scan()
            .table_name(table)
            .send()
            .await
            .unwrap()
            .count
    }

    /// Booking items only (the table also holds the calendar's slot items).
    async fn bookings(&self) -> i32 {
        self.dynamodb
            .scan()
            .table_name(format!("{TABLE_PREFIX}BookingsTable"))
            .filter_expression("begins_with(pk, :prefix)")
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S("BIZ#default#BOOKING#".into()),
            )
            .send()
            .await
            .unwrap()
            .count
    }

    async fn queue_url(&self, logical_id: &str) -> String {
        queue_url(&self.sqs, logical_id).await
    }

    /// Visible + in flight.
    async fn depth(&self, logical_id: &str) -> u64 {
        let url = self.queue_url(logical_id).await;
        queue_depth(&self.sqs, &url).await.unwrap()
    }
}

fn s(item: &std::collections::HashMap<String, AttributeValue>, key: &str) -> String {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

fn n(item: &std::collections::HashMap<String, AttributeValue>, key: &str) -> String {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .cloned()
        .unwrap_or_default()
}

const TABLE_PREFIX: &str = "callbook-dev-";

type Headers<'a> = &'a [(&'a str, &'a str)];

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
        Some(11),
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

/// One booking, counted once on the caller's profile, one SMS and one email.
async fn assert_booked_once(stack: &DevStack, tables: &Tables) {
    assert_eq!(tables.bookings().await, 1);
    let customer = tables
        .item(
            &format!("{TABLE_PREFIX}CustomersTable"),
            customer_key("default", PHONE),
        )
        .await
        .expect("customer");
    assert_eq!(n(&customer, "bookingCount"), "1");
    let sent = stack.sent_messages();
    assert_eq!(sent.sms_to(PHONE).len(), 1, "{:?}", sent.sms);
    assert_eq!(sent.emails_to(EMAIL).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_booking_job_twice_leaves_one_booking_one_customer_one_sms_one_email() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let sample: Value =
        serde_json::from_str(include_str!("../../events/booking-worker-sqs.json")).unwrap();
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
    let answer = tool_call(
        &stack,
        "call-e2e-crash",
        PHONE,
        "bookAppointment",
        book_args("Test User", &date, "1pm"),
    );
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

/// Every webhook sample in events/ through the local stack, as API Gateway would deliver it:
/// the status each expects (with this stack's secret in place of the local default).
#[tokio::test(flavor = "multi_thread")]
async fn every_webhook_sample_is_answered_through_the_stack() {
    let stack = DevStack::start(2, 3);
    let dir = callbook_tests::repo_root().join("events");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("webhook-") {
            continue;
        }
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
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
        seen += 1;
    }
    assert!(seen >= 15, "only {seen} webhook samples");
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
                        "arguments": {"customerName": format!("Racer {i}"), "customerPhone": format!("+1702555{:04}", 3000 + i),
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
        let body = json!({"message": {"type": "tool-calls", "call": {"id": "call-dup"},
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

/// One tool call in a Vapi `tool-calls` message from `phone` during `call_id`; its result entry.
fn tool_call(stack: &DevStack, call_id: &str, phone: &str, name: &str, args: Value) -> Value {
    let body = json!({"message": {"type": "tool-calls",
        "call": {"id": call_id, "customer": {"number": phone}},
        "toolCallList": [{"id": format!("{call_id}-{name}-{}", rand_suffix()), "type": "function",
            "function": {"name": name, "arguments": args}}]}});
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &body.to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    answer["results"][0].clone()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn book_args(name: &str, date: &str, time: &str) -> Value {
    json!({"customerName": name, "customerEmail": EMAIL, "serviceType": "Consultation", "date": date, "time": time})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_books_lists_moves_and_cancels_and_each_change_frees_its_time() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    let date = next_open_day();
    let call = "call-e2e-life";
    let other = "+17025550199";

    let booked = tool_call(
        &stack,
        call,
        PHONE,
        "bookAppointment",
        book_args("Test User", &date, "10am"),
    );
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
    let taken = tool_call(
        &stack,
        "call-other-1",
        other,
        "bookAppointment",
        book_args("Other Caller", &date, "2pm"),
    );
    assert!(
        taken["error"]
            .as_str()
            .is_some_and(|e| e.contains("is already booked")),
        "{taken}"
    );
    let freed = tool_call(
        &stack,
        "call-other-1",
        other,
        "bookAppointment",
        book_args("Other Caller", &date, "10am"),
    );
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
    let rebooked = tool_call(
        &stack,
        "call-other-2",
        other,
        "bookAppointment",
        book_args("Other Caller", &date, "2pm"),
    );
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

#[tokio::test(flavor = "multi_thread")]
async fn a_call_with_interest_but_no_booking_leaves_a_call_record_and_one_lead() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let call = "call-e2e-lead";
    let lead = tool_call(
        &stack,
        call,
        PHONE,
        "captureLead",
        json!({"name": "Ann Lee", "interest": "whitening", "email": "ann@example.com", "notes": "wants it this week"}),
    );
    assert!(
        lead["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("Thank you, Ann.")),
        "{lead}"
    );
    let sample: Value =
        serde_json::from_str(include_str!("../../events/webhook-end-of-call-report.json")).unwrap();
    let mut report: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    report["message"]["call"]["id"] = json!(call);
    report["message"]["call"]["customer"] = json!({"number": PHONE});
    report["message"]["analysis"]["summary"] =
        json!("The caller asked about teeth whitening prices and wants a call back.");
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &report.to_string(),
    );
    assert_eq!((status, answer), (200, json!({})));

    let calls_table = format!("{TABLE_PREFIX}CallsTable");
    let customers_table = format!("{TABLE_PREFIX}CustomersTable");
    let record = eventually("the call record", Duration::from_secs(20), || async {
        tables
            .item(&calls_table, callbook_aws::calls::call_key("default", call))
            .await
            .filter(|c| c.get("report").is_some_and(|r| r.as_m().is_ok()))
    })
    .await;
    assert_eq!(s(&record, "outcome"), "lead");
    assert!(!s(record["report"].as_m().unwrap(), "transcript").is_empty());
    let lead = eventually(
        "one lead with both sources",
        Duration::from_secs(20),
        || async {
            tables
                .item(
                    &customers_table,
                    callbook_aws::calls::lead_key("default", PHONE),
                )
                .await
                .filter(|l| {
                    l.get("sources")
                        .and_then(|v| v.as_l().ok())
                        .is_some_and(|s| s.len() == 2)
                })
        },
    )
    .await;
    assert_eq!(s(&lead, "grade"), "hot", "{lead:?}");
    assert_eq!(s(&lead, "email"), "ann@example.com");
    let customer = tables
        .item(&customers_table, customer_key("default", PHONE))
        .await
        .expect("the caller's profile");
    assert_eq!(n(&customer, "callCount"), "1");
}

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

#[tokio::test(flavor = "multi_thread")]
async fn the_redrive_command_moves_dead_letters_back_and_they_are_processed_once() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let sample: Value =
        serde_json::from_str(include_str!("../../events/booking-worker-sqs.json")).unwrap();
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

/// SES failing in the primary region: the secondary region delivers. Both failing: the email
/// waits in the dead-letter queue, and once SES works again a redrive delivers it, once.
#[tokio::test(flavor = "multi_thread")]
async fn email_fails_over_to_the_secondary_region_and_a_redrive_delivers_it_once() {
    let stack = DevStack::start_with_params(1, 2, &[("SecondaryRegion", "us-west-2")]);
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
    let first = tool_call(
        &stack,
        "call-fo-1",
        PHONE,
        "bookAppointment",
        book_args("Test User", &date, "9am"),
    );
    assert!(first["result"].is_string(), "{first}");
    eventually(
        "the email, sent from the secondary region",
        Duration::from_secs(30),
        || async { (stack.sent_messages().emails_to(EMAIL).len() == 1).then_some(()) },
    )
    .await;

    // Now neither region can send: the second booking's email ends in the DLQ.
    secondary
        .delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let second = tool_call(
        &stack,
        "call-fo-2",
        PHONE,
        "bookAppointment",
        book_args("Test User", &date, "11am"),
    );
    assert!(second["result"].is_string(), "{second}");
    eventually(
        "the email in the dead-letter queue",
        Duration::from_secs(60),
        || async { (tables.depth("NotificationDeadLetterQueue").await == 1).then_some(()) },
    )
    .await;
    assert_eq!(stack.sent_messages().emails_to(EMAIL).len(), 1);
    assert_eq!(
        stack.sent_messages().sms_to(PHONE).len(),
        2,
        "SMS went out meanwhile"
    );

    // SES is fixed; the redrive sends it once.
    primary
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let dlq = tables.queue_url("NotificationDeadLetterQueue").await;
    let queue = tables.queue_url("NotificationQueue").await;
    let (ok, out) = stack.admin(&["redrive", &dlq, &queue]);
    assert!(ok && out.contains("1 message(s) moved back"), "{out}");
    eventually("the redriven email", Duration::from_secs(30), || async {
        (stack.sent_messages().emails_to(EMAIL).len() == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = stack.sent_messages();
    assert_eq!(
        (sent.emails_to(EMAIL).len(), sent.sms_to(PHONE).len()),
        (2, 2)
    );
    assert_eq!(tables.depth("NotificationDeadLetterQueue").await, 0);
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
    let booked = tool_call(
        &stack,
        "call-optout",
        PHONE,
        "bookAppointment",
        book_args("Test User", &date, "10am"),
    );
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
    let again = tool_call(
        &stack,
        "call-optin",
        PHONE,
        "bookAppointment",
        book_args("Test User", &date, "3pm"),
    );
    assert!(again["result"].is_string(), "{again}");
    eventually("the SMS", Duration::from_secs(20), || async {
        (stack.sent_messages().sms_to(PHONE).len() == 1).then_some(())
    })
    .await;
}

//! End to end through the local stack (`callbook-dev`: moto + webhook + workers), as a user
//! of `make dev` would see it: POST to the webhook, read back DynamoDB and what moto sent.
//! One module per capability; the fixture (what the tests read and send) is here.

mod booking;
mod changes;
mod followups;
mod identity;
mod leads;
mod metrics;
mod monitoring;
mod privacy;
mod reminders;
mod replies;
mod resilience;
mod soak;
mod tenants;

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

/// bookAppointment for `name` from `phone`, with the fixture's email and service.
fn book(stack: &DevStack, call_id: &str, phone: &str, name: &str, date: &str, time: &str) -> Value {
    tool_call(
        stack,
        call_id,
        phone,
        "bookAppointment",
        book_args(name, date, time),
    )
}

fn book_args(name: &str, date: &str, time: &str) -> Value {
    json!({"customerName": name, "customerEmail": EMAIL, "serviceType": "Consultation", "date": date, "time": time})
}

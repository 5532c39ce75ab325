//! Two-way SMS: customers' texts published to the inbound topic as End User Messaging
//! publishes them, answered through the notification worker (read back from moto's sent SMS).

use super::*;

use callbook_aws::replies::DynamoLastReminders;
use callbook_core::{LastReminders, PhoneNumber, Reminded};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:callbook-dev-InboundSmsTopic";

/// One text from `from`, as End User Messaging two-way SMS publishes it.
pub(super) async fn text(sns: &aws_sdk_sns::Client, from: &str, body: &str) {
    let message = json!({
        "originationNumber": from,
        "destinationNumber": "+18005550100",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": format!("in-{}", rand_suffix()),
        "previousPublishedMessageId": "prev-1",
    });
    sns.publish()
        .topic_arn(TOPIC)
        .message(message.to_string())
        .send()
        .await
        .unwrap();
}

/// Waits for the next text to PHONE (after `before` of them) and returns it.
async fn next_sms(stack: &DevStack, before: usize, what: &str) -> String {
    eventually(what, Duration::from_secs(20), || async {
        stack
            .sent_messages()
            .sms_to(PHONE)
            .get(before)
            .map(|t| t.to_string())
    })
    .await
}

fn sms_count(stack: &DevStack) -> usize {
    stack.sent_messages().sms_to(PHONE).len()
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_confirm_cancel_opt_out_opt_in_and_help() {
    let stack = DevStack::start_with_params(2, 3, &[("SmsReplies", "on")]);
    let tables = Tables::new(&stack).await;
    let sdk = stack.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let bookings_table = format!("{TABLE_PREFIX}BookingsTable");
    let customers_table = format!("{TABLE_PREFIX}CustomersTable");
    let date = next_open_day();

    let booked = book(&stack, "call-replies-1", PHONE, "Test User", &date, "10am");
    let reference = reference_in(
        booked["result"]
            .as_str()
            .unwrap_or_else(|| panic!("{booked}")),
    );
    let record = || async {
        tables
            .item(&bookings_table, booking_key("default", reference.as_str()))
            .await
            .unwrap()
    };
    next_sms(&stack, 0, "the booking's confirmation text").await;

    // The followup worker remembers each reminder's booking; here it is seeded.
    DynamoLastReminders::new(aws_sdk_dynamodb::Client::new(&sdk), customers_table.clone())
        .remember(
            &PhoneNumber::try_from(PHONE.to_string()).unwrap(),
            &Reminded {
                business_id: "default".into(),
                reference: reference.clone(),
                at: Utc::now(),
            },
        )
        .await
        .unwrap();

    // C: confirmed on the record, and the confirmation's text.
    text(&sns, PHONE, "yes!").await;
    let confirmed = next_sms(&stack, 1, "the answer to C").await;
    assert!(confirmed.contains("is confirmed"), "{confirmed}");
    assert!(confirmed.contains(reference.as_str()), "{confirmed}");
    eventually(
        "confirmedByCustomerAt on the record",
        Duration::from_secs(20),
        || async { (!s(&record().await, "confirmedByCustomerAt").is_empty()).then_some(()) },
    )
    .await;

    // HELP: the help line.
    text(&sns, PHONE, "Help").await;
    let help = next_sms(&stack, 2, "the help line").await;
    assert!(help.contains("Reply C to confirm or X to cancel"), "{help}");

    // A stranger's X does nothing to the booking: it is not their number.
    text(&sns, "+17025550199", "X").await;

    // X: cancelled as by phone (its cancellation text is the answer), the slot free again.
    text(&sns, PHONE, "x").await;
    let cancelled = next_sms(&stack, 3, "the cancellation text").await;
    assert!(cancelled.contains("is cancelled"), "{cancelled}");
    assert_eq!(s(&record().await, "status"), "cancelled");
    let rebooked = book(
        &stack,
        "call-replies-2",
        "+17025550123",
        "Other Caller",
        &date,
        "10am",
    );
    assert!(
        rebooked["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("You're booked")),
        "the slot is free again: {rebooked}"
    );

    // STOP: opted out, one confirmation text, then nothing: not a help line, not a new
    // booking's confirmation (its email still goes).
    text(&sns, PHONE, "Stop. Thank you").await;
    let stopped = next_sms(&stack, 4, "the opt-out confirmation").await;
    assert!(stopped.contains("unsubscribed"), "{stopped}");
    let opt_out = || async {
        let key = std::collections::HashMap::from([
            (
                "pk".to_string(),
                // The number's own opt-out: its STOP went to the number every business uses.
                AttributeValue::S(format!("PHONE#{PHONE}")),
            ),
            ("sk".to_string(), AttributeValue::S("SMS_OPT_OUT".into())),
        ]);
        tables.item(&customers_table, key).await
    };
    assert!(opt_out().await.is_some());
    text(&sns, PHONE, "HELP").await;
    let emails = stack.sent_messages().emails_to(EMAIL).len();
    let again = book(&stack, "call-replies-3", PHONE, "Test User", &date, "2pm");
    assert!(again["result"].is_string(), "{again}");
    eventually(
        "the new booking's email",
        Duration::from_secs(20),
        || async { (stack.sent_messages().emails_to(EMAIL).len() > emails).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sms_count(&stack), 5, "{:?}", stack.sent_messages().sms);

    // START: texts resume.
    text(&sns, PHONE, "START").await;
    let started = next_sms(&stack, 5, "the opt-in confirmation").await;
    assert!(started.contains("subscribed again"), "{started}");
    assert!(opt_out().await.is_none());
    text(&sns, PHONE, "what?").await;
    let help = next_sms(&stack, 6, "the help line for an unreadable text").await;
    assert!(help.contains("Reply C to confirm"), "{help}");
}

//! Lambda's SNS subscription, locally: provision.py subscribed a queue to the topic, so each
//! message published there arrives as the SNS envelope; it is handed to the function's
//! handler as an `SnsEvent`, and deleted once handled. A failed one comes back after the
//! queue's visibility timeout, and after Lambda's two retries (three tries) it is dropped
//! with a log line, where Lambda would put it in the function's dead-letter queue.

use std::time::Duration;

use aws_lambda_events::event::sns::SnsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{Value, json};
use sms_replies::SmsReplies;
use tracing::{error, warn};

use crate::ports::Dev;
use crate::stack::ProvisionedFunction;

/// Lambda tries an asynchronous invocation three times.
const TRIES: u32 = 3;

/// The SNS record Lambda would hand over for an envelope a subscribed queue received.
fn record(envelope: &Value, subscription: &str) -> Value {
    let mut sns = envelope.clone();
    if sns.get("MessageAttributes").is_none() {
        sns["MessageAttributes"] = json!({});
    }
    json!({
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": sns,
    })
}

pub async fn poll(
    sqs: aws_sdk_sqs::Client,
    function: ProvisionedFunction,
    replies: SmsReplies<Dev>,
) -> Result<(), String> {
    let Some(source) = function.sns.clone() else {
        return Ok(());
    };
    let subscription = format!("{}:local", source.topic_arn);
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                warn!(function = %function.logical_id, error = %e, "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in messages {
            let receipt = message.receipt_handle().unwrap_or_default().to_string();
            let tries: u32 = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let event = serde_json::from_str::<Value>(message.body().unwrap_or_default())
                .map_err(|e| e.to_string())
                .and_then(|envelope| {
                    serde_json::from_value::<SnsEvent>(
                        json!({ "Records": [record(&envelope, &subscription)] }),
                    )
                    .map_err(|e| e.to_string())
                });
            let done = match event {
                Ok(event) => match replies.handle(event).await {
                    Ok(()) => true,
                    Err(e) if tries >= TRIES => {
                        error!(function = %function.logical_id, error = %e, "failed three times: dropped (Lambda's dead-letter queue)");
                        true
                    }
                    Err(_) => false,
                },
                Err(e) => {
                    error!(function = %function.logical_id, error = %e, "not an SNS envelope: dropped");
                    true
                }
            };
            if done
                && let Err(e) = sqs
                    .delete_message()
                    .queue_url(&source.queue_url)
                    .receipt_handle(&receipt)
                    .send()
                    .await
            {
                warn!(function = %function.logical_id, error = %e, "delete failed; the text will be handled again (once: its record says done)");
            }
        }
    }
}

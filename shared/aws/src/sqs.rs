//! JobQueue on SQS: one queue per job kind.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use callbook_core::{Job, JobKind};
use callbook_core::{JobQueue, PortError};

use crate::config::{Queue, Resources};
use crate::sdk_message;
use callbook_core::ConfigError;

#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: Client,
    urls: Vec<(JobKind, String)>,
}

impl SqsJobQueue {
    /// A function only gets the URLs of the queues it may send to.
    pub fn new(client: Client, urls: Vec<(JobKind, String)>) -> Self {
        Self { client, urls }
    }

    /// The queues of `kinds`, as the function's environment names them.
    pub fn for_kinds(
        client: Client,
        resources: &Resources,
        kinds: &[JobKind],
    ) -> Result<Self, ConfigError> {
        let urls = kinds
            .iter()
            .map(|kind| Ok((*kind, resources.queue(Queue::Jobs(*kind))?)))
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self::new(client, urls))
    }

    fn url(&self, kind: JobKind) -> Result<&str, PortError> {
        self.urls
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, url)| url.as_str())
            .ok_or_else(|| {
                PortError::unavailable(
                    "enqueue",
                    format!("no {} queue is configured", kind.as_str()),
                )
            })
    }
}

impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), PortError> {
        for kind in JobKind::ALL {
            let of_kind: Vec<&Job> = jobs.iter().filter(|j| j.kind() == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            let url = self.url(kind)?;
            for chunk in of_kind.chunks(10) {
                let entries = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, job)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(job.to_json())
                            .message_attributes(
                                "jobType",
                                MessageAttributeValue::builder()
                                    .data_type("String")
                                    .string_value(kind.as_str())
                                    .build()
                                    .map_err(|e| PortError::unavailable("enqueue", e))?,
                            )
                            .build()
                            .map_err(|e| PortError::unavailable("enqueue", e))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| PortError::unavailable("enqueue", sdk_message(&e)))?;
                if let Some(failed) = out.failed().first() {
                    return Err(PortError::unavailable(
                        "enqueue",
                        format!(
                            "SQS refused a {} job: {} {}",
                            kind.as_str(),
                            failed.code(),
                            failed.message().unwrap_or("")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Moves every message from a dead-letter queue back to its source queue: receive, send,
/// then delete. A message is deleted only after the source queue accepted it, so a crash
/// in between leaves a copy in both (the workers are idempotent: it is processed once).
/// Running it again with an empty DLQ moves nothing. Returns how many were moved.
pub async fn redrive(
    client: &Client,
    dead_letter_url: &str,
    source_url: &str,
) -> Result<usize, PortError> {
    let mut moved = 0;
    loop {
        let received = client
            .receive_message()
            .queue_url(dead_letter_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| PortError::unavailable("receive from the DLQ", sdk_message(&e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(moved);
        }
        for message in messages {
            let mut send = client
                .send_message()
                .queue_url(source_url)
                .message_body(message.body().unwrap_or_default());
            for (name, value) in message.message_attributes().into_iter().flatten() {
                send = send.message_attributes(name, value.clone());
            }
            send.send()
                .await
                .map_err(|e| PortError::unavailable("send to the source queue", sdk_message(&e)))?;
            if let Some(handle) = message.receipt_handle() {
                client
                    .delete_message()
                    .queue_url(dead_letter_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| PortError::unavailable("delete from the DLQ", sdk_message(&e)))?;
            }
            moved += 1;
        }
    }
}

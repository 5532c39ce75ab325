//! JobQueue on SQS: one queue per job kind.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use callbook_core::jobs::{Job, JobKind};
use callbook_core::ports::{JobQueue, PortError};

use crate::sdk_message;

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

//! HealthProbe over the tables and queues: DescribeTable and GetQueueAttributes, concurrently.

use aws_sdk_sqs::types::QueueAttributeName;
use callbook_core::{ComponentHealth, HealthProbe};
use tokio::task::JoinSet;

use crate::config::Resources;
use crate::sdk_message;

#[derive(Debug, Clone)]
pub struct AwsHealthProbe {
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    /// (name shown in the report, table name)
    tables: Vec<(String, String)>,
    /// (name shown in the report, queue URL)
    queues: Vec<(String, String)>,
}

impl AwsHealthProbe {
    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        tables: Vec<(String, String)>,
        queues: Vec<(String, String)>,
    ) -> Self {
        Self {
            dynamodb,
            sqs,
            tables,
            queues,
        }
    }

    /// Checks every table and queue the function was given.
    pub fn for_resources(
        dynamodb: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        resources: &Resources,
    ) -> Self {
        let tables = resources.tables().iter();
        let queues = resources.queues().iter();
        Self::new(
            dynamodb,
            sqs,
            tables
                .map(|(t, name)| (t.name().to_string(), name.clone()))
                .collect(),
            queues.map(|(q, url)| (q.name(), url.clone())).collect(),
        )
    }
}

impl HealthProbe for AwsHealthProbe {
    async fn check(&self) -> Vec<ComponentHealth> {
        let mut set = JoinSet::new();
        for (i, (name, table)) in self.tables.iter().enumerate() {
            let (client, name, table) = (self.dynamodb.clone(), name.clone(), table.clone());
            set.spawn(async move {
                let health = match client.describe_table().table_name(table).send().await {
                    Ok(out) => {
                        let status = out
                            .table()
                            .and_then(|t| t.table_status())
                            .map(|s| s.as_str().to_string());
                        let status = status.unwrap_or_else(|| "UNKNOWN".into());
                        ComponentHealth {
                            healthy: status == "ACTIVE",
                            detail: status,
                            name,
                            messages: None,
                        }
                    }
                    Err(e) => ComponentHealth {
                        name,
                        healthy: false,
                        detail: sdk_message(&e),
                        messages: None,
                    },
                };
                (i, health)
            });
        }
        let offset = self.tables.len();
        for (i, (name, url)) in self.queues.iter().enumerate() {
            let (client, name, url) = (self.sqs.clone(), name.clone(), url.clone());
            set.spawn(async move {
                let result = client
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                    .send()
                    .await;
                let health = match result {
                    Ok(out) => {
                        let depth = out
                            .attributes()
                            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
                            .and_then(|n| n.parse::<u64>().ok());
                        ComponentHealth {
                            name,
                            healthy: true,
                            detail: match depth {
                                Some(n) => format!("{n} messages waiting"),
                                None => "? messages waiting".into(),
                            },
                            messages: depth,
                        }
                    }
                    Err(e) => ComponentHealth {
                        name,
                        healthy: false,
                        detail: sdk_message(&e),
                        messages: None,
                    },
                };
                (offset + i, health)
            });
        }
        let mut results: Vec<(usize, ComponentHealth)> = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(r) => results.push(r),
                Err(e) => results.push((
                    usize::MAX,
                    ComponentHealth {
                        name: "probe".into(),
                        healthy: false,
                        detail: e.to_string(),
                        messages: None,
                    },
                )),
            }
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, h)| h).collect()
    }
}

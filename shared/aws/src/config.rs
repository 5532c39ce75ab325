//! The deployment's tables and queues, named once. template.yaml gives each function the
//! names its policies allow, in its environment; a function's `build` asks this struct for
//! the ones it uses, and a missing one is a clear configuration error at init.

use callbook_core::{ConfigError, JobKind, setting};

/// A DynamoDB table of the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Customers,
    Bookings,
    Idempotency,
    Calls,
    Businesses,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Self::Customers,
        Self::Bookings,
        Self::Idempotency,
        Self::Calls,
        Self::Businesses,
    ];

    /// The environment variable holding its name.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Customers => "CUSTOMERS_TABLE",
            Self::Bookings => "BOOKINGS_TABLE",
            Self::Idempotency => "IDEMPOTENCY_TABLE",
            Self::Calls => "CALLS_TABLE",
            Self::Businesses => "BUSINESSES_TABLE",
        }
    }

    /// As the health report names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::Bookings => "bookings",
            Self::Idempotency => "idempotency",
            Self::Calls => "calls",
            Self::Businesses => "businesses",
        }
    }
}

/// An SQS queue of the deployment: one per job kind, each with its dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Jobs(JobKind),
    DeadLetters(JobKind),
}

impl Queue {
    pub const ALL: [Queue; 8] = [
        Self::Jobs(JobKind::Booking),
        Self::Jobs(JobKind::Notification),
        Self::Jobs(JobKind::Analytics),
        Self::Jobs(JobKind::FollowUp),
        Self::DeadLetters(JobKind::Booking),
        Self::DeadLetters(JobKind::Notification),
        Self::DeadLetters(JobKind::Analytics),
        Self::DeadLetters(JobKind::FollowUp),
    ];

    /// The environment variable holding its URL.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Jobs(JobKind::Booking) => "BOOKING_QUEUE_URL",
            Self::Jobs(JobKind::Notification) => "NOTIFICATION_QUEUE_URL",
            Self::Jobs(JobKind::Analytics) => "ANALYTICS_QUEUE_URL",
            Self::Jobs(JobKind::FollowUp) => "FOLLOWUP_QUEUE_URL",
            Self::DeadLetters(JobKind::Booking) => "BOOKING_DLQ_URL",
            Self::DeadLetters(JobKind::Notification) => "NOTIFICATION_DLQ_URL",
            Self::DeadLetters(JobKind::Analytics) => "ANALYTICS_DLQ_URL",
            Self::DeadLetters(JobKind::FollowUp) => "FOLLOWUP_DLQ_URL",
        }
    }

    /// As the health report names it: `booking-queue`, `booking-dlq`.
    pub fn name(self) -> String {
        match self {
            Self::Jobs(kind) => format!("{}-queue", kind.as_str()),
            Self::DeadLetters(kind) => format!("{}-dlq", kind.as_str()),
        }
    }
}

/// The table names and queue URLs in a function's environment, read once at init.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    tables: Vec<(Table, String)>,
    queues: Vec<(Queue, String)>,
}

impl Resources {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        Self {
            tables: Table::ALL
                .into_iter()
                .filter_map(|t| setting(lookup, t.setting()).map(|name| (t, name)))
                .collect(),
            queues: Queue::ALL
                .into_iter()
                .filter_map(|q| setting(lookup, q.setting()).map(|url| (q, url)))
                .collect(),
        }
    }

    pub fn table(&self, table: Table) -> Result<String, ConfigError> {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, name)| name.clone())
            .ok_or(ConfigError::Missing(table.setting()))
    }

    pub fn queue(&self, queue: Queue) -> Result<String, ConfigError> {
        self.queues
            .iter()
            .find(|(q, _)| *q == queue)
            .map(|(_, url)| url.clone())
            .ok_or(ConfigError::Missing(queue.setting()))
    }

    /// The tables this function was given, in `Table::ALL` order.
    pub fn tables(&self) -> &[(Table, String)] {
        &self.tables
    }

    /// The queues this function was given, in `Queue::ALL` order.
    pub fn queues(&self) -> &[(Queue, String)] {
        &self.queues
    }
}

/// A function's environment (`std::env`), as every `build` reads its settings.
pub fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_gets_the_names_it_was_given_and_a_clear_error_for_others() {
        let env = |name: &str| match name {
            "BOOKINGS_TABLE" => Some("callbook-BookingsTable".to_string()),
            "NOTIFICATION_DLQ_URL" => Some("https://sqs/123/n-dlq".to_string()),
            "CALLS_TABLE" => Some("  ".to_string()),
            _ => None,
        };
        let resources = Resources::from_lookup(&env);
        assert_eq!(
            resources.table(Table::Bookings).unwrap(),
            "callbook-BookingsTable"
        );
        assert_eq!(
            resources.table(Table::Calls),
            Err(ConfigError::Missing("CALLS_TABLE"))
        );
        assert_eq!(
            resources.queue(Queue::Jobs(JobKind::Booking)),
            Err(ConfigError::Missing("BOOKING_QUEUE_URL"))
        );
        assert_eq!(
            resources.queues(),
            [(
                Queue::DeadLetters(JobKind::Notification),
                "https://sqs/123/n-dlq".to_string()
            )]
        );
        assert_eq!(
            Queue::DeadLetters(JobKind::Notification).name(),
            "notification-dlq"
        );
    }
}

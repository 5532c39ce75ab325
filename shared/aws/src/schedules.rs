//! EventBridge Scheduler: each follow-up is a one-time schedule in the deployment's group that
//! sends the job's JSON to the followup queue when it is due, then deletes itself.

use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::error::ProvideErrorMetadata;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, Target,
};
use callbook_core::{ConfigError, FollowUpJob, FollowUpSchedules, PortError, setting};

use crate::sdk_message;

/// The settings the adapter needs, from the function's environment.
pub const SCHEDULE_GROUP: &str = "SCHEDULE_GROUP";
pub const SCHEDULER_ROLE_ARN: &str = "SCHEDULER_ROLE_ARN";
pub const FOLLOWUP_QUEUE_ARN: &str = "FOLLOWUP_QUEUE_ARN";
pub const FOLLOWUP_DLQ_ARN: &str = "FOLLOWUP_DLQ_ARN";

/// How long Scheduler keeps trying to put a fired job on the queue: an hour (a reminder
/// later than that is dropped by the worker anyway), then the job goes to the followup DLQ,
/// whose alarm says so, instead of vanishing after Scheduler's default day.
const DELIVER_WITHIN_SECONDS: i32 = 3600;

#[derive(Debug, Clone)]
pub struct EventBridgeSchedules {
    client: Client,
    group: String,
    /// The followup queue, where each schedule puts its job.
    target_arn: String,
    /// The role Scheduler assumes to send to the queue.
    role_arn: String,
    /// Where a job Scheduler could not deliver goes (the followup queue's DLQ).
    dead_letters_arn: String,
}

impl EventBridgeSchedules {
    pub fn new(
        client: Client,
        group: String,
        target_arn: String,
        role_arn: String,
        dead_letters_arn: String,
    ) -> Self {
        Self {
            client,
            group,
            target_arn,
            role_arn,
            dead_letters_arn,
        }
    }

    /// From `SCHEDULE_GROUP`, `FOLLOWUP_QUEUE_ARN`, `SCHEDULER_ROLE_ARN` and `FOLLOWUP_DLQ_ARN`.
    pub fn from_lookup(
        client: Client,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &'static str| setting(lookup, name).ok_or(ConfigError::Missing(name));
        Ok(Self::new(
            client,
            get(SCHEDULE_GROUP)?,
            get(FOLLOWUP_QUEUE_ARN)?,
            get(SCHEDULER_ROLE_ARN)?,
            get(FOLLOWUP_DLQ_ARN)?,
        ))
    }

    fn target(&self, job: &FollowUpJob) -> Result<Target, PortError> {
        let input =
            serde_json::to_string(job).map_err(|e| PortError::unavailable("schedule", e))?;
        let dead_letters = DeadLetterConfig::builder()
            .arn(&self.dead_letters_arn)
            .build();
        let retries = RetryPolicy::builder()
            .maximum_event_age_in_seconds(DELIVER_WITHIN_SECONDS)
            .maximum_retry_attempts(20)
            .build();
        Target::builder()
            .arn(&self.target_arn)
            .role_arn(&self.role_arn)
            .input(input)
            .dead_letter_config(dead_letters)
            .retry_policy(retries)
            .build()
            .map_err(|e| PortError::unavailable("schedule", e))
    }
}

/// Scheduler's one-time expression: `at(yyyy-mm-ddThh:mm:ss)`, read in the zone given beside it
/// (UTC here), to the second.
pub fn at_expression(job: &FollowUpJob) -> String {
    format!("at({})", job.due_at().format("%Y-%m-%dT%H:%M:%S"))
}

fn off() -> Result<FlexibleTimeWindow, PortError> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| PortError::unavailable("schedule", e))
}

impl FollowUpSchedules for EventBridgeSchedules {
    async fn put(&self, job: &FollowUpJob) -> Result<(), PortError> {
        let name = job.schedule_name();
        let expression = at_expression(job);
        let created = self
            .client
            .create_schedule()
            .name(&name)
            .group_name(&self.group)
            .schedule_expression(&expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(off()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(self.target(job)?)
            .send()
            .await;
        let error = match created {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        // The schedule exists (a redelivery, or the booking moved): Update replaces it whole.
        if error.code() != Some("ConflictException") {
            return Err(PortError::unavailable(
                "create schedule",
                sdk_message(&error),
            ));
        }
        self.client
            .update_schedule()
            .name(&name)
            .group_name(&self.group)
            .schedule_expression(&expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(off()?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(self.target(job)?)
            .send()
            .await
            .map_err(|e| PortError::unavailable("update schedule", sdk_message(&e)))?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), PortError> {
        match self
            .client
            .delete_schedule()
            .name(name)
            .group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Fired (and deleted itself), or never made: what was asked is true.
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(PortError::unavailable("delete schedule", sdk_message(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callbook_core::{AppointmentEndedJob, BookingReference};

    #[test]
    fn the_expression_is_the_due_time_in_utc_to_the_second() {
        let job = FollowUpJob::AppointmentEnded(AppointmentEndedJob {
            business_id: "smile".into(),
            reference: BookingReference::parse("K7P2X9").unwrap(),
            start_utc: "2026-12-09T14:00:00Z".parse().unwrap(),
            due_at: "2026-12-09T14:30:05Z".parse().unwrap(),
        });
        assert_eq!(at_expression(&job), "at(2026-12-09T14:30:05)");
    }

    #[test]
    fn a_missing_setting_is_a_typed_error() {
        let client = Client::from_conf(
            aws_sdk_scheduler::Config::builder()
                .behavior_version(aws_sdk_scheduler::config::BehaviorVersion::latest())
                .build(),
        );
        let env = |name: &str| (name == SCHEDULE_GROUP).then(|| "callbook-followups".to_string());
        assert_eq!(
            EventBridgeSchedules::from_lookup(client, &env).err(),
            Some(ConfigError::Missing(FOLLOWUP_QUEUE_ARN))
        );
    }
}

//! EventBridge Scheduler's firing, locally: moto keeps the schedules (the workers create,
//! move and delete them through the real API) but never fires one. This loop does what
//! Scheduler does when a one-time schedule comes due: it sends the target's input to the
//! target queue, then deletes the schedule when it says `ActionAfterCompletion: DELETE`.
//!
//! "Due" is read on the dev server's clock, which runs `DEV_CLOCK_OFFSET_SECONDS` ahead of
//! the machine's and which `POST /dev/clock` moves, so a test sees "24 h later" at once. Only
//! the firing uses it: the functions keep the real clock, as Lambda's would.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use aws_sdk_scheduler::types::{ActionAfterCompletion, ScheduleState};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use tracing::{info, warn};

/// The dev server's clock: the machine's plus an offset in seconds.
#[derive(Debug, Default)]
pub struct DevClock {
    offset_seconds: AtomicI64,
}

impl DevClock {
    pub fn from_env() -> Result<Self, String> {
        let offset = match std::env::var("DEV_CLOCK_OFFSET_SECONDS") {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map_err(|_| format!("DEV_CLOCK_OFFSET_SECONDS={v:?} is not a whole number"))?,
            _ => 0,
        };
        Ok(Self {
            offset_seconds: AtomicI64::new(offset),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_seconds())
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }

    /// Moves the clock forward (or back) by `seconds`; returns the new offset.
    pub fn advance(&self, seconds: i64) -> i64 {
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst) + seconds
    }
}

/// When a one-time schedule fires: `at(2026-12-09T12:00:00)` in `zone` (UTC when absent).
pub fn fires_at(expression: &str, zone: Option<&str>) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    let local = NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S").ok()?;
    let zone: Tz = zone.unwrap_or("UTC").parse().ok()?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Fires due schedules every `every` until the dev server stops.
pub async fn fire(
    scheduler: aws_sdk_scheduler::Client,
    sqs: aws_sdk_sqs::Client,
    clock: Arc<DevClock>,
) -> Result<(), String> {
    loop {
        if let Err(e) = fire_due(&scheduler, &sqs, clock.now()).await {
            warn!(error = %e, "firing schedules failed; trying again");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One pass: every enabled schedule of every group that is due by `now`. One schedule that
/// cannot be fired is logged and tried again next pass; the others still fire.
pub async fn fire_due(
    scheduler: &aws_sdk_scheduler::Client,
    sqs: &aws_sdk_sqs::Client,
    now: DateTime<Utc>,
) -> Result<usize, String> {
    let mut pages = scheduler.list_schedules().into_paginator().send();
    let mut enabled = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("list schedules: {e}"))?;
        for summary in page.schedules() {
            if summary.state() == Some(&ScheduleState::Enabled) {
                enabled.push((
                    summary.group_name().unwrap_or("default").to_string(),
                    summary.name().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    let mut fired = 0;
    for (group, name) in enabled {
        match fire_one(scheduler, sqs, &group, &name, now).await {
            Ok(true) => fired += 1,
            Ok(false) => {}
            Err(e) => warn!(schedule = %name, error = %e, "cannot fire this schedule; next pass"),
        }
    }
    Ok(fired)
}

/// The schedule's expression and input, or `None` when it is gone (a cancel deleted it).
async fn read(
    scheduler: &aws_sdk_scheduler::Client,
    group: &str,
    name: &str,
) -> Result<Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput>, String> {
    match scheduler
        .get_schedule()
        .group_name(group)
        .name(name)
        .send()
        .await
    {
        Ok(s) => Ok(Some(s)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("get schedule {name}: {e}")),
    }
}

/// Fires `name` if it is due: its input to its target queue, then (as `DELETE` asks) deleted,
/// unless a worker moved it meanwhile (then it waits for its new time).
async fn fire_one(
    scheduler: &aws_sdk_scheduler::Client,
    sqs: &aws_sdk_sqs::Client,
    group: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<bool, String> {
    let Some(schedule) = read(scheduler, group, name).await? else {
        return Ok(false);
    };
    let Some(at) = schedule
        .schedule_expression()
        .and_then(|x| fires_at(x, schedule.schedule_expression_timezone()))
    else {
        return Ok(false); // A rate or cron schedule: not ours to emulate.
    };
    let Some(target) = schedule.target().filter(|_| at <= now) else {
        return Ok(false);
    };
    let queue_name = target.arn().rsplit(':').next().unwrap_or_default();
    let url = sqs
        .get_queue_url()
        .queue_name(queue_name)
        .send()
        .await
        .map_err(|e| format!("target queue {queue_name}: {e}"))?
        .queue_url
        .unwrap_or_default();
    sqs.send_message()
        .queue_url(&url)
        .message_body(target.input().unwrap_or_default())
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    info!(schedule = %name, group = %group, due = %at, "schedule fired");
    if schedule.action_after_completion() != Some(&ActionAfterCompletion::Delete) {
        return Ok(true);
    }
    // Moved since it was read: the new time is another firing.
    let unchanged = read(scheduler, group, name).await?.is_some_and(|now| {
        now.schedule_expression() == schedule.schedule_expression()
            && now.target().and_then(|t| t.input()) == target.input()
    });
    if unchanged {
        let deleted = scheduler
            .delete_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await;
        if let Err(e) = deleted
            && !e
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
        {
            return Err(format!("delete schedule {name}: {e}"));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_time_expression_reads_in_its_zone() {
        assert_eq!(
            fires_at("at(2026-12-09T12:00:00)", None),
            Some(Utc.with_ymd_and_hms(2026, 12, 9, 12, 0, 0).unwrap())
        );
        assert_eq!(
            fires_at("at(2026-12-09T12:00:00)", Some("America/New_York")),
            Some(Utc.with_ymd_and_hms(2026, 12, 9, 17, 0, 0).unwrap())
        );
        assert_eq!(fires_at("rate(5 minutes)", None), None);
        assert_eq!(fires_at("at(tomorrow)", None), None);
    }

    #[test]
    fn the_clock_moves_by_what_it_is_told() {
        let clock = DevClock::default();
        assert_eq!(clock.advance(86_400), 86_400);
        assert_eq!(clock.advance(-400), 86_000);
        let ahead = clock.now() - Utc::now();
        assert!((ahead.num_seconds() - 86_000).abs() <= 1);
    }
}

use super::*;
use chrono::TimeZone;

fn london() -> Tz {
    "Europe/London".parse().unwrap()
}

fn local(zone: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    zone.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_booking_made_days_ahead_gets_both_reminders_at_their_times() {
    let zone = london();
    let start = local(zone, 2026, 12, 9, 14, 0);
    let now = local(zone, 2026, 12, 1, 10, 0);
    let planned = plan_reminders(&FollowUpSettings::default(), zone, start, now);
    assert_eq!(
        planned,
        vec![
            PlannedReminder {
                minutes_before: 1440,
                at: local(zone, 2026, 12, 8, 14, 0)
            },
            PlannedReminder {
                minutes_before: 120,
                at: local(zone, 2026, 12, 9, 12, 0)
            },
        ]
    );
}

#[test]
fn an_offset_already_past_is_skipped_not_sent_at_once() {
    let zone = london();
    let start = local(zone, 2026, 12, 2, 15, 0);
    let now = local(zone, 2026, 12, 1, 18, 0);
    let planned = plan_reminders(&FollowUpSettings::default(), zone, start, now);
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].minutes_before, 120);
}

#[test]
fn a_reminder_in_quiet_hours_goes_at_their_start_the_evening_before() {
    let zone = london();
    // 2 h before 09:00 is 07:00, inside 21:00-08:00: it goes at 21:00 the day before.
    let start = local(zone, 2026, 12, 9, 9, 0);
    let now = local(zone, 2026, 12, 1, 10, 0);
    let planned = plan_reminders(&FollowUpSettings::default(), zone, start, now);
    assert_eq!(planned[1].at, local(zone, 2026, 12, 8, 21, 0));
    // 23:30 is quiet too, the same evening.
    let quiet = parse_quiet_hours("21:00-08:00").unwrap().unwrap();
    assert_eq!(
        quiet.last_allowed(local(zone, 2026, 12, 8, 23, 30), zone),
        local(zone, 2026, 12, 8, 21, 0)
    );
    // Quiet hours within one day.
    let lunch = parse_quiet_hours("12:00-13:00").unwrap().unwrap();
    assert_eq!(
        lunch.last_allowed(local(zone, 2026, 12, 8, 12, 30), zone),
        local(zone, 2026, 12, 8, 12, 0)
    );
    assert_eq!(
        lunch.last_allowed(local(zone, 2026, 12, 8, 13, 0), zone),
        local(zone, 2026, 12, 8, 13, 0)
    );
}

#[test]
fn reminders_that_fall_together_are_sent_once() {
    let zone = london();
    let settings = FollowUpSettings {
        reminders: vec![60, 120],
        ..FollowUpSettings::default()
    };
    // 06:00 and 07:00 both move to 21:00 the evening before.
    let start = local(zone, 2026, 12, 9, 8, 0);
    let planned = plan_reminders(&settings, zone, start, local(zone, 2026, 12, 1, 0, 0));
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].minutes_before, 120);
}

#[test]
fn settings_read_from_words_and_refuse_nonsense() {
    assert_eq!(parse_reminders("2h, 24h,30m").unwrap(), vec![1440, 120, 30]);
    assert_eq!(parse_reminders("off").unwrap(), Vec::<u32>::new());
    assert!(parse_reminders("2 days").is_err());
    assert!(parse_reminders("24ч").is_err());
    assert!(parse_reminders("ч").is_err());
    assert!(parse_reminders("0h").is_err());
    assert!(parse_reminders("1h,2h,3h,4h,5h").is_err());
    assert!(parse_quiet_hours("21:00").is_err());
    assert!(parse_quiet_hours("08:00-08:00").is_err());
    assert_eq!(parse_quiet_hours("OFF").unwrap(), None);
    let lookup = |k: &str| match k {
        "REMINDERS" => Some("48h".to_string()),
        "SMS_REPLIES" => Some("on".to_string()),
        "LEAD_FOLLOW_UP_AT" => Some("off".to_string()),
        _ => None,
    };
    let s = FollowUpSettings::from_lookup(&lookup).unwrap();
    assert_eq!(s.reminders, vec![2880]);
    assert!(s.replies);
    assert_eq!(s.lead_follow_up_at, None);
    assert_eq!(s.quiet_hours, FollowUpSettings::default().quiet_hours);
    let bad = |k: &str| (k == "SMS_REPLIES").then(|| "maybe".to_string());
    assert!(matches!(
        FollowUpSettings::from_lookup(&bad),
        Err(ConfigError::Invalid {
            name: "SMS_REPLIES",
            ..
        })
    ));
}

#[test]
fn schedule_names_are_stable_valid_and_distinct() {
    let r = BookingReference::parse("K7P2X9").unwrap();
    let a = reminder_schedule_name("smile", &r, 1440);
    assert_eq!(a, reminder_schedule_name("smile", &r, 1440));
    assert_ne!(a, reminder_schedule_name("smile", &r, 120));
    assert_ne!(a, reminder_schedule_name("other", &r, 1440));
    for name in [
        a,
        ended_schedule_name("smile", &r),
        lead_schedule_name("smile", "lead-1"),
    ] {
        assert!(name.len() <= 64);
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }
}

#[test]
fn a_lead_hears_back_the_next_day_the_business_is_open() {
    let zone = london();
    let hours: OpeningHours = "Mon-Fri 09:00-17:00".parse().unwrap();
    let settings = FollowUpSettings::default();
    // Friday evening → Monday 10:00.
    let friday = local(zone, 2026, 12, 4, 18, 0);
    assert_eq!(
        lead_follow_up_due(&settings, zone, &hours, friday),
        Some(local(zone, 2026, 12, 7, 10, 0))
    );
    let off = FollowUpSettings {
        lead_follow_up_at: None,
        ..settings
    };
    assert_eq!(lead_follow_up_due(&off, zone, &hours, friday), None);
}

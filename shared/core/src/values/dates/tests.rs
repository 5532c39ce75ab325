use super::*;
use crate::values::speech::{spoken_datetime, spoken_time};
use crate::values::times::*;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use chrono_tz::{America::New_York, Europe::London};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

// 2026-11-24 is a Tuesday.
const TODAY: (i32, u32, u32) = (2026, 11, 24);
fn today() -> NaiveDate {
    d(TODAY.0, TODAY.1, TODAY.2)
}

#[test]
fn relative_dates() {
    assert_eq!(resolve_date("today", today(), true), Ok(today()));
    assert_eq!(resolve_date("Tonight", today(), true), Ok(today()));
    assert_eq!(resolve_date("tomorrow", today(), true), Ok(d(2026, 11, 25)));
    assert_eq!(
        resolve_date("the day after tomorrow", today(), true),
        Ok(d(2026, 11, 26))
    );
    assert_eq!(
        resolve_date("in 3 days", today(), true),
        Ok(d(2026, 11, 27))
    );
    assert_eq!(
        resolve_date("in three days", today(), true),
        Ok(d(2026, 11, 27))
    );
    assert_eq!(resolve_date("in a week", today(), true), Ok(d(2026, 12, 1)));
}

#[test]
fn weekday_names_mean_the_first_one_after_today() {
    for s in ["Friday", "this Friday", "next Friday", "on friday", "fri"] {
        assert_eq!(resolve_date(s, today(), true), Ok(d(2026, 11, 27)), "{s}");
    }
    // Today is Tuesday: "Tuesday" is a week away, not today.
    assert_eq!(resolve_date("tuesday", today(), true), Ok(d(2026, 12, 1)));
    assert_eq!(resolve_date("Monday", today(), true), Ok(d(2026, 11, 30)));
}

#[test]
fn explicit_dates() {
    assert_eq!(
        resolve_date("2026-11-28", today(), true),
        Ok(d(2026, 11, 28))
    );
    assert_eq!(
        resolve_date("November 28", today(), true),
        Ok(d(2026, 11, 28))
    );
    assert_eq!(resolve_date("Nov 28th", today(), true), Ok(d(2026, 11, 28)));
    assert_eq!(
        resolve_date("28 November", today(), true),
        Ok(d(2026, 11, 28))
    );
    assert_eq!(
        resolve_date("the 28th of November", today(), true),
        Ok(d(2026, 11, 28))
    );
    assert_eq!(
        resolve_date("Saturday, November 28, 2026", today(), true),
        Ok(d(2026, 11, 28))
    );
    assert_eq!(resolve_date("11/28", today(), true), Ok(d(2026, 11, 28)));
    assert_eq!(resolve_date("28/11", today(), false), Ok(d(2026, 11, 28)));
    assert_eq!(
        resolve_date("11/28/2026", today(), true),
        Ok(d(2026, 11, 28))
    );
    // A date already past this year means next year's.
    assert_eq!(resolve_date("January 5", today(), true), Ok(d(2027, 1, 5)));
}

#[test]
fn bad_dates_are_explained() {
    assert_eq!(resolve_date("", today(), true), Err(DateError::Empty));
    assert!(matches!(
        resolve_date("someday", today(), true),
        Err(DateError::Unrecognized(_))
    ));
    assert!(matches!(
        resolve_date("February 30 2027", today(), true),
        Err(DateError::NoSuchDate(_))
    ));
    assert!(matches!(
        resolve_date("13/45", today(), true),
        Err(DateError::NoSuchDate(_))
    ));
    assert!(matches!(
        resolve_date("in many days", today(), true),
        Err(DateError::Unrecognized(_))
    ));
}

#[test]
fn times() {
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    for (s, want) in [
        ("2pm", t(14, 0)),
        ("2 PM", t(14, 0)),
        ("2:30 pm", t(14, 30)),
        ("2:30pm", t(14, 30)),
        ("2.30 p.m.", t(14, 30)),
        ("14:00", t(14, 0)),
        ("14:00:00", t(14, 0)),
        ("09:30", t(9, 30)),
        ("9am", t(9, 0)),
        ("12pm", t(12, 0)),
        ("12am", t(0, 0)),
        ("noon", t(12, 0)),
        ("at 3", t(15, 0)),
        ("10", t(10, 0)),
        ("half past two", t(14, 30)),
        ("quarter past ten", t(10, 15)),
        ("two thirty", t(14, 30)),
        ("3 o'clock", t(15, 0)),
        ("ten in the morning", t(10, 0)),
        ("four in the afternoon", t(16, 0)),
    ] {
        assert_eq!(parse_time(s), Ok(want), "{s}");
    }
    assert_eq!(parse_time(""), Err(TimeError::Empty));
    for bad in ["25:00", "2:75pm", "13pm", "lunchtime", "2:3"] {
        assert!(
            matches!(parse_time(bad), Err(TimeError::Unrecognized(_))),
            "{bad}"
        );
    }
}

fn at(zone: Tz, y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Tz> {
    zone.with_ymd_and_hms(y, m, day, h, min, 0)
        .single()
        .unwrap()
}

#[test]
fn resolves_in_the_business_zone_relative_to_the_call() {
    // 03:30 UTC on Nov 25 is still Nov 24 in New York: "tomorrow" is the 25th.
    let call = Utc.with_ymd_and_hms(2026, 11, 25, 3, 30, 0).unwrap();
    let start = resolve_start("tomorrow", "2pm", New_York, call, true).unwrap();
    assert_eq!(start, at(New_York, 2026, 11, 25, 14, 0));
    assert_eq!(spoken_datetime(&start), "Wednesday, November 25 at 2:00 PM");
}

#[test]
fn explicit_offsets_are_honoured_and_spoken_locally() {
    let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    let start = resolve_start("2026-11-25T19:00:00Z", "", New_York, call, true).unwrap();
    assert_eq!(spoken_datetime(&start), "Wednesday, November 25 at 2:00 PM");
    let local = resolve_start("2026-11-25", "2026-11-25T14:00:00", New_York, call, true).unwrap();
    assert_eq!(local, start);
}

#[test]
fn a_separate_time_wins_over_a_timestamps_clock() {
    let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    let start = resolve_start("2026-11-25T00:00:00Z", "2pm", New_York, call, true).unwrap();
    assert_eq!(spoken_datetime(&start), "Wednesday, November 25 at 2:00 PM");
}

#[test]
fn absurd_input_is_refused_without_panicking() {
    let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    for (date, time) in [
        ("2026-11-2é 14:00:00", "2pm"),
        ("in 999999999 weeks", "2pm"),
        ("in 99999999 days", "2pm"),
        ("12/31/262143", "2pm"),
        ("12/31/9999", "2pm"),
        ("9999-12-31", "2pm"),
        ("2026-11-25", "9999-12-31T10:00:00Z"),
        ("é", "é"),
        ("2026-11-2é5T14:00", ""),
        ("tomorrow", "2026-11-2é5T14:00:00"),
        ("1234567890é", "1234567890123456é"),
    ] {
        assert!(
            resolve_start(date, time, New_York, call, true).is_err(),
            "{date} {time}"
        );
    }
    assert!(matches!(
        resolve_date("in 400 days", call.date_naive(), true),
        Err(DateError::TooFarAhead(_))
    ));
    assert!(resolve_date("in 300 days", call.date_naive(), true).is_ok());
}

#[test]
fn spring_gap_is_refused_with_nearest_times() {
    let call = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    // 2026-03-08 02:30 does not exist in New York.
    match resolve_start("2026-03-08", "2:30am", New_York, call, true) {
        Err(StartError::Nonexistent { before, after }) => {
            assert_eq!(spoken_time(before.time()), "1:59 AM");
            assert_eq!(spoken_time(after.time()), "3:00 AM");
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    // London springs forward on 2026-03-29 at 01:00.
    assert!(matches!(
        resolve_start("March 29", "1:30am", London, call, false),
        Err(StartError::Nonexistent { .. })
    ));
}

#[test]
fn autumn_overlap_takes_the_first_occurrence() {
    let call = Utc.with_ymd_and_hms(2026, 10, 20, 12, 0, 0).unwrap();
    let ny = resolve_start("2026-11-01", "1:30am", New_York, call, true).unwrap();
    assert_eq!(
        ny.with_timezone(&Utc),
        Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap()
    );
    let ldn = resolve_start("October 25", "1:30am", London, call, false).unwrap();
    assert_eq!(
        ldn.with_timezone(&Utc),
        Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()
    );
}

#[test]
fn dst_changes_keep_wall_clock_times() {
    // The day after the spring change, 2pm is still 2pm local (18:00 UTC, not 19:00).
    let call = Utc.with_ymd_and_hms(2026, 3, 7, 15, 0, 0).unwrap();
    let start = resolve_start("Monday", "2pm", New_York, call, true).unwrap();
    assert_eq!(
        start.with_timezone(&Utc),
        Utc.with_ymd_and_hms(2026, 3, 9, 18, 0, 0).unwrap()
    );
}

#[test]
fn tonight_and_this_afternoon_mean_pm_unless_the_time_says() {
    let zone = chrono_tz::America::New_York;
    let call = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    let at = |date: &str, time: &str| {
        resolve_start(date, time, zone, call, true)
            .unwrap()
            .format("%d %H:%M")
            .to_string()
    };
    assert_eq!(at("tonight", "8"), "24 20:00");
    assert_eq!(at("this afternoon", "3:30"), "24 15:30");
    assert_eq!(at("tomorrow evening", "7"), "25 19:00");
    assert_eq!(at("tonight", "19:00"), "24 19:00");
    assert_eq!(at("tomorrow morning", "9"), "25 09:00");
    assert_eq!(day_part("Tonight"), Some(DayPart::Evening));
    assert_eq!(day_part("Friday"), None);
}

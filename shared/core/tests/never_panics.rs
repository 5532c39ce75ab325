//! Property tests: whatever a caller, a model or an attacker sends, the parsers answer with a
//! value or an error, never a panic. 512 cases per property in `make test`; more with
//! `PROPTEST_CASES=100000 cargo test -p callbook-core --test never_panics`.

use callbook_core::Business;
use callbook_core::availability_request;
use callbook_core::book_appointment_request;
use callbook_core::capture_lead_request;
use callbook_core::{CallContext, parse_webhook};
use callbook_core::{Caller, CallerCode, verify_request};
use callbook_core::{cancel_request, reschedule_request};
use callbook_core::{parse_time, resolve_date, resolve_start};
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// 512 by default; `PROPTEST_CASES` for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(512)
}

fn business() -> Business {
    Business::from_lookup(&|name: &str| {
        (name == "BUSINESS_SERVICES")
            .then(|| "Consultation=60@150; Cleaning|Hygiene=30@90".to_string())
    })
    .unwrap()
}

/// Text that looks like what callers say about dates and times, and plain noise.
fn spoken() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,4}[/.-][0-9]{1,4}([/.-][0-9]{1,4})?",
        "(next |this |in )?[a-z]{2,10}( [0-9]{1,3})?( (days|weeks|am|pm))?",
        "[0-9]{1,2}(:[0-9]{1,2})? ?(am|pm|a\\.m\\.|p\\.m\\.)?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        "half past [a-z]{3,6}|quarter (to|past) [a-z]{3,6}",
    ]
}

/// A JSON value up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        spoken().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Arguments with the tools' real names, holding anything.
fn arguments() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop::sample::select(vec![
        "customerName",
        "customerPhone",
        "customerEmail",
        "serviceType",
        "date",
        "time",
        "timePreference",
        "bookingReference",
        "newDate",
        "newTime",
        "reason",
        "name",
        "phone",
        "email",
        "interest",
        "notes",
    ]);
    prop::collection::btree_map(names, json_value(), 0..10)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_envelope_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_webhook(&bytes);
    }

    #[test]
    fn the_envelope_parser_reads_any_json_shape(message in json_value(), kind in prop::sample::select(vec![
        "tool-calls", "function-call", "end-of-call-report", "status-update", "assistant-request",
        "transfer-destination-request", "hang", "transcript", "something-new",
    ])) {
        let mut message = message;
        if let Value::Object(m) = &mut message {
            m.insert("type".into(), json!(kind));
        }
        let body = json!({"message": message}).to_string();
        let _ = parse_webhook(body.as_bytes());
    }

    #[test]
    fn dates_and_times_never_panic(date in spoken(), time in spoken(), day in 0i64..40_000, secs in -10_000_000_000i64..10_000_000_000) {
        let today = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(day);
        let _ = resolve_date(&date, today, true);
        let _ = resolve_date(&date, today, false);
        let _ = parse_time(&time);
        if let Some(started) = Utc.timestamp_opt(secs, 0).single() {
            for zone in [chrono_tz::America::New_York, chrono_tz::Europe::London, chrono_tz::Pacific::Chatham] {
                let _ = resolve_start(&date, &time, zone, started, true);
            }
        }
    }

    #[test]
    fn tool_argument_parsers_never_panic(args in arguments(), number in "\\+?[0-9 ()-]{0,20}") {
        let b = business();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let call = CallContext {
            call_id: Some("c".into()),
            customer_number: Some(number),
            ..Default::default()
        };
        let _ = book_appointment_request(&args, &call, &b, now);
        let _ = availability_request(&args, &call, &b, now);
        let _ = reschedule_request(&args, &call, &b);
        let _ = cancel_request(&args, &call, &b);
        let _ = capture_lead_request(&args, &call, Some("t"), &b, now);
        let _ = verify_request(&args, &b);
        let _ = Caller::of_call(&call, &b);
    }

    #[test]
    fn caller_codes_never_panic(raw in any::<String>()) {
        let _ = CallerCode::parse(&raw);
    }
}

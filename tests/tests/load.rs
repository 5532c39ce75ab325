//! Load through the local stack: a realistic mix of webhooks at a given concurrency, then
//! proof that every accepted job was processed exactly once (nothing lost, nothing doubled).
//!
//! `make test` runs a short version (300 requests at concurrency 10); `make load-test` the
//! full one (5,000 at 50). Settings: `LOAD_REQUESTS`, `LOAD_CONCURRENCY`. Figures are
//! printed (throughput, p50/p99 latency, and moto's own raw SQS rate in the same run), not
//! asserted: these machines are shared.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use callbook_tests::{DevStack, eventually, http, queue_depth, queue_url, try_post};
use chrono::{Datelike, Weekday};
use serde_json::json;

const BUSINESSES: usize = 4;
/// 30-minute cleanings between 9:00 and 17:00: 16 a day per business.
const SLOTS_PER_DAY: usize = 16;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Weekdays from two days ahead, enough for `needed` distinct slots per business.
fn weekdays(needed: usize) -> Vec<String> {
    let mut day = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive()
        + chrono::Duration::days(2);
    let mut days = Vec::new();
    while days.len() * SLOTS_PER_DAY < needed {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            days.push(day.format("%Y-%m-%d").to_string());
        }
        day = day.succ_opt().unwrap();
    }
    days
}

#[derive(Debug, Clone)]
enum Kind {
    Booking { business: usize },
    Availability,
    Status,
    Report,
}

fn business_id(business: usize) -> String {
    if business == 0 {
        "default".to_string()
    } else {
        format!("load-{business}")
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_realistic_mix_under_load_is_processed_exactly_once() {
    let requests = setting("LOAD_REQUESTS", 300);
    let concurrency = setting("LOAD_CONCURRENCY", 10);
    let stack = DevStack::start_with_params(
        30,
        5,
        // Local rate limits raised for the run (the template's are for real providers).
        &[
            ("SmsPerSecondPerInstance", "1000"),
            ("EmailsPerSecondPerInstance", "1000"),
        ],
    );
    let sdk = stack.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // The default business and three more, loaded from files: distinct calendars.
    for b in 1..BUSINESSES {
        let profile = json!({
            "id": format!("load-{b}"), "name": format!("Load Clinic {b}"),
            "timeZone": "America/New_York", "openingHours": "Mon-Fri 09:00-17:00",
            "services": [{"name": "Cleaning", "minutes": 30, "price": 90}],
            "assistantIds": [format!("asst-load-{b}")]
        });
        let file = stack.dev_dir.join(format!("load-{b}.json"));
        std::fs::write(&file, profile.to_string()).unwrap();
        let (ok, out) = stack.admin(&["load-business", &file.to_string_lossy()]);
        assert!(ok, "{out}");
    }

    // About a fifth bookings (each a distinct slot of one of the businesses), the rest
    // availability checks, status updates and end-of-call reports.
    let bookings = requests / 5;
    let per_business = bookings.div_ceil(BUSINESSES);
    let days = weekdays(per_business);
    let mut plan = Vec::with_capacity(requests);
    for i in 0..requests {
        plan.push(match i % 5 {
            0 if i / 5 < bookings => Kind::Booking {
                business: (i / 5) % BUSINESSES,
            },
            1 => Kind::Status,
            2 => Kind::Report,
            _ => Kind::Availability,
        });
    }
    let bodies: Vec<(Kind, String)> = plan
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let call_id = format!("load-call-{i}");
            let phone = format!("+1702555{:04}", i % 10_000);
            let body = match kind {
                Kind::Booking { business } => {
                    let n = i / 5 / BUSINESSES; // the business's n-th booking
                    let (day, slot) = (n / SLOTS_PER_DAY, n % SLOTS_PER_DAY);
                    let time = format!("{}:{:02}", 9 + slot / 2, (slot % 2) * 30);
                    let assistant = (*business > 0).then(|| format!("asst-load-{business}"));
                    json!({"message": {"type": "tool-calls",
                        "call": {"id": call_id, "assistantId": assistant, "customer": {"number": phone}},
                        "toolCallList": [{"id": format!("tc-{i}"), "type": "function", "function": {
                            "name": "bookAppointment", "arguments": {"customerName": "Load Tester",
                            "customerEmail": format!("load{i}@example.com"), "serviceType": "Cleaning",
                            "date": days[day], "time": time}}}]}})
                }
                Kind::Availability => json!({"message": {"type": "tool-calls",
                    "call": {"id": call_id, "customer": {"number": phone}},
                    "toolCallList": [{"id": format!("tc-{i}"), "type": "function", "function": {
                        "name": "checkAvailability", "arguments": {"serviceType": "Cleaning", "date": days[i % days.len()]}}}]}}),
                Kind::Status => json!({"message": {"type": "status-update", "status": "in-progress",
                    "call": {"id": call_id, "customer": {"number": phone}}}}),
                Kind::Report => json!({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call",
                    "call": {"id": call_id, "customer": {"number": phone}},
                    "startedAt": "2026-11-24T15:00:00Z", "endedAt": "2026-11-24T15:02:00Z",
                    "artifact": {"transcript": "AI: Hello\nUser: Just asking about your hours."},
                    "analysis": {"summary": "The caller asked about opening hours."}}}),
            };
            (kind.clone(), body.to_string())
        })
        .collect();

    // Moto's own rate in this run, for scale: sequential SendMessage to a scratch queue.
    let scratch = sqs
        .create_queue()
        .queue_name("load-scratch")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let raw_start = Instant::now();
    for i in 0..100 {
        sqs.send_message()
            .queue_url(&scratch)
            .message_body(format!("{i}"))
            .send()
            .await
            .unwrap();
    }
    let raw_rate = 100.0 / raw_start.elapsed().as_secs_f64();

    let queue = Arc::new(Mutex::new(
        bodies.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            let (url, secret) = (stack.webhook_url(), stack.secret.clone());
            std::thread::spawn(move || {
                let client = http();
                loop {
                    let Some((i, (kind, body))) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let t = Instant::now();
                    let answer =
                        try_post(&client, &url, &[("x-vapi-secret", secret.as_str())], &body)
                            .map_err(|e| e.to_string());
                    results.lock().unwrap().push((i, kind, answer, t.elapsed()));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = started.elapsed();
    let results = std::mem::take(&mut *results.lock().unwrap());
    assert_eq!(results.len(), requests);

    let mut latencies: Vec<Duration> = results.iter().map(|r| r.3).collect();
    latencies.sort();
    let mut accepted = BTreeSet::new();
    let mut reports = 0;
    // Answers that never came within the client's 30 s (Vapi gives up after 20 s by default):
    // the work may or may not have been done, so these bound what may be recorded beyond
    // what was accepted, and are reported.
    let mut unanswered = Vec::new();
    for (i, kind, answer, _) in &results {
        let (status, answer) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                unanswered.push((*i, kind.clone(), e.clone()));
                continue;
            }
        };
        assert_eq!(*status, 200, "request {i} ({kind:?}): {answer}");
        match kind {
            Kind::Booking { business } => {
                let text = answer["results"][0]["result"]
                    .as_str()
                    .unwrap_or_else(|| panic!("booking {i} refused: {answer}"));
                let reference = text
                    .split("Your booking reference is ")
                    .nth(1)
                    .and_then(|r| r.split('.').next())
                    .map(|r| r.replace('-', ""))
                    .unwrap();
                let business = business_id(*business);
                assert!(
                    accepted.insert((business, reference)),
                    "reference given twice"
                );
            }
            Kind::Report => reports += 1,
            _ => {}
        }
    }

    // Every accepted booking recorded exactly once; every report a call record; nothing in a
    // dead-letter queue; each customer one SMS and one email.
    let keys_with = |table: String, prefix: &'static str| {
        let dynamodb = dynamodb.clone();
        async move {
            let mut keys = BTreeSet::new();
            let mut start = None;
            loop {
                // A scan is fine in a test: the request paths never scan.
                let out = dynamodb
                    .scan()
                    .table_name(&table)
                    .filter_expression("contains(pk, :p)")
                    .expression_attribute_values(":p", AttributeValue::S(prefix.into()))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .unwrap();
                for item in out.items() {
                    if let Some(AttributeValue::S(pk)) = item.get("pk") {
                        keys.insert(pk.clone());
                    }
                }
                start = out.last_evaluated_key;
                if start.is_none() {
                    return keys;
                }
            }
        }
    };
    let bookings_table = "callbook-dev-BookingsTable".to_string();
    // `BIZ#<business>#BOOKING#<reference>` → (business, reference)
    let recorded = |keys: BTreeSet<String>| -> BTreeSet<(String, String)> {
        keys.iter()
            .filter_map(|pk| {
                let rest = pk.strip_prefix("BIZ#")?;
                let (business, reference) = rest.split_once("#BOOKING#")?;
                Some((business.to_string(), reference.to_string()))
            })
            .collect()
    };
    println!(
        "load: {requests} webhooks at concurrency {concurrency} in {:.1} s = {:.0}/s; \
         p50 {:.1} ms, p99 {:.1} ms; {} unanswered within 30 s; moto raw SendMessage {:.0}/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        unanswered.len(),
        raw_rate,
    );
    for (i, kind, error) in unanswered.iter().take(5) {
        println!("load: request {i} ({kind:?}) unanswered: {error}");
    }
    let drained = Instant::now();
    // Cheap first: the source queues' depths (in flight included). Only once they are empty
    // are the tables scanned and moto's record of sent messages read: both cost moto time
    // the workers need, and polling them every 200 ms slowed the drain several times over.
    let mut queue_urls = Vec::new();
    for queue in ["BookingQueue", "NotificationQueue", "AnalyticsQueue"] {
        queue_urls.push(queue_url(&sqs, queue).await);
    }
    eventually("every queue empty", Duration::from_secs(900), || async {
        for url in &queue_urls {
            if queue_depth(&sqs, url).await.ok()? > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                return None;
            }
        }
        Some(())
    })
    .await;
    let drain_time = drained.elapsed();
    // A job leaves its queue only once its writes and its follow-up jobs are done: with every
    // source queue empty, what is recorded and sent is final (a failed job would still be in
    // flight, or in a dead-letter queue, checked first).
    tokio::time::sleep(Duration::from_secs(3)).await; // time for any duplicate to show up
    for dlq in [
        "BookingDeadLetterQueue",
        "NotificationDeadLetterQueue",
        "AnalyticsDeadLetterQueue",
    ] {
        let url = queue_url(&sqs, dlq).await;
        assert_eq!(
            queue_depth(&sqs, &url).await.unwrap(),
            0,
            "{dlq} is not empty"
        );
    }
    let bookings = recorded(keys_with(bookings_table, "#BOOKING#").await);
    let calls = keys_with("callbook-dev-CallsTable".into(), "#CALL#")
        .await
        .len();
    assert!(
        calls >= reports + accepted.len(),
        "{calls} call records for {reports} reports and {} booking calls",
        accepted.len()
    );
    let sent = stack.sent_messages();
    let lost: Vec<_> = accepted.difference(&bookings).collect();
    assert!(lost.is_empty(), "accepted but not recorded: {lost:?}");
    // A booking whose answer never came may have been made (the caller gave up, not the
    // webhook), but nothing beyond those.
    let unanswered_bookings = unanswered
        .iter()
        .filter(|(_, kind, _)| matches!(kind, Kind::Booking { .. }))
        .count();
    assert!(
        bookings.len() <= accepted.len() + unanswered_bookings,
        "{} bookings recorded for {} accepted and {unanswered_bookings} unanswered",
        bookings.len(),
        accepted.len()
    );
    assert_eq!(sent.sms.len(), bookings.len(), "one SMS per booking");
    assert_eq!(sent.emails.len(), bookings.len(), "one email per booking");
    println!(
        "load: {} bookings accepted over {BUSINESSES} businesses, {} recorded, each once with one \
         SMS and one email; {} unanswered bookings; queues drained {:.1} s after the last answer",
        accepted.len(),
        bookings.len(),
        unanswered_bookings,
        drain_time.as_secs_f64(),
    );
}

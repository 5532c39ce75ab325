//! The monitoring routes through the local stack: the monitoring function's own handler,
//! reading the health probe, the metrics the functions printed (as CloudWatch would extract
//! them) and the daily figures in moto; the HTML dashboard rendered by headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::*;

const TOKEN: &str = "local-monitoring-token";

/// A monitoring route: its status and its body as text.
fn monitor(stack: &DevStack, method: &str, path: &str, headers: Headers) -> (u16, String) {
    let url = format!("{}{path}", stack.base_url);
    let agent = callbook_tests::http();
    let mut response = match method {
        "GET" => {
            let mut request = agent.get(&url);
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            request.call()
        }
        _ => {
            let mut request = agent.post(&url);
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            request.send("")
        }
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// A report with the token, as JSON.
fn report(stack: &DevStack, path: &str) -> Value {
    let bearer = format!("Bearer {TOKEN}");
    let (status, body) = monitor(stack, "GET", path, &[("authorization", bearer.as_str())]);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Two bookings through the webhook, each confirmed by SMS and email.
async fn two_bookings(stack: &DevStack) {
    let date = next_open_day();
    for (i, (phone, time)) in [("+17025550111", "10am"), ("+17025550122", "11am")]
        .into_iter()
        .enumerate()
    {
        let answer = book(
            stack,
            &format!("call-mon-{i}"),
            phone,
            "Test User",
            &date,
            time,
        );
        assert!(answer["result"].is_string(), "{answer}");
    }
    eventually("both confirmations", Duration::from_secs(30), || async {
        let sent = stack.sent_messages();
        (sent.sms_to("+17025550111").len() == 1
            && sent.sms_to("+17025550122").len() == 1
            && sent.emails_to(EMAIL).len() == 2)
            .then_some(())
    })
    .await;
}

/// The dashboard's HTML, fetched with the token (Chromium is never given the token: the
/// routes take it only in a header), saved to a file Chromium opens.
fn dashboard_html(stack: &DevStack, dir: &Path) -> PathBuf {
    let bearer = format!("Bearer {TOKEN}");
    let (status, html) = monitor(
        stack,
        "GET",
        "/monitoring/dashboard",
        &[("authorization", bearer.as_str()), ("accept", "text/html")],
    );
    assert_eq!(status, 200, "{html}");
    let path = dir.join("dashboard.html");
    std::fs::write(&path, html).unwrap();
    path
}

fn chromium() -> PathBuf {
    let path =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    assert!(
        path.exists(),
        "{} is missing: run infra/chromium.sh (make test does)",
        path.display()
    );
    path
}

/// Runs headless Chromium on `page` with `args`, and stops it: killed if it has not exited
/// within 60 s. Returns its stdout.
fn headless(page: &Path, dir: &Path, args: &[&str]) -> String {
    let profile = dir.join("chromium-profile");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The profile is a few MB per run: not left behind.
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap()
}

/// The DOM Chromium rendered from the dashboard, and a screenshot of it.
fn rendered(stack: &DevStack) -> (String, PathBuf) {
    let dir = std::env::temp_dir().join(format!("callbook-dashboard-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dashboard_html(stack, &dir);
    let dom = headless(&page, &dir, &["--dump-dom"]);
    let screenshot = dir.join("dashboard.png");
    headless(
        &page,
        &dir,
        &[
            "--window-size=900,1400",
            &format!("--screenshot={}", screenshot.display()),
        ],
    );
    (dom, screenshot)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monitoring_routes_answer_through_the_local_stack() {
    let stack = DevStack::start(2, 3);
    two_bookings(&stack).await;
    let bearer = format!("Bearer {TOKEN}");
    let token = [("authorization", bearer.as_str())];

    // Health: the status for anyone; components, dead letters and alarms with the token.
    let (status, anyone) = monitor(&stack, "GET", "/monitoring/health", &[]);
    assert_eq!(status, 200, "{anyone}");
    assert!(!anyone.contains("components"), "{anyone}");
    let health = report(&stack, "/monitoring/health");
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["components"].as_object().unwrap().len(),
        13,
        "{health}"
    );
    assert_eq!(
        health["deadLetters"],
        json!({"booking-dlq": 0, "notification-dlq": 0, "analytics-dlq": 0, "followup-dlq": 0})
    );
    assert_eq!(health["alarms"], json!([]), "no CloudWatch alarms locally");

    // The token, the routes, the methods, the queries.
    for path in [
        "/monitoring/metrics",
        "/monitoring/dashboard",
        "/monitoring/performance",
    ] {
        assert_eq!(monitor(&stack, "GET", path, &[]).0, 401, "{path}");
        let wrong = [("authorization", "Bearer not-the-monitoring-token")];
        assert_eq!(monitor(&stack, "GET", path, &wrong).0, 401, "{path}");
        assert_eq!(monitor(&stack, "POST", path, &token).0, 405, "{path}");
    }
    assert_eq!(monitor(&stack, "GET", "/monitoring/nothing", &token).0, 404);
    for bad in [
        "/monitoring/metrics?timeframe=2h",
        "/monitoring/metrics?business=no%20such",
        "/monitoring/performance?timeframe=30d",
    ] {
        assert_eq!(monitor(&stack, "GET", bad, &token).0, 400, "{bad}");
    }

    // Each report's shape.
    let metrics = report(&stack, "/monitoring/metrics?timeframe=1h");
    assert_eq!(
        (metrics["timeframe"].as_str(), metrics["scope"].as_str()),
        (Some("1h"), Some("service"))
    );
    for key in [
        "calls",
        "bookings",
        "conversion",
        "changes",
        "cancellations",
        "leads",
        "sends",
        "failures",
    ] {
        assert!(metrics.get(key).is_some(), "{key}: {metrics}");
    }
    let business = report(&stack, "/monitoring/metrics?business=default");
    assert_eq!(business["scope"], json!({"business": "default"}));
    let performance = report(&stack, "/monitoring/performance?timeframe=24h");
    assert!(performance["latencyMs"]["tools"]["bookAppointment"].is_object());
    assert_eq!(performance["periodSeconds"], 3600);
    let dashboard = report(&stack, "/monitoring/dashboard");
    let queues: Vec<&str> = dashboard["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(queues, ["booking", "notification", "analytics", "followup"]);
    assert_eq!(dashboard["queues"][0]["deadLetters"], 0);
    assert_eq!(dashboard["alarmsInAlarm"], json!([]));
    assert_eq!(
        dashboard["last24Hours"]["bookings"]
            .as_array()
            .unwrap()
            .len(),
        24
    );
    // curl's `*/*` gets JSON; a browser's Accept, HTML.
    let (_, as_curl) = monitor(
        &stack,
        "GET",
        "/monitoring/dashboard",
        &[token[0], ("accept", "*/*")],
    );
    assert!(as_curl.starts_with('{'), "{as_curl}");
}

/// The HTML dashboard in Chromium: the page the server wrote renders, with its tables and
/// both charts, and Chromium leaves a screenshot.
#[tokio::test(flavor = "multi_thread")]
async fn the_html_dashboard_renders_in_headless_chromium() {
    let stack = DevStack::start(2, 3);
    two_bookings(&stack).await;
    let (dom, screenshot) = rendered(&stack);
    assert!(dom.contains("<title>callbook dashboard</title>"), "{dom}");
    assert!(
        dom.contains("id=\"status\" class=\"ok\">ok</strong>"),
        "{dom}"
    );
    for part in [
        "<table class=\"figures\" id=\"today\">",
        "<table id=\"queues\">",
        "<svg id=\"chart-calls\"",
        "<svg id=\"chart-latency\"",
    ] {
        assert!(dom.contains(part), "{part} not rendered");
    }
    assert_eq!(
        dom.matches("data-series=\"bookings\"").count(),
        24,
        "a bar per hour"
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// After real traffic the reports count what was sent: two bookings, confirmed by two texts
/// and two emails, each a bookAppointment tool call answered, and the dashboard in Chromium
/// shows them: every function's metrics, and the workers' daily figures.
#[tokio::test(flavor = "multi_thread")]
async fn the_reports_count_what_was_sent() {
    let stack = DevStack::start(2, 3);
    two_bookings(&stack).await;
    // The metrics are printed as each job is done: the last ones follow the last send.
    let metrics = eventually("the sends counted", Duration::from_secs(20), || async {
        let metrics = report(&stack, "/monitoring/metrics?timeframe=1h");
        (metrics["sends"]["total"] == 4).then_some(metrics)
    })
    .await;
    assert_eq!(metrics["bookings"], 2, "{metrics}");
    assert_eq!(metrics["sends"]["byChannel"], json!({"sms": 2, "email": 2}));
    assert_eq!(metrics["failures"]["total"], 0);
    assert_eq!(metrics["cancellations"], 0);

    let business = report(&stack, "/monitoring/metrics?business=default&timeframe=1h");
    assert_eq!(business["bookings"], 2, "{business}");
    assert_eq!(
        business["sends"]["byChannel"],
        json!({"sms": 2, "email": 2})
    );
    let elsewhere = report(&stack, "/monitoring/metrics?business=elsewhere");
    assert_eq!(elsewhere["bookings"], 0);

    let performance = report(&stack, "/monitoring/performance?timeframe=1h");
    let book = &performance["latencyMs"]["tools"]["bookAppointment"];
    assert_eq!(book["calls"], 2, "{performance}");
    assert!(book["p99"].as_f64().unwrap() > 0.0);
    assert_eq!(performance["errors"]["systemFailures"], 0);

    let dashboard = report(&stack, "/monitoring/dashboard");
    assert_eq!(dashboard["today"]["bookings"], 2, "{dashboard}");
    let (dom, _) = rendered(&stack);
    assert!(dom.contains("<td data-figure=\"bookings\">2</td>"), "{dom}");
    assert!(dom.contains("<td data-figure=\"sent\">4</td>"), "{dom}");
}

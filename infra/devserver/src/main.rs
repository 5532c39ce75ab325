//! `make dev`: the whole system on this machine.
//!
//! 1. starts moto (the AWS emulator) from the project's virtual env on 127.0.0.1;
//! 2. creates the tables, queues and SES identity by reading template.yaml (infra/provision.py);
//! 3. serves the webhook's and the monitoring function's routes on 127.0.0.1 with their own
//!    handlers (the monitoring routes read the metrics the functions printed, `cloudwatch.rs`);
//! 4. drives each worker like Lambda's SQS event source mapping: receive a batch, call the
//!    worker's handler, delete only the messages that succeeded. The rest reappear after the
//!    visibility timeout and go to the DLQ after maxReceiveCount receives (moto does both);
//! 5. fires the EventBridge Scheduler schedules moto keeps when they come due
//!    (`schedules.rs`), on a clock that `DEV_CLOCK_OFFSET_SECONDS` sets ahead and
//!    `POST /dev/clock {"advanceSeconds": N}` moves;
//! 6. hands each message published to a function's SNS topic (customers' texts) to its handler
//!    (`topics.rs`).
//!
//! Settings (environment): DEV_PORT (3000), MOTO_PORT (4566), VAPI_WEBHOOK_SECRET
//! (local-dev-secret), VISIBILITY_TIMEOUT and MAX_RECEIVE_COUNT (the template's by default),
//! CALLBOOK_VENV (.venv), CALLBOOK_ROOT (this checkout), CALLBOOK_DEV_DIR (.dev),
//! DEV_CLOCK_OFFSET_SECONDS (0). Each start is a clean slate.

mod cloudwatch;
mod metrics;
mod ports;
#[cfg(test)]
mod sam_env;
mod schedules;
mod server;
mod stack;
mod topics;
mod workers;

use std::process::ExitCode;
use std::sync::Arc;

use callbook_core::testing::memory::RecordedMetrics;

#[tokio::main]
async fn main() -> ExitCode {
    callbook_aws::telemetry::init_tracing();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("callbook-dev: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = stack::Settings::from_env()?;
    let stack = stack::LocalStack::start(&settings).await?;
    let sdk = stack.sdk_config().await;
    let env_dir = stack.write_env_files(&settings.dev_dir)?;

    // Faults on demand for tests (see callbook_core::testing::faults): never in production.
    let faults = callbook_core::testing::faults::FaultSpec::parse(
        &std::env::var("CALLBOOK_FAULTS").unwrap_or_default(),
    )
    .map_err(|e| format!("CALLBOOK_FAULTS: {e}"))?;
    ports::check_fault_sites(&faults)?;
    // What every function's metrics sink records (`metrics.rs`), as CloudWatch would hold it;
    // the monitoring routes read it.
    let recorded_metrics = Arc::new(RecordedMetrics::default());
    for (function, port, plan) in faults.sites() {
        println!("  fault:     {function}.{port} fails {plan:?}");
    }
    let webhook_env = stack.function_env("webhook")?;
    let webhook = webhook::build(&sdk, &|k| webhook_env.get(k).cloned())
        .await
        .map_err(|e| format!("webhook: {e}"))?;
    let webhook = ports::webhook(webhook, &faults, &recorded_metrics);
    let monitoring_env = stack.function_env("monitoring")?;
    let monitoring = monitoring::build(&sdk, &|k| monitoring_env.get(k).cloned())
        .await
        .map_err(|e| format!("monitoring: {e}"))?;
    let monitoring = ports::monitoring(
        monitoring,
        cloudwatch::RecordedReader(Arc::clone(&recorded_metrics)),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.dev_port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", settings.dev_port))?;

    let clock = Arc::new(schedules::DevClock::from_env()?);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(schedules::fire(
        aws_sdk_scheduler::Client::new(&sdk),
        stack.sqs_client(&sdk),
        Arc::clone(&clock),
    ));
    for function in stack.workers() {
        let worker = workers::Worker::build(&sdk, function, &faults, &recorded_metrics)?;
        tasks.spawn(workers::poll(
            stack.sqs_client(&sdk),
            function.clone(),
            worker,
            faults.at(&function.binary, "delete"),
        ));
    }
    for function in stack.subscribers() {
        let env = &function.environment;
        let replies = match function.binary.as_str() {
            "sms-replies" => sms_replies::build(&sdk, &|k| env.get(k).cloned())
                .map_err(|e| format!("{}: {e}", function.logical_id))?,
            other => {
                return Err(format!(
                    "{}: the dev server does not know the SNS-triggered binary {other:?}",
                    function.logical_id
                ));
            }
        };
        let replies = ports::sms_replies(replies, &faults, &recorded_metrics);
        tasks.spawn(topics::poll(
            stack.sqs_client(&sdk),
            function.clone(),
            replies,
        ));
    }
    tasks.spawn(server::serve(
        listener,
        server::Routes {
            webhook,
            monitoring,
            clock: Arc::clone(&clock),
        },
    ));

    let base = format!("http://127.0.0.1:{}", settings.dev_port);
    // Print the secret only when it is the well-known local default.
    let shown_secret = if settings.secret == stack::LOCAL_DEV_SECRET {
        settings.secret.as_str()
    } else {
        "$VAPI_WEBHOOK_SECRET"
    };
    println!("callbook local stack ready");
    println!("  webhook:   POST {base}/vapi-webhook   (header X-Vapi-Secret: {shown_secret})");
    println!(
        "  health:    GET  {base}/monitoring/health   (details with Authorization: Bearer $MONITORING_TOKEN, {} by default)",
        stack::LOCAL_MONITORING_TOKEN
    );
    println!(
        "  monitor:   GET  {base}/monitoring/{{metrics,dashboard,performance}}   (the same token; open the dashboard: `make dashboard`)"
    );
    println!(
        "  moto:      {} (sent SMS and email: {}/moto-api/data.json)",
        stack.endpoint(),
        stack.endpoint()
    );
    println!(
        "  try:       curl -s -X POST {base}/vapi-webhook -H 'Content-Type: application/json' -H \"X-Vapi-Secret: {shown_secret}\" \\"
    );
    println!(
        "               -d '{{\"function\":\"bookAppointment\",\"parameters\":{{\"customerName\":\"Test User\",\"customerPhone\":\"+17025551234\",\"customerEmail\":\"test@example.com\",\"serviceType\":\"Consultation\",\"date\":\"tomorrow\",\"time\":\"2pm\"}}}}'"
    );
    for function in stack.workers() {
        if let Some(source) = &function.sqs {
            let queue = source.queue_arn.rsplit(':').next().unwrap_or_default();
            println!(
                "  worker:    {} <- {queue} (batch {}, redelivery after {} s, DLQ after {} receives)",
                function.logical_id,
                source.batch_size,
                source.visibility_timeout,
                source.max_receive_count
            );
        }
    }
    for function in stack.subscribers() {
        if let Some(source) = &function.sns {
            let topic = source.topic_arn.rsplit(':').next().unwrap_or_default();
            println!(
                "  topic:     {} <- {topic} (publish End User Messaging's inbound JSON there)",
                function.logical_id
            );
        }
    }
    println!(
        "  schedules: fired when due on the dev clock ({:+} s); move it: curl -s -X POST {base}/dev/clock -d '{{\"advanceSeconds\":86400}}'",
        clock.offset_seconds()
    );
    println!(
        "  env files: {}/<function>.env (cargo lambda watch --env-file ...)",
        env_dir.display()
    );
    println!("  stop:      Ctrl-C");

    tokio::select! {
        _ = shutdown_signal() => println!("stopping"),
        Some(ended) = tasks.join_next() => {
            if let Ok(Err(e)) = ended { eprintln!("callbook-dev: {e}"); }
        }
    }
    tasks.abort_all();
    stack.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

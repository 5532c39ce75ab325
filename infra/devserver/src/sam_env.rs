//! Every variable each function's code reads at init is set by infra/env.local.json (the
//! `sam local invoke --env-vars` file), which tests/tests/sam_local.rs keeps equal to what
//! template.yaml declares: so the template sets everything the code reads. Each function is
//! built as in Lambda (`build` with its lookup) from the file's values, and the names it asked
//! for are recorded.

use std::collections::BTreeSet;
use std::sync::Mutex;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use callbook_aws::{Queue, Table};
use serde_json::{Map, Value};

/// Read with a default and left out of the template on purpose, by function: the
/// notification worker's breaker tuning (5 failures, 30 s), and the default business's call
/// routing (assistant, transfer number), which the analytics worker and sms-replies read with
/// the rest of the business but never use.
const READ_WITH_DEFAULT_ONLY: [(&str, &str); 6] = [
    ("NotificationWorkerFunction", "BREAKER_FAILURES"),
    ("NotificationWorkerFunction", "BREAKER_COOL_DOWN_SECONDS"),
    ("AnalyticsWorkerFunction", "VAPI_ASSISTANT_ID"),
    ("AnalyticsWorkerFunction", "TRANSFER_PHONE_NUMBER"),
    ("SmsRepliesFunction", "VAPI_ASSISTANT_ID"),
    ("SmsRepliesFunction", "TRANSFER_PHONE_NUMBER"),
];

/// Table names and queue URLs: `Resources` reads them all at once and a function's `build`
/// fails on one it needs and lacks, so its building from the file is their check.
fn is_resource(name: &str) -> bool {
    let tables = Table::ALL.map(Table::setting);
    let queues = Queue::ALL.map(Queue::setting);
    tables.contains(&name) || queues.contains(&name)
}

fn env_file() -> Map<String, Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/env.local.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The names a function's `build` asks its lookup for, answered from `set`.
async fn read_by(function: &str, set: &Map<String, Value>) -> BTreeSet<String> {
    let asked = Mutex::new(BTreeSet::new());
    let lookup = |name: &str| {
        asked.lock().unwrap().insert(name.to_string());
        set.get(name).and_then(Value::as_str).map(String::from)
    };
    // Clients only: `build` sends nothing (its secrets' references are empty in the file).
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let built = match function {
        "WebhookFunction" => webhook::build(&sdk, &lookup).await.map(|_| ()),
        "BookingWorkerFunction" => booking_worker::build(&sdk, &lookup).map(|_| ()),
        "NotificationWorkerFunction" => notification_worker::build(&sdk, &lookup).map(|_| ()),
        "AnalyticsWorkerFunction" => analytics_worker::build(&sdk, &lookup).map(|_| ()),
        "FollowupWorkerFunction" => followup_worker::build(&sdk, &lookup).map(|_| ()),
        "MonitoringFunction" => monitoring::build(&sdk, &lookup).await.map(|_| ()),
        "SmsRepliesFunction" => sms_replies::build(&sdk, &lookup).map(|_| ()),
        other => panic!("{other}: add its build here, so the names it reads are checked"),
    };
    if let Err(e) = built {
        panic!("{function} does not build from infra/env.local.json: {e}");
    }
    asked.into_inner().unwrap()
}

#[tokio::test]
async fn every_variable_a_function_reads_is_in_the_env_vars_file() {
    let mut problems = Vec::new();
    for (function, set) in env_file() {
        let set = set.as_object().cloned().unwrap_or_default();
        let read = read_by(&function, &set).await;
        assert!(read.len() > 5, "{function} read only {read:?}");
        for name in read {
            let allowed = READ_WITH_DEFAULT_ONLY.contains(&(function.as_str(), name.as_str()));
            if !set.contains_key(&name) && !allowed && !is_resource(&name) {
                problems.push(format!("{function} reads {name}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "not set by infra/env.local.json (nor so by template.yaml):\n  {}",
        problems.join("\n  ")
    );
}

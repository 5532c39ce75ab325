//! What template.yaml promises an operator (issue 12, the AWS-native part): every function
//! logs to its own log group, which expires; every function, queue and the API has its
//! alarm; one composite alarm covers them all; the dashboard has its three rows.

use callbook_tests::{listed, statements, template};
use serde_json::{Value, json};

const FUNCTIONS: [&str; 7] = [
    "WebhookFunction",
    "MonitoringFunction",
    "BookingWorkerFunction",
    "NotificationWorkerFunction",
    "AnalyticsWorkerFunction",
    "FollowupWorkerFunction",
    "SmsRepliesFunction",
];

fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

#[test]
fn every_function_logs_to_its_own_group_which_expires() {
    let template = template();
    for function in FUNCTIONS {
        let group = &template["Resources"][function]["Properties"]["LoggingConfig"]["LogGroup"];
        let name = group["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{function}: {group}"));
        let resource = &template["Resources"][name];
        assert_eq!(resource["Type"], "AWS::Logs::LogGroup", "{function}");
        assert_eq!(
            resource["Properties"]["RetentionInDays"],
            json!({"Ref": "LogRetentionDays"})
        );
    }
    for (name, group) in resources_of(&template, "AWS::Logs::LogGroup") {
        assert!(
            !group["Properties"]["RetentionInDays"].is_null(),
            "{name} never expires"
        );
    }
}

#[test]
fn every_function_queue_and_the_api_has_an_alarm_and_one_alarm_covers_them_all() {
    let template = template();
    let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
    let watches = |metric: &str, dimension: &Value| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            p["MetricName"] == metric
                && p["Dimensions"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d["Value"] == *dimension))
        })
    };
    for function in FUNCTIONS {
        for metric in ["Errors", "Throttles"] {
            assert!(
                watches(metric, &json!({"Ref": function})),
                "{function} {metric}"
            );
        }
    }
    for queue in ["BookingQueue", "NotificationQueue", "AnalyticsQueue"] {
        let name = json!({"Fn::GetAtt": [queue, "QueueName"]});
        assert!(
            watches("ApproximateAgeOfOldestMessage", &name),
            "{queue} age"
        );
    }
    for queue in [
        "BookingDeadLetterQueue",
        "NotificationDeadLetterQueue",
        "AnalyticsDeadLetterQueue",
        "SmsRepliesDeadLetterQueue",
    ] {
        let name = json!({"Fn::GetAtt": [queue, "QueueName"]});
        assert!(
            watches("ApproximateNumberOfMessagesVisible", &name),
            "{queue} depth"
        );
    }
    for metric in ["5xx", "Latency"] {
        assert!(
            watches(metric, &json!({"Ref": "CallbookApi"})),
            "API {metric}"
        );
    }
    for (name, alarm) in &alarms {
        assert_eq!(
            alarm["Properties"]["AlarmActions"],
            json!([{"Ref": "AlarmTopic"}]),
            "{name}"
        );
    }
    // The composite alarm names every alarm.
    let composite = resources_of(&template, "AWS::CloudWatch::CompositeAlarm");
    assert_eq!(composite.len(), 1);
    let rule = composite[0].1["Properties"]["AlarmRule"]["Fn::Sub"]
        .as_str()
        .unwrap();
    for (name, _) in &alarms {
        assert!(
            rule.contains(&format!("ALARM(\"${{{name}}}\")")),
            "{name} not in {rule}"
        );
    }
}

#[test]
fn the_dashboard_shows_the_business_the_pipeline_and_errors() {
    let template = template();
    let dashboards = resources_of(&template, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1);
    let body = dashboards[0].1["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .unwrap();
    let body: Value = serde_json::from_str(body).expect("the dashboard body is JSON");
    let titles: Vec<&str> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["properties"]["markdown"].as_str())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles[0].contains("Business") && titles[1].contains("Pipeline"));
    assert!(titles[2].contains("Errors"));
    // Every metric of our namespace the dashboard reads is one the functions emit (EMF),
    // by the `Function` rollup of the function that emits it.
    for widget in body["widgets"].as_array().unwrap() {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if metric[0] == NAMESPACE {
                let name = metric[1].as_str().unwrap();
                assert_eq!(metric[2], "Function", "{metric}");
                assert_eq!(
                    Some(metric[3].as_str().unwrap()),
                    emitted_by(name),
                    "{metric}"
                );
            } else {
                assert!(
                    metric[0].as_str().unwrap().starts_with("AWS/"),
                    "{metric}: a namespace nothing writes"
                );
            }
        }
    }
    assert!(body.to_string().contains("\"ToolLatency\""));
}

/// The stack's metrics namespace, as the functions are told it and the alarms read it.
const NAMESPACE: &str = "callbook/${AWS::StackName}";

/// The function that emits a metric (`callbook_core::Metric`), by name.
fn emitted_by(metric: &str) -> Option<&'static str> {
    use callbook_core::Metric::*;
    let metric = callbook_core::Metric::named(metric)?;
    Some(match metric {
        RequestLatency | ToolLatency | ToolCalls | RejectedRequests | UnroutedCalls => "webhook",
        Bookings | Changes | Cancellations => "booking-worker",
        Calls | Leads => "analytics-worker",
        Sent | SendFailures | BreakerOpens => "notification-worker",
        SmsReplies => "sms-replies",
        // Every function: no one function to name.
        ColdStarts | JobAge | Retries | JobFailures => return None,
    })
}

#[test]
fn every_function_is_told_the_namespace_and_the_alarms_read_the_emf_metrics() {
    let template = template();
    assert_eq!(
        template["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"],
        json!({"Fn::Sub": NAMESPACE})
    );
    // No log metric filters left: every metric is EMF.
    assert!(resources_of(&template, "AWS::Logs::MetricFilter").is_empty());
    let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
    let ours: Vec<_> = alarms
        .iter()
        .filter(|(_, a)| {
            !a["Properties"]["Namespace"]
                .as_str()
                .is_some_and(|n| n.starts_with("AWS/"))
        })
        .collect();
    let mut names: Vec<&str> = Vec::new();
    for (name, alarm) in &ours {
        let p = &alarm["Properties"];
        assert_eq!(p["Namespace"], json!({"Fn::Sub": NAMESPACE}), "{name}");
        let metric = p["MetricName"].as_str().unwrap();
        // The rollup: `Function` alone, the function that emits it.
        assert_eq!(
            p["Dimensions"],
            json!([{"Name": "Function", "Value": emitted_by(metric).unwrap()}]),
            "{name}"
        );
        names.push(metric);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "BreakerOpens",
            "SendFailures",
            "ToolLatency",
            "UnroutedCalls"
        ]
    );
    // Tool latency: p99 over the parameter, which stays below Vapi's 20 s tool timeout.
    let tool = &template["Resources"]["ToolLatencyAlarm"]["Properties"];
    assert_eq!(tool["ExtendedStatistic"], "p99");
    assert_eq!(tool["Threshold"], json!({"Ref": "ToolLatencyAlarmMs"}));
    let parameter = &template["Parameters"]["ToolLatencyAlarmMs"];
    assert_eq!(parameter["Default"], 8000);
    assert!(parameter["MaxValue"].as_i64().unwrap() <= 20_000);
}

/// The workers add their businesses' daily figures with UpdateItem on the businesses' own
/// keys, and nothing else there.
#[test]
fn the_workers_may_only_add_to_their_businesses_figures() {
    use callbook_tests::{listed, statements};
    let template = template();
    for function in [
        "BookingWorkerFunction",
        "NotificationWorkerFunction",
        "AnalyticsWorkerFunction",
    ] {
        let variables = &template["Resources"][function]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            variables["BUSINESSES_TABLE"],
            json!({"Ref": "BusinessesTable"}),
            "{function}"
        );
        let figures: Vec<&Value> = statements(&template, function)
            .into_iter()
            .filter(|s| s["Sid"] == "CountDailyFigures")
            .collect();
        assert_eq!(figures.len(), 1, "{function}");
        let statement = figures[0];
        assert_eq!(
            listed(&statement["Action"]),
            [&json!("dynamodb:UpdateItem")]
        );
        assert_eq!(
            statement["Resource"],
            json!({"Fn::GetAtt": ["BusinessesTable", "Arn"]})
        );
        assert_eq!(
            statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
            json!(["BIZ#*#FIGURES"])
        );
    }
}

/// The monitoring routes are the monitoring function's, with the least it needs: CloudWatch's
/// two reads, the health probe's reads, the daily figures' BatchGetItem (their keys only) and its own token; never a write. The webhook
/// keeps none of it.
#[test]
fn the_monitoring_function_serves_the_routes_and_only_reads() {
    let template = template();
    let function = &template["Resources"]["MonitoringFunction"];
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        "monitoring"
    );
    let events = function["Properties"]["Events"].as_object().unwrap();
    let routes: Vec<(&str, &str)> = events
        .values()
        .map(|e| {
            (
                e["Properties"]["Method"].as_str().unwrap(),
                e["Properties"]["Path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            ("GET", "/monitoring/health"),
            ("GET", "/monitoring/{report}")
        ]
    );
    // The health route keeps its own throttle.
    assert!(
        !template["Resources"]["CallbookApi"]["Properties"]["RouteSettings"]
            ["GET /monitoring/health"]
            .is_null()
    );
    let env = &function["Properties"]["Environment"]["Variables"];
    assert_eq!(
        env["ALARM_PREFIX"],
        json!({"Fn::Sub": "${AWS::StackName}-"})
    );
    assert_eq!(env["MONITORING_TOKEN"], json!({"Ref": "MonitoringToken"}));

    let mut actions = Vec::new();
    for statement in statements(&template, "MonitoringFunction") {
        assert_eq!(statement["Effect"], "Allow");
        for action in listed(&statement["Action"]) {
            let action = action.as_str().unwrap();
            actions.push(action);
            let reads = [
                "cloudwatch:GetMetricData",
                "cloudwatch:DescribeAlarms",
                "sqs:GetQueueAttributes",
                "dynamodb:DescribeTable",
                "dynamodb:BatchGetItem",
                "ssm:GetParameter",
                "secretsmanager:GetSecretValue",
            ];
            assert!(reads.contains(&action), "{action} is not a read it needs");
            // Only CloudWatch's reads take "*": GetMetricData has no resource-level
            // permission, and DescribeAlarms shows composite alarms only on "*".
            if action.starts_with("cloudwatch:") {
                assert_eq!(statement["Resource"], "*");
            } else {
                assert_ne!(statement["Resource"], "*", "{action}");
            }
            // Its token only: the businesses' webhook secrets are not this function's.
            if action.starts_with("ssm:") || action.starts_with("secretsmanager:") {
                for resource in listed(&statement["Resource"]) {
                    let arn = resource["Fn::Sub"].as_str().unwrap_or_default();
                    assert!(arn.contains("callbook/monitoring/"), "{action} on {arn}");
                }
            }
            if action == "dynamodb:BatchGetItem" {
                assert_eq!(
                    statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
                    json!(["BIZ#*#FIGURES"])
                );
            }
        }
    }
    assert!(actions.contains(&"cloudwatch:DescribeAlarms"));
    for statement in statements(&template, "WebhookFunction") {
        for action in listed(&statement["Action"]) {
            let action = action.as_str().unwrap();
            assert!(
                !action.starts_with("cloudwatch:")
                    && action != "sqs:GetQueueAttributes"
                    && action != "dynamodb:DescribeTable",
                "the webhook no longer probes or reads metrics: {action}"
            );
        }
    }
    assert!(
        template["Resources"]["WebhookFunction"]["Properties"]["Environment"]["Variables"]
            ["MONITORING_TOKEN"]
            .is_null()
    );
}

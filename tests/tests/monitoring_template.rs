//! What template.yaml promises an operator (issue 12, the AWS-native part): every function
//! logs to its own log group, which expires; every function, queue and the API has its
//! alarm; one composite alarm covers them all; the dashboard has its three rows.

use callbook_tests::template;
use serde_json::{Value, json};

const FUNCTIONS: [&str; 4] = [
    "WebhookFunction",
    "BookingWorkerFunction",
    "NotificationWorkerFunction",
    "AnalyticsWorkerFunction",
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
    // Every metric the business row reads is made by a metric filter of the template.
    let made: Vec<&Value> = resources_of(&template, "AWS::Logs::MetricFilter")
        .into_iter()
        .map(|(_, f)| &f["Properties"]["MetricTransformations"][0]["MetricName"])
        .collect();
    for widget in body["widgets"].as_array().unwrap() {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if metric[0] == "callbook" {
                assert!(
                    made.contains(&&metric[1]),
                    "{} is made by nothing",
                    metric[1]
                );
            }
        }
    }
}

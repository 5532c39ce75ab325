//! What template.yaml promises about privacy and abuse (issue 11), and the arithmetic that
//! keeps a sent notification from going twice, read from the template itself.

use callbook_core::SENDING;
use callbook_tests::{listed, statements, template};
use serde_json::{Value, json};

const WORKERS: [&str; 4] = [
    "BookingWorkerFunction",
    "NotificationWorkerFunction",
    "AnalyticsWorkerFunction",
    "FollowupWorkerFunction",
];

fn reaches_idempotency_table(statement: &Value) -> bool {
    listed(&statement["Resource"])
        .iter()
        .any(|r| **r == json!({"Fn::GetAtt": ["IdempotencyTable", "Arn"]}))
}

#[test]
fn every_worker_reaches_only_its_own_idempotency_keys() {
    let template = template();
    let expected = [
        ("BookingWorkerFunction", json!(["booking#*", "change#*"])),
        ("NotificationWorkerFunction", json!(["notification#*"])),
        ("AnalyticsWorkerFunction", json!(["analytics#*"])),
        ("FollowupWorkerFunction", json!(["followup#*"])),
    ];
    for (function, prefixes) in expected {
        let scoped: Vec<&Value> = statements(&template, function)
            .into_iter()
            .filter(|s| reaches_idempotency_table(s))
            .collect();
        assert!(!scoped.is_empty(), "{function} keeps no jobs done?");
        for statement in scoped {
            assert_eq!(
                statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"], prefixes,
                "{function}: {statement}"
            );
        }
    }
}

#[test]
fn sms_publish_reaches_phone_numbers_and_no_topic() {
    let template = template();
    let publish: Vec<&Value> = statements(&template, "NotificationWorkerFunction")
        .into_iter()
        .filter(|s| listed(&s["Action"]).contains(&&json!("sns:Publish")))
        .collect();
    // Allowed on "*" (a phone number has no ARN) ...
    assert!(
        publish
            .iter()
            .any(|s| s["Effect"] == "Allow" && s["Resource"] == "*")
    );
    // ... and denied on every SNS ARN: topics, platform endpoints, in any region or account.
    let denied: Vec<String> = publish
        .iter()
        .filter(|s| s["Effect"] == "Deny")
        .flat_map(|s| listed(&s["Resource"]))
        .filter_map(|r| r["Fn::Sub"].as_str().or(r.as_str()).map(String::from))
        .collect();
    assert!(
        denied.iter().any(|arn| arn
            .strip_prefix("arn:${AWS::Partition}:sns:")
            .is_some_and(|rest| rest.chars().all(|c| c == '*' || c == ':'))),
        "no Deny of sns:Publish on every SNS ARN: {denied:?}"
    );
}

#[test]
fn both_webhook_secrets_are_at_least_16_characters() {
    let template = template();
    for name in ["VapiWebhookSecret", "VapiWebhookSecretPrevious"] {
        let parameter = &template["Parameters"][name];
        assert_eq!(parameter["AllowedPattern"], "^$|^.{16,}$", "{name}");
        assert_eq!(parameter["NoEcho"], true, "{name}");
    }
}

/// A send whose record never lands keeps its claim (`SENDING.claim_for`) past every
/// redelivery its message can get (VisibilityTimeout × maxReceiveCount), so no redelivery
/// finds it free and sends again; each invocation ends (Timeout) well before its message is
/// visible again; and the skeleton's default deadline is the workers' Timeout.
#[test]
fn a_sends_claim_outlasts_every_redelivery_of_its_message() {
    let template = template();
    let queue = &template["Resources"]["NotificationQueue"]["Properties"];
    let visibility = queue["VisibilityTimeout"].as_i64().unwrap();
    let receives = queue["RedrivePolicy"]["maxReceiveCount"].as_i64().unwrap();
    assert!(
        SENDING.claim_for.num_seconds() >= visibility * receives,
        "claim {} s < {visibility} s × {receives}",
        SENDING.claim_for.num_seconds()
    );
    for function in WORKERS {
        let timeout = template["Resources"][function]["Properties"]["Timeout"]
            .as_i64()
            .unwrap();
        assert!(timeout < visibility, "{function}");
        assert_eq!(
            timeout,
            callbook_aws::worker::TIMEOUT.num_seconds(),
            "{function}"
        );
    }
}

/// Customers' texts (two-way SMS): the topic is encrypted with a key End User Messaging may
/// use, only End User Messaging of this account may publish to it, and the function that
/// reads it keeps to its own idempotency keys and the texts-per-number counters.
#[test]
fn inbound_texts_come_from_end_user_messaging_of_this_account_only() {
    let template = template();
    let resources = &template["Resources"];
    let topic = &resources["InboundSmsTopic"]["Properties"];
    assert_eq!(topic["KmsMasterKeyId"], json!({"Ref": "InboundSmsKey"}));
    let key = &resources["InboundSmsKey"]["Properties"];
    assert_eq!(key["EnableKeyRotation"], true);
    let service_may = |policy: &Value| -> Vec<Value> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Principal"]["Service"] == "sms-voice.amazonaws.com")
            .cloned()
            .collect()
    };
    let policy = &resources["InboundSmsTopicPolicy"]["Properties"];
    assert_eq!(policy["Topics"], json!([{"Ref": "InboundSmsTopic"}]));
    for statement in service_may(&policy["PolicyDocument"])
        .iter()
        .chain(service_may(&key["KeyPolicy"]).iter())
    {
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Ref": "AWS::AccountId"}),
            "{statement}"
        );
    }
    assert_eq!(service_may(&policy["PolicyDocument"]).len(), 1);
    // Every other statement of the topic policy is someone else's: there is none.
    assert_eq!(
        policy["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let function = &resources["SmsRepliesFunction"]["Properties"];
    assert_eq!(
        function["Events"]["InboundSms"],
        json!({"Type": "SNS", "Properties": {"Topic": {"Ref": "InboundSmsTopic"}}})
    );
    let prefixes: Vec<Value> = statements(&template, "SmsRepliesFunction")
        .into_iter()
        .filter(|s| reaches_idempotency_table(s))
        .map(|s| s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].clone())
        .collect();
    assert_eq!(prefixes, [json!(["sms-reply#*"]), json!(["quota#*"])]);
    assert_eq!(
        template["Outputs"]["InboundSmsTopicArn"]["Value"],
        json!({"Ref": "InboundSmsTopic"})
    );
}

/// Who may touch the follow-ups' schedules, and what they run as (issue 13): the booking worker
/// puts, moves and deletes, the analytics worker only puts, both only in the stack's group and
/// passing only the scheduler role, to Scheduler only; the role may only send to the followup
/// queue, and only Scheduler acting for this account may assume it.
#[test]
fn the_schedules_and_the_role_they_run_as_are_least_privilege() {
    let template = template();
    let group_schedules = json!({"Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${FollowupScheduleGroup}/*"});
    let role = json!({"Fn::GetAtt": ["SchedulerRole", "Arn"]});
    let functions: Vec<&String> = template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, _)| id)
        .collect();
    for function in functions {
        let actions = |prefix: &str| -> Vec<String> {
            statements(&template, function)
                .into_iter()
                .flat_map(|s| listed(&s["Action"]))
                .filter_map(Value::as_str)
                .filter(|a| a.starts_with(prefix))
                .map(String::from)
                .collect()
        };
        let expected: &[&str] = match function.as_str() {
            "BookingWorkerFunction" => &[
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
            ],
            "AnalyticsWorkerFunction" => &["scheduler:CreateSchedule", "scheduler:UpdateSchedule"],
            _ => &[],
        };
        assert_eq!(actions("scheduler:"), expected, "{function}");
        let passes = actions("iam:");
        assert_eq!(
            passes.len(),
            usize::from(!expected.is_empty()),
            "{function}: {passes:?}"
        );
        for statement in statements(&template, function) {
            let acts = listed(&statement["Action"]);
            if acts
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.starts_with("scheduler:")))
            {
                assert_eq!(statement["Resource"], group_schedules, "{function}");
            }
            if acts
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.starts_with("iam:")))
            {
                assert_eq!(acts, [&json!("iam:PassRole")], "{function}");
                assert_eq!(statement["Resource"], role, "{function}");
                assert_eq!(
                    statement["Condition"]["StringEquals"]["iam:PassedToService"],
                    "scheduler.amazonaws.com",
                    "{function}"
                );
            }
        }
    }

    let scheduler_role = &template["Resources"]["SchedulerRole"]["Properties"];
    let trust = scheduler_role["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(
        (&trust[0]["Principal"], &trust[0]["Action"]),
        (
            &json!({"Service": "scheduler.amazonaws.com"}),
            &json!("sts:AssumeRole")
        )
    );
    assert_eq!(
        trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    let granted: Vec<&Value> = scheduler_role["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .collect();
    assert_eq!(
        granted,
        [&json!({"Effect": "Allow", "Action": "sqs:SendMessage",
                 "Resource": [{"Fn::GetAtt": ["FollowupQueue", "Arn"]},
                              {"Fn::GetAtt": ["FollowupDeadLetterQueue", "Arn"]}]})]
    );
}

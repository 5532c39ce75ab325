//! moto alone (adapter tests), and what the tests read from any moto: queues, secrets, and
//! the SMS and emails it recorded as sent.

use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_sqs::config::{Credentials, Region};
use serde_json::Value;

use crate::http::{get, http};
use crate::process::{ProcessGroup, free_port, repo_root, spawn_group, venv, wait_for_port};

/// moto on a free port, provisioned from template.yaml like the local stack.
pub struct Moto {
    _process: ProcessGroup,
    pub endpoint: String,
    /// What infra/provision.py printed: functions with their resolved environments.
    pub provisioned: Value,
}

impl Moto {
    pub fn start() -> Self {
        let moto_bin = venv().join("bin/moto_server");
        assert!(
            moto_bin.exists(),
            "{} is missing: run `make venv` (make test does)",
            moto_bin.display()
        );
        let port = free_port();
        // moto with DynamoDB's transaction isolation restored (see infra/moto_server.py).
        let process = spawn_group(
            Command::new(venv().join("bin/python"))
                .arg(repo_root().join("infra/moto_server.py"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        assert!(
            wait_for_port(port, Duration::from_secs(30)),
            "moto did not start on port {port}"
        );
        let endpoint = format!("http://127.0.0.1:{port}");
        let out = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("infra/provision.py"))
            .args(["--endpoint", &endpoint, "--template"])
            .arg(repo_root().join("template.yaml"))
            .args(["--param", "VapiWebhookSecret=adapter-test-secret"])
            .stderr(Stdio::inherit())
            .output()
            .expect("cannot run infra/provision.py");
        assert!(out.status.success(), "provisioning failed");
        let provisioned =
            serde_json::from_slice(&out.stdout).expect("provision.py output is not JSON");
        Self {
            _process: process,
            endpoint,
            provisioned,
        }
    }

    /// A resolved environment variable of the function built from `binary`.
    pub fn env(&self, binary: &str, name: &str) -> String {
        let functions = self.provisioned["functions"]
            .as_object()
            .expect("no functions");
        functions
            .values()
            .find(|f| f["binary"] == binary)
            .and_then(|f| f["environment"][name].as_str())
            .unwrap_or_else(|| panic!("{binary} has no {name}"))
            .to_string()
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    pub fn sent_messages(&self) -> SentMessages {
        SentMessages::read(&self.endpoint)
    }

    /// Puts a secret in moto's SSM (`ssm:<name>`) or Secrets Manager
    /// (`secretsmanager:<name>`).
    pub fn put_secret(&self, reference: &str, value: &str) {
        put_secret(&self.endpoint, reference, value);
    }
}

/// Puts a secret in moto by its reference, over moto's JSON protocol (no SDK crate needed
/// for a test's setup).
pub fn put_secret(endpoint: &str, reference: &str, value: &str) {
    let (service, target, body) = match reference.split_once(':') {
        Some(("ssm", name)) => (
            "ssm",
            "AmazonSSM.PutParameter",
            serde_json::json!({"Name": name, "Value": value, "Type": "SecureString", "Overwrite": true}),
        ),
        Some(("secretsmanager", name)) => (
            "secretsmanager",
            "secretsmanager.CreateSecret",
            serde_json::json!({"Name": name, "SecretString": value}),
        ),
        _ => panic!("not a secret reference: {reference}"),
    };
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let response = http()
        .post(endpoint)
        .header("X-Amz-Target", target)
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("Authorization", &authorization)
        .send(body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("cannot put {reference} in moto: {e}"));
    assert_eq!(response.status().as_u16(), 200, "putting {reference}");
}

/// The URL of the local stack's queue `logical_id` (its name in `template.yaml`).
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, logical_id: &str) -> String {
    sqs.get_queue_url()
        .queue_name(format!("callbook-dev-{logical_id}"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// How many messages the queue at `url` holds: visible + in flight.
pub async fn queue_depth(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> Result<
    u64,
    aws_sdk_sqs::error::SdkError<
        aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError,
    >,
> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await?;
    let attrs = out.attributes.unwrap_or_default();
    Ok([
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|a| attrs.get(a).and_then(|v| v.parse::<u64>().ok()))
    .sum())
}

pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

/// The SMS and emails moto recorded as sent (`GET /moto-api/data.json`, only the services that
/// send: `infra/moto_server.py` filters by `?services=`, as the whole dump grows with every item
/// and message).
#[derive(Debug, Default)]
pub struct SentMessages {
    /// (phone number, text)
    pub sms: Vec<(String, String)>,
    /// (recipient, subject, body): moto keeps only the HTML part of a two-part email.
    pub emails: Vec<(String, String, String)>,
}

impl SentMessages {
    pub fn read(endpoint: &str) -> Self {
        let (status, data) = get(&format!(
            "{endpoint}/moto-api/data.json?services=sns,ses,sesv2"
        ));
        assert_eq!(status, 200, "moto-api/data.json: {data}");
        let mut sent = Self::default();
        collect_sent(&data, &mut sent);
        sent
    }

    pub fn sms_to(&self, phone: &str) -> Vec<&str> {
        self.sms
            .iter()
            .filter(|(to, _)| to == phone)
            .map(|(_, text)| text.as_str())
            .collect()
    }

    pub fn emails_to(&self, address: &str) -> Vec<(&str, &str)> {
        self.emails
            .iter()
            .filter(|(to, ..)| to == address)
            .map(|(_, s, b)| (s.as_str(), b.as_str()))
            .collect()
    }
}

fn collect_sent(data: &Value, sent: &mut SentMessages) {
    // See infra/README or the moto notes in docs: sns → PhoneNumber/Message entries (the
    // shape differs between moto versions, so look for it anywhere under "sns"); ses → sent
    // messages with destinations.
    fn walk(v: &Value, f: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
        match v {
            Value::Object(o) => {
                f(o);
                o.values().for_each(|c| walk(c, f));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, f)),
            _ => {}
        }
    }
    if let Some(sns) = data.get("sns") {
        walk(sns, &mut |o| {
            if let (Some(Value::String(phone)), Some(Value::String(text))) = (
                o.get("phone_number").or_else(|| o.get("PhoneNumber")),
                o.get("message").or_else(|| o.get("Message")),
            ) {
                sent.sms.push((phone.clone(), text.clone()));
            }
        });
    }
    for service in ["ses", "sesv2"] {
        if let Some(ses) = data.get(service) {
            walk(ses, &mut |o| {
                if let (Some(dest), Some(Value::String(subject))) = (
                    o.get("destinations").or_else(|| o.get("destination")),
                    o.get("subject"),
                ) {
                    let body = o
                        .get("body")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let mut to = Vec::new();
                    walk(dest, &mut |d| {
                        for key in ["ToAddresses", "to_addresses"] {
                            if let Some(Value::Array(a)) = d.get(key) {
                                to.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                            }
                        }
                    });
                    if let Value::Array(a) = dest {
                        to.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                    for address in to {
                        sent.emails.push((address, subject.clone(), body.clone()));
                    }
                }
            });
        }
    }
}

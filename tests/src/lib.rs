//! Test fixtures that start real processes and stop them when dropped: moto alone (adapter
//! tests) and the whole local stack, `callbook-dev` (end-to-end tests). Each fixture gets
//! free ports, so tests run in parallel and beside a running `make dev`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sqs::config::{Credentials, Region};
use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

pub fn venv() -> PathBuf {
    std::env::var_os("CALLBOOK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A child process in its own process group, so dropping it stops everything it started.
struct ProcessGroup(Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

fn spawn_group(command: &mut Command) -> ProcessGroup {
    use std::os::unix::process::CommandExt;
    let program = format!("{:?}", command.get_program());
    ProcessGroup(
        command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}")),
    )
}

fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// An HTTP client that returns 4xx/5xx answers instead of failing on them.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// POSTs `body` with `headers`; returns the status and the parsed JSON answer.
pub fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    try_post(&http(), url, headers, body).unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// Like [`post`] with the given client, but an answer that never came (a timeout, a dropped
/// connection) is an error to count rather than a panic: under load, a caller may give up.
pub fn try_post(
    client: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, Value), ureq::Error> {
    let mut request = client.post(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut response = request.send(body)?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

pub fn get(url: &str) -> (u16, Value) {
    let mut response = http()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

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

/// The whole local stack (`callbook-dev`: moto + provisioning + webhook + workers) on free
/// ports, with short redelivery so failure paths take seconds.
pub struct DevStack {
    _process: ProcessGroup,
    pub base_url: String,
    pub moto_endpoint: String,
    pub secret: String,
    /// Where it writes `env/<function>.env` (what `cargo lambda watch` and the admin read).
    pub dev_dir: PathBuf,
}

impl DevStack {
    pub fn start(visibility_timeout: u32, max_receive_count: u32) -> Self {
        Self::start_with(visibility_timeout, max_receive_count, None, &[], None)
    }

    /// The stack with faults injected into its workers (`CALLBOOK_FAULTS`, see
    /// `callbook_core::faults`), e.g. `booking-worker.delete=nth:1`.
    pub fn start_with_faults(
        visibility_timeout: u32,
        max_receive_count: u32,
        faults: &str,
        log: Option<&std::path::Path>,
    ) -> Self {
        Self::start_with(
            visibility_timeout,
            max_receive_count,
            log,
            &[],
            Some(faults),
        )
    }

    /// The stack with template parameters set (`CALLBOOK_PARAM_<Name>`).
    pub fn start_with_params(
        visibility_timeout: u32,
        max_receive_count: u32,
        params: &[(&str, &str)],
    ) -> Self {
        Self::start_with(visibility_timeout, max_receive_count, None, params, None)
    }

    /// The stack with its log (stdout, at `RUST_LOG=info`) written to `log`, for reading back.
    pub fn start_logged(log: &std::path::Path) -> Self {
        Self::start_with(2, 3, Some(log), &[], None)
    }

    fn start_with(
        visibility_timeout: u32,
        max_receive_count: u32,
        log: Option<&std::path::Path>,
        params: &[(&str, &str)],
        faults: Option<&str>,
    ) -> Self {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target"));
        let binary = target.join("debug/callbook-dev");
        assert!(
            binary.exists(),
            "{} is missing: `make test` builds it first (cargo build -p callbook-dev)",
            binary.display()
        );
        let (dev_port, moto_port) = (free_port(), free_port());
        let secret = format!("e2e-{}", uuid::Uuid::new_v4());
        let dev_dir = std::env::temp_dir().join(format!("callbook-e2e-{dev_port}"));
        let mut process = spawn_group(
            Command::new(&binary)
                .envs(
                    params
                        .iter()
                        .map(|(name, value)| (format!("CALLBOOK_PARAM_{name}"), *value)),
                )
                .env("DEV_PORT", dev_port.to_string())
                .env("MOTO_PORT", moto_port.to_string())
                .env("VAPI_WEBHOOK_SECRET", &secret)
                .env("VISIBILITY_TIMEOUT", visibility_timeout.to_string())
                .env("MAX_RECEIVE_COUNT", max_receive_count.to_string())
                .env("CALLBOOK_ROOT", repo_root())
                .env("CALLBOOK_DEV_DIR", &dev_dir)
                .env("CALLBOOK_FAULTS", faults.unwrap_or_default())
                .env(
                    "RUST_LOG",
                    match log {
                        Some(_) => "info".to_string(),
                        None => std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
                    },
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        // Wait for the banner; keep draining stdout so the server never blocks on it.
        let stdout = process.0.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Lambda's logs are its stdout: kept in `log` when asked for.
        let mut log_file = log.map(|path| {
            std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(file) = log_file.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(file, "{line}");
                }
                if line.contains("local stack ready") {
                    let _ = ready_tx.send(());
                }
            }
        });
        if ready_rx.recv_timeout(Duration::from_secs(90)).is_err() {
            panic!("callbook-dev did not become ready within 90 s (see its output above)");
        }
        Self {
            _process: process,
            base_url: format!("http://127.0.0.1:{dev_port}"),
            moto_endpoint: format!("http://127.0.0.1:{moto_port}"),
            secret,
            dev_dir,
        }
    }

    /// A function's environment as the stack wrote it (`KEY="value"` lines).
    pub fn function_env(&self, binary: &str) -> Vec<(String, String)> {
        let path = self.dev_dir.join("env").join(format!("{binary}.env"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| {
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\");
                (k.to_string(), v)
            })
            .collect()
    }

    /// Runs `callbook-admin` (built by `make test`) with the webhook's environment, as
    /// `make load-business` does against `make dev`. Returns (success, stdout + stderr).
    pub fn admin(&self, args: &[&str]) -> (bool, String) {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target"));
        let binary = target.join("debug/callbook-admin");
        assert!(
            binary.exists(),
            "{} is missing: `make test` builds it first (cargo build -p callbook-aws --bins)",
            binary.display()
        );
        let out = Command::new(binary)
            .args(args)
            .envs(self.function_env("webhook"))
            .output()
            .expect("callbook-admin runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/vapi-webhook", self.base_url)
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.moto_endpoint).await
    }

    pub fn sent_messages(&self) -> SentMessages {
        SentMessages::read(&self.moto_endpoint)
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

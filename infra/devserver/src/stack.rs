//! moto, provisioned from template.yaml.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_sqs::config::{Credentials, Region};
use callbook_aws::SdkConfig;
use serde::Deserialize;
use tokio::process::{Child, Command};

pub const LOCAL_DEV_SECRET: &str = "local-dev-secret";
/// Opens the monitoring routes of the local stack (CALLBOOK_PARAM_MonitoringToken overrides).
pub const LOCAL_MONITORING_TOKEN: &str = "local-monitoring-token";

pub struct Settings {
    pub dev_port: u16,
    pub moto_port: u16,
    pub secret: String,
    pub visibility_timeout: Option<u32>,
    pub max_receive_count: Option<u32>,
    pub venv: PathBuf,
    pub root: PathBuf,
    /// Where the stack writes what it generates (env files): CALLBOOK_DEV_DIR, else `<root>/.dev`.
    pub dev_dir: PathBuf,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a number")),
        _ => Ok(None),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        let root = std::env::var_os("CALLBOOK_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
        let root = root
            .canonicalize()
            .map_err(|e| format!("{}: {e}", root.display()))?;
        let venv = std::env::var_os("CALLBOOK_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv"));
        let secret = std::env::var("VAPI_WEBHOOK_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "local-dev-secret".into());
        Ok(Self {
            dev_port: env_number("DEV_PORT")?.unwrap_or(3000),
            moto_port: env_number("MOTO_PORT")?.unwrap_or(4566),
            secret,
            visibility_timeout: env_number("VISIBILITY_TIMEOUT")?,
            max_receive_count: env_number("MAX_RECEIVE_COUNT")?,
            venv,
            dev_dir: std::env::var_os("CALLBOOK_DEV_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join(".dev")),
            root,
        })
    }
}

/// What infra/provision.py reports about one function of the template.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedFunction {
    #[serde(skip)]
    pub logical_id: String,
    pub binary: String,
    pub environment: HashMap<String, String>,
    pub sqs: Option<EventSource>,
    /// Its SNS event: the queue provision.py subscribed to the topic (the dev server polls it).
    #[serde(default)]
    pub sns: Option<TopicSource>,
    /// The function's Timeout in seconds: each batch is handled by that deadline, as in Lambda.
    pub timeout: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub visibility_timeout: i32,
    pub max_receive_count: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicSource {
    pub topic_arn: String,
    pub queue_url: String,
}

#[derive(Debug, Deserialize)]
struct Provisioned {
    region: String,
    functions: HashMap<String, ProvisionedFunction>,
}

pub struct LocalStack {
    moto: Child,
    endpoint: String,
    region: String,
    functions: Vec<ProvisionedFunction>,
}

impl LocalStack {
    pub async fn start(settings: &Settings) -> Result<Self, String> {
        let moto_bin = settings.venv.join("bin/moto_server");
        let python = settings.venv.join("bin/python");
        if !moto_bin.exists() {
            return Err(format!(
                "{} not found: run `make venv` (or `make dev`) first",
                moto_bin.display()
            ));
        }
        let endpoint = format!("http://127.0.0.1:{}", settings.moto_port);
        if reachable(&endpoint).await {
            return Err(format!(
                "port {} is already in use: stop what runs there or set MOTO_PORT",
                settings.moto_port
            ));
        }
        // moto with DynamoDB's transaction isolation restored (see infra/moto_server.py).
        let moto_script = settings.root.join("infra/moto_server.py");
        let moto = Command::new(&python)
            .arg(&moto_script)
            .args(["-H", "127.0.0.1", "-p", &settings.moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", moto_script.display()))?;
        let mut stack = Self {
            moto,
            endpoint,
            region: String::new(),
            functions: Vec::new(),
        };
        for _ in 0..200 {
            if reachable(&stack.endpoint).await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !reachable(&stack.endpoint).await {
            return Err("moto did not start within 20 s".into());
        }

        let mut args = vec![
            settings
                .root
                .join("infra/provision.py")
                .display()
                .to_string(),
            "--endpoint".into(),
            stack.endpoint.clone(),
            "--template".into(),
            settings.root.join("template.yaml").display().to_string(),
        ];
        if let Some(v) = settings.visibility_timeout {
            args.extend(["--visibility-timeout".into(), v.to_string()]);
        }
        if let Some(n) = settings.max_receive_count {
            args.extend(["--max-receive-count".into(), n.to_string()]);
        }
        let monitoring_token = std::env::var("CALLBOOK_PARAM_MonitoringToken")
            .unwrap_or_else(|_| LOCAL_MONITORING_TOKEN.into());
        let out = Command::new(&python)
            .args(&args)
            .env("CALLBOOK_PARAM_VapiWebhookSecret", &settings.secret)
            .env("CALLBOOK_PARAM_MonitoringToken", monitoring_token)
            .stderr(Stdio::inherit())
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        if !out.status.success() {
            return Err("provisioning from template.yaml failed (see above)".into());
        }
        let provisioned: Provisioned = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("provision.py printed something unexpected: {e}"))?;
        stack.region = provisioned.region;
        let mut functions: Vec<ProvisionedFunction> = provisioned
            .functions
            .into_iter()
            .map(|(id, mut f)| {
                f.logical_id = id;
                f
            })
            .collect();
        functions.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        stack.functions = functions;
        Ok(stack)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The SDK pointed at moto, with dummy credentials: never the user's real AWS account.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(self.region.clone()))
            .credentials_provider(Credentials::new("test", "test", None, None, "callbook-dev"))
            .load()
            .await
    }

    pub fn sqs_client(&self, sdk: &SdkConfig) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(sdk)
    }

    pub fn function_env(&self, binary: &str) -> Result<HashMap<String, String>, String> {
        self.functions
            .iter()
            .find(|f| f.binary == binary)
            .map(|f| f.environment.clone())
            .ok_or_else(|| format!("template.yaml has no function with Binary: {binary}"))
    }

    pub fn workers(&self) -> impl Iterator<Item = &ProvisionedFunction> {
        self.functions.iter().filter(|f| f.sqs.is_some())
    }

    /// The functions a topic invokes.
    pub fn subscribers(&self) -> impl Iterator<Item = &ProvisionedFunction> {
        self.functions.iter().filter(|f| f.sns.is_some())
    }

    /// Writes each function's resolved environment, pointed at this moto, to
    /// `<dev_dir>/env/<binary>.env`, for `cargo lambda watch --env-file`.
    pub fn write_env_files(&self, dev_dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
        let dir = dev_dir.join("env");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for function in &self.functions {
            let mut pairs: Vec<(String, String)> =
                function.environment.clone().into_iter().collect();
            pairs.sort();
            pairs.extend([
                ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
                ("AWS_REGION".into(), self.region.clone()),
                ("AWS_ACCESS_KEY_ID".into(), "test".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ]);
            // dotenv format: double-quoted, so values with spaces ("Mon-Fri 09:00-17:00") survive.
            let lines: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            let path = dir.join(format!("{}.env", function.binary));
            std::fs::write(&path, lines.join("\n") + "\n")
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(dir)
    }

    pub async fn stop(mut self) {
        let _ = self.moto.kill().await;
    }
}

/// Whether something answers HTTP at `endpoint`.
async fn reachable(endpoint: &str) -> bool {
    let addr = endpoint.trim_start_matches("http://");
    tokio::net::TcpStream::connect(addr).await.is_ok()
}

//! The whole local stack, `callbook-dev`, as a user of `make dev` runs it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::moto::{SentMessages, sdk_config_for};
use crate::process::{ProcessGroup, built_binary, free_port, repo_root, spawn_group};

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
    /// `callbook_core::testing::faults`), e.g. `booking-worker.delete=nth:1`.
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

    /// The stack with any of: its log kept in `log`, template parameters, faults.
    pub fn start_with(
        visibility_timeout: u32,
        max_receive_count: u32,
        log: Option<&std::path::Path>,
        params: &[(&str, &str)],
        faults: Option<&str>,
    ) -> Self {
        let binary = built_binary("callbook-dev", "cargo build -p callbook-dev");
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
        let binary = built_binary("callbook-admin", "cargo build -p callbook-aws --bins");
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

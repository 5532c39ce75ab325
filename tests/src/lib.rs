//! Test fixtures that start real processes and stop them when dropped: moto alone (adapter
//! tests) and the whole local stack, `callbook-dev` (end-to-end tests). Each fixture gets
//! free ports, so tests run in parallel and beside a running `make dev`.

mod http;
mod moto;
mod process;
mod stack;
mod template;

use std::time::{Duration, Instant};

pub use http::{get, http, post, try_post};
pub use moto::{Moto, SentMessages, put_secret, queue_depth, queue_url, sdk_config_for};
pub use process::{free_port, repo_root, venv};
pub use stack::DevStack;
pub use template::{listed, statements, template};

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

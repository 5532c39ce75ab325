//! Logging: JSON lines in Lambda (CloudWatch Logs Insights reads them), compact text locally.

use tracing_subscriber::EnvFilter;

pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // Lambda adds its own timestamps; ANSI colours would garble CloudWatch.
    let _ = if in_lambda {
        builder
            .json()
            .without_time()
            .with_current_span(true)
            .with_ansi(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

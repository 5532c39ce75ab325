use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    callbook_aws::telemetry::init_tracing();
    let sdk = callbook_aws::sdk_config().await;
    let webhook: &'static _ = Box::leak(Box::new(
        webhook::build(&sdk, &|k| std::env::var(k).ok()).await?,
    ));
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, Error>(webhook.handle(request).await)
    }))
    .await
}

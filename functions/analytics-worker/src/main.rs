use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    callbook_aws::telemetry::init_tracing();
    let sdk = callbook_aws::sdk_config().await;
    let worker: &'static _ = Box::leak(Box::new(analytics_worker::build(&sdk, &|k| {
        std::env::var(k).ok()
    })?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(worker.handle(event.payload).await)
    }))
    .await
}

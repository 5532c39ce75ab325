#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    callbook_aws::worker::serve(notification_worker::build).await
}

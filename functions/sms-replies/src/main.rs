#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    sms_replies::serve().await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    callbook_aws::worker::serve(followup_worker::build).await
}

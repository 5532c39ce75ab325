#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    callbook_aws::worker::serve(booking_worker::build).await
}

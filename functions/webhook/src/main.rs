#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhook::serve().await
}

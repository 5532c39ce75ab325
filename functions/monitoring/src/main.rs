#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    monitoring::serve().await
}

//! The cold-start floor our functions are held to (within 1.2x): a lambda_http binary that
//! builds aws-config + SQS + DynamoDB clients and answers with a constant. Measured beside the
//! real functions by infra/measure-cold-start.py.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = callbook_aws::sdk_config().await;
    let clients = &(
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_dynamodb::Client::new(&sdk),
    );
    lambda_http::run(service_fn(move |_request: Request| async move {
        let _ = clients;
        Ok::<_, Error>(Response::new(Body::Text("{}".into())))
    }))
    .await
}

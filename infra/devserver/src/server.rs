//! The API Gateway stand-in: HTTP on loopback, each request handed to its function's handler
//! (`/monitoring/*` to the monitoring function, the rest to the webhook) as the same
//! `lambda_http::Request` the Lambda runtime would build.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use monitoring::Monitoring;
use tokio::net::TcpListener;
use webhook::Webhook;

use crate::ports::Dev;

/// The HTTP functions, as API Gateway's routes name them.
pub struct Routes {
    pub webhook: Webhook<Dev>,
    pub monitoring: Monitoring<Dev>,
}

pub async fn serve(listener: TcpListener, routes: Routes) -> Result<(), String> {
    let webhook = Arc::new(routes);
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|e| format!("accept failed: {e}"))?;
        let webhook = Arc::clone(&webhook);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let webhook = Arc::clone(&webhook);
                async move { Ok::<_, Infallible>(answer(&webhook, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    routes: &Routes,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    };
    let request = lambda_http::http::Request::from_parts(parts, body);
    let response = if request
        .uri()
        .path()
        .starts_with(monitoring::MONITORING_PREFIX)
    {
        routes.monitoring.handle(request).await
    } else {
        routes.webhook.handle(request).await
    };
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

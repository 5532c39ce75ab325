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
use crate::schedules::DevClock;

/// The HTTP functions, as API Gateway's routes name them, and the dev server's own clock.
pub struct Routes {
    pub webhook: Webhook<Dev>,
    pub monitoring: Monitoring<Dev>,
    pub clock: Arc<DevClock>,
}

/// The dev server's clock route (not part of the deployed API).
pub const CLOCK_PATH: &str = "/dev/clock";

/// `GET /dev/clock` says the dev clock; `POST` with `{"advanceSeconds": N}` moves it.
fn clock_answer(clock: &DevClock, method: &hyper::Method, body: &[u8]) -> (u16, String) {
    if method == hyper::Method::POST {
        let advance = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("advanceSeconds").and_then(serde_json::Value::as_i64));
        match advance {
            Some(seconds) => {
                clock.advance(seconds);
            }
            None => {
                return (
                    400,
                    r#"{"error":"send {\"advanceSeconds\": <whole seconds>}"}"#.to_string(),
                );
            }
        }
    }
    (
        200,
        serde_json::json!({
            "now": clock.now().to_rfc3339(),
            "offsetSeconds": clock.offset_seconds(),
        })
        .to_string(),
    )
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
    if parts.uri.path() == CLOCK_PATH {
        let (status, text) = clock_answer(&routes.clock, &parts.method, &bytes);
        let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return response;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_route_moves_on_a_whole_number_and_refuses_anything_else() {
        let clock = DevClock::default();
        for bad in [
            &b""[..],
            b"{}",
            b"{\"advanceSeconds\":\"a day\"}",
            b"not json",
            b"{\"advanceSeconds\":1.5}",
        ] {
            let (status, body) = clock_answer(&clock, &hyper::Method::POST, bad);
            assert_eq!(status, 400, "{body}");
            assert_eq!(clock.offset_seconds(), 0, "nothing moved on {bad:?}");
        }
        let (status, body) =
            clock_answer(&clock, &hyper::Method::POST, b"{\"advanceSeconds\":3600}");
        assert_eq!((status, clock.offset_seconds()), (200, 3600), "{body}");
        let (status, body) = clock_answer(&clock, &hyper::Method::GET, b"");
        assert_eq!(status, 200);
        assert!(body.contains("\"offsetSeconds\":3600"), "{body}");
    }
}

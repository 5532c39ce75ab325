//! The HTTP edge: routes, the token, the query (`timeframe`, `business`), and every outcome
//! made into a response.

use callbook_core::{PortError, bearer_matches, is_route_id};
use chrono::Duration;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use tracing::warn;

use crate::{
    DASHBOARD_PATH, HEALTH_PATH, METRICS_PATH, MONITORING_PREFIX, Monitoring, MonitoringPorts,
    PERFORMANCE_PATH,
};

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    // Operational data: never kept by a proxy or the browser.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

pub(crate) fn client_error(status: StatusCode, what: impl std::fmt::Display) -> Response<Body> {
    json_response(status, &json!({ "error": what.to_string() }))
}

/// A port that could not be read: 503, with what failed (no personal data in port errors).
pub(crate) fn unavailable(error: &PortError) -> Response<Body> {
    warn!(error = %error, "monitoring report unavailable");
    client_error(StatusCode::SERVICE_UNAVAILABLE, error)
}

/// The window a report covers, and the period of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeframe {
    Hour,
    Day,
    Week,
}

impl Timeframe {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1h" => Some(Self::Hour),
            "24h" => Some(Self::Day),
            "7d" => Some(Self::Week),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    pub fn window(self) -> Duration {
        match self {
            Self::Hour => Duration::hours(1),
            Self::Day => Duration::hours(24),
            Self::Week => Duration::days(7),
        }
    }

    /// A series' period: about a dozen to thirty points per chart.
    pub fn period(self) -> Duration {
        match self {
            Self::Hour => Duration::minutes(5),
            Self::Day => Duration::hours(1),
            Self::Week => Duration::hours(6),
        }
    }
}

/// A query parameter, from API Gateway's parsed parameters or the URI (the dev server).
fn query_param(request: &Request, name: &str) -> Option<String> {
    let parsed = request.query_string_parameters();
    if let Some(value) = parsed.first(name) {
        return Some(value.to_string());
    }
    request.uri().query().and_then(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
}

/// A query the reports cannot answer (400), with what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadQuery(&'static str);

impl BadQuery {
    fn response(self) -> Response<Body> {
        client_error(StatusCode::BAD_REQUEST, self.0)
    }
}

/// `?timeframe=1h|24h|7d`, 24h when absent.
pub(crate) fn timeframe(request: &Request) -> Result<Timeframe, BadQuery> {
    match query_param(request, "timeframe") {
        None => Ok(Timeframe::Day),
        Some(text) => {
            Timeframe::parse(&text).ok_or(BadQuery("timeframe must be one of 1h, 24h, 7d"))
        }
    }
}

/// `?business=<id>`: a well-formed business id, or none (the whole service).
pub(crate) fn business(request: &Request) -> Result<Option<String>, BadQuery> {
    match query_param(request, "business") {
        None => Ok(None),
        Some(id) if is_route_id(&id) => Ok(Some(id)),
        Some(_) => Err(BadQuery(
            "business must be a business id (letters, digits, - and _)",
        )),
    }
}

/// Whether the `Accept` header ranks HTML above JSON (a browser does; curl's `*/*` does not).
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let (mut html, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" => html = html.max(q),
            "application/json" => json = json.max(q),
            // Anything at all: JSON is the default answer.
            "*/*" => json = json.max(q),
            _ => {}
        }
    }
    html > json
}

impl<P: MonitoringPorts> Monitoring<P> {
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path().trim_end_matches('/');
        if !path.starts_with(MONITORING_PREFIX) {
            return client_error(
                StatusCode::NOT_FOUND,
                format!("no route for {} {path}", request.method()),
            );
        }
        let known = matches!(
            path,
            HEALTH_PATH | METRICS_PATH | DASHBOARD_PATH | PERFORMANCE_PATH
        );
        if request.method() != Method::GET {
            return if known {
                client_error(StatusCode::METHOD_NOT_ALLOWED, "only GET on this route")
            } else {
                client_error(
                    StatusCode::NOT_FOUND,
                    format!("no route for {} {path}", request.method()),
                )
            };
        }
        let authorized = self.monitoring_authorized(&request);
        if path == HEALTH_PATH {
            return self.health(authorized).await;
        }
        if !authorized {
            warn!(path = %path, "monitoring request rejected: authentication");
            return client_error(
                StatusCode::UNAUTHORIZED,
                "send Authorization: Bearer <monitoring token>",
            );
        }
        match path {
            METRICS_PATH => {
                let (timeframe, business) = match (timeframe(&request), business(&request)) {
                    (Ok(t), Ok(b)) => (t, b),
                    (Err(bad), _) | (_, Err(bad)) => return bad.response(),
                };
                self.metrics_report(timeframe, business.as_deref()).await
            }
            PERFORMANCE_PATH => match timeframe(&request) {
                Ok(timeframe) => self.performance_report(timeframe).await,
                Err(bad) => bad.response(),
            },
            DASHBOARD_PATH => {
                let accept = request
                    .headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok());
                self.dashboard(prefers_html(accept)).await
            }
            _ => client_error(
                StatusCode::NOT_FOUND,
                format!("no monitoring report {path}"),
            ),
        }
    }

    /// `Authorization: Bearer <MONITORING_TOKEN>`, compared in constant time.
    pub(crate) fn monitoring_authorized(&self, request: &Request) -> bool {
        self.monitoring_token.as_ref().is_some_and(|token| {
            bearer_matches(
                token,
                request.headers().get("authorization").map(|v| v.as_bytes()),
            )
        })
    }
}

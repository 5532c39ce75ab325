//! HTTP for the tests: answers of any status, read as JSON.

use std::time::Duration;

use serde_json::Value;

/// An HTTP client that returns 4xx/5xx answers instead of failing on them.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// POSTs `body` with `headers`; returns the status and the parsed JSON answer.
pub fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    try_post(&http(), url, headers, body).unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// Like [`post`] with the given client, but an answer that never came (a timeout, a dropped
/// connection) is an error to count rather than a panic: under load, a caller may give up.
pub fn try_post(
    client: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, Value), ureq::Error> {
    let mut request = client.post(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut response = request.send(body)?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

pub fn get(url: &str) -> (u16, Value) {
    let mut response = http()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

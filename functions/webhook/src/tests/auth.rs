use super::*;

#[tokio::test]
async fn bearer_and_missing_content_type_are_accepted() {
    let w = webhook();
    let bearer = format!("Bearer {SECRET}");
    let request = post(
        &[("authorization", bearer.as_str())],
        &seed_body().to_string(),
    );
    assert_eq!(send(&w, request).await.0, StatusCode::OK);
    let mut later = seed_body();
    later["parameters"]["time"] = json!("10am");
    let request = post(
        &[
            ("x-vapi-secret", SECRET),
            ("content-type", "application/json; charset=utf-8"),
        ],
        &later.to_string(),
    );
    assert_eq!(send(&w, request).await.0, StatusCode::OK);
    assert_eq!(w.queue.sent().len(), 2);
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_and_enqueue_nothing() {
    let w = webhook();
    for headers in [
        vec![],
        vec![("x-vapi-secret", "wrong")],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", SECRET)],
    ] {
        let (status, body) = send(&w, post(&headers, &seed_body().to_string())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert!(body["error"].is_string());
    }
    // Authentication comes before parsing: garbage without a secret is 401, not 400.
    assert_eq!(
        send(&w, post(&[], "{not json")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn unreadable_bodies_are_400_with_a_reason() {
    let w = webhook();
    for (body, expected) in [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1,2]", "must be a JSON object"),
        ("42", "must be a JSON object"),
        ("{\"hello\": 1}", "neither"),
        ("{\"message\": []}", "must be an object"),
        ("{\"message\": {\"call\": {}}}", "message.type"),
        ("{\"function\": 7}", "name of a tool"),
    ] {
        let (status, answer) = send(&w, post(&[("x-vapi-secret", SECRET)], body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer["error"].as_str().unwrap().contains(expected),
            "{body}: {answer}"
        );
    }
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let w = webhook();
    let request = post(
        &[("x-vapi-secret", SECRET), ("content-type", "text/plain")],
        &seed_body().to_string(),
    );
    let (status, body) = send(&w, request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body["error"].is_string());
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_are_refused_cleanly() {
    let w = webhook();
    let big = format!(
        "{{\"message\": {{\"type\": \"transcript\", \"transcript\": \"{}\"}}}}",
        "a".repeat(DEFAULT_MAX_BODY_BYTES)
    );
    let (status, body) = send(&w, post(&[("x-vapi-secret", SECRET)], &big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("larger than 262144 bytes")
    );
    // Size is checked before the secret: no credentials needed to be told it is too big.
    assert_eq!(
        send(&w, post(&[], &big)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // 100,000 levels of nesting: a 400, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, _) = send(&w, post(&[("x-vapi-secret", SECRET)], &deep)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn hmac_mode_takes_signed_requests_only() {
    use callbook_core::HmacAlgorithm;
    use callbook_core::vapi::auth::sign;
    let mut w = webhook();
    w.auth = Authenticator::from_lookup(&|name: &str| match name {
        "VAPI_AUTH_MODE" => Some("hmac".into()),
        "VAPI_WEBHOOK_SECRET" => Some("hmac-secret-0123456789".into()),
        "VAPI_WEBHOOK_SECRET_PREVIOUS" => Some("hmac-secret-previous".into()),
        "VAPI_HMAC_PREFIX" => Some("sha256=".into()),
        _ => None,
    })
    .unwrap();
    let body = seed_body().to_string();
    let now = w.clock.now();
    let signed = |key: &str, at: chrono::DateTime<Utc>| {
        let ts = at.timestamp().to_string();
        let mac = sign(
            HmacAlgorithm::Sha256,
            key.as_bytes(),
            format!("{ts}.{body}").as_bytes(),
        );
        (format!("sha256={}", hex::encode(mac)), ts)
    };
    let (sig, ts) = signed("hmac-secret-0123456789", now);
    let (status, answer) = send(
        &w,
        post(&[("x-signature", &sig), ("x-timestamp", &ts)], &body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(w.queue.sent().len(), 1);
    // The previous secret still works during a rotation.
    let (sig, ts) = signed("hmac-secret-previous", now);
    let (status, _) = send(
        &w,
        post(&[("x-signature", &sig), ("x-timestamp", &ts)], &body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let queued = w.queue.sent().len();
    // A replay ten minutes later, the shared secret header, a wrong key: 401, nothing queued.
    let (sig, ts) = signed(
        "hmac-secret-0123456789",
        now - chrono::Duration::minutes(10),
    );
    let cases = [
        vec![("x-signature", sig.as_str()), ("x-timestamp", ts.as_str())],
        vec![("x-vapi-secret", "hmac-secret-0123456789")],
    ];
    for headers in cases {
        let (status, answer) = send(&w, post(&headers, &body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert!(
            !answer.to_string().contains("hmac-secret"),
            "no secret in the answer"
        );
    }
    let (sig, ts) = signed("another-key-entirely", now);
    let (status, _) = send(
        &w,
        post(&[("x-signature", &sig), ("x-timestamp", &ts)], &body),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(w.queue.sent().len(), queued);
}

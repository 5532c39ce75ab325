use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn check_with(auth: &Authenticator, headers: &[(&str, &str)], body: &str) -> Result<(), AuthError> {
    auth.check(
        |name| {
            headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_bytes())
        },
        body.as_bytes(),
        now(),
    )
}

fn check(headers: &[(&str, &str)]) -> Result<(), AuthError> {
    check_with(
        &Authenticator::shared_secret("s3cret-value-123").unwrap(),
        headers,
        "{}",
    )
}

#[test]
fn accepts_either_header() {
    assert_eq!(check(&[("x-vapi-secret", "s3cret-value-123")]), Ok(()));
    assert_eq!(
        check(&[("authorization", "Bearer s3cret-value-123")]),
        Ok(())
    );
    assert_eq!(
        check(&[("authorization", "bearer  s3cret-value-123 ")]),
        Ok(())
    );
    assert_eq!(
        check(&[
            ("x-vapi-secret", "wrong"),
            ("authorization", "Bearer s3cret-value-123")
        ]),
        Ok(())
    );
}

#[test]
fn refuses_missing_or_wrong() {
    assert_eq!(check(&[]), Err(AuthError::Missing));
    assert_eq!(
        check(&[("authorization", "Basic abc")]),
        Err(AuthError::Missing)
    );
    assert_eq!(check(&[("x-vapi-secret", "")]), Err(AuthError::Invalid));
    assert_eq!(
        check(&[("x-vapi-secret", "s3cret-value-12")]),
        Err(AuthError::Invalid)
    );
    assert_eq!(
        check(&[("authorization", "Bearer S3CRET-VALUE-123")]),
        Err(AuthError::Invalid)
    );
    assert!(WebhookSecret::new("").is_none());
    assert_eq!(
        format!("{:?}", WebhookSecret::new("x").unwrap()),
        "WebhookSecret(<redacted>)"
    );
    let auth = Authenticator::shared_secret("s3cret-value-123").unwrap();
    assert!(!format!("{auth:?}").contains("s3cret"));
}

#[test]
fn two_secrets_are_active_during_a_rotation() {
    let env = |name: &str| match name {
        "VAPI_WEBHOOK_SECRET" => Some("new-secret-value-1".to_string()),
        "VAPI_WEBHOOK_SECRET_PREVIOUS" => Some("old-secret-value-0".to_string()),
        _ => None,
    };
    let auth = Authenticator::from_lookup(&env).unwrap();
    for secret in ["new-secret-value-1", "old-secret-value-0"] {
        assert_eq!(
            check_with(&auth, &[("x-vapi-secret", secret)], "{}"),
            Ok(())
        );
    }
    assert_eq!(
        check_with(&auth, &[("x-vapi-secret", "older-secret")], "{}"),
        Err(AuthError::Invalid)
    );
}

fn hmac_auth(pairs: &[(&str, &str)]) -> Authenticator {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Authenticator::from_lookup(&|name: &str| {
        match name {
            "VAPI_WEBHOOK_SECRET" => Some("hmac-key-0123456789".to_string()),
            "VAPI_AUTH_MODE" => Some("hmac".to_string()),
            _ => None,
        }
        .or_else(|| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    })
    .unwrap()
}

fn signature(algorithm: HmacAlgorithm, timestamp: &str, body: &str) -> Vec<u8> {
    sign(
        algorithm,
        b"hmac-key-0123456789",
        format!("{timestamp}.{body}").as_bytes(),
    )
}

#[test]
fn hmac_signatures_are_checked_with_their_timestamp() {
    let body = r#"{"message":{"type":"status-update"}}"#;
    let ts = now().timestamp().to_string();
    let auth = hmac_auth(&[]);
    let good = hex::encode(signature(HmacAlgorithm::Sha256, &ts, body));
    assert_eq!(
        check_with(&auth, &[("x-signature", &good), ("x-timestamp", &ts)], body),
        Ok(())
    );
    // Milliseconds work too.
    let ms = now().timestamp_millis().to_string();
    let good_ms = hex::encode(signature(HmacAlgorithm::Sha256, &ms, body));
    assert_eq!(
        check_with(
            &auth,
            &[("x-signature", &good_ms), ("x-timestamp", &ms)],
            body
        ),
        Ok(())
    );
    // A changed body, a stale or unreadable timestamp, a missing header: refused.
    assert_eq!(
        check_with(&auth, &[("x-signature", &good), ("x-timestamp", &ts)], "{}"),
        Err(AuthError::Invalid)
    );
    let old = (now() - Duration::minutes(6)).timestamp().to_string();
    let old_sig = hex::encode(signature(HmacAlgorithm::Sha256, &old, body));
    assert_eq!(
        check_with(
            &auth,
            &[("x-signature", &old_sig), ("x-timestamp", &old)],
            body
        ),
        Err(AuthError::Stale)
    );
    // From the future (a skewed or forged clock) is outside the window too.
    let ahead = (now() + Duration::minutes(6)).timestamp().to_string();
    let ahead_sig = hex::encode(signature(HmacAlgorithm::Sha256, &ahead, body));
    assert_eq!(
        check_with(
            &auth,
            &[("x-signature", &ahead_sig), ("x-timestamp", &ahead)],
            body
        ),
        Err(AuthError::Stale)
    );
    // The right signature in the wrong encoding (base64 where hex is configured).
    let as_base64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(signature(
            HmacAlgorithm::Sha256,
            &ts,
            body,
        ))
    };
    assert_eq!(
        check_with(
            &auth,
            &[("x-signature", &as_base64), ("x-timestamp", &ts)],
            body
        ),
        Err(AuthError::Invalid)
    );
    assert_eq!(
        check_with(
            &auth,
            &[("x-signature", &good), ("x-timestamp", "soon")],
            body
        ),
        Err(AuthError::BadTimestamp)
    );
    assert!(matches!(
        check_with(&auth, &[("x-vapi-secret", "hmac-key-0123456789")], body),
        Err(AuthError::MissingSignature(_, _))
    ));
    // The wrong algorithm's signature does not pass.
    let sha1 = hex::encode(signature(HmacAlgorithm::Sha1, &ts, body));
    assert_eq!(
        check_with(&auth, &[("x-signature", &sha1), ("x-timestamp", &ts)], body),
        Err(AuthError::Invalid)
    );
}

#[test]
fn hmac_headers_algorithm_encoding_prefix_and_payload_are_configurable() {
    use base64::Engine;
    let body = r#"{"a":1}"#;
    let ts = now().to_rfc3339();
    let auth = hmac_auth(&[
        ("VAPI_HMAC_SIGNATURE_HEADER", "X-Vapi-Signature"),
        ("VAPI_HMAC_TIMESTAMP_HEADER", "X-Vapi-Timestamp"),
        ("VAPI_HMAC_ALGORITHM", "sha512"),
        ("VAPI_HMAC_ENCODING", "base64"),
        ("VAPI_HMAC_PREFIX", "sha512="),
        ("VAPI_HMAC_PAYLOAD", "{body}|{timestamp}"),
    ]);
    let mac = sign(
        HmacAlgorithm::Sha512,
        b"hmac-key-0123456789",
        format!("{body}|{ts}").as_bytes(),
    );
    let header = format!(
        "SHA512={}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    );
    assert_eq!(
        check_with(
            &auth,
            &[("x-vapi-signature", &header), ("x-vapi-timestamp", &ts)],
            body
        ),
        Ok(())
    );
    assert_eq!(
        check_with(
            &auth,
            &[
                ("x-vapi-signature", &header[7..]),
                ("x-vapi-timestamp", &ts)
            ],
            body
        ),
        Err(AuthError::Invalid),
        "the prefix is required"
    );
    assert!(
        Authenticator::from_lookup(&|n: &str| match n {
            "VAPI_WEBHOOK_SECRET" => Some("x".into()),
            "VAPI_AUTH_MODE" => Some("hmac".into()),
            "VAPI_HMAC_ALGORITHM" => Some("md5".into()),
            _ => None,
        })
        .is_err()
    );
}

#[test]
fn a_business_secret_replaces_the_deployments() {
    let auth = Authenticator::shared_secret("deployment-secret-1").unwrap();
    let own = [WebhookSecret::new("business-secret-22").unwrap()];
    let presented = |secret: &'static str| {
        move |name: &str| (name == "x-vapi-secret").then_some(secret.as_bytes())
    };
    assert_eq!(
        auth.check_with(&own, presented("business-secret-22"), b"{}", now()),
        Ok(())
    );
    assert_eq!(
        auth.check_with(&own, presented("deployment-secret-1"), b"{}", now()),
        Err(AuthError::Invalid)
    );
    assert_eq!(
        auth.check_with(&[], presented("deployment-secret-1"), b"{}", now()),
        Err(AuthError::Invalid)
    );
}

#[test]
fn an_hmac_payload_must_sign_the_body_and_the_timestamp() {
    let with_payload = |payload: &'static str| {
        Authenticator::from_lookup(&move |n: &str| match n {
            "VAPI_WEBHOOK_SECRET" => Some("hmac-key-0123456789".into()),
            "VAPI_AUTH_MODE" => Some("hmac".into()),
            "VAPI_HMAC_PAYLOAD" => Some(payload.into()),
            _ => None,
        })
        .map(|_| ())
    };
    for payload in ["{timestamp}", "{body}", "static", "{timestamp}.{bod}"] {
        assert!(
            matches!(
                with_payload(payload),
                Err(ConfigError::Invalid {
                    name: "VAPI_HMAC_PAYLOAD",
                    ..
                })
            ),
            "{payload:?} must be refused"
        );
    }
    for payload in [
        "{timestamp}.{body}",
        "{body}|{timestamp}",
        "v0:{timestamp}:{body}",
    ] {
        assert_eq!(with_payload(payload), Ok(()), "{payload:?}");
    }
}

use super::*;
use crate::values::config::required;
use std::collections::HashMap;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_describe_a_weekday_business_in_new_york() {
    let b = Business::from_lookup(&lookup(&[])).unwrap();
    assert_eq!(b.zone, chrono_tz::America::New_York);
    assert_eq!(b.id, "default");
    assert_eq!(b.hours.spoken(), "Monday to Friday, 9:00 AM to 5:00 PM");
}

#[test]
fn bad_settings_are_named() {
    let err =
        Business::from_lookup(&lookup(&[("BUSINESS_TIME_ZONE", "Mars/Olympus")])).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "BUSINESS_TIME_ZONE",
            ..
        }
    ));
    let err = Business::from_lookup(&lookup(&[("APPOINTMENT_MINUTES", "0")])).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "APPOINTMENT_MINUTES",
            ..
        }
    ));
    let err = Business::from_lookup(&lookup(&[("BUSINESS_ID", "a#b")])).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "BUSINESS_ID",
            ..
        }
    ));
    assert_eq!(
        required(&lookup(&[("X", " ")]), "SENDER_EMAIL"),
        Err(ConfigError::Missing("SENDER_EMAIL"))
    );
}

#[test]
fn services_resolve_from_the_catalogue() {
    let b = Business::from_lookup(&lookup(&[(
        "BUSINESS_SERVICES",
        "Consultation=60@150; Cleaning|Hygiene=30",
    )]))
    .unwrap();
    assert_eq!(
        b.service("hygiene"),
        Ok(ChosenService {
            name: "Cleaning".into(),
            minutes: 30,
            price_cents: None
        })
    );
    assert_eq!(
        b.service("massage"),
        Err(
            "We don't offer massage. We offer Consultation and Cleaning; which would you like?"
                .into()
        )
    );
    let open = Business::from_lookup(&lookup(&[])).unwrap();
    assert_eq!(
        open.service(" Anything ").unwrap(),
        ChosenService {
            name: "Anything".into(),
            minutes: 60,
            price_cents: None
        }
    );
    let err = Business::from_lookup(&lookup(&[("BUSINESS_SERVICES", "Consultation")])).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "BUSINESS_SERVICES",
            ..
        }
    ));
}

#[test]
fn settings_that_cannot_work_together_are_refused() {
    let err = Business::from_lookup(&lookup(&[
        ("BUSINESS_OPENING_HOURS", "Mon-Fri 08:30-17:30"),
        ("SLOT_MINUTES", "60"),
    ]))
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                name: "BUSINESS_OPENING_HOURS",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        Business::from_lookup(&lookup(&[(
            "BUSINESS_OPENING_HOURS",
            "Mon-Fri 08:30-17:30"
        )]))
        .is_ok()
    );
    let err = Business::from_lookup(&lookup(&[
        ("BUSINESS_SERVICES", "Retreat=720"),
        ("SLOT_MINUTES", "5"),
    ]))
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Invalid {
                name: "SLOT_MINUTES",
                ..
            }
        ),
        "{err}"
    );
}

fn profile() -> BusinessProfile {
    serde_json::from_str(include_str!("../../../../../infra/business.example.json")).unwrap()
}

#[test]
fn a_business_file_makes_a_business_checked_like_the_default() {
    let b = Business::from_profile(&profile()).unwrap();
    assert_eq!(
        (
            b.id.as_str(),
            b.zone.name(),
            b.capacity,
            b.phone_region.code
        ),
        ("smile-dental-london", "Europe/London", 2, "GB")
    );
    assert_eq!(b.service("scale and polish").unwrap().minutes, 30);
    assert_eq!(b.service("whitening").unwrap().price_cents, Some(29_950));
    assert_eq!(b.assistant_id.as_deref(), Some("asst-smile-london"));
    assert_eq!(b.owner_recipients().len(), 2);

    let mut bad = profile();
    bad.time_zone = "Mars/Olympus".into();
    assert!(matches!(
        Business::from_profile(&bad),
        Err(ConfigError::Invalid {
            name: "timeZone",
            ..
        })
    ));
    let mut bad = profile();
    bad.opening_hours = "Mon-Fri 09:10-17:00".into();
    assert!(matches!(
        Business::from_profile(&bad),
        Err(ConfigError::Invalid {
            name: "openingHours",
            ..
        })
    ));
    let mut bad = profile();
    bad.assistant_ids.push("has space".into());
    assert!(Business::from_profile(&bad).is_err());
    let mut bad = profile();
    bad.phone_number_ids.push(bad.phone_number_ids[0].clone());
    assert!(Business::from_profile(&bad).is_err(), "duplicate ids");
    let mut bad = profile();
    bad.id = " ".into();
    assert!(matches!(
        Business::from_profile(&bad),
        Err(ConfigError::Invalid { name: "id", .. })
    ));
    let mut bad = profile();
    bad.services[0].name = "A=B".into();
    assert!(Business::from_profile(&bad).is_err());
    assert!(
        serde_json::from_str::<BusinessProfile>(r#"{"id": "x", "name": "X", "timeZone": "UTC", "openingHours": "Mon 09:00-10:00", "colour": "red"}"#)
            .is_err(),
        "unknown fields are refused"
    );
}

#[test]
fn a_business_names_where_its_own_webhook_secrets_are_kept() {
    let mut p = profile();
    p.webhook_secrets = vec![
        "ssm:/callbook/smile/webhook".into(),
        "secretsmanager:callbook/smile-old".into(),
    ];
    let b = Business::from_profile(&p).unwrap();
    assert_eq!(
        b.webhook_secrets,
        vec![
            SecretRef::Ssm("/callbook/smile/webhook".into()),
            SecretRef::SecretsManager("callbook/smile-old".into())
        ]
    );
    p.webhook_secrets.push("ssm:/callbook/third".into());
    assert!(matches!(
        Business::from_profile(&p),
        Err(ConfigError::Invalid {
            name: "webhookSecrets",
            ..
        })
    ));
    // A secret pasted where its reference belongs is refused, and not echoed back.
    p.webhook_secrets = vec!["s3cret-value-123".into()];
    let err = Business::from_profile(&p).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "webhookSecrets",
            ..
        }
    ));
    assert!(!err.to_string().contains("s3cret"), "{err}");
    // Stored without the field (before it existed): no secrets of its own.
    assert!(profile().webhook_secrets.is_empty());
}

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_call_with_interest_but_no_booking_leaves_a_call_record_and_one_lead() {
    let stack = DevStack::start(2, 3);
    let tables = Tables::new(&stack).await;
    let call = "call-e2e-lead";
    let lead = tool_call(
        &stack,
        call,
        PHONE,
        "captureLead",
        json!({"name": "Ann Lee", "interest": "whitening", "email": "ann@example.com", "notes": "wants it this week"}),
    );
    assert!(
        lead["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("Thank you, Ann.")),
        "{lead}"
    );
    let sample: Value = serde_json::from_str(include_str!(
        "../../../events/webhook-end-of-call-report.json"
    ))
    .unwrap();
    let mut report: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
    report["message"]["call"]["id"] = json!(call);
    report["message"]["call"]["customer"] = json!({"number": PHONE});
    report["message"]["analysis"]["summary"] =
        json!("The caller asked about teeth whitening prices and wants a call back.");
    let (status, answer) = post(
        &stack.webhook_url(),
        &[("x-vapi-secret", stack.secret.as_str())],
        &report.to_string(),
    );
    assert_eq!((status, answer), (200, json!({})));

    let calls_table = format!("{TABLE_PREFIX}CallsTable");
    let customers_table = format!("{TABLE_PREFIX}CustomersTable");
    let record = eventually("the call record", Duration::from_secs(20), || async {
        tables
            .item(&calls_table, callbook_aws::calls::call_key("default", call))
            .await
            .filter(|c| c.get("report").is_some_and(|r| r.as_m().is_ok()))
    })
    .await;
    assert_eq!(s(&record, "outcome"), "lead");
    assert!(!s(record["report"].as_m().unwrap(), "transcript").is_empty());
    let lead = eventually(
        "one lead with both sources",
        Duration::from_secs(20),
        || async {
            tables
                .item(
                    &customers_table,
                    callbook_aws::calls::lead_key("default", PHONE),
                )
                .await
                .filter(|l| {
                    l.get("sources")
                        .and_then(|v| v.as_l().ok())
                        .is_some_and(|s| s.len() == 2)
                })
        },
    )
    .await;
    assert_eq!(s(&lead, "grade"), "hot", "{lead:?}");
    assert_eq!(s(&lead, "email"), "ann@example.com");
    let customer = tables
        .item(&customers_table, customer_key("default", PHONE))
        .await
        .expect("the caller's profile");
    assert_eq!(n(&customer, "callCount"), "1");
}

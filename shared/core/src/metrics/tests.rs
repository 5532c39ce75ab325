use super::*;

fn tool_call(tool: &str, outcome: &str) -> Measurement {
    Measurement::count(Metric::ToolCalls)
        .by(Dimension::Tool, tool)
        .by(Dimension::Outcome, outcome)
}

#[test]
fn a_record_per_set_of_dimension_values_each_read_back_under_both_sets() {
    let measurements = [
        tool_call("bookAppointment", "answer"),
        Measurement::new(Metric::ToolLatency, 12.5).by(Dimension::Tool, "bookAppointment"),
        Measurement::new(Metric::ToolLatency, 7.0).by(Dimension::Tool, "bookAppointment"),
        Measurement::count(Metric::ColdStarts),
    ];
    let lines = emf_lines("callbook", "webhook", 1_700_000_000_000, &measurements);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let latency = read_emf(&lines[1]).unwrap();
    // Two values, each under [Function, Tool] and [Function].
    assert_eq!(latency.len(), 4);
    assert!(latency.iter().all(|p| p.metric == Metric::ToolLatency
        && p.unit == Unit::Milliseconds
        && p.timestamp_ms == 1_700_000_000_000
        && p.namespace == "callbook"));
    let by_tool: Vec<f64> = latency
        .iter()
        .filter(|p| p.dimensions.len() == 2)
        .map(|p| p.value)
        .collect();
    assert_eq!(by_tool, vec![12.5, 7.0]);
    let cold = read_emf(&lines[2]).unwrap();
    assert_eq!(cold.len(), 1, "no dimensions: only the Function set");
    assert_eq!(
        cold[0].dimensions,
        vec![(Dimension::Function, "webhook".to_string())]
    );
}

#[test]
fn a_directive_of_more_than_a_hundred_metrics_is_refused() {
    let names: Vec<String> = (0..101).map(|i| format!("{{\"Name\":\"M{i}\"}}")).collect();
    let line = format!(
        "{{\"_aws\":{{\"Timestamp\":1,\"CloudWatchMetrics\":[{{\"Namespace\":\"n\",\"Dimensions\":[[]],\"Metrics\":[{}]}}]}}}}",
        names.join(",")
    );
    assert!(matches!(read_emf(&line), Err(EmfError::Invalid(e)) if e.contains("101 metrics")));
}

#[test]
fn what_cloudwatch_would_refuse_is_refused() {
    let good = emf_lines(
        "callbook",
        "webhook",
        1,
        &[tool_call("checkAvailability", "refusal")],
    )
    .remove(0);
    assert!(read_emf(&good).is_ok(), "{good}");
    for (bad, why) in [
        (
            good.replace("\"Unit\":\"Count\"", "\"Unit\":\"Bananas\""),
            "unit",
        ),
        (
            good.replace("\"Tool\":\"checkAvailability\",", ""),
            "dimension value",
        ),
        (
            good.replace("\"Timestamp\":1", "\"Timestamp\":\"x\""),
            "timestamp",
        ),
        (
            good.replace("\"ToolCalls\":1.0", "\"ToolCalls\":\"1\""),
            "value",
        ),
        ("not json".to_string(), "json"),
    ] {
        assert_ne!(bad, good, "{why}: the test did not change the record");
        assert!(read_emf(&bad).is_err(), "{why}: {bad}");
    }
}

#[test]
fn every_metric_round_trips_by_name_and_declares_few_dimensions() {
    for metric in Metric::ALL {
        assert_eq!(Metric::named(metric.name()), Some(metric));
        assert!(metric.dimensions().len() < MAX_DIMENSIONS_PER_SET);
        assert!(!metric.dimensions().contains(&Dimension::Function));
    }
}

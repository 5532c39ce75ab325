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
            good.replace("\"ToolCalls\":1}", "\"ToolCalls\":\"1\"}"),
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

#[test]
fn a_cold_start_is_measured_once() {
    let cold = ColdStart::default();
    assert_eq!(cold.measure(), Some(Measurement::count(Metric::ColdStarts)));
    assert_eq!(cold.measure(), None);
    assert!(!cold.first());
}

#[test]
fn lines_are_json_with_their_strings_escaped_and_only_finite_numbers() {
    let tool = "a\"b\\c\nd";
    let measurements = [
        Measurement::new(Metric::ToolLatency, 1.5).by(Dimension::Tool, tool),
        Measurement::new(Metric::ToolLatency, f64::NAN).by(Dimension::Tool, tool),
        Measurement::new(Metric::ToolLatency, 1e21).by(Dimension::Tool, tool),
    ];
    let lines = emf_lines("ns \"x\"", "web\thook", 5, &measurements);
    assert_eq!(lines.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ns \"x\"");
    assert_eq!(v["Function"], "web\thook");
    assert_eq!(v["Tool"], tool);
    assert_eq!(v["ToolLatency"][0], 1.5);
    assert_eq!(v["ToolLatency"][1], 0);
    assert_eq!(v["ToolLatency"][2].as_f64(), Some(1e21));
    let points = read_emf(&lines[0]).unwrap();
    assert_eq!(points.len(), 6, "three values under two sets");
}

#[test]
fn more_than_a_hundred_values_of_a_metric_go_to_further_records() {
    let many: Vec<Measurement> = (0..250)
        .map(|i| Measurement::new(Metric::ToolLatency, f64::from(i)).by(Dimension::Tool, "x"))
        .collect();
    let lines = emf_lines("callbook", "webhook", 1, &many);
    assert_eq!(lines.len(), 3);
    let mut values = Vec::new();
    for line in &lines {
        let points = read_emf(line).expect("CloudWatch takes every record");
        values.extend(
            points
                .iter()
                .filter(|p| p.dimensions.len() == 2)
                .map(|p| p.value),
        );
    }
    let expected: Vec<f64> = (0..250).map(f64::from).collect();
    assert_eq!(values, expected, "every value, once, in order");
}

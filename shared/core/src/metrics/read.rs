//! An EMF line read back as CloudWatch's extraction reads it.

use serde_json::Value;
use thiserror::Error;

use super::{
    Dimension, MAX_DIMENSIONS_PER_SET, MAX_METRICS_PER_RECORD, MAX_VALUES_PER_METRIC, Metric, Unit,
};

/// Why a line is not a valid EMF record of ours.
#[derive(Debug, Error, PartialEq)]
pub enum EmfError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("no _aws metadata with a Timestamp and CloudWatchMetrics")]
    NoMetadata,
    #[error("{0}")]
    Invalid(String),
}

/// One value read back from an EMF record.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    pub namespace: String,
    pub timestamp_ms: i64,
    pub metric: Metric,
    pub unit: Unit,
    pub value: f64,
    /// The dimension values of one declared dimension set (so a record with two sets gives
    /// each value twice, as CloudWatch stores it under both).
    pub dimensions: Vec<(Dimension, String)>,
}

/// Reads an EMF line as CloudWatch's extraction does, checking what it checks: metadata,
/// at most 100 metrics per directive and 30 dimensions per set, every declared dimension and
/// metric present at the root, numeric values (or arrays of at most 100), known units. Only
/// our metrics and dimensions are accepted.
pub fn read_emf(line: &str) -> Result<Vec<Datapoint>, EmfError> {
    let root: Value = serde_json::from_str(line).map_err(|e| EmfError::NotJson(e.to_string()))?;
    let invalid = |what: String| EmfError::Invalid(what);
    let aws = root.get("_aws").ok_or(EmfError::NoMetadata)?;
    let timestamp_ms = aws
        .get("Timestamp")
        .and_then(Value::as_i64)
        .ok_or(EmfError::NoMetadata)?;
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or(EmfError::NoMetadata)?;
    let mut points = Vec::new();
    for directive in directives {
        let namespace = directive
            .get("Namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty() && n.len() <= 255)
            .ok_or_else(|| invalid("a directive without a Namespace".into()))?;
        let sets = directive
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("a directive without Dimensions".into()))?;
        let metrics = directive
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("a directive without Metrics".into()))?;
        if metrics.len() > MAX_METRICS_PER_RECORD {
            return Err(invalid(format!(
                "{} metrics in one directive",
                metrics.len()
            )));
        }
        let mut dimension_sets = Vec::new();
        for set in sets {
            let names = set
                .as_array()
                .ok_or_else(|| invalid("a dimension set that is not a list".into()))?;
            if names.len() > MAX_DIMENSIONS_PER_SET {
                return Err(invalid(format!("{} dimensions in one set", names.len())));
            }
            let mut values = Vec::new();
            for name in names {
                let name = name.as_str().unwrap_or_default();
                let dimension = Dimension::named(name)
                    .ok_or_else(|| invalid(format!("unknown dimension {name:?}")))?;
                let value = root
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty() && v.len() <= 1024)
                    .ok_or_else(|| invalid(format!("dimension {name} has no string value")))?;
                values.push((dimension, value.to_string()));
            }
            dimension_sets.push(values);
        }
        for declared in metrics {
            let name = declared
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let metric =
                Metric::named(name).ok_or_else(|| invalid(format!("unknown metric {name:?}")))?;
            let unit = declared
                .get("Unit")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if unit != metric.unit().as_str() {
                return Err(invalid(format!("{name} declared in {unit:?}")));
            }
            let values = match root.get(name) {
                Some(Value::Number(n)) => vec![n.as_f64()],
                Some(Value::Array(items)) if items.len() <= MAX_VALUES_PER_METRIC => {
                    items.iter().map(Value::as_f64).collect()
                }
                _ => return Err(invalid(format!("{name} has no numeric value"))),
            };
            for value in values {
                let value = value.ok_or_else(|| invalid(format!("{name}: not a number")))?;
                for dimensions in &dimension_sets {
                    points.push(Datapoint {
                        namespace: namespace.to_string(),
                        timestamp_ms,
                        metric,
                        unit: metric.unit(),
                        value,
                        dimensions: dimensions.clone(),
                    });
                }
            }
        }
    }
    Ok(points)
}

//! template.yaml as data, read the way infra/provision.py reads it (its loader keeps the
//! `!Ref`/`!GetAtt`/`!Sub` tags as their long forms), for tests of what it declares.

use std::process::Command;

use serde_json::Value;

use crate::process::{repo_root, venv};

/// The whole template as JSON.
pub fn template() -> Value {
    let out = Command::new(venv().join("bin/python"))
        .current_dir(repo_root().join("infra"))
        .args([
            "-c",
            "import json, sys, provision; print(json.dumps(provision.load_template(sys.argv[1])))",
        ])
        .arg(repo_root().join("template.yaml"))
        .output()
        .expect("the venv's python runs (make venv)");
    assert!(
        out.status.success(),
        "cannot load template.yaml: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the loader prints JSON")
}

/// The IAM statements of a function's inline policies.
pub fn statements<'a>(template: &'a Value, function: &str) -> Vec<&'a Value> {
    template["Resources"][function]["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|policy| policy["Statement"].as_array())
        .flatten()
        .collect()
}

/// A statement's `Action` or `Resource`, one or many, as a list.
pub fn listed(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

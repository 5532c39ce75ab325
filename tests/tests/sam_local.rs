//! `sam local invoke --env-vars infra/env.local.json` (README, "Sample events"): the file
//! sets, for every function of the template, every variable the template gives it, to what
//! `make dev` provisions, seen from a Docker container. SAM overrides only the variables the
//! template declares and ignores the rest, so a variable missing here would keep the
//! template's value (an empty table name, or AWS's own endpoint), and one the template does
//! not declare would be dropped without a word. Which variables each function's code reads is
//! checked against this file by the dev server's tests (`infra/devserver/src/sam_env.rs`).

use std::collections::{BTreeMap, BTreeSet};

use callbook_tests::template;
use serde_json::{Map, Value};

/// Where `make dev`'s moto answers, from a container (`host.docker.internal`).
const ENDPOINT: &str = "http://host.docker.internal:4566";
/// moto's account, in its queue URLs (infra/provision.py's ACCOUNT_ID).
const ACCOUNT: &str = "123456789012";
/// `make dev`'s region (infra/provision.py's default).
const REGION: &str = "us-east-1";
/// The names infra/provision.py gives resources: `<stack>-<logical id>`.
const STACK: &str = "callbook-dev";
/// The parameters `make dev` sets rather than taking their defaults (infra/devserver/src/stack.rs).
const DEV_PARAMETERS: [(&str, &str); 2] = [
    ("VapiWebhookSecret", "local-dev-secret"),
    ("MonitoringToken", "local-monitoring-token"),
];

fn env_file() -> Map<String, Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/env.local.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text) {
        Ok(Value::Object(functions)) => functions,
        other => panic!("infra/env.local.json is not an object of functions: {other:?}"),
    }
}

/// Each function's variables as the template declares them: Globals, then its own.
fn declared(template: &Value) -> BTreeMap<String, Map<String, Value>> {
    let globals = template["Globals"]["Function"]["Environment"]["Variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| {
            let mut variables = globals.clone();
            if let Some(own) = r["Properties"]["Environment"]["Variables"].as_object() {
                variables.extend(own.clone());
            }
            (id.clone(), variables)
        })
        .collect()
}

/// What `make dev` makes of a template value, as a container sees it; `None` for a form this
/// test does not know (teach it, rather than guess).
fn dev_value(template: &Value, name: &str, value: &Value) -> Option<String> {
    if name == "LOCAL_ENDPOINT_URL" {
        return Some(ENDPOINT.into());
    }
    if let Some(text) = value.as_str() {
        return Some(text.into());
    }
    // The template's Subs name only the stack (a namespace, an alarm prefix).
    if let Some(text) = value["Fn::Sub"].as_str() {
        let named = text.replace("${AWS::StackName}", STACK);
        return (!named.contains("${")).then_some(named);
    }
    // The followup queue's and the scheduler role's ARNs (what a schedule targets and runs as):
    // moto's queue ARN, and the one infra/provision.py makes up for a role it does not create.
    if let Some(attribute) = value["Fn::GetAtt"].as_array() {
        let resource = attribute.first()?.as_str()?;
        return match (resource, attribute.get(1)?.as_str()?) {
            (queue, "Arn") if template["Resources"][queue]["Type"] == "AWS::SQS::Queue" => {
                Some(format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-{queue}"))
            }
            (role, "Arn") if template["Resources"][role]["Type"] == "AWS::IAM::Role" => {
                Some(format!("arn:aws:iam::{ACCOUNT}:role/{STACK}-{role}"))
            }
            _ => None,
        };
    }
    let target = value["Ref"].as_str()?;
    if let Some((_, set)) = DEV_PARAMETERS.iter().find(|(p, _)| *p == target) {
        return Some(set.to_string());
    }
    if let Some(parameter) = template["Parameters"].get(target) {
        return Some(match &parameter["Default"] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        });
    }
    match template["Resources"][target]["Type"].as_str()? {
        "AWS::DynamoDB::Table" => Some(format!("{STACK}-{target}")),
        "AWS::SQS::Queue" => Some(format!("{ENDPOINT}/{ACCOUNT}/{STACK}-{target}")),
        // Its Name, a Sub of the stack's name.
        "AWS::Scheduler::ScheduleGroup" => dev_value(
            template,
            name,
            &template["Resources"][target]["Properties"]["Name"],
        ),
        _ => None,
    }
}

#[test]
fn the_env_vars_file_sets_every_variable_of_every_function_to_the_local_stack() {
    let template = template();
    let declared = declared(&template);
    let file = env_file();
    let mut problems = Vec::new();
    let unknown: BTreeSet<&String> = file.keys().filter(|f| !declared.contains_key(*f)).collect();
    if !unknown.is_empty() {
        problems.push(format!("functions the template does not have: {unknown:?}"));
    }
    for (function, variables) in &declared {
        let Some(set) = file.get(function).and_then(Value::as_object) else {
            problems.push(format!("{function}: not in the file"));
            continue;
        };
        for (name, value) in variables {
            let expected = dev_value(&template, name, value);
            match (set.get(name).and_then(Value::as_str), expected) {
                (None, expected) => problems.push(format!(
                    "{function}.{name}: missing (make dev: {})",
                    expected.unwrap_or_else(|| format!("{value}"))
                )),
                (Some(_), None) => problems.push(format!(
                    "{function}.{name}: the template's {value} is a form this test cannot resolve"
                )),
                (Some(got), Some(expected)) if got != expected => problems.push(format!(
                    "{function}.{name}: {got:?}, but make dev makes it {expected:?}"
                )),
                _ => {}
            }
        }
        for name in set.keys().filter(|n| !variables.contains_key(*n)) {
            problems.push(format!(
                "{function}.{name}: not declared by the template, so SAM would ignore it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "infra/env.local.json:\n  {}",
        problems.join("\n  ")
    );
}

/// The endpoint is the local one: a function invoked with the file never reaches AWS.
#[test]
fn every_function_of_the_file_talks_to_the_local_endpoint_only() {
    for (function, set) in env_file() {
        assert_eq!(set["LOCAL_ENDPOINT_URL"], ENDPOINT, "{function}");
        for (name, value) in set.as_object().unwrap() {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{function}.{name}: not a string"));
            if value.starts_with("http") {
                assert!(value.starts_with(ENDPOINT), "{function}.{name}: {value}");
            }
        }
    }
}

#!/usr/bin/env python3
"""Build the local stack in an AWS emulator (moto server) from template.yaml.

template.yaml is the one source of truth: this script reads its parameters, conditions,
tables, queues, topics, KMS keys and SES identities, creates them in the emulator, and prints
one JSON document (stdout) describing what the dev server and the tests need: each function's
binary, its fully resolved environment and its SQS or SNS event source (an SNS event gets a
queue subscribed to its topic, which the dev server polls as Lambda's subscription would
deliver). Logs go to stderr.

    python infra/provision.py --endpoint http://127.0.0.1:4566 --template template.yaml \
        [--stack-name callbook-dev] [--param Name=Value ...] \
        [--visibility-timeout N] [--max-receive-count N]

Re-running against the same emulator is safe: existing tables, queues and identities are kept
(queue attributes are brought up to date).

Credentials are dummies set on the clients themselves; ~/.aws and AWS_PROFILE are ignored, so
this can never touch a real account.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Callable

import yaml

log = logging.getLogger("provision")

ACCOUNT_ID = "123456789012"
DUMMY_KEY = "test"

# Types that only mean something in AWS (compute, API, permissions, observability): the dev
# server plays their part locally, so they are not created. Anything neither here nor in
# CREATORS makes the script fail, so a new stateful resource cannot be silently forgotten.
SKIPPED_TYPES = {
    "AWS::Serverless::Function",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::Api",
    "AWS::Serverless::LayerVersion",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Alias",
    "AWS::Lambda::Version",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Logs::LogGroup",
    "AWS::Logs::MetricFilter",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
}

NO_VALUE = object()  # AWS::NoValue: the property or list item is dropped


class ProvisionError(Exception):
    """A problem with the template, the parameters or the emulator, told to the user."""


# --------------------------------------------------------------------------- YAML loading


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short-form tags into their long forms."""


def _construct_cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_template(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as e:
        raise ProvisionError(f"cannot read template {path}: {e}") from e
    except yaml.YAMLError as e:
        raise ProvisionError(f"template {path} is not valid YAML: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise ProvisionError(f"template {path} has no Resources section")
    return doc


# --------------------------------------------------------------------------- intrinsics


def as_string(value: Any) -> str:
    """How CloudFormation renders a scalar where a string is expected."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ProvisionError(f"expected a scalar value, got {json.dumps(value, default=str)}")


class Stack:
    """Resolves intrinsic functions against parameters, conditions and created resources."""

    def __init__(self, template: dict, stack_name: str, region: str, params: dict[str, str]):
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.resources: dict = template["Resources"]
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/local",
            "AWS::NotificationARNs": [],
        }
        self.params = self._parameters(params)
        self._conditions: dict[str, bool] = {}
        # logical id -> {"Ref": value, "<Attr>": value, ...} for created resources
        self.physical: dict[str, dict[str, Any]] = {}

    # ---- parameters and conditions

    def _parameters(self, given: dict[str, str]) -> dict[str, Any]:
        declared: dict = self.template.get("Parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ProvisionError(f"--param names not declared in the template: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        missing = []
        for name, spec in declared.items():
            spec = spec or {}
            if name in given:
                value = given[name]
            elif "Default" in spec:
                value = as_string(spec["Default"])
            else:
                missing.append(name)
                continue
            allowed = spec.get("AllowedValues")
            if allowed and value not in [as_string(a) for a in allowed]:
                raise ProvisionError(f"parameter {name}={value!r} is not one of {allowed}")
            if "MinLength" in spec and len(value) < int(spec["MinLength"]):
                raise ProvisionError(f"parameter {name} must be at least {spec['MinLength']} characters")
            if spec.get("Type", "String").startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                values[name] = value.split(",") if value else []
            else:
                values[name] = value
        if missing:
            raise ProvisionError(
                "parameters without a default must be given with --param NAME=VALUE: " + ", ".join(missing)
            )
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise ProvisionError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        cond = (self.resources.get(logical_id) or {}).get("Condition")
        return cond is None or self.condition(cond)

    # ---- resolution

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                fn = self._functions().get(key)
                if fn is None:
                    raise ProvisionError(f"intrinsic function {key} is not supported by provision.py")
                return fn(arg)
        out = {}
        for k, v in value.items():
            r = self.resolve(v)
            if r is not NO_VALUE:
                out[k] = r
        return out

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda a: not self._bool(self.resolve(a)[0]),
            "Fn::And": lambda a: all(self._bool(x) for x in self.resolve(a)),
            "Fn::Or": lambda a: any(self._bool(x) for x in self.resolve(a)),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda a: base64.b64encode(as_string(self.resolve(a)).encode()).decode(),
            "Fn::GetAZs": lambda a: [f"{self.region}{z}" for z in "abc"],
            "Fn::ToJsonString": lambda a: json.dumps(self.resolve(a), separators=(",", ":")),
        }

    @staticmethod
    def _bool(v: Any) -> bool:
        if isinstance(v, str):
            return v.lower() == "true"
        return bool(v)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        return self._attribute(name, "Ref")

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise ProvisionError(f"reference to unknown resource or parameter {logical_id!r}")
        if not self.resource_enabled(logical_id):
            raise ProvisionError(f"reference to {logical_id}, whose condition is false")
        known = self.physical.get(logical_id)
        if known is None:
            rtype = self.resources[logical_id].get("Type")
            raise ProvisionError(f"{logical_id} ({rtype}) is not created locally, so it cannot be referenced here")
        if attribute not in known:
            what = "!Ref" if attribute == "Ref" else f"!GetAtt {logical_id}.{attribute}"
            raise ProvisionError(f"{what} is not supported by provision.py")
        return known[attribute]

    def _get_att(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2):
            raise ProvisionError(f"malformed Fn::GetAtt {arg!r}")
        return self._attribute(arg[0], arg[1])

    _SUB_VAR = re.compile(r"\$\{([^}]*)\}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise ProvisionError(f"malformed Fn::Sub {arg!r}")
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise ProvisionError(f"Fn::Sub needs a string, got {text!r}")

        def replace(m: re.Match) -> str:
            name = m.group(1)
            if name.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return as_string(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return as_string(self._attribute(logical_id, attribute))
            value = self.ref(name)
            if isinstance(value, list):
                raise ProvisionError(f"${{{name}}} in Fn::Sub is a list")
            return as_string(value)

        return self._SUB_VAR.sub(replace, text)

    def _join(self, arg: Any) -> str:
        delimiter, items = self.resolve(arg)
        return as_string(delimiter).join(as_string(i) for i in items)

    def _select(self, arg: Any) -> Any:
        index, items = self.resolve(arg)
        index = int(index)
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise ProvisionError(f"Fn::Select index {index} out of range for {items!r}")
        return items[index]

    def _split(self, arg: Any) -> list[str]:
        delimiter, text = self.resolve(arg)
        return as_string(text).split(as_string(delimiter))

    def _if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, arg: Any) -> bool:
        a, b = self.resolve(arg)
        return as_string(a) == as_string(b) if not isinstance(a, (list, dict)) else a == b

    def _find_in_map(self, arg: Any) -> Any:
        map_name, top, second = self.resolve(arg)
        try:
            return self.template["Mappings"][map_name][top][second]
        except (KeyError, TypeError) as e:
            raise ProvisionError(f"Fn::FindInMap {map_name}/{top}/{second} not found") from e


def references(value: Any) -> set[str]:
    """Logical ids (or parameters) a template fragment refers to."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= references(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                found.add(v)
            elif k == "Fn::GetAtt":
                target = v.split(".", 1)[0] if isinstance(v, str) else v[0]
                if isinstance(target, str):
                    found.add(target)
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                if isinstance(text, str):
                    for name in Stack._SUB_VAR.findall(text):
                        if not name.startswith("!"):
                            found.add(name.split(".", 1)[0])
                found |= references(v[1] if isinstance(v, list) and len(v) > 1 else None)
            else:
                found |= references(v)
    return found


# --------------------------------------------------------------------------- AWS clients


def make_clients(endpoint: str, region: str) -> Callable[[str], Any]:
    # Never read the user's AWS config: a profile there could point at a real account.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(var, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_KEY, region_name=region
    )
    config = Config(
        region_name=region,
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=endpoint, config=config)
        return cache[service]

    return client


def error_code(e: Exception) -> str:
    return getattr(e, "response", {}).get("Error", {}).get("Code", "")


def wait_for_endpoint(endpoint: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # something answers HTTP: good enough
        except (urllib.error.URLError, OSError) as e:
            if time.monotonic() >= deadline:
                raise ProvisionError(f"the emulator at {endpoint} does not answer ({e})") from e
            time.sleep(0.2)


# --------------------------------------------------------------------------- creators


def physical_name(stack: Stack, logical_id: str, explicit: Any, limit: int) -> str:
    name = as_string(explicit) if explicit not in (None, NO_VALUE) else f"{stack.stack_name}-{logical_id}"
    if len(name) > limit:
        raise ProvisionError(f"name {name!r} for {logical_id} is longer than {limit} characters")
    return name


TABLE_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def create_table(stack: Stack, client: Callable, logical_id: str, props: dict, opts: argparse.Namespace) -> None:
    ddb = client("dynamodb")
    name = physical_name(stack, logical_id, props.get("TableName"), 255)
    billing = props.get("BillingMode", "PROVISIONED")
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            request[key] = [{k: v for k, v in ix.items() if k in TABLE_INDEX_KEYS} for ix in props[key]]
    sse = props.get("SSESpecification")
    if sse:
        spec = {"Enabled": stack._bool(sse.get("SSEEnabled", False))}
        if sse.get("SSEType"):
            spec["SSEType"] = sse["SSEType"]
        if sse.get("KMSMasterKeyId"):
            spec["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
        request["SSESpecification"] = spec
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}

    try:
        ddb.create_table(**request)
        log.info("created table %s", name)
    except ddb.exceptions.ResourceInUseException:
        log.info("table %s exists; kept", name)
    description = ddb.describe_table(TableName=name)["Table"]

    ttl = props.get("TimeToLiveSpecification")
    if ttl and stack._bool(ttl.get("Enabled", False)):
        current = ddb.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
    pitr = props.get("PointInTimeRecoverySpecification") or {}
    if stack._bool(pitr.get("PointInTimeRecoveryEnabled", False)):
        try:
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        except Exception as e:  # not needed locally; only worth a note
            log.warning("point-in-time recovery not enabled on %s: %s", name, e)

    stack.physical[logical_id] = {
        "Ref": name,
        "Arn": description["TableArn"],
        "StreamArn": description.get("LatestStreamArn"),
        "_kind": "table",
    }


# CloudFormation property -> SQS attribute (same names; JSON-valued ones are encoded).
QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
QUEUE_JSON_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy")


def create_queue(stack: Stack, client: Callable, logical_id: str, props: dict, opts: argparse.Namespace) -> None:
    sqs = client("sqs")
    props = dict(props)
    redrive = props.get("RedrivePolicy")
    if isinstance(redrive, str):
        redrive = json.loads(redrive)
    if redrive:
        redrive = dict(redrive)
        if opts.max_receive_count is not None:
            redrive["maxReceiveCount"] = opts.max_receive_count
        redrive["maxReceiveCount"] = int(redrive["maxReceiveCount"])
        props["RedrivePolicy"] = redrive
        if opts.visibility_timeout is not None:
            props["VisibilityTimeout"] = opts.visibility_timeout

    fifo = stack._bool(props.get("FifoQueue", False))
    default_name = f"{stack.stack_name}-{logical_id}" + (".fifo" if fifo else "")
    name = physical_name(stack, logical_id, props.get("QueueName", default_name), 80)

    attributes = {k: as_string(props[k]) for k in QUEUE_ATTRIBUTES if k in props}
    for k in QUEUE_JSON_ATTRIBUTES:
        if k in props:
            v = props[k]
            attributes[k] = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))

    try:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        log.info("queue %s ready", name)
    except Exception as e:
        if error_code(e) not in ("QueueAlreadyExists", "QueueNameExists", "AWS.SimpleQueueService.QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        settable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
        if settable:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=settable)
        log.info("queue %s exists; attributes updated", name)
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    stack.physical[logical_id] = {
        "Ref": url,
        "Arn": current["QueueArn"],
        "QueueName": name,
        "QueueUrl": url,
        "_kind": "queue",
        "_visibilityTimeout": int(current.get("VisibilityTimeout", 30)),
        "_redrive": redrive,
    }


def create_topic(stack: Stack, client: Callable, logical_id: str, props: dict, opts: argparse.Namespace) -> None:
    sns = client("sns")
    fifo = stack._bool(props.get("FifoTopic", False))
    default_name = f"{stack.stack_name}-{logical_id}" + (".fifo" if fifo else "")
    name = physical_name(stack, logical_id, props.get("TopicName", default_name), 256)
    attributes = {k: as_string(props[k]) for k in ("DisplayName", "FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId") if k in props}
    arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]  # idempotent
    log.info("topic %s ready", name)
    stack.physical[logical_id] = {"Ref": arn, "TopicArn": arn, "TopicName": name, "_kind": "topic"}


def create_kms_key(stack: Stack, client: Callable, logical_id: str, props: dict, opts: argparse.Namespace) -> None:
    """A key under an alias of the stack, so a re-run finds it (moto keeps no key policy)."""
    kms = client("kms")
    alias = f"alias/{stack.stack_name}-{logical_id}"
    try:
        key_id = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
        log.info("key %s exists; kept", alias)
    except Exception as e:
        if error_code(e) != "NotFoundException":
            raise
        key_id = kms.create_key(Description=as_string(props.get("Description", logical_id)))["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        log.info("key %s ready", alias)
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    stack.physical[logical_id] = {"Ref": key_id, "Arn": arn, "KeyId": key_id, "_kind": "key"}


def sns_delivery(stack: Stack, client: Callable, logical_id: str, event_name: str, topic_arn: str) -> dict[str, Any]:
    """A queue subscribed to `topic_arn` (the SNS envelope as its body): Lambda's subscription,
    locally. Subscribing again is idempotent in SNS."""
    sqs, sns = client("sqs"), client("sns")
    name = physical_name(stack, logical_id, f"{stack.stack_name}-{logical_id}-{event_name}", 80)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    log.info("topic %s delivers to queue %s", topic_arn.rsplit(":", 1)[-1], name)
    return {"topicArn": topic_arn, "queueUrl": url, "queueArn": arn}


def create_email_identity(stack: Stack, client: Callable, logical_id: str, props: dict, opts: argparse.Namespace) -> None:
    sesv2 = client("sesv2")
    identity = as_string(props["EmailIdentity"])
    try:
        sesv2.create_email_identity(EmailIdentity=identity)
        log.info("created SES identity %s", identity)
    except Exception as e:
        if error_code(e) != "AlreadyExistsException":
            raise
        log.info("SES identity %s exists; kept", identity)
    stack.physical[logical_id] = {"Ref": identity, "_kind": "email_identity"}


def create_schedule_group(stack: Stack, client: Callable, logical_id: str, props: dict, opts: argparse.Namespace) -> None:
    scheduler = client("scheduler")
    name = physical_name(stack, logical_id, props.get("Name"), 64)
    try:
        arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
        log.info("schedule group %s ready", name)
    except Exception as e:
        if error_code(e) != "ConflictException":
            raise
        arn = scheduler.get_schedule_group(Name=name)["Arn"]
        log.info("schedule group %s exists; kept", name)
    stack.physical[logical_id] = {"Ref": name, "Arn": arn, "_kind": "schedule_group"}


def synthetic_role(stack: Stack, logical_id: str) -> dict[str, Any]:
    """A role the template declares (SchedulerRole) is not created: only its ARN is passed
    along (moto's Scheduler does not assume it), so its Ref and Arn resolve to a made-up one."""
    name = f"{stack.stack_name}-{logical_id}"[:64]
    return {"Ref": name, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", "_kind": "role"}


CREATORS: dict[str, Callable[..., None]] = {
    "AWS::DynamoDB::Table": create_table,
    "AWS::SQS::Queue": create_queue,
    "AWS::SNS::Topic": create_topic,
    "AWS::KMS::Key": create_kms_key,
    "AWS::SES::EmailIdentity": create_email_identity,
    "AWS::Scheduler::ScheduleGroup": create_schedule_group,
}


def creation_order(stack: Stack, logical_ids: list[str]) -> list[str]:
    """Dependencies first (a DLQ before the queue whose RedrivePolicy names it)."""
    wanted = set(logical_ids)
    deps = {}
    for lid in logical_ids:
        res = stack.resources[lid]
        depends_on = res.get("DependsOn") or []
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        deps[lid] = (references(res.get("Properties") or {}) | set(depends_on)) & wanted
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(lid: str, path: list[str]) -> None:
        if state.get(lid) == "done":
            return
        if state.get(lid) == "visiting":
            raise ProvisionError("circular reference: " + " -> ".join(path + [lid]))
        state[lid] = "visiting"
        for d in sorted(deps[lid]):
            visit(d, path + [lid])
        state[lid] = "done"
        order.append(lid)

    for lid in logical_ids:
        visit(lid, [])
    return order


# --------------------------------------------------------------------------- functions


def describe_functions(stack: Stack, client: Callable) -> dict[str, Any]:
    globals_fn = (stack.template.get("Globals") or {}).get("Function") or {}
    global_vars = ((globals_fn.get("Environment") or {}).get("Variables")) or {}
    queues_by_arn = {p["Arn"]: p for p in stack.physical.values() if p.get("_kind") == "queue"}
    out: dict[str, Any] = {}
    for lid, res in stack.resources.items():
        if res.get("Type") != "AWS::Serverless::Function" or not stack.resource_enabled(lid):
            continue
        props = res.get("Properties") or {}
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        if not binary:
            raise ProvisionError(f"{lid} has no Metadata.BuildProperties.Binary")
        variables = dict(global_vars)
        variables.update(((props.get("Environment") or {}).get("Variables")) or {})
        environment = {}
        for name, value in variables.items():
            try:
                resolved = stack.resolve(value)
            except ProvisionError as e:
                raise ProvisionError(f"{lid} environment variable {name}: {e}") from e
            if resolved is not NO_VALUE:
                environment[name] = as_string(resolved)

        sqs = None
        sns = None
        http = []
        schedules = []
        for event_name, event in (props.get("Events") or {}).items():
            etype, eprops = event.get("Type"), event.get("Properties") or {}
            if etype == "SQS":
                if sqs is not None:
                    raise ProvisionError(f"{lid} has more than one SQS event; the output format allows one")
                arn = stack.resolve(eprops["Queue"])
                queue = queues_by_arn.get(arn)
                if queue is None:
                    raise ProvisionError(f"{lid} event {event_name}: queue {arn} was not created locally")
                redrive = queue["_redrive"] or {}
                dlq_url = None
                if redrive.get("deadLetterTargetArn"):
                    dlq = queues_by_arn.get(redrive["deadLetterTargetArn"])
                    dlq_url = dlq["Ref"] if dlq else None
                sqs = {
                    "queueUrl": queue["Ref"],
                    "queueArn": arn,
                    "batchSize": int(stack.resolve(eprops.get("BatchSize", 10))),
                    "visibilityTimeout": queue["_visibilityTimeout"],
                    "maxReceiveCount": redrive.get("maxReceiveCount"),
                    "deadLetterQueueUrl": dlq_url,
                    "reportBatchItemFailures": "ReportBatchItemFailures"
                    in (stack.resolve(eprops.get("FunctionResponseTypes")) or []),
                }
            elif etype == "SNS":
                if sns is not None:
                    raise ProvisionError(f"{lid} has more than one SNS event; the output format allows one")
                sns = sns_delivery(stack, client, lid, event_name, as_string(stack.resolve(eprops["Topic"])))
            elif etype in ("HttpApi", "Api"):
                http.append({"method": as_string(eprops.get("Method", "ANY")).upper(),
                             "path": as_string(eprops.get("Path", "$default"))})
            elif etype in ("Schedule", "ScheduleV2"):
                schedules.append(as_string(stack.resolve(eprops.get("Schedule") or eprops.get("ScheduleExpression"))))
        timeout = props.get("Timeout", globals_fn.get("Timeout", 3))
        out[lid] = {
            "binary": binary,
            "environment": environment,
            "sqs": sqs,
            "sns": sns,
            "http": http,
            "schedules": schedules,
            "timeout": int(stack.resolve(timeout)),
        }
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", required=True, help="emulator URL, e.g. http://127.0.0.1:4566")
    p.add_argument("--template", default="template.yaml")
    p.add_argument("--stack-name", default="callbook-dev")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="template parameter override (repeatable)")
    p.add_argument("--visibility-timeout", type=int, default=None,
                   help="override VisibilityTimeout of source queues (those with a RedrivePolicy)")
    p.add_argument("--max-receive-count", type=int, default=None,
                   help="override maxReceiveCount of source queues' RedrivePolicy")
    p.add_argument("--wait-seconds", type=float, default=15.0,
                   help="how long to wait for the emulator to answer (default 15)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9-]{1,40}", args.stack_name):
        p.error("--stack-name must be 1-40 letters, digits or hyphens")
    return args


def provision(args: argparse.Namespace) -> dict[str, Any]:
    # Parameters may also come from the environment as CALLBOOK_PARAM_<Name>=<value>, which
    # keeps secrets off the command line (where `ps` shows them).
    params = {k[len("CALLBOOK_PARAM_"):]: v for k, v in os.environ.items() if k.startswith("CALLBOOK_PARAM_")}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ProvisionError(f"--param expects NAME=VALUE, got {item!r}")
        params[name] = value

    template = load_template(args.template)
    stack = Stack(template, args.stack_name, args.region, params)

    to_create = []
    for lid, res in stack.resources.items():
        rtype = (res or {}).get("Type")
        if not stack.resource_enabled(lid):
            log.info("skipping %s: condition %s is false", lid, res.get("Condition"))
        elif rtype in CREATORS:
            to_create.append(lid)
        elif rtype == "AWS::IAM::Role":
            stack.physical[lid] = synthetic_role(stack, lid)
        elif rtype in SKIPPED_TYPES:
            log.debug("skipping %s (%s): only meaningful in AWS", lid, rtype)
        else:
            raise ProvisionError(
                f"{lid} has type {rtype}, which provision.py can neither create nor safely skip; "
                "add a creator (or list it in SKIPPED_TYPES if it matters only in AWS)"
            )

    wait_for_endpoint(args.endpoint, args.wait_seconds)
    client = make_clients(args.endpoint, args.region)
    for lid in creation_order(stack, to_create):
        res = stack.resources[lid]
        props = stack.resolve(res.get("Properties") or {})
        try:
            CREATORS[res["Type"]](stack, client, lid, props, args)
        except ProvisionError:
            raise
        except Exception as e:
            raise ProvisionError(f"creating {lid} ({res['Type']}) failed: {e}") from e

    kinds = lambda kind: {lid: p["Ref"] for lid, p in stack.physical.items() if p.get("_kind") == kind}  # noqa: E731
    return {
        "region": args.region,
        "endpoint": args.endpoint,
        "stackName": args.stack_name,
        "functions": describe_functions(stack, client),
        "tables": kinds("table"),
        "queues": kinds("queue"),
        "topics": kinds("topic"),
        "emailIdentities": sorted(kinds("email_identity").values()),
        "scheduleGroups": kinds("schedule_group"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="provision: %(message)s", stream=sys.stderr)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    try:
        result = provision(args)
    except ProvisionError as e:
        print(f"provision: error: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
